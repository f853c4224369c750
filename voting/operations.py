"""What the public pages and the API share about the vote: the gallery, photos, a voter's day, voter tokens,
and the organizer's view of one case's ballots.

The rules themselves (who may vote, how often, counts, invalidation) live in voting.ballots, voting.voters
and voting.window; this module only adds the read-side rules the web needs (what is public, what a voter
has left today) so the pages and the API never re-derive them.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cache, lru_cache
from time import time as time_now

from flask import current_app
from flask_babel import gettext as _
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from accounts.models import User
from accounts.permissions import require_staff
from campaigns.models import VOTE_BY_EITHER, VOTE_BY_SMS, VOTE_CLOSED, VOTE_OPEN, Campaign, SettingChange
from cases.models import PUBLIC_FILE, Attachment, Case
from cases.operations import current_campaign, public_copy
from pingxuan import metrics, storage
from pingxuan.cache import SHOWCASE, cached
from pingxuan.clock import today, zone
from pingxuan.errors import DomainError, NotFound
from pingxuan.extensions import db
from voting import wechat
from voting.anomalies import case_report
from voting.ballots import (
    Refusal,
    VoteResult,
    cast_vote,
    counts,
    counts_visible,
    fast_vote,
    votable_states,
    votes_left,
    voting_open,
)
from voting.models import Ballot, BallotAudit
from voting.showcase import public_case, public_states, showcase_query

PHOTO = "photo"
VOTER_TOKEN_SALT = "pingxuan.voter"
VOTER_TOKEN_MAX_AGE = 30 * 24 * 3600  # a voter verifies a number once a month at most


# The gallery -----------------------------------------------------------------------------------------------


def showcase_campaign() -> Campaign:
    """The campaign whose finalists the gallery shows (the current one)."""
    return current_campaign()


@dataclass
class GalleryPage:
    cases: list[Case]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def gallery(
    campaign: Campaign, category_id: int | None = None, domain_id: int | None = None, search: str = "",
    page: int = 1, per_page: int = 24,
) -> GalleryPage:  # fmt: skip
    """One page of public cases, with unit, category and domain loaded in three queries, not one per case."""
    query = showcase_query(campaign, category_id, domain_id, search)
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    page = max(1, page)
    cases = db.session.scalars(
        query.options(selectinload(Case.unit), selectinload(Case.category), selectinload(Case.domain))
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    return GalleryPage(list(cases), total, page, per_page)


@dataclass(frozen=True)
class Shown:
    """How many finalists the gallery's tabs and chips lead to: an empty category or domain gets no tab."""

    total: int
    per_category: dict[int, int]
    per_domain: dict[int, int]


def shown_counts(campaign: Campaign) -> Shown:
    rows = db.session.execute(
        select(Case.category_id, Case.domain_id, func.count())
        .where(Case.campaign_id == campaign.id, Case.state.in_(public_states()))
        .group_by(Case.category_id, Case.domain_id)
    ).all()
    per_category: Counter[int] = Counter()
    per_domain: Counter[int] = Counter()
    for category_id, domain_id, n in rows:
        per_category[category_id] += n
        if domain_id is not None:
            per_domain[domain_id] += n
    return Shown(sum(per_category.values()), dict(per_category), dict(per_domain))


@dataclass(frozen=True)
class VoteSchedule:
    """The vote's window as the public reads it: times are naive UTC (pingxuan.clock.shown names the zone)."""

    state: str  # open | not_open | closed, as a voter finds it now (a window that ended is closed)
    opens_at: datetime | None  # the start of the opening day in the campaign's zone
    closes_at: datetime | None  # the end of the closing day (the first moment no ballot is taken)
    closed_at: datetime | None  # when it closed: the organizers' close or the window's end, whichever came first
    votes_per_day: int  # per category and voter
    identity: str  # how a voter proves who they are here: sms | wechat | either


def _day_start(day: date) -> datetime:
    """The first moment of a day of the campaign's calendar, as naive UTC."""
    return datetime.combine(day, time(0), tzinfo=zone()).astimezone(UTC).replace(tzinfo=None)


def vote_schedule(campaign: Campaign) -> VoteSchedule:
    opens_at = _day_start(campaign.vote_opens) if campaign.vote_opens else None
    closes_at = _day_start(campaign.vote_closes + timedelta(days=1)) if campaign.vote_closes else None
    status, closed_at = campaign.vote_status, None
    why_closed = voting_open((status, campaign.vote_opens, campaign.vote_closes), today())
    if status == VOTE_OPEN and why_closed is None:
        state = VOTE_OPEN
    elif status == VOTE_CLOSED or (status == VOTE_OPEN and closes_at is not None and campaign.vote_closes < today()):
        state = VOTE_CLOSED
        closed_at = db.session.scalar(
            select(SettingChange.created_at)
            .where(SettingChange.campaign_id == campaign.id, SettingChange.field == "vote_status",
                   SettingChange.after == VOTE_CLOSED)
            .order_by(SettingChange.id.desc())
            .limit(1)
        ) if status == VOTE_CLOSED else None  # fmt: skip
        closed_at = min(filter(None, (closed_at, closes_at)), default=None)
    else:
        state = "not_open"
    identity = campaign.vote_identity
    if identity == VOTE_BY_EITHER and not wechat.configured():
        identity = VOTE_BY_SMS
    return VoteSchedule(state, opens_at, closes_at, closed_at, campaign.votes_per_category_per_day, identity)


