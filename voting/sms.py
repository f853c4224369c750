"""Texts to phones as operations with an outcome: queued in the outbox, delivered by a task after the commit.

``send_sms`` writes the outbox row (the text with its one-time code left out ([code]), the kind, the approved template)
and queues ``voting.deliver_sms`` once the transaction commits, so a request never waits on a provider. The
number and the message's values travel to the task sealed with the secret key (the broker never holds a live code
in clear). ``deliver`` calls the configured gateway (voting.gateways), keeps the outcome on the row (provider's
message id, status, error code, attempts) and counts it in ``pingxuan_sms_total{provider,outcome}``; a refusal the
provider calls transient is retried by the task with a growing delay. What a refusal means for the person (the
number is blocked, too many texts today, …) is ``refusal_message``: pages and the API show it.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from cryptography.fernet import InvalidToken
from flask import current_app
from flask_babel import gettext as _
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from accounts.models import User
from accounts.permissions import require_staff
from campaigns.models import Campaign
from notifications import wording
from notifications.wording import render
from pingxuan import metrics
from pingxuan.db import utcnow
from pingxuan.errors import Conflict, DomainError, Invalid, NotFound, Unavailable
from pingxuan.extensions import db
from pingxuan.i18n import EN, ZH, is_english
from pingxuan.queue import enqueue
from pingxuan.signing import sealer
from voting import gateways
from voting.models import SMS_FAILED, SMS_QUEUED, SMS_RETRYING, SMS_SENT, SmsMessage, SmsTemplate
from voting.privacy import mask_phone, phone_hash

log = logging.getLogger("pingxuan.sms")

KINDS = ("vote.code", "objection.code", "objection.outcome")  # every text the application sends
DEFAULT_PRICE = Decimal("0.045")  # CNY per text: a mainland verification text at list price (PINGXUAN_SMS_PRICE)


def _seal() -> object:
    return sealer("sms")


def send_sms(
    phone: str,
    kind: str,
    values: dict[str, object],
    secrets: dict[str, str] | None = None,
    campaign_id: int | None = None,
) -> SmsMessage:
    """Queue the text of ``kind`` (rendered from its wording with ``values``) to ``phone``; delivered after commit.

    ``secrets`` (the one-time code) never pass through the wording staff can edit: the outbox keeps the text with
    the placeholder's name where the code goes, and only the sealed text for the gateway holds the code."""
    rendered = render(kind, EN if is_english() else ZH, values, secrets)
    text = rendered.outgoing_text
    if campaign_id is None:  # a voter's code: the campaign whose vote is on (the office's costs per campaign)
        campaign_id = db.session.scalar(select(Campaign.id).where(Campaign.is_current.is_(True)))
    config = current_app.config
    chosen = approved_templates().get(kind) if gateways.templated(config) else None
    message = SmsMessage(
        phone_hash=phone_hash(phone), phone_masked=mask_phone(phone), body=rendered.text, kind=kind,
        backend=_provider_name(config), campaign_id=campaign_id, template_code=chosen.code if chosen else "",
        status=SMS_QUEUED, attempts=0,
    )  # fmt: skip
    db.session.add(message)
    db.session.flush()
    payload = {"phone": phone, "values": {k: str(v) for k, v in {**values, **(secrets or {})}.items()}, "text": text}
    enqueue("voting.deliver_sms", message.id, _seal().encrypt(json.dumps(payload).encode()).decode())
    return message


def _provider_name(config) -> str:
    spec = str(config.get("SMS_BACKEND") or "log")
    return spec if spec == "log" or spec in gateways.BUILT_IN else spec.rpartition(":")[2][:20]


