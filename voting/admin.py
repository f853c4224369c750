"""The back office's SMS outbox: every text with the outcome of its delivery, and what the texts cost per day and
campaign (an office pays its SMS provider per text the provider accepts)."""

from __future__ import annotations

from flask_admin import Admin
from flask_admin.contrib.sqla.filters import FilterEqual
from flask_babel import lazy_gettext as _l

from backoffice.base import ReadOnlyModelView
from campaigns.models import Campaign
from pingxuan.extensions import db
from voting import gateways, sms
from voting.models import SMS_FAILED, SMS_QUEUED, SMS_RETRYING, SMS_SENT, SmsMessage

STATUS_LABELS = {SMS_QUEUED: _l("Queued"), SMS_RETRYING: _l("Retrying"), SMS_SENT: _l("Sent"), SMS_FAILED: _l("Failed")}
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


def register(admin: Admin, category: str) -> None:
    admin.add_view(SmsOutboxView(SmsMessage, name=_l("SMS outbox"), category=category, endpoint="admin_sms",
                                 url="/admin/sms"))  # fmt: skip
