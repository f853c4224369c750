"""Opening and closing the public vote of a campaign; closing freezes the ballots."""

from __future__ import annotations

from datetime import date, timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import or_, select, update

from accounts.models import User
from accounts.permissions import require_staff
from campaigns.models import VOTE_CLOSED, VOTE_NOT_OPEN, VOTE_OPEN, Campaign
from pingxuan.cache import SHOWCASE, bump
from pingxuan.clock import today
from pingxuan.errors import Conflict
from pingxuan.extensions import db
from voting.models import Ballot


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


def purge_user_agents(on: date | None = None) -> int:
    """Empty the raw user agents of ballots whose vote closed at least ``VOTE_UA_RETENTION_DAYS`` ago.

    A user agent can help identify a person; once the vote is over only the derived evidence is needed (family,
    automation flag), and the ballots themselves stay, so the counts remain verifiable by a recount. A closed
    vote without a closing date is purged at once. Returns the ballots changed.
    """
    days = int(current_app.config.get("VOTE_UA_RETENTION_DAYS", 30))
    cutoff = (on or today()) - timedelta(days=days)
    closed = select(Campaign.id).where(
        Campaign.vote_status == VOTE_CLOSED, or_(Campaign.vote_closes.is_(None), Campaign.vote_closes <= cutoff)
    )
    result = db.session.execute(
        update(Ballot).where(Ballot.campaign_id.in_(closed), Ballot.user_agent != "").values(user_agent=""),
        execution_options={"synchronize_session": False},
    )
    return result.rowcount or 0


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


__all__ = ["VOTE_NOT_OPEN", "close_due_votes", "close_vote", "open_vote", "purge_user_agents"]
