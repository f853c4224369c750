"""Casting, invalidating and recounting ballots.

The vote path is the hottest in the system (a unit can mobilise thousands of staff in minutes), so it uses
Core statements on the session's connection and no ORM objects. The rules are enforced by the database:
the ballot table's unique constraints allow one ballot per case per voter per day and N numbered slots per
category per voter per day; an INSERT ... ON CONFLICT DO NOTHING tries the slots in order, so concurrent
requests can never both succeed where only one may.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date
from functools import cache
from typing import Any, NamedTuple

import psycopg
from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import bindparam, func, literal, select, update
from sqlalchemy.dialects import postgresql, sqlite

from accounts.models import User
from accounts.permissions import require_staff
from campaigns.models import VOTE_CLOSED, VOTE_OPEN, Campaign
from cases.models import Case
from pingxuan.clock import today
from pingxuan.db import utcnow
from pingxuan.errors import Conflict, DomainError, Invalid, NotFound
from pingxuan.extensions import db
from voting import evidence
from voting.models import Ballot, BallotAudit, VoteCount, Voter
from workflow.definition import ANONYMOUS, PUBLIC, VOTE, states_granting


@dataclass(frozen=True)
class VoteResult:
    ballot_id: int
    case_id: int
    count: int
    remaining_today: int  # votes the voter has left today in this category
    count_visible: bool = True  # the campaign shows live counts (a vote can only succeed while it is open)


@cache
def votable_states() -> tuple[str, ...]:
    """Derived from the workflow's declaration, which does not change while the process runs: asked on every
    vote, computed once."""
    return states_granting(VOTE, {ANONYMOUS})


def voting_open(campaign_row, on: date) -> str | None:
    """Why the vote is closed, or None when it is open."""
    status, opens, closes = campaign_row
    if status != VOTE_OPEN:
        return _("The public vote is closed.") if status == VOTE_CLOSED else _("The public vote has not opened yet.")
    if opens and on < opens:
        return _("The public vote opens on %(date)s.", date=opens.isoformat())
    if closes and on > closes:
        return _("The public vote closed on %(date)s.", date=closes.isoformat())
    return None


_BALLOT_FIELDS = (
    "campaign_id", "case_id", "category_id", "voter_id", "vote_date", "slot", "created_at", "ip_hash",
    "subnet_hash", "user_agent", "network_hash", "ua_family", "automated", "referrer_host",
    "seconds_since_verified", "voter_age_seconds", "voter_ballots_before", "phone_class",
)  # fmt: skip


@dataclass(frozen=True)
class _Statements:
    lookup: Any
    insert: Any  # PostgreSQL: ballot and count in one statement; SQLite: the ballot only
    count: Any | None
    already: Any
    voter: Any  # the voter's side of the evidence (the careful path only; the fast path joins it in)


@cache
def _statements(dialect: str) -> _Statements:
    """The hot path's statements, built once with bind parameters (building them costs more than running them)."""
    ballots, counts_table = Ballot.__table__, VoteCount.__table__
    finalists = Case.__table__.alias("finalist")
    lookup = (
        select(
            Case.state, Case.category_id, Case.campaign_id, Campaign.vote_status, Campaign.vote_opens,
            Campaign.vote_closes, Campaign.votes_per_category_per_day, Campaign.show_live_counts,
            select(func.count()).select_from(finalists).where(
                finalists.c.category_id == Case.category_id, finalists.c.state.in_(votable_states())
            ).scalar_subquery().label("finalists"),
        )
        .join(Campaign, Campaign.id == Case.campaign_id)
        .where(Case.id == bindparam("case_id"))
    )  # fmt: skip
    dml = postgresql if dialect == "postgresql" else sqlite
    insert = dml.insert(ballots).values({name: bindparam(name) for name in _BALLOT_FIELDS}).on_conflict_do_nothing()
    bump = {"valid": counts_table.c.valid + 1}
    count = None
    if dialect == "postgresql":
        new = insert.returning(ballots.c.id, ballots.c.case_id).cte("new_ballot")
        insert = (
            postgresql.insert(counts_table)
            .from_select(["case_id", "valid"], select(new.c.case_id, literal(1)))
            .on_conflict_do_update(index_elements=["case_id"], set_=bump)
            .returning(select(new.c.id).scalar_subquery(), counts_table.c.valid)
        )
    else:
        insert = insert.returning(ballots.c.id)
        count = (
            sqlite.insert(counts_table)
            .values(case_id=bindparam("case_id"), valid=1)
            .on_conflict_do_update(index_elements=["case_id"], set_=bump)
            .returning(counts_table.c.valid)
        )
    already = select(Ballot.id).where(
        Ballot.voter_id == bindparam("voter_id"), Ballot.case_id == bindparam("case_id"),
        Ballot.vote_date == bindparam("vote_date"),
    )  # fmt: skip
    voter = select(
        Voter.verified_at, Voter.created_at, Voter.phone_class,
        select(func.count()).select_from(ballots).where(
            ballots.c.voter_id == bindparam("voter_id"), ballots.c.campaign_id == bindparam("campaign_id")
        ).scalar_subquery(),
    ).where(Voter.id == bindparam("voter_id"))  # fmt: skip
    return _Statements(lookup, insert, count, already, voter)


