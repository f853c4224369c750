"""Celery tasks of the review: thin wrappers that call operations and commit."""

from __future__ import annotations

from celery import shared_task

from pingxuan.db import commit
from reviewers.progress import send_reminders


@shared_task(name="reviewers.send_reminders")
def send_review_reminders() -> int:
    sent = send_reminders()
    commit()
    return sent
