"""The test suite's phone: the SMS backend the tests configure (``SMS_BACKEND``), keeping each text as a handset
would. The SMS outbox keeps one-time codes redacted, so tests read them here, like a voter reads their phone."""

from __future__ import annotations

import re
import threading


class Phone:
    name = "test-phone"
    texts: list[tuple[str, str]] = []  # (number, text), every text this process sent
    _lock = threading.Lock()

    def send(self, phone: str, body: str) -> None:
        with self._lock:
            Phone.texts.append((phone, body))


def last_text(phone: str | None = None) -> str:
    return next(body for number, body in reversed(Phone.texts) if phone is None or number == phone)


def last_code(phone: str | None = None) -> str:
    """The one-time code of the latest text (to ``phone``): what the voter would type."""
    return re.search(r"\d{6}", last_text(phone)).group(0)