def deliver(message_id: int, sealed: str, final: bool) -> gateways.Refusal | None:
    """Hand one queued text to the gateway and keep the outcome; ``final``: no retry follows a transient refusal."""
    message = db.session.get(SmsMessage, message_id)
    if message is None or message.status in (SMS_SENT, SMS_FAILED):
        return None  # delivered (or given up) by an earlier run of the task
    message.attempts += 1
    try:
        content = json.loads(_seal().decrypt(sealed.encode()))
    except InvalidToken:
        return _refused(message, gateways.Refusal("Unsealable", "sealed under another secret key",
                                                  gateways.UNAVAILABLE), final=True)  # fmt: skip
    config = current_app.config
    try:
        gateway = gateways.gateway(config)
        template = approved_templates().get(message.kind) if gateway.templated else None
        if gateway.templated and not (template and template.code):
            raise gateways.Refusal("NoTemplate", f"no approved template for {message.kind}", gateways.UNAVAILABLE)
        outgoing = gateways.Outgoing(content["phone"], message.kind, content["values"], content["text"], template)
        provider_id = gateway.send(outgoing)
    except gateways.Refusal as refusal:
        return _refused(message, refusal, final)
    message.status, message.sent_at = SMS_SENT, utcnow()
    message.provider_message_id, message.error_code, message.error, message.meaning = provider_id[:100], "", "", ""
    metrics.SMS.labels(message.backend, "sent").inc()
    db.session.flush()
    return None


def _refused(message: SmsMessage, refusal: gateways.Refusal, final: bool) -> gateways.Refusal:
    retry = refusal.transient and not final
    message.status = SMS_RETRYING if retry else SMS_FAILED
    message.error_code, message.error, message.meaning = refusal.code[:100], refusal.detail, refusal.meaning
    metrics.SMS.labels(message.backend, "retry" if retry else refusal.meaning).inc()
    level = logging.INFO if retry or refusal.meaning != gateways.UNAVAILABLE else logging.ERROR
    log.log(level, "SMS %d (%s) refused by %s: %s %s", message.id, message.kind, message.backend, refusal.code,
            refusal.detail)  # fmt: skip
    db.session.flush()
    return refusal


# What the person is told -----------------------------------------------------------------------------------


def refusal_message(meaning: str) -> str:
    return {
        gateways.BLOCKED: _(
            "This number does not receive our texts: it is on the SMS provider's block list. "
            "Use another number, or ask your carrier."
        ),
        gateways.TOO_MANY: _(
            "This number has received too many texts for now. Wait a while (at most until "
            "tomorrow) and ask for a new code."
        ),
        gateways.BAD_NUMBER: _("The SMS provider does not accept this number. Check it, or use another one."),
        gateways.TRY_LATER: _("The text could not be sent just now. Ask for a new code in a few minutes."),
    }.get(meaning, _("Texts cannot be sent at the moment. The organizers have been told; please try again later."))


@dataclass(frozen=True)
class Delivery:
    status: str  # queued, retrying, sent, failed
    message: str  # what to tell the person ("" while nothing is to be said)


def delivery(message: SmsMessage) -> Delivery:
    if message.status == SMS_FAILED:
        return Delivery(message.status, refusal_message(message.meaning))
    return Delivery(message.status, "")


def refusal_error(message: SmsMessage) -> DomainError | None:
    """The provider's refusal as the error the person gets: about the number (422, on the phone field), or ours
    (503). None while the text is queued, retried or sent."""
    if message.status != SMS_FAILED:
        return None
    text = refusal_message(message.meaning)
    if message.meaning in (gateways.BLOCKED, gateways.TOO_MANY, gateways.BAD_NUMBER):
        return Invalid(text, {"phone": text})
    return Unavailable(text)


_TICKET_SALT = "pingxuan.sms-delivery"


def ticket(message: SmsMessage) -> str:
    """An opaque reference the person's page polls for the delivery's outcome (no id to enumerate)."""
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=_TICKET_SALT).dumps(message.id)


def by_ticket(value: str) -> SmsMessage | None:
    try:
        message_id = URLSafeSerializer(current_app.config["SECRET_KEY"], salt=_TICKET_SALT).loads(value)
    except BadSignature:
        return None
    return db.session.get(SmsMessage, int(message_id)) if isinstance(message_id, int) else None


# Configuration and costs -------------------------------------------------------------------------------------


def configuration_problems() -> list[str]:
    """What stops the configured gateway from sending every kind of text (empty with the log backend)."""
    return gateways.configuration_problems(current_app.config, KINDS, _chosen_templates())


# The approved templates ---------------------------------------------------------------------------------------

_CODE = re.compile(r"[A-Za-z0-9_.-]{1,64}")
_PARAM = re.compile(r"[A-Za-z0-9_]{1,40}")


