"""Celery tasks of notifications: thin, they take ids and call operations, then commit."""

from __future__ import annotations

from celery import shared_task

from notifications.operations import notify_case_event as _notify
from pingxuan.db import commit


@shared_task(name="notifications.notify_case_event", autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def notify_case_event(event_id: int) -> int:
    created = _notify(event_id)
    commit()
    return len(created)
