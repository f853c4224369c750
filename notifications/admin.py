"""The back office's message page: every notification's wording in both languages, its placeholders, a preview
with a real case, validation, reset to the shipped wording and the history of changes."""

from __future__ import annotations

from flask import Blueprint, Flask, current_app, flash, redirect, request, url_for
from flask_admin import Admin, BaseView, expose
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from backoffice.security import StaffOnly, actor
from notifications import wording
from notifications.operations import case_values
from pingxuan.db import commit, rollback
from pingxuan.errors import Forbidden, Invalid
from pingxuan.extensions import db
from pingxuan.i18n import ZH
from voting.gateways import templated
from workflow.models import WorkflowEvent


def _example_values(key: str) -> tuple[dict[str, object], str]:
    """Values for a preview: a real case's latest event for a case notice, the declared samples otherwise."""
    values: dict[str, object] = wording.samples(key)
    if key.startswith("transition."):
        event = db.session.scalar(select(WorkflowEvent).where(WorkflowEvent.transition == key.split(".", 1)[1])
                                  .order_by(WorkflowEvent.id.desc()).limit(1)) or \
            db.session.scalar(select(WorkflowEvent).order_by(WorkflowEvent.id.desc()).limit(1))  # fmt: skip
        if event is not None:
            values = case_values(event, url_for("cases.detail", case_id=event.case_id, _external=True))
            return values, _("Preview with case %(number)s", number=event.case.number or event.case_id)
    return values, _("Preview with sample values")


class MessagesView(StaffOnly, BaseView):
    @expose("/")
    def index(self):
        return self.render("notifications/admin/messages.html", kinds=list(wording.kinds().values()),
                           customized=wording.customized(), locales=wording.LOCALES)  # fmt: skip

    @expose("/<key>/<locale>", methods=("GET", "POST"))
    def edit(self, key: str, locale: str):
        kind = wording.kind(key)
        if kind.group == "sms" and templated(current_app.config):  # the provider's approved words, not ours
            return redirect(url_for("admin_sms_templates.edit", key=key))
        if locale not in wording.LOCALES:
            locale = ZH
        subject, body, row = wording.current(key, locale)
        errors: dict[str, str] = {}
        preview, preview_title = None, ""
        if request.method == "POST":
            subject, body = request.form.get("subject", ""), request.form.get("body", "")
            action = request.form.get("action", "preview")
            try:
                if action == "save":
                    wording.save(key, locale, subject, body, actor())
                    commit()
                    flash(_("The template is saved: the next messages use it."), "success")
                    return redirect(url_for(".edit", key=key, locale=locale))
                if action == "reset":
                    wording.reset(key, locale, actor())
                    commit()
                    flash(_("Back to the shipped wording."), "success")
                    return redirect(url_for(".edit", key=key, locale=locale))
                values, preview_title = _example_values(key)
                preview = wording.preview(key, locale, subject, body, values)
            except (Invalid, Forbidden) as error:
                rollback()
                errors = getattr(error, "field_errors", {}) or {}
                flash(str(error.message), "error")
        default_subject, default_body = wording.default(key, locale)
        return self.render(
            "notifications/admin/message.html", kind=kind, locale=locale, locales=wording.LOCALES, subject=subject,
            body=body, customized=row is not None, errors=errors, preview=preview, preview_title=preview_title,
            default_subject=default_subject, default_body=default_body, history=wording.history(key),
            editable=wording.may_edit(kind, actor()),
        )  # fmt: skip


def register(app: Flask, admin: Admin) -> None:
    app.register_blueprint(Blueprint("notification_admin", __name__, template_folder="templates"))
    admin.add_view(MessagesView(name=_l("Messages"), category=_l("Set-up"), endpoint="admin_messages",
                                url="/admin/messages"))  # fmt: skip