def photos(case_ids: list[int]) -> dict[int, list[Attachment]]:
    """The public photos of each case (never a private one, nor its documents)."""
    found: dict[int, list[Attachment]] = {case_id: [] for case_id in case_ids}
    if case_ids:
        rows = db.session.scalars(
            select(Attachment)
            .where(Attachment.case_id.in_(case_ids), Attachment.kind == PHOTO, Attachment.visibility == PUBLIC_FILE)
            .order_by(Attachment.case_id, Attachment.id)
        )
        for attachment in rows:
            found[attachment.case_id].append(attachment)
    return found


def public_photo(case_id: int, attachment_id: int) -> tuple[bytes, str]:
    """The copy without EXIF of a public case's public photo (never the original, with its GPS position)."""
    public_case(case_id)
    attachment = db.session.get(Attachment, attachment_id)
    if attachment is None or attachment.case_id != case_id or attachment.kind != PHOTO:
        raise NotFound(_("No such photo."))
    digest = public_copy(attachment) if attachment.visibility == PUBLIC_FILE else None
    if digest is None:
        raise NotFound(_("No such photo."))
    return storage.read(digest), digest


def public_documents(case: Case) -> list[Attachment]:
    """The documents the unit made public, listed on the showcase page."""
    return [a for a in case.attachments if a.kind != PHOTO and a.visibility == PUBLIC_FILE]


def visible_counts(campaign: Campaign, case_ids: list[int]) -> dict[int, int] | None:
    """Live counts of these cases, or None while the campaign hides them until the vote closes."""
    return counts(case_ids) if counts_visible(campaign) else None


# Voters --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class VoterDay:
    voted_for_case: bool
    remaining_in_category: int  # never more than the category's finalists the voter has not voted for today


def _finalists_per_category(campaign_id: int) -> dict[int, int]:
    """The cases open to the vote in each category of a campaign (cached with the showcase: any change to a case
    makes it stale)."""

    def build() -> dict[int, int]:
        rows = db.session.execute(
            select(Case.category_id, func.count())
            .where(Case.campaign_id == campaign_id, Case.state.in_(votable_states()))
            .group_by(Case.category_id)
        ).all()
        return {category_id: n for category_id, n in rows}

    return cached(SHOWCASE, f"finalists:{campaign_id}", build)


def _ballots_today(voter_id: int, campaign_id: int) -> list:
    return db.session.execute(
        select(Ballot.case_id, Ballot.category_id, Case.state)
        .join(Case, Case.id == Ballot.case_id)
        .where(Ballot.voter_id == voter_id, Ballot.campaign_id == campaign_id, Ballot.vote_date == today())
    ).all()


def voter_day(voter_id: int, case: Case) -> VoterDay:
    """Whether the voter already voted for this case today and how many votes they can still use in its category."""
    rows = [r for r in _ballots_today(voter_id, case.campaign_id) if r.category_id == case.category_id]
    finalists = _finalists_per_category(case.campaign_id).get(case.category_id, 0)
    votable = set(votable_states())
    left = votes_left(case.campaign.votes_per_category_per_day, len(rows), finalists,
                 sum(1 for r in rows if r.state in votable))  # fmt: skip
    return VoterDay(any(r.case_id == case.id for r in rows), left)


@dataclass(frozen=True)
class VoterGallery:
    voted: list[int]  # the cases this voter voted for today
    remaining: dict[int, int]  # votes they can still use today, per category id


def voter_gallery(voter_id: int, campaign: Campaign) -> VoterGallery:
    """A voter's day across the gallery: which tiles to mark as voted, which categories have votes left."""
    rows = _ballots_today(voter_id, campaign.id)
    votable = set(votable_states())
    used = Counter(r.category_id for r in rows)
    voted_finalists = Counter(r.category_id for r in rows if r.state in votable)
    limit = campaign.votes_per_category_per_day
    remaining = {
        category_id: votes_left(limit, used[category_id], n, voted_finalists[category_id])
        for category_id, n in _finalists_per_category(campaign.id).items()
    }
    return VoterGallery(sorted({r.case_id for r in rows}), remaining)


def cast_public_vote(
    voter_id: int, case_id: int, address: str, user_agent: str = "", referrer: str | None = None
) -> tuple[VoteResult, bool]:
    """Cast a vote (voting.ballots.cast_vote) and say whether its new count may be shown to the voter.

    A vote can only succeed while the vote is open, so the count is visible exactly when the campaign shows
    live counts: one indexed single-column read, no ORM objects. The votes left today are capped by the
    category's finalists not voted for yet (their number comes from the showcase's cache).
    """
    try:
        result = cast_vote(voter_id, case_id, address, user_agent, referrer)
    except DomainError as error:
        metrics.vote_refused(type(error).__name__.lower())  # conflict (rules, closed), notfound
        raise
    metrics.vote_accepted()
    return result, result.count_visible


