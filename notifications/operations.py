"""Telling people what happened: in-app notifications and mail through the configured backend."""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import smtplib
from collections.abc import Callable
from email.message import EmailMessage

from cryptography.fernet import Fernet, InvalidToken
from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select

from accounts.models import User
from awards.models import Objection
from cases.models import Case
from notifications.models import Notification, OutboxMail
from notifications.wording import render
from pingxuan.db import utcnow
from pingxuan.extensions import db
from pingxuan.i18n import EN, ZH, pick
from pingxuan.queue import enqueue
from workflow.definition import STATE_BY_NAME, TRANSITION_BY_NAME
from workflow.models import WorkflowEvent

log = logging.getLogger("pingxuan.mail")


def _sealer() -> Fernet:
    """Seals a mail's secret-bearing text for the trip through the broker (the key derives from the secret key)."""
    digest = hashlib.sha256(("mail-secrets:" + current_app.config["SECRET_KEY"]).encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def send_mail(
    recipient: str, subject: str, body: str, html: str | None = None, outgoing: tuple[str, str | None] | None = None
) -> OutboxMail:
    """Send one mail (text, and HTML when given) and keep it in the outbox; the default backend only logs it.

    ``body`` and ``html`` are what the outbox keeps and organizers read in the back office. A mail that carries a
    secret (a reset or invitation link) passes its text with the secret in place as ``outgoing`` (text, HTML):
    that goes to the recipient (and the server log of the ``log`` backend) only. The wording never sees the
    secret (``notifications.wording``), so the outbox holds the placeholder's name where the link goes, by
    construction: an organizer could otherwise reset an administrator's password.

    With the ``smtp`` backend nothing talks to the mail server here: the outbox row is written (``sent_at``
    empty: queued) and a Celery task delivers it once the transaction commits, so a request never waits on SMTP
    and a failed delivery is retried. A mail with secrets travels to the task sealed with the secret key (the
    broker never holds a live link in clear); the others are read back from the outbox.
    """
    backend = current_app.config["MAIL_BACKEND"]
    mail = OutboxMail(recipient=recipient, subject=subject, body=body, body_html=html, backend=backend)
    db.session.add(mail)
    if backend == "smtp":
        db.session.flush()
        sealed = None
        if outgoing is not None:
            sealed = _sealer().encrypt(json.dumps({"text": outgoing[0], "html": outgoing[1]}).encode()).decode()
        enqueue("notifications.deliver_mail", mail.id, sealed)
    else:
        log.info("mail to %s: %s\n%s", recipient, subject, outgoing[0] if outgoing is not None else body)
        mail.sent_at = utcnow()
        db.session.flush()
    return mail


UNDELIVERABLE = "undeliverable: "  # an error no retry can mend: the outbox row says so and the task stops


def undeliverable(error: str | None) -> bool:
    return bool(error) and error.startswith(UNDELIVERABLE)


def _message(mail: OutboxMail, text: str, html: str | None) -> EmailMessage:
    message = EmailMessage()
    message["From"] = current_app.config["MAIL_SENDER"]
    message["To"] = mail.recipient
    message["Subject"] = mail.subject
    message.set_content(text)
    if html:
        message.add_alternative(html, subtype="html")
    message.as_bytes()  # what smtplib will do: a header that cannot be written fails here, not at the server
    return message


def deliver_mail(mail_id: int, sealed: str | None = None) -> str | None:
    """Hand one queued outbox mail to the SMTP server (the ``notifications.deliver_mail`` task); returns the error
    kept on the row, or None once it is sent (a mail sent already is not sent again)."""
    mail = db.session.get(OutboxMail, mail_id)
    if mail is None or mail.sent_at is not None or undeliverable(mail.error):
        return None
    text, html = mail.body, mail.body_html
    if sealed:
        try:
            content = json.loads(_sealer().decrypt(sealed.encode()))
        except InvalidToken:  # sealed under another secret key: the links in it would not work either
            mail.error = "the sealed text does not open with this installation's secret key"
            db.session.flush()
            return mail.error
        text, html = content["text"], content.get("html")
    try:
        message = _message(mail, text, html)
    except (ValueError, TypeError) as exc:  # a header no mail server would take (a line separator in a subject…)
        mail.error = f"{UNDELIVERABLE}{exc}"
        log.error("mail %d to %s cannot be sent: %s", mail.id, mail.recipient, exc)
        db.session.flush()
        return mail.error
    try:
        with smtplib.SMTP(current_app.config["SMTP_HOST"], current_app.config["SMTP_PORT"], timeout=30) as smtp:
            smtp.send_message(message)
        mail.sent_at, mail.error = utcnow(), None
    except (OSError, smtplib.SMTPException) as exc:
        mail.error = str(exc)
        log.error("mail to %s failed: %s", mail.recipient, exc)
    db.session.flush()
    return mail.error


def mail(
    recipient: str, key: str, locale: str, values: dict[str, object], secrets: dict[str, str] | None = None
) -> OutboxMail:
    """Send one of the declared messages (``notifications.wording``) in the recipient's language; ``secrets``
    (the values of the kind's secret placeholders) reach the recipient only (see ``send_mail``)."""
    rendered = render(key, locale, values, secrets)
    outgoing = (rendered.outgoing_text, rendered.outgoing_html) if secrets else None
    return send_mail(recipient, rendered.subject, rendered.text, rendered.html, outgoing=outgoing)


def case_values(event: WorkflowEvent, link: str) -> dict[str, object]:
    case = event.case
    return {
        "case_title": case.title or _("untitled"), "case_number": case.number or "—", "unit_name": case.unit.name,
        "campaign_title": pick(case.campaign, "title"), "action": pick(TRANSITION_BY_NAME[event.transition], "title"),
        "state": pick(STATE_BY_NAME[event.to_state], "title"), "comment": event.comment or "",
        "due_date": case.revision_due.isoformat() if case.revision_due else "", "link": link,
    }  # fmt: skip


def notify_case_event(event_id: int) -> list[Notification]:
    """Tell every active member of the case's unit, in the app and by mail, in their own language, with the
    wording the office chose for this transition."""
    event = db.session.get(WorkflowEvent, event_id)
    if event is None:
        return []
    return notify_unit(event.case, f"transition.{event.transition}", lambda link: case_values(event, link),
                       f"/cases/{event.case_id}")  # fmt: skip


def notify_objection_forwarded(objection_id: int) -> list[Notification]:
    """The office forwarded an objection: the unit is asked to answer it by its due date, on the objection's page."""
    objection = db.session.get(Objection, objection_id)
    if objection is None or objection.forwarded_at is None:
        return []
    case = objection.case

    def values(link: str) -> dict[str, object]:
        return {
            "case_title": case.title or _("untitled"), "case_number": case.number or "—", "unit_name": case.unit.name,
            "objection": str(objection.id), "note": objection.forward_note or "",
            "due_date": objection.response_due.isoformat() if objection.response_due else "", "link": link,
        }  # fmt: skip

    return notify_unit(case, "objection.forwarded", values, f"/objections/{objection.id}", path_in_app=True)


def notify_unit(
    case: Case, key: str, values: Callable[[str], dict[str, object]], path: str, path_in_app: bool = False
) -> list[Notification]:
    """Tell every active member of the case's unit: a notification in the app (both languages, leading to ``path``
    when ``path_in_app``, else to the case's page) and a mail in their own language with the link to ``path``."""
    members = db.session.scalars(
        select(User).where(User.unit_id == case.unit_id, User.active.is_(True)).order_by(User.id)
    ).all()
    link = f"{current_app.config['SERVER_NAME_FOR_MAIL']}{path}"
    in_app = {}
    for locale in (ZH, EN):
        with force_locale(locale):
            in_app[locale] = render(key, locale, values("")).text.strip()
    created = []
    for member in members:
        note = Notification(user_id=member.id, case_id=case.id, message_zh=in_app[ZH], message_en=in_app[EN],
                            link=path if path_in_app else None)  # fmt: skip
        db.session.add(note)
        created.append(note)
        locale = EN if member.locale == EN else ZH
        with force_locale(locale):
            mail(member.email, key, locale, values(link))
    db.session.flush()
    return created


def unread_count(user: User) -> int:
    from sqlalchemy import func

    return db.session.scalar(
        select(func.count()).where(Notification.user_id == user.id, Notification.read_at.is_(None))
    )


def list_notifications(user: User, limit: int = 50) -> list[Notification]:
    return list(
        db.session.scalars(
            select(Notification).where(Notification.user_id == user.id).order_by(Notification.id.desc()).limit(limit)
        )
    )


def mark_all_read(user: User) -> None:
    for note in db.session.scalars(
        select(Notification).where(Notification.user_id == user.id, Notification.read_at.is_(None))
    ):
        note.read_at = utcnow()
    db.session.flush()