def _chosen_templates() -> dict[str, gateways.Template]:
    """The organizers' latest template per kind (none before the table exists: a fresh install at start)."""
    latest = select(func.max(SmsTemplate.id)).group_by(SmsTemplate.kind)
    try:
        rows = db.session.scalars(select(SmsTemplate).where(SmsTemplate.id.in_(latest))).all()
    except SQLAlchemyError:
        db.session.rollback()
        return {}
    return {row.kind: gateways.Template(row.template_code, dict(row.params or {})) for row in rows}


def approved_templates() -> dict[str, gateways.Template]:
    """Per kind of text, the approved template in force: the organizers' choice, else the configuration's."""
    return gateways.templates(current_app.config) | _chosen_templates()


def template_in_force(kind: str) -> tuple[gateways.Template | None, SmsTemplate | None]:
    """(the template in force for ``kind``, the organizers' row it comes from, or None: the configuration's)."""
    row = db.session.scalar(select(SmsTemplate).where(SmsTemplate.kind == kind).order_by(SmsTemplate.id.desc()))
    if row is not None:
        return gateways.Template(row.template_code, dict(row.params or {})), row
    return gateways.templates(current_app.config).get(kind), None


def set_template(kind: str, code: str, params: dict[str, str], actor: User) -> SmsTemplate:
    """Name the approved template and its parameters for ``kind``; each value must be one of the kind's values."""
    require_staff(actor)
    if kind not in KINDS:
        raise NotFound(_("No such message."))
    placeholders = set(wording.kind(kind).placeholders)  # the one-time code too: the provider puts it in
    errors: dict[str, str] = {}
    code = (code or "").strip()
    if not _CODE.fullmatch(code):
        errors["template_code"] = _("Enter the template code the provider approved (letters, digits, _ . -).")
    wrong = sorted(f"{name} = {value}" for name, value in params.items()
                   if not _PARAM.fullmatch(name) or value not in placeholders)  # fmt: skip
    if wrong:
        errors["params"] = _("Each line is a parameter of the template = one of %(names)s. Not understood: %(wrong)s",
                             names=", ".join(sorted(placeholders)), wrong="; ".join(wrong))  # fmt: skip
    elif not params:
        errors["params"] = _("Map at least one parameter of the template.")
    if errors:
        raise Invalid(_("Please correct the marked fields."), errors)
    current, _row = template_in_force(kind)
    if current is not None and current.code == code and current.params == params:
        raise Conflict(_("This template is already in force."))
    row = SmsTemplate(kind=kind, template_code=code, params=dict(params), changed_by_id=actor.id)
    db.session.add(row)
    db.session.flush()
    return row


def template_history(kind: str) -> list[SmsTemplate]:
    return list(db.session.scalars(select(SmsTemplate).where(SmsTemplate.kind == kind)
                                   .order_by(SmsTemplate.id.desc())))  # fmt: skip


def check_ready() -> str:
    """``/readyz``'s SMS check: the gateway's settings and an approved template for each kind of text."""
    problems = configuration_problems()
    if problems:
        raise RuntimeError("; ".join(problems))
    return "ok"


def price() -> Decimal:
    return Decimal(str(current_app.config.get("SMS_PRICE") or DEFAULT_PRICE))


@dataclass(frozen=True)
class CostRow:
    day: date
    campaign_id: int | None
    sent: int
    failed: int
    cost: Decimal


def costs(days: int = 31) -> list[CostRow]:
    """Texts per day and campaign over the last ``days``, and what the ones the provider took cost."""
    since = utcnow() - timedelta(days=days)
    day = func.date(SmsMessage.created_at)
    rows = db.session.execute(
        select(
            day, SmsMessage.campaign_id,
            func.count().filter(SmsMessage.status == SMS_SENT),
            func.count().filter(SmsMessage.status == SMS_FAILED),
        ).where(SmsMessage.created_at >= since).group_by(day, SmsMessage.campaign_id).order_by(day.desc())
    ).all()  # fmt: skip
    each = price()
    return [CostRow(_as_date(d), campaign_id, sent, failed, each * sent) for d, campaign_id, sent, failed in rows]


def _as_date(value: object) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value))