# PostgreSQL's hot path: every check and both writes in ONE statement, run in autocommit (a single statement is
# its own transaction), so a vote costs one round trip, and so does a refusal: the statement always returns one
# row that says what it found (the case, its campaign's vote window, the voter's ballots today in the category),
# from which cast_vote() names the rule that refused. The next free daily slot is the count of the voter's
# ballots in the category today plus one; when that guess loses a race to a concurrent vote of the same voter
# (the unique constraints refuse the row), the statement runs again and sees the winner's ballot.
_ONE_STATEMENT_VOTE = """
WITH target AS (
    SELECT c.id AS case_id, c.state, c.category_id, c.campaign_id, k.vote_status, k.vote_opens, k.vote_closes,
           k.votes_per_category_per_day AS lim, k.show_live_counts AS visible
    FROM cases c JOIN campaigns k ON k.id = c.campaign_id
    WHERE c.id = %(case_id)s
), today AS (
    SELECT count(*) AS used, coalesce(bool_or(b.case_id = %(case_id)s), false) AS already
    FROM ballots b JOIN target t ON b.category_id = t.category_id
    WHERE b.voter_id = %(voter_id)s AND b.vote_date = %(vote_date)s
), voter AS (
    SELECT verified_at, created_at, phone_class FROM voters WHERE id = %(voter_id)s
), new_ballot AS (
    INSERT INTO ballots (campaign_id, case_id, category_id, voter_id, vote_date, slot, created_at, ip_hash,
                         subnet_hash, user_agent, network_hash, ua_family, automated, referrer_host,
                         seconds_since_verified, voter_age_seconds, voter_ballots_before, phone_class)
    SELECT t.campaign_id, t.case_id, t.category_id, %(voter_id)s, %(vote_date)s, d.used + 1, %(created_at)s,
           %(ip_hash)s, %(subnet_hash)s, %(user_agent)s, %(network_hash)s, %(ua_family)s, %(automated)s,
           %(referrer_host)s,
           CAST(EXTRACT(EPOCH FROM (CAST(%(created_at)s AS timestamp) - v.verified_at)) AS integer),
           CAST(EXTRACT(EPOCH FROM (CAST(%(created_at)s AS timestamp) - v.created_at)) AS integer),
           (SELECT count(*) FROM ballots b WHERE b.voter_id = %(voter_id)s AND b.campaign_id = t.campaign_id),
           coalesce(v.phone_class, '')
    FROM target t CROSS JOIN today d LEFT JOIN voter v ON true
    WHERE t.state IN ({states}) AND t.vote_status = '{open}'
      AND (t.vote_opens IS NULL OR t.vote_opens <= %(vote_date)s)
      AND (t.vote_closes IS NULL OR t.vote_closes >= %(vote_date)s)
      AND NOT d.already AND d.used < t.lim
    ON CONFLICT DO NOTHING
    RETURNING id, case_id, slot
), counted AS (
    INSERT INTO vote_counts (case_id, valid) SELECT case_id, 1 FROM new_ballot
    ON CONFLICT (case_id) DO UPDATE SET valid = vote_counts.valid + 1
    RETURNING valid
)
SELECT (SELECT id FROM new_ballot) AS ballot_id, (SELECT valid FROM counted) AS count,
       (SELECT slot FROM new_ballot) AS slot, t.state, t.vote_status, t.vote_opens, t.vote_closes, t.lim, t.visible,
       d.used, d.already,
       (SELECT count(*) FROM cases f WHERE f.category_id = t.category_id AND f.state IN ({states})) AS finalists
FROM (SELECT 1) AS one LEFT JOIN target t ON true LEFT JOIN today d ON true
"""


