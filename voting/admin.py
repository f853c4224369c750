"""The back office's SMS pages: the outbox (every text with the outcome of its delivery, and what the texts cost per
day and campaign: an office pays its provider per text accepted) and the approved templates of a template gateway."""

from __future__ import annotations

from flask import current_app, flash, redirect, request, url_for
from flask_admin import Admin, BaseView, expose
from flask_admin.contrib.sqla.filters import FilterEqual
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from backoffice.base import ReadOnlyModelView
from backoffice.security import StaffOnly, actor
from campaigns.models import Campaign
from notifications import wording
from pingxuan.clock import shown
from pingxuan.db import commit, rollback
from pingxuan.errors import DomainError
from pingxuan.extensions import db
from voting import gateways, sms
from voting.models import SMS_FAILED, SMS_QUEUED, SMS_RETRYING, SMS_SENT, SmsMessage

STATUS_LABELS = {
    SMS_QUEUED: _l("Waiting to be sent"), SMS_RETRYING: _l("Retrying"), SMS_SENT: _l("Accepted by the provider"),
    SMS_FAILED: _l("Failed"),
}  # fmt: skip
MEANING_LABELS = {
    gateways.BLOCKED: _l("number on the provider's block list"),
    gateways.TOO_MANY: _l("too many texts to this number"),
    gateways.BAD_NUMBER: _l("number not accepted"),
    gateways.UNAVAILABLE: _l("our configuration or account"),
    gateways.TRY_LATER: _l("provider or network trouble"),
}


class SmsOutboxView(ReadOnlyModelView):
    list_template = "voting/admin_sms_outbox.html"
    column_list = ("created_at", "phone_masked", "kind", "backend", "template_code", "status", "attempts",
                   "error_code", "provider_message_id")  # fmt: skip
    column_details_list = (*column_list, "body", "error", "meaning", "sent_at", "campaign")
    column_labels = {
        "created_at": _l("Queued"), "phone_masked": _l("Number"), "kind": _l("Message"), "backend": _l("Gateway"),
        "template_code": _l("Template"), "status": _l("Status"), "attempts": _l("Attempts"),
        "error_code": _l("Provider's code"), "provider_message_id": _l("Provider's message id"), "body": _l("Text"),
        "error": _l("Provider's message"), "meaning": _l("Reason"), "sent_at": _l("Sent"), "campaign": _l("Campaign"),
    }  # fmt: skip
    column_filters = (
        FilterEqual(SmsMessage.status, _l("Status"), options=lambda: [(k, str(v)) for k, v in STATUS_LABELS.items()]),
        FilterEqual(SmsMessage.kind, _l("Message"), options=lambda: [(k, k) for k in sms.KINDS]),
    )
    column_default_sort = ("id", True)
    column_formatters = {
        "created_at": lambda view, context, model, name: shown(model.created_at),
        "sent_at": lambda view, context, model, name: shown(model.sent_at),
        "kind": lambda view, context, model, name: wording.kind(model.kind).title() if model.kind in sms.KINDS else "",
        "status": lambda view, context, model, name: STATUS_LABELS.get(model.status, model.status),
        "meaning": lambda view, context, model, name: MEANING_LABELS.get(model.meaning, model.meaning),
    }
    column_formatters_detail = column_formatters

    def render(self, template: str, **kwargs):
        if template == self.list_template:
            kwargs["costs"] = sms.costs()
            kwargs["price"] = sms.price()
            kwargs["campaign_titles"] = {c.id: c.year for c in db.session.query(Campaign)}
        return super().render(template, **kwargs)


class SmsTemplatesView(StaffOnly, BaseView):
    """Set-up → Messages for texts sent through a template gateway: the provider decides the words, so an
    organizer names the approved template's code and what each of its parameters takes, and sees the history."""

    @expose("/")
    def index(self):
        rows = [(wording.kind(kind), *sms.template_in_force(kind)) for kind in sms.KINDS]
        templated = gateways.templated(current_app.config)
        return self.render("voting/admin_sms_templates.html", rows=rows, templated=templated,
                           gateway=current_app.config.get("SMS_BACKEND") or "log")  # fmt: skip

    @expose("/<key>", methods=("GET", "POST"))
    def edit(self, key: str):
        kind = wording.kind(key)
        template, row = sms.template_in_force(key)
        code = template.code if template else ""
        lines = "\n".join(f"{k} = {v}" for k, v in (template.params if template else {}).items())
        errors: dict[str, str] = {}
        if request.method == "POST":
            code, lines = request.form.get("template_code", ""), request.form.get("params", "")
            params = dict(_pair(line) for line in lines.splitlines() if line.strip())
            try:
                sms.set_template(key, code, params, actor())
                commit()
                flash(_("The template is saved: the next texts use it."), "success")
                return redirect(url_for(".edit", key=key))
            except DomainError as error:
                rollback()
                errors = error.field_errors
                flash(error.message, "error")
        return self.render("voting/admin_sms_template.html", shown_time=shown, kind=kind, code=code, lines=lines,
                           errors=errors, row=row, history=sms.template_history(key),
                           gateway=current_app.config.get("SMS_BACKEND"),
                           templated=gateways.templated(current_app.config))  # fmt: skip


def _pair(line: str) -> tuple[str, str]:
    name, _sep, value = line.partition("=")
    return name.strip(), value.strip()


def register(admin: Admin, category: str) -> None:
    admin.add_view(SmsOutboxView(SmsMessage, name=_l("SMS outbox"), category=category, endpoint="admin_sms",
                                 url="/admin/sms"))  # fmt: skip
    admin.add_view(SmsTemplatesView(name=_l("SMS templates"), category=_l("Set-up"), endpoint="admin_sms_templates",
                                    url="/admin/sms-templates"))  # fmt: skip
