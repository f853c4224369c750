"""Celery tasks of the public vote: the scheduled close at the end of the voting window (Celery beat)."""

from __future__ import annotations

import logging

from celery import shared_task

from pingxuan.db import commit
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
