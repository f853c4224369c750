"""Signs of ballot stuffing for organizers to judge: bursts, crowded subnets, inhumanly fast voters."""

from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select

from cases.models import Case
from pingxuan.extensions import db
from voting.models import Ballot

BURST_FACTOR = 5  # a minute with this many times the case's usual rate ...
BURST_MIN_VOTES = 20  # ... and at least this many votes is a burst
SUBNET_SHARE = 0.3  # a /24 network that cast more than this share of a case's votes is crowded
HUMAN_GAP = timedelta(seconds=2)  # two ballots of one voter closer than this were not cast by hand


@dataclass
class CaseReport:
    case: Case
    total: int = 0
    usual_per_minute: float = 0.0
    bursts: list[tuple[datetime, int]] = field(default_factory=list)  # (minute as stored, in UTC; votes)
    top_subnet_share: float = 0.0
    top_subnet_votes: int = 0
    fast_voters: int = 0
    suspicious_ballot_ids: list[int] = field(default_factory=list)

    @property
    def flagged(self) -> bool:
        return bool(self.bursts) or self.top_subnet_share > SUBNET_SHARE or self.fast_voters > 0


def case_report(case: Case) -> CaseReport:
    rows = db.session.execute(
        select(Ballot.id, Ballot.voter_id, Ballot.created_at, Ballot.subnet_hash)
        .where(Ballot.case_id == case.id, Ballot.invalidated_at.is_(None))
        .order_by(Ballot.created_at)
    ).all()
    report = CaseReport(case, total=len(rows))
    if not rows:
        return report
    per_minute = Counter(_minute(r.created_at) for r in rows)
    report.usual_per_minute = statistics.median(per_minute.values())
    report.bursts = sorted(
        (minute, n) for minute, n in per_minute.items()
        if n >= BURST_MIN_VOTES and n >= BURST_FACTOR * report.usual_per_minute
    )  # fmt: skip
    subnet, votes = Counter(r.subnet_hash for r in rows).most_common(1)[0]
    report.top_subnet_votes, report.top_subnet_share = votes, votes / len(rows)
    voter_ids = {r.voter_id for r in rows}
    fast = _fast_voters(voter_ids)
    report.fast_voters = len(fast)
    burst_minutes = {m for m, _n in report.bursts}
    report.suspicious_ballot_ids = [r.id for r in rows if r.voter_id in fast or _minute(r.created_at) in burst_minutes]
    return report


def _minute(moment: datetime) -> datetime:
    return moment.replace(second=0, microsecond=0)


def _fast_voters(voter_ids: set[int]) -> set[int]:
    """Voters with two ballots (on any cases) closer together than a person could cast them."""
    if not voter_ids:
        return set()
    fast: set[int] = set()
    last: dict[int, object] = {}
    for voter_id, created_at in db.session.execute(
        select(Ballot.voter_id, Ballot.created_at).where(Ballot.voter_id.in_(voter_ids)).order_by(Ballot.created_at)
    ):
        previous = last.get(voter_id)
        if previous is not None and created_at - previous < HUMAN_GAP:
            fast.add(voter_id)
        last[voter_id] = created_at
    return fast


def campaign_report(campaign_id: int) -> list[CaseReport]:
    cases = db.session.scalars(
        select(Case).where(Case.campaign_id == campaign_id, Case.id.in_(select(Ballot.case_id).distinct()))
    ).all()
    return sorted((case_report(c) for c in cases), key=lambda r: (not r.flagged, -r.total))
