"""Celery tasks of accounts: thin, they call operations, then commit."""

from __future__ import annotations

from celery import shared_task

from accounts.operations import request_password_reset
from pingxuan.db import commit


@shared_task(name="accounts.send_password_reset")
def send_password_reset(email: str) -> None:
    """Mail a reset link to ``email`` if it names an active account (queued by ``/forgot``)."""
    request_password_reset(email)
    commit()
