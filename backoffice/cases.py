"""The case list, the case dossier page and bulk transitions, all derived from the workflow declaration.

No state or transition is named here: bulk actions are generated from ``TRANSITIONS``, the dossier page's
buttons come from ``workflow.engine.options``, and every change of state is a ``fire()`` on one case.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from functools import partial
from typing import Any

from flask import Response, abort, flash, has_app_context, redirect, request
from flask_admin import expose
from flask_admin.contrib.sqla.filters import FilterEqual, FilterInList, IntEqualFilter
from flask_admin.helpers import get_redirect_target
from flask_babel import LazyString, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup
from sqlalchemy import select
from werkzeug.utils import secure_filename
from wtforms import Form, HiddenField

from backoffice.base import StaffModelView
from backoffice.security import actor
from campaigns.models import Campaign, Category, Domain
from cases.models import Case
from cases.operations import REFERENCE_FIELDS, dossier_rows, get_attachment, get_case, reclassify_case
from pingxuan import storage
from pingxuan.clock import shown
from pingxuan.db import commit
from pingxuan.errors import DomainError, Invalid
from pingxuan.extensions import db
from pingxuan.i18n import pick
from pingxuan.spreadsheet import csv_row
from workflow.definition import STATE_BY_NAME, STATES, TRANSITION_BY_NAME, TRANSITIONS, Transition, event_title
from workflow.engine import Option, fire_many, options
from workflow.history import timeline
from workflow.models import WorkflowEvent
from workflow.roles import global_roles


def state_title(name: str) -> str:
    state = STATE_BY_NAME.get(name)
    return pick(state, "title") if state else name


def transition_title(name: str) -> str:
    """A transition's or a timeline step's title, never its key."""
    return event_title(name)


def state_badge(name: str) -> Markup:
    final = STATE_BY_NAME[name].final if name in STATE_BY_NAME else False
    kind = "secondary" if final else "info"
    return Markup('<span class="badge badge-{} state-{}">{}</span>').format(kind, name, state_title(name))


def _state_options() -> list[tuple[str, str]]:
    return [(s.name, pick(s, "title")) for s in STATES]


def _campaign_options() -> list[tuple[str, str]]:
    if not has_app_context():  # Flask-Admin builds its filter cache at start-up, outside any app
        return []
    return [
        (str(c.id), f"{c.year} {pick(c, 'title')}")
        for c in db.session.scalars(select(Campaign).order_by(Campaign.year))
    ]


def _category_options() -> list[tuple[str, str]]:
    if not has_app_context():  # Flask-Admin builds its filter cache at start-up, outside any app
        return []
    rows = db.session.execute(
        select(Category, Campaign.year).join(Campaign).order_by(Campaign.year.desc(), Category.position)
    ).all()
    return [(str(c.id), f"{year} · {pick(c, 'name')}") for c, year in rows]


def _domain_options() -> list[tuple[str, str]]:
    if not has_app_context():  # Flask-Admin builds its filter cache at start-up, outside any app
        return []
    rows = db.session.execute(
        select(Domain, Category, Campaign.year)
        .join(Category, Domain.category_id == Category.id)
        .join(Campaign, Category.campaign_id == Campaign.id)
        .order_by(Campaign.year.desc(), Category.position, Domain.position)
    ).all()
    return [(str(d.id), f"{year} · {pick(c, 'name')} · {pick(d, 'name')}") for d, c, year in rows]


STATE_FILTER = FilterEqual(Case.state, _l("State"), options=_state_options)
STATES_FILTER = FilterInList(Case.state, _l("State"), options=_state_options)
CATEGORY_FILTER = IntEqualFilter(Case.category_id, _l("Category"), options=_category_options)
DOMAIN_FILTER = IntEqualFilter(Case.domain_id, _l("Domain"), options=_domain_options)
CAMPAIGN_FILTER = IntEqualFilter(Case.campaign_id, _l("Campaign"), options=_campaign_options)


@dataclass
class Outcome:
    """What happened to one case of a bulk transition: its event, or the refusal."""

    case: Case
    event: WorkflowEvent | None = None
    error: DomainError | None = None

    @property
    def reasons(self) -> list[str]:
        if self.error is None:
            return []
        extra = [r for r in self.error.reasons if r != self.error.message and r not in STATE_BY_NAME]
        return [self.error.message, *extra]


class CaseView(StaffModelView):
    can_create = False
    can_edit = True
    can_export = True
    details_template = "backoffice/case_details.html"

    column_list = ("number", "title", "unit", "category", "domain", "campaign", "state", "updated_at")
    column_labels = {
        "number": _l("Number"),
        "title": _l("Title"),
        "unit": _l("Applicant unit"),
        "unit.name": _l("Applicant unit"),
        "category": _l("Category"),
        "domain": _l("Domain"),
        "campaign": _l("Campaign"),
        "state": _l("State"),
        "updated_at": _l("Last change"),
        "recommending_org": _l("Recommending organization"),
    }
    column_searchable_list = ("number", "title", "unit.name")
    column_filters = (STATE_FILTER, STATES_FILTER, CATEGORY_FILTER, DOMAIN_FILTER, CAMPAIGN_FILTER)
    column_sortable_list = ("number", "title", "state", "updated_at")
    column_default_sort = ("updated_at", True)
    column_formatters = {
        "state": lambda view, context, model, name: state_badge(model.state),
        "category": lambda view, context, model, name: pick(model.category, "name") if model.category else "",
        "domain": lambda view, context, model, name: pick(model.domain, "name") if model.domain else "",
        "campaign": lambda view, context, model, name: model.campaign.year,
        "updated_at": lambda view, context, model, name: shown(model.updated_at),
    }
    column_formatters_export = {"state": lambda view, context, model, name: state_title(model.state)}
    # Staff may only correct the classification; the dossier is the applicant's, the state is fire()'s.
    form_columns = ("category", "domain", "recommending_org", "version")
    form_extra_fields = {"version": HiddenField()}

    def _export_csv(self, return_url: Any):  # noqa: ARG002
        """The rows are read while the request's session is open (Flask-Admin streams them after the request's
        rollback, which detached them: the file stopped after its header), and no applicant's text is handed to
        a spreadsheet as a formula. UTF-8 with a byte-order mark, so Excel reads the Chinese text."""
        _count, data = self._export_data()
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow([str(title) for _name, title in self._export_columns])
        for row in data:
            writer.writerow(csv_row(self.get_export_value(row, name) for name, _title in self._export_columns))
        name = secure_filename(self.get_export_name(export_type="csv"))
        return Response(
            ("\ufeff" + buffer.getvalue()).encode("utf-8"),
            headers={"Content-Disposition": f"attachment;filename={name}"},
            mimetype="text/csv",
        )

    # Filters and links --------------------------------------------------------------------------------

    def filter_url(self, flt: Any, value: str) -> str:
        """The case list filtered by one of this view's filters (used by the index and the workflow page)."""
        index = self._filters.index(flt)
        return self.get_url(f"{self.endpoint}.index_view", **{f"flt0_{self.get_filter_arg(index, flt)}": value})

    def state_url(self, state: str) -> str:
        return self.filter_url(STATE_FILTER, state)

    def states_url(self, states: tuple[str, ...]) -> str:
        return self.filter_url(STATES_FILTER, ",".join(states))

    # Editing: only the classification, through the operation -----------------------------------------

    def save_existing(self, form: Form, model: Case) -> None:
        data = {}
        for name in REFERENCE_FIELDS:
            chosen = form[name[: -len("_id")]].data
            data[name] = chosen.id if chosen is not None else None
        version = str(form.version.data or "").strip()
        if version and not (version.isascii() and version.isdigit() and int(version) < 2**31):
            raise Invalid(_("Please correct the marked fields."), {"version": _("Not a valid version.")})
        reclassify_case(model, actor(), data, expected_version=int(version) if version else None)

    def save_new(self, form: Form) -> Any:  # pragma: no cover - can_create is False
        raise DomainError(_("Cases are created by applicants."))

    # Bulk transitions, one per declared transition -----------------------------------------------------

    def init_actions(self) -> None:
        super().init_actions()
        for transition in TRANSITIONS:
            text = LazyString(pick, transition, "title")
            self._actions.append((transition.name, text))
            self._actions_data[transition.name] = (partial(self._confirm_transition, transition.name), text, None)

    def is_action_allowed(self, name: str) -> bool:
        transition = TRANSITION_BY_NAME.get(name)
        if transition is not None:
            return bool(transition.roles & global_roles(actor()))
        return super().is_action_allowed(name)

    def _confirm_transition(self, name: str, ids: list[str]):
        return redirect(self.get_url(".transition_view", transition_name=name, ids=ids, url=get_redirect_target()))

    @expose("/transition/<transition_name>/", methods=("GET", "POST"))
    def transition_view(self, transition_name: str):
        """Confirm one transition for the selected cases, then fire it on each, each in its own savepoint."""
        transition = TRANSITION_BY_NAME.get(transition_name)
        if transition is None:
            abort(404)
        return_url = get_redirect_target() or self.get_url(".index_view")
        ids = sorted({int(i) for i in request.values.getlist("ids") if str(i).isdigit()})
        cases = list(db.session.scalars(select(Case).where(Case.id.in_(ids)).order_by(Case.id))) if ids else []
        if not cases:
            flash(_("Select at least one case."), "error")
            return redirect(return_url)
        comment, outcomes, field_errors = "", None, {}
        fields = {name: request.form.get(name, "") for name in transition.required_fields}
        if request.method == "POST":
            comment = request.form.get("comment", "")
            outcomes = self._fire_all(cases, transition, comment, fields)
            moved = sum(1 for o in outcomes if o.error is None)
            refused = len(outcomes) - moved
            if moved:
                flash(
                    ngettext(
                        "“%(action)s”: %(num)d case done.",
                        "“%(action)s”: %(num)d cases done.",
                        moved,
                        action=pick(transition, "title"),
                    ),
                    "success",
                )
            if refused:
                flash(
                    ngettext(
                        "“%(action)s”: %(num)d case refused.",
                        "“%(action)s”: %(num)d cases refused.",
                        refused,
                        action=pick(transition, "title"),
                    ),
                    "error",
                )
            for outcome in outcomes:  # the comment or a required field missing: shown once, at its input
                if outcome.error is not None:
                    field_errors = {**outcome.error.field_errors, **field_errors}
            field_errors = {k: v for k, v in field_errors.items() if k == "comment" or k in transition.required_fields}
        previews = [(case, self._preview(case, transition)) for case in cases]
        return self.render(
            "backoffice/transition.html",
            transition=transition,
            previews=previews,
            outcomes=outcomes,
            comment=comment,
            fields=fields,
            field_errors=field_errors,
            return_url=return_url,
        )

    def _preview(self, case: Case, transition: Transition) -> list[str]:
        """Why the transition would be refused for this case now (empty when it would go through)."""
        if case.state not in transition.sources:
            return [_("Not possible while the case is “%(state)s”.", state=state_title(case.state))]
        option = next((o for o in options(case, actor()) if o.transition.name == transition.name), None)
        if option is None:
            return [_("You may not “%(action)s” this case.", action=pick(transition, "title"))]
        return [refusal.reason for refusal in option.refusals]

    def _fire_all(self, cases: list[Case], transition: Transition, comment: str, fields: dict) -> list[Outcome]:
        """One bulk action through workflow.engine.fire_many; one commit at the end."""
        versions = {case.id: request.form.get(f"version-{case.id}", type=int) for case in cases}
        results = fire_many(cases, transition.name, actor(), comment, versions, fields)
        commit()
        return [Outcome(r.case, event=r.event, error=r.error) for r in results]

    # The dossier page ------------------------------------------------------------------------------------

    def render(self, template: str, **kwargs: Any) -> str:
        if template == self.details_template and kwargs.get("model") is not None:
            kwargs.update(self._dossier(kwargs["model"]))
        return super().render(template, **kwargs)

    def _dossier(self, case: Case) -> dict[str, Any]:
        fields = [(label, value or None) for _name, label, value in dossier_rows(case)]
        events = timeline(case, actor()) or []
        case_options: list[Option] = options(case, actor())
        return {
            "fields": fields,
            "events": events,
            "case_options": case_options,
            "transition_by_name": TRANSITION_BY_NAME,
            "transition_url": lambda option: self.get_url(
                ".transition_view", transition_name=option.transition.name, ids=case.id, url=request.full_path
            ),
        }

    @expose("/attachment/<int:case_id>/<int:attachment_id>/")
    def attachment_view(self, case_id: int, attachment_id: int):
        case = get_case(case_id, actor())
        attachment = get_attachment(case, attachment_id, actor())
        return storage.send(attachment.sha256, attachment.content_type, attachment.filename)
