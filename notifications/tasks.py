"""Celery tasks of notifications: thin, they take ids and call operations, then commit."""

from __future__ import annotations

from celery import shared_task

from notifications.operations import deliver_mail as _deliver
from notifications.operations import notify_case_event as _notify
from notifications.operations import notify_objection_forwarded as _notify_objection
from notifications.operations import undeliverable
from pingxuan.db import commit


@shared_task(name="notifications.notify_case_event", autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def notify_case_event(event_id: int) -> int:
    created = _notify(event_id)
    commit()
    return len(created)


@shared_task(
    name="notifications.notify_objection_forwarded", autoretry_for=(OSError,), retry_backoff=True, max_retries=5
)
def notify_objection_forwarded(objection_id: int) -> int:
    created = _notify_objection(objection_id)
    commit()
    return len(created)


@shared_task(name="notifications.deliver_mail", bind=True, max_retries=6)
def deliver_mail(self, mail_id: int, sealed: str | None = None) -> bool:
    """SMTP delivery of one outbox mail; a failure is kept on the row and retried later (1, 2, 4, … minutes),
    except one no retry can mend (a header the mail server would refuse), kept as undeliverable."""
    error = _deliver(mail_id, sealed)
    commit()
    if (
        error is not None and not undeliverable(error) and not self.request.is_eager
    ):  # embedded (no broker): the error stays on the row
        raise self.retry(countdown=60 * 2**self.request.retries)
    return error is None
