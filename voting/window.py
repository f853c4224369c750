"""Opening and closing the public vote of a campaign; closing freezes the ballots."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select

from accounts.models import User
from accounts.permissions import require_staff
from campaigns.models import VOTE_CLOSED, VOTE_NOT_OPEN, VOTE_OPEN, Campaign
from pingxuan.cache import SHOWCASE, bump
from pingxuan.clock import today
from pingxuan.errors import Conflict
from pingxuan.extensions import db


def open_vote(campaign: Campaign, actor: User) -> Campaign:
    require_staff(actor)
    if campaign.vote_status == VOTE_OPEN:
        raise Conflict(_("The public vote is open already."))
    if campaign.vote_status == VOTE_CLOSED:
        raise Conflict(_("A closed vote cannot be opened again: its ballots are frozen."))
    campaign.vote_status = VOTE_OPEN
    db.session.flush()
    bump(SHOWCASE)
    return campaign


def close_vote(campaign: Campaign, actor: User | None) -> Campaign:
    """Close the vote (actor None: the scheduled close at the end of the window)."""
    if actor is not None:
        require_staff(actor)
    if campaign.vote_status != VOTE_OPEN:
        raise Conflict(_("The public vote is not open."))
    campaign.vote_status = VOTE_CLOSED
    db.session.flush()
    bump(SHOWCASE)
    return campaign


def close_due_votes() -> list[Campaign]:
    """Close every open vote whose window has ended (run by Celery beat and the CLI)."""
    due = db.session.scalars(
        select(Campaign).where(
            Campaign.vote_status == VOTE_OPEN, Campaign.vote_closes.is_not(None), Campaign.vote_closes < today()
        )
    ).all()
    for campaign in due:
        close_vote(campaign, None)
    return list(due)


__all__ = ["VOTE_NOT_OPEN", "close_due_votes", "close_vote", "open_vote"]