@cache
def _one_statement() -> bytes:
    """The statement with the workflow's votable states and the open status written in (they are declared, not
    input: checked to be plain names), encoded once: fewer parameters to adapt on every vote."""
    names = (*votable_states(), VOTE_OPEN)
    if not all(name.isidentifier() for name in names):
        raise ValueError(f"unexpected state names {names}")
    states = ", ".join(f"'{name}'" for name in votable_states())
    return _ONE_STATEMENT_VOTE.format(states=states, open=VOTE_OPEN).encode()


_RACES = 8  # attempts of the one statement before the careful path (each lost race means another ballot landed)


def _vote_in_one_statement(voter_id: int, case_id: int, values: dict) -> VoteResult | Refusal | None:
    """The vote, or the refusal of the rule that stops it, in one round trip per attempt; None if every attempt
    lost a race or the connection was found dead (then the careful path decides).

    The statement runs on the pool's psycopg connection itself, in autocommit: SQLAlchemy's Connection and
    result objects cost more CPU than the statement's round trip (issue 19's profile), and psycopg prepares
    the statement on the server after its first uses, so it is parsed and planned once per connection. The
    connection is taken without the pool's pre-ping (one more round trip on every vote, as costly as the vote's
    own in the profile): a connection found dead instead is dropped, and None hands the vote to the careful
    path. If the dead connection had committed the ballot before it broke, that path finds it and answers that
    the voter has voted for the case today, which is true; a ballot is never written twice."""
    params = {**values, "voter_id": voter_id, "case_id": case_id}
    pooled = _checkout_unpinged()
    try:
        return _attempts(pooled.driver_connection, _one_statement(), params, case_id, values["vote_date"])
    except psycopg.OperationalError:
        pooled.invalidate()  # a broken connection must not go back to the pool
        return None  # the careful path decides, on the session's connection, which the pool checks first
    finally:
        pooled.close()


def _checkout_unpinged():
    """A DBAPI connection from the engine's pool without the pool's pre-ping. The switch is the pool's own
    setting, cleared for this one checkout (a sync worker checks out one connection at a time; in a threaded one
    a concurrent checkout may skip one ping, which its own error handling covers); should the setting move in a
    later SQLAlchemy, the checkout simply pings."""
    pool = db.engine.pool
    configured = getattr(pool, "_pre_ping", False)
    if not configured:
        return db.engine.raw_connection()
    pool._pre_ping = False
    try:
        return db.engine.raw_connection()
    finally:
        pool._pre_ping = configured


def _attempts(conn, statement: bytes, params: dict, case_id: int, on: date) -> VoteResult | Refusal | None:
    conn.autocommit = True
    try:
        for _attempt in range(_RACES):
            row = conn.execute(statement, params).fetchone()
            if row[_BALLOT_ID] is not None:
                return _accepted(case_id, row)
            refusal = Refusal(_Found(*row), on)
            if refusal.error() is not None:
                return refusal
        return None
    finally:
        if not conn.closed:
            conn.autocommit = False


class _Found(NamedTuple):
    """The one statement's row, in its columns' order."""

    ballot_id: int | None
    count: int | None
    slot: int | None
    state: str | None
    vote_status: str | None
    vote_opens: date | None
    vote_closes: date | None
    lim: int | None
    visible: bool | None
    used: int | None
    already: bool | None
    finalists: int | None


_BALLOT_ID = 0


def _accepted(case_id: int, row: tuple) -> VoteResult:
    found = _Found(*row)
    left = votes_left(found.lim, found.slot, found.finalists, found.slot)
    return VoteResult(found.ballot_id, case_id, found.count, left, bool(found.visible))


def votes_left(limit: int, used: int, finalists: int, voted_finalists: int) -> int:
    """Votes a voter can still use today in a category: the daily limit left, but no more than the finalists
    not voted for yet (a category with one finalist never promises a second vote)."""
    return max(0, min(limit - used, finalists - voted_finalists))


@dataclass(frozen=True)
class Refusal:
    """What the one statement found when a rule refused the vote; worded by ``error()`` in the language active
    when it is called (the fast path words it in the voter's, outside Flask's request)."""

    found: _Found
    on: date

    def error(self) -> DomainError | None:
        """The refusal the facts call for; None when nothing refused (a lost race: try again)."""
        row = self.found
        if row.state is None or row.state not in states_granting(PUBLIC, {ANONYMOUS}):
            return NotFound(_("No such case."))  # a case the public cannot see does not exist for a voter
        if row.state not in votable_states():  # public, but its vote is over (or never was): never retry
            return Conflict(_("The vote on this case has ended."))
        closed = voting_open((row.vote_status, row.vote_opens, row.vote_closes), self.on)
        if closed:
            return Conflict(closed)
        if row.already:
            return Conflict(_("You have already voted for this case today. Come back tomorrow."))
        if row.used >= row.lim:
            return Conflict(
                ngettext(
                    "You have used today's %(num)d vote in this category.",
                    "You have used today's %(num)d votes in this category.",
                    row.lim,
                )
            )
        return None


