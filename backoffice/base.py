"""Base classes for the back office's model views: staff only, one commit through pingxuan.db, domain errors shown.

Flask-Admin's own create/update/delete commit the session directly and only know generic exceptions. Here a
save runs a hook (``save_new`` / ``save_existing``) that calls operations, then commits once with
``pingxuan.db.commit()`` (so after-commit effects run); a ``DomainError`` is shown as the page's message and
as errors on the form's fields, all at once.
"""

from __future__ import annotations

import logging
from datetime import date, datetime
from typing import Any

from flask import flash
from flask_admin.contrib.sqla import ModelView
from flask_admin.model import typefmt
from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError
from wtforms import Form

from backoffice.security import StaffOnly
from pingxuan.clock import day, shown
from pingxuan.db import commit, rollback
from pingxuan.errors import DomainError
from pingxuan.extensions import db

log = logging.getLogger(__name__)


def report(error: DomainError, form: Form | None = None) -> None:
    """Flash the message and attach each field error to its form field (or flash it when there is none)."""
    flash(str(error.message), "error")
    for reason in error.reasons:
        flash(str(reason), "error")
    for name, message in error.field_errors.items():
        field = form._fields.get(name) if form is not None else None
        if field is None and form is not None and name.endswith("_id"):
            field = form._fields.get(name[:-3])
        if field is not None:
            field.errors = [*field.errors, str(message)]
        else:
            flash(str(message), "error")


def _one_clock(formatters: dict) -> dict:
    """Flask-Admin's type formatters with times in the campaign's zone, labelled, to the minute, and dates in the
    one date format (Flask-Admin would print a naive UTC time with its microseconds). A datetime is a date too:
    it comes first, as the first matching type wins."""
    return {datetime: lambda view, value, name: shown(value), date: lambda view, value, name: day(value), **formatters}


class StaffModelView(StaffOnly, ModelView):
    column_type_formatters = _one_clock(typefmt.BASE_FORMATTERS)
    column_type_formatters_detail = _one_clock(typefmt.DETAIL_FORMATTERS)
    column_type_formatters_export = _one_clock(typefmt.EXPORT_FORMATTERS)
    can_delete = False
    can_view_details = True
    can_set_page_size = True
    page_size = 50

    # The fields of the create and of the edit form when they differ (``form_columns`` then lists them all).
    # Rather than Flask-Admin's form rules, which would drop the others from the form with a warning each
    # time the application starts.
    form_create_columns: tuple[str, ...] | None = None
    form_edit_columns: tuple[str, ...] | None = None

    def __init__(self, model: type, **kwargs: Any):
        super().__init__(model, db, **kwargs)

    def get_create_form(self):
        return self._form_of(self.form_create_columns)

    def get_edit_form(self):
        return self._form_of(self.form_edit_columns)

    def _form_of(self, columns: tuple[str, ...] | None):
        if columns is None:
            return self.scaffold_form()
        every = self.form_columns
        self.form_columns = columns  # read by scaffold_form (once, when the view is made)
        try:
            return self.scaffold_form()
        finally:
            self.form_columns = every

    def _get_filter_groups(self):
        # Filter options come from the database and the page's language: rebuild them for each list page.
        self._refresh_filters_cache()
        return super()._get_filter_groups()

    # Hooks: subclasses call operations here; they flush, never commit.
    def save_new(self, form: Form) -> Any:
        model = self.build_new_instance()
        form.populate_obj(model)
        db.session.add(model)
        self.check(model)
        db.session.flush()
        return model

    def save_existing(self, form: Form, model: Any) -> None:
        form.populate_obj(model)
        self.check(model)
        db.session.flush()

    def check(self, model: Any) -> None:
        """Raise a DomainError (from an operation) when the saved model breaks a rule."""

    # Flask-Admin's entry points, with one commit and domain errors reported.
    def create_model(self, form: Form):
        model = self._saved(form, lambda: self.save_new(form))
        if model is None:
            return False
        self.after_model_change(form, model, True)
        return model

    def update_model(self, form: Form, model: Any) -> bool:
        if self._saved(form, lambda: self.save_existing(form, model) or model) is None:
            return False
        self.after_model_change(form, model, False)
        return True

    def _saved(self, form: Form, save: Any) -> Any | None:
        """Run an operation and commit; a refusal or a clash with a unique record is shown, nothing is kept."""
        try:
            result = save()
            commit()
            return result
        except DomainError as error:
            rollback()
            report(error, form)
        except IntegrityError as error:
            rollback()
            log.info("integrity error in the back office: %s", error)
            flash(_("This conflicts with an existing record (a name or code is used already)."), "error")
        return None

    def delete_model(self, model: Any) -> bool:
        flash(_("Records are not deleted here."), "error")
        return False


class ReadOnlyModelView(StaffModelView):
    """Audit records: listed and shown, never created, edited or deleted through the admin."""

    can_create = False
    can_edit = False
    can_delete = False
    can_export = False

    def save_new(self, form: Form) -> Any:  # defence in depth: the routes are closed already
        raise DomainError(_("This record cannot be changed."))

    def save_existing(self, form: Form, model: Any) -> None:
        raise DomainError(_("This record cannot be changed."))
