"""Opening and closing the public vote of a campaign; closing freezes the ballots."""

from __future__ import annotations

from datetime import date, timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, or_, select, update

from accounts.models import User
from accounts.permissions import require_staff
from campaigns.models import VOTE_CLOSED, VOTE_NOT_OPEN, VOTE_OPEN, Campaign
from campaigns.settings import audit
from cases.models import Case
from pingxuan.cache import SHOWCASE, bump
from pingxuan.clock import today
from pingxuan.errors import Conflict, Invalid
from pingxuan.extensions import db
from voting.models import Ballot
from workflow.definition import TRANSITION_BY_NAME, TRANSITIONS

AWARDED = TRANSITION_BY_NAME["confirm_award"].dest


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
    audit(campaign, actor, "campaign", campaign.id, "vote_status", VOTE_OPEN, VOTE_CLOSED)
    db.session.flush()
    bump(SHOWCASE)
    return campaign


# Once a case has been proposed for an award (or not awarded) after the vote, its result is in use: the vote
# stays closed. Read from the declaration: the destinations of the decisions that need a closed vote.
DECIDED_AFTER_VOTE = tuple({t.dest for t in TRANSITIONS if "vote_closed" in t.guards} | {AWARDED})


def decisions_after_vote(campaign: Campaign) -> int:
    """How many cases of the campaign were decided on the vote's result (proposed, awarded or not awarded)."""
    return (
        db.session.scalar(
            select(func.count())
            .select_from(Case)
            .where(Case.campaign_id == campaign.id, Case.state.in_(DECIDED_AFTER_VOTE))
        )
        or 0
    )


def valid_ballots(campaign: Campaign) -> int:
    return (
        db.session.scalar(
            select(func.count())
            .select_from(Ballot)
            .where(Ballot.campaign_id == campaign.id, Ballot.invalidated_at.is_(None))
        )
        or 0
    )


def reopen_vote(campaign: Campaign, actor: User, reason: str) -> Campaign:
    """Undo closing the vote (by mistake or too early): audited with its reason, and only until a case has been
    proposed for an award or not awarded on the vote's result, and while the vote's window has not ended."""
    require_staff(actor)
    reason = (reason or "").strip()
    if campaign.vote_status != VOTE_CLOSED:
        raise Conflict(_("The public vote is not closed."))
    if not reason:
        raise Invalid(_("Please correct the marked fields."), {"reason": _("Say why the vote is reopened.")})
    if decisions_after_vote(campaign):
        raise Conflict(_("Awards have been proposed on this vote's result: the vote cannot be reopened."))
    if campaign.vote_closes is not None and campaign.vote_closes < today():
        raise Conflict(
            _("The vote's window ended on %(day)s: set a later closing day in the set-up first.",
              day=campaign.vote_closes.isoformat())
        )  # fmt: skip
    campaign.vote_status = VOTE_OPEN
    audit(campaign, actor, "campaign", campaign.id, "vote_status", VOTE_CLOSED, VOTE_OPEN)
    audit(campaign, actor, "campaign", campaign.id, "vote_reopen_reason", None, reason)
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


__all__ = [
    "VOTE_NOT_OPEN", "close_due_votes", "close_vote", "decisions_after_vote", "open_vote", "purge_user_agents",
    "reopen_vote", "valid_ballots",
]  # fmt: skip
