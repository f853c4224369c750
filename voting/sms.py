"""Pluggable SMS delivery. The default backend writes the text to the log and the SMS outbox table.

A production backend is any class named by PINGXUAN_SMS_BACKEND ("package.module:Class") with a method
``send(phone: str, body: str) -> None`` that raises on failure.
"""

from __future__ import annotations

import importlib
import logging

from flask import current_app

from pingxuan.extensions import db
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


def send_sms(phone: str, body: str) -> SmsMessage:
    sender = backend()
    sender.send(phone, body)
    message = SmsMessage(
        phone_hash=phone_hash(phone), phone_masked=mask_phone(phone), body=body,
        backend=getattr(sender, "name", type(sender).__name__),
    )  # fmt: skip
    db.session.add(message)
    db.session.flush()
    return message