def cast_vote(
    voter_id: int, case_id: int, address: str, user_agent: str = "", referrer: str | None = None
) -> VoteResult:
    """Cast one ballot with its evidence (voting.evidence): the request's side is computed here, the voter's
    side (time since verification, age, earlier ballots, phone segment) by the same statement on PostgreSQL."""
    request_evidence = evidence.from_request(address, user_agent, referrer)
    if db.engine.dialect.name == "postgresql":
        fast = _vote_in_one_statement(
            voter_id, case_id, {"vote_date": today(), "created_at": utcnow(), **request_evidence.values()}
        )
        if isinstance(fast, Refusal):
            raise fast.error()
        if fast is not None:
            return fast
    return _cast_vote_carefully(voter_id, case_id, request_evidence)


def fast_vote(
    voter_id: int, case_id: int, address: str, user_agent: str = "", referrer: str | None = None
) -> VoteResult | Refusal | None:
    """The vote in one statement on PostgreSQL: accepted, or refused by a rule (the facts, for the caller to word
    in the voter's language), or None when ``cast_vote`` must decide: every attempt lost a race, or the database
    is not PostgreSQL. For a layer that answers before Flask's request."""
    if db.engine.dialect.name != "postgresql":
        return None
    request_evidence = evidence.from_request(address, user_agent, referrer)
    return _vote_in_one_statement(
        voter_id, case_id, {"vote_date": today(), "created_at": utcnow(), **request_evidence.values()}
    )


def _seconds(later, earlier) -> int | None:
    return None if earlier is None else int((later - earlier).total_seconds())


def _cast_vote_carefully(voter_id: int, case_id: int, request_evidence: evidence.RequestEvidence) -> VoteResult:
    """Check each rule in turn and try each daily slot: the refusal path, and SQLite's path."""
    conn = db.session.connection()
    statements = _statements(conn.dialect.name)
    row = conn.execute(statements.lookup, {"case_id": case_id}).first()
    if row is None or row.state not in states_granting(PUBLIC, {ANONYMOUS}):
        raise NotFound(_("No such case."))  # a case the public cannot see does not exist for a voter
    if row.state not in votable_states():  # public, but its vote is over (or never was): the client may retry never
        raise Conflict(_("The vote on this case has ended."))
    on = today()
    closed = voting_open((row.vote_status, row.vote_opens, row.vote_closes), on)
    if closed:
        raise Conflict(closed)
    limit = row.votes_per_category_per_day
    now = utcnow()
    voter = conn.execute(statements.voter, {"voter_id": voter_id, "campaign_id": row.campaign_id}).first()
    verified_at, created_at, phone, before = voter if voter is not None else (None, None, "", 0)
    values = {
        "campaign_id": row.campaign_id, "case_id": case_id, "category_id": row.category_id, "voter_id": voter_id,
        "vote_date": on, "created_at": now, **request_evidence.values(),
        "seconds_since_verified": _seconds(now, verified_at), "voter_age_seconds": _seconds(now, created_at),
        "voter_ballots_before": before, "phone_class": phone or "",
    }  # fmt: skip
    for slot in range(1, limit + 1):
        inserted = _insert_ballot(conn, statements, {**values, "slot": slot})
        if inserted is not None:
            ballot_id, count = inserted
            left = votes_left(limit, slot, row.finalists, slot)
            return VoteResult(ballot_id, case_id, count, left, bool(row.show_live_counts))
        already = conn.execute(statements.already, {"voter_id": voter_id, "case_id": case_id, "vote_date": on})
        if already.first() is not None:
            raise Conflict(_("You have already voted for this case today. Come back tomorrow."))
    raise Conflict(
        ngettext(
            "You have used today's %(num)d vote in this category.",
            "You have used today's %(num)d votes in this category.",
            limit,
        )
    )


def _insert_ballot(conn, statements: _Statements, values: dict) -> tuple[int, int] | None:
    """Insert the ballot unless a rule's constraint refuses it, and count it: (ballot id, new count) or None.

    On PostgreSQL both happen in one statement (a data-modifying CTE): one round trip on the hot path.
    """
    if statements.count is None:
        row = conn.execute(statements.insert, values).first()
        return (row[0], row[1]) if row is not None else None
    ballot_id = conn.execute(statements.insert, values).scalar()
    if ballot_id is None:
        return None
    return ballot_id, conn.execute(statements.count, {"case_id": values["case_id"]}).scalar_one()