def fast_public_vote(
    voter_id: int, case_id: int, address: str, user_agent: str = "", referrer: str | None = None
) -> VoteResult | Refusal | None:
    """``cast_public_vote`` in one statement (voting.ballots.fast_vote): the accepted vote, a rule's refusal
    (worded by ``refused_vote`` in the voter's language), or None when the vote must go the whole way (SQLite,
    every attempt lost a race): for voting.fast_views."""
    result = fast_vote(voter_id, case_id, address, user_agent, referrer)
    if isinstance(result, VoteResult):
        metrics.vote_accepted()
    return result


def refused_vote(refusal: Refusal) -> DomainError:
    """The refusal worded in the active language, counted like cast_public_vote's."""
    error = refusal.error()
    if error is None:  # the statement's facts refused nothing: they came from a lost race (not returned)
        raise RuntimeError("a refusal without a refusing rule")
    metrics.vote_refused(type(error).__name__.lower())
    return error


def _serializer() -> URLSafeTimedSerializer:
    return _serializer_for(current_app.config["SECRET_KEY"])


@cache
def _serializer_for(secret_key: str) -> URLSafeTimedSerializer:
    """One serializer per key: every vote verifies a token, and building one each time showed in the profile."""
    return URLSafeTimedSerializer(secret_key, salt=VOTER_TOKEN_SALT)


def voter_token(voter_id: int) -> str:
    """A signed token carrying the voter id, for API clients (X-Voter-Token): no lookup needed to vote."""
    return _serializer().dumps({"v": voter_id})


def voter_from_token(token: str | None) -> int | None:
    """The voter a token names, if its signature holds and it is younger than VOTER_TOKEN_MAX_AGE."""
    if not token or len(token) > _LONGEST_TOKEN:
        return None
    voter_id, signed_at = _signed_voter(current_app.config["SECRET_KEY"], token)
    if voter_id is None or not 0 <= time_now() - signed_at <= VOTER_TOKEN_MAX_AGE:
        return None
    return voter_id


_LONGEST_TOKEN = 200  # a voter token is about 70 characters; nothing longer is one


@lru_cache(maxsize=8192)
def _signed_voter(secret_key: str, token: str) -> tuple[int | None, float]:
    """The voter id a token carries and when it was signed, its signature checked once per process: the page's
    script sends the same token with every vote of the day. Its age is checked on every use, by the caller."""
    try:
        data, signed_at = _serializer_for(secret_key).loads(token, return_timestamp=True)
    except BadSignature:
        return None, 0.0
    voter_id = data.get("v") if isinstance(data, dict) else None
    return (voter_id if isinstance(voter_id, int) else None), signed_at.timestamp()


# Organizers ----------------------------------------------------------------------------------------------


def staff_campaign(campaign_id: int | None, actor: User | None) -> Campaign:
    """A campaign for an organizer's vote controls (the current one when no id is given)."""
    require_staff(actor)
    if campaign_id is None:
        return current_campaign()
    campaign = db.session.get(Campaign, campaign_id)
    if campaign is None:
        raise NotFound(_("No such campaign."))
    return campaign


def staff_case(case_id: int, actor: User | None) -> Case:
    require_staff(actor)
    case = db.session.get(Case, case_id)
    if case is None:
        raise NotFound(_("No such case."))
    return case


@dataclass(frozen=True)
class BallotRow:
    id: int
    voter_id: int
    created_at: datetime
    subnet: str  # a short prefix of the keyed subnet hash: enough to see ballots from one network
    user_agent: str
    invalidated_at: datetime | None
    invalid_reason: str | None
    suspicious: bool


def case_ballots(case: Case, actor: User | None, suspicious_only: bool = False, limit: int = 500) -> list[BallotRow]:
    """A case's ballots for an organizer, newest first, marked where the anomaly report flags them."""
    require_staff(actor)
    flagged = set(case_report(case).suspicious_ballot_ids)
    query = select(Ballot).where(Ballot.case_id == case.id).order_by(Ballot.created_at.desc(), Ballot.id.desc())
    if suspicious_only:
        query = query.where(Ballot.id.in_(flagged or {-1}))
    return [
        BallotRow(
            b.id,
            b.voter_id,
            b.created_at,
            b.subnet_hash[:8],
            b.user_agent,
            b.invalidated_at,
            b.invalid_reason,
            b.id in flagged,
        )  # fmt: skip
        for b in db.session.scalars(query.limit(limit))
    ]


def ballot_audit(case: Case, actor: User | None) -> list[BallotAudit]:
    """The organizers' actions on a case's ballots, newest first (append-only)."""
    require_staff(actor)
    return list(
        db.session.scalars(
            select(BallotAudit)
            .join(Ballot, Ballot.id == BallotAudit.ballot_id)
            .where(Ballot.case_id == case.id)
            .order_by(BallotAudit.id.desc())
        )
    )
