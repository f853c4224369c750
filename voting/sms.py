"""Pluggable SMS delivery. The default backend writes the text to the log; every text is kept in the SMS outbox.

A production backend is any class named by PINGXUAN_SMS_BACKEND ("package.module:Class") with a method
``send(phone: str, body: str) -> None`` that raises on failure.

The backend gets the whole text; the outbox (``sms_messages``) keeps the ``secrets`` of a text (the one-time
code) redacted, so the table, its backups and whoever reads them never hold a code that still verifies a number.
With the default backend the log is the phone: the demo's codes are read in the terminal running it.
"""

from __future__ import annotations

import importlib
import logging

from flask import current_app

from pingxuan.extensions import db
from pingxuan.signing import redact
from voting.models import SmsMessage
from voting.privacy import mask_phone, phone_hash

log = logging.getLogger("pingxuan.sms")


class LogBackend:
    name = "log"

    def send(self, phone: str, body: str) -> None:
        log.info("SMS to %s: %s", mask_phone(phone), body)


def backend():
    spec = current_app.config.get("SMS_BACKEND") or "log"
    if spec == "log":
        return LogBackend()
    module, _, attr = spec.partition(":")
    return getattr(importlib.import_module(module), attr)()


def send_sms(phone: str, body: str, secrets: tuple[str, ...] = ()) -> SmsMessage:
    """Deliver ``body`` to ``phone`` and keep it in the outbox with its ``secrets`` redacted."""
    sender = backend()
    sender.send(phone, body)
    message = SmsMessage(
        phone_hash=phone_hash(phone), phone_masked=mask_phone(phone), body=redact(body, secrets),
        backend=getattr(sender, "name", type(sender).__name__),
    )  # fmt: skip
    db.session.add(message)
    db.session.flush()
    return message
