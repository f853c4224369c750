"""Celery tasks of the public vote: texts to phones, and the scheduled close at the end of the voting window."""

from __future__ import annotations

import logging

from celery import shared_task

from pingxuan.db import commit
from voting.sms import deliver
from voting.window import close_due_votes, purge_user_agents

log = logging.getLogger(__name__)


@shared_task(name="voting.close_due_votes")
def close_due_votes_task() -> list[int]:
    """Close every open vote whose window has ended; returns the closed campaigns' ids."""
    closed = [campaign.id for campaign in close_due_votes()]
    purged = purge_user_agents()
    commit()
    if closed:
        log.info("closed the public vote of campaigns %s", closed)
    if purged:
        log.info("emptied the user agents of %d ballots past their retention", purged)
    return closed


SMS_RETRIES = 4


@shared_task(name="voting.deliver_sms", bind=True, max_retries=SMS_RETRIES)
def deliver_sms(self, message_id: int, sealed: str) -> bool:
    """One text to the gateway; a transient refusal is retried after 10 s, 30 s, 90 s, 270 s by the worker, and at
    once in the embedded default (tasks in the web process: nobody would come back later)."""
    if self.request.is_eager:
        for attempt in range(SMS_RETRIES + 1):
            refusal = deliver(message_id, sealed, final=attempt == SMS_RETRIES)
            commit()
            if refusal is None or not refusal.transient:
                break
        return refusal is None
    final = self.request.retries >= SMS_RETRIES
    refusal = deliver(message_id, sealed, final)
    commit()
    if refusal is not None and refusal.transient and not final:
        raise self.retry(countdown=10 * 3**self.request.retries)
    return refusal is None