def counts(case_ids: list[int]) -> dict[int, int]:
    if not case_ids:
        return {}
    rows = db.session.execute(select(VoteCount.case_id, VoteCount.valid).where(VoteCount.case_id.in_(case_ids)))
    return {case_id: 0 for case_id in case_ids} | dict(rows.all())


_LIVE_COUNTS = select(VoteCount.case_id, VoteCount.valid).where(VoteCount.case_id.in_(bindparam("ids", expanding=True)))


def live_counts(case_ids: list[int]) -> dict[int, int]:
    """The committed counts a public page fills in on every request, read in autocommit on a connection of their
    own: one round trip (no BEGIN, no ROLLBACK at the end of the request), whatever the session did."""
    if not case_ids:
        return {}
    with db.engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            conn = conn.execution_options(isolation_level="AUTOCOMMIT")
        rows = conn.execute(_LIVE_COUNTS, {"ids": list(case_ids)}).all()
    return {case_id: 0 for case_id in case_ids} | dict(rows)


def counts_visible(campaign: Campaign) -> bool:
    return campaign.show_live_counts or campaign.vote_status == VOTE_CLOSED


def invalidate(ballot_ids: list[int], actor: User, reason: str) -> int:
    """Invalidate ballots with a reason: they stay in the table and the audit, and leave the counts.

    One conditional UPDATE (``WHERE invalidated_at IS NULL``) marks them, and the counts drop by the rows it
    changed: parallel invalidations of one ballot decrement its count once, on SQLite too (where row locks do
    not exist). The write comes first so that SQLite never has to upgrade a read transaction.
    """
    require_staff(actor)
    reason = (reason or "").strip()
    if not reason:
        raise Invalid(_("Say why the ballots are invalid."), {"reason": _("A reason is required.")})
    ids = sorted({int(i) for i in ballot_ids})
    if not ids:
        return 0
    now = utcnow()
    changed = db.session.execute(
        update(Ballot)
        .where(Ballot.id.in_(ids), Ballot.invalidated_at.is_(None))
        .values(invalidated_at=now, invalidated_by_id=actor.id, invalid_reason=reason)
        .returning(Ballot.id, Ballot.case_id, Ballot.campaign_id),
        execution_options={"synchronize_session": "fetch"},
    ).all()
    if not changed:
        return 0
    frozen = db.session.scalar(
        select(func.count())
        .select_from(Campaign)
        .where(Campaign.id.in_({row.campaign_id for row in changed}), Campaign.vote_status == VOTE_CLOSED)
    )
    if frozen:
        raise Conflict(_("The vote is closed; its ballots are frozen."))
    db.session.execute(
        BallotAudit.__table__.insert(),
        [
            {"ballot_id": row.id, "action": "invalidated", "actor_id": actor.id, "reason": reason, "created_at": now}
            for row in changed
        ],
    )
    per_case = Counter(row.case_id for row in changed)
    for case_id, n in per_case.items():
        db.session.execute(update(VoteCount).where(VoteCount.case_id == case_id).values(valid=VoteCount.valid - n))
    db.session.flush()
    return len(changed)


@dataclass(frozen=True)
class Difference:
    case_id: int
    live: int
    recounted: int


def recount(campaign: Campaign | None = None, fix: bool = False) -> list[Difference]:
    """Count every case's valid ballots from the raw table and compare with the live counts."""
    query = select(Ballot.case_id, func.count()).where(Ballot.invalidated_at.is_(None)).group_by(Ballot.case_id)
    live_query = select(VoteCount.case_id, VoteCount.valid)
    if campaign is not None:
        query = query.where(Ballot.campaign_id == campaign.id)
        live_query = live_query.join(Case, Case.id == VoteCount.case_id).where(Case.campaign_id == campaign.id)
    recounted = dict(db.session.execute(query).all())
    live = dict(db.session.execute(live_query).all())
    differences = [
        Difference(case_id, live.get(case_id, 0), recounted.get(case_id, 0))
        for case_id in sorted(set(recounted) | set(live))
        if live.get(case_id, 0) != recounted.get(case_id, 0)
    ]
    if fix:
        for d in differences:
            row = db.session.get(VoteCount, d.case_id) or VoteCount(case_id=d.case_id)
            row.valid = d.recounted
            db.session.add(row)
        db.session.flush()
    return differences
