"""The test suite's phone: the SMS backend the tests configure (``SMS_BACKEND``), keeping each text as a handset
would. The SMS outbox keeps one-time codes redacted, so tests read them here, like a voter reads their phone."""

from __future__ import annotations

import re
import threading
import time


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


def received() -> int:
    """How many texts have arrived so far (give it to ``next_code``)."""
    return len(Phone.texts)


def next_code(phone: str, after: int, timeout: float = 10) -> str:
    """The code of the first text to ``phone`` after the first ``after`` texts, waiting for it: a browser asks for
    the code with a request the page does not wait on, so the test reads the phone once the text is there."""
    deadline = time.monotonic() + timeout
    while True:
        for number, body in Phone.texts[after:]:
            if number == phone:
                return re.search(r"\d{6}", body).group(0)
        if time.monotonic() > deadline:
            raise AssertionError(f"no text to {phone} within {timeout} s")
        time.sleep(0.05)
