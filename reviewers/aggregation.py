"""From reviews to a ranking: raw means, per-expert z-score normalization, disagreement flags.

A harsh expert and a lenient one who rank the same cases alike should not sink or lift the cases they
happened to get. Each expert's submitted totals are turned into z-scores against that expert's own mean and
spread, then put back on the rubric's 0..100 scale with the mean and spread of all submitted totals of the
campaign (Evalato's method). An expert with fewer than two reviews, or who gave every case the same total,
has no spread to normalize by: their totals are used as they are.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field

from sqlalchemy import select

from campaigns.models import Campaign
from cases.models import Case
from pingxuan.extensions import db
from reviewers.models import LIVE, SUBMITTED, Assignment, Review

DISAGREEMENT = 15.0  # standard deviation of raw totals (0..100) above which organizers are alerted


@dataclass
class CaseResult:
    case: Case
    raw: list[float] = field(default_factory=list)
    normalized: list[float] = field(default_factory=list)
    assigned: int = 0
    submitted: int = 0
    by_expert: dict[int, tuple[float, float]] = field(default_factory=dict)  # expert id → (raw, normalized)

    @property
    def raw_mean(self) -> float | None:
        return round(statistics.fmean(self.raw), 2) if self.raw else None

    @property
    def normalized_mean(self) -> float | None:
        return round(statistics.fmean(self.normalized), 2) if self.normalized else None

    @property
    def spread(self) -> float | None:
        return round(statistics.pstdev(self.raw), 2) if len(self.raw) > 1 else None

    @property
    def disagreement(self) -> bool:
        return self.spread is not None and self.spread > DISAGREEMENT

    @property
    def complete(self) -> bool:
        return self.assigned > 0 and self.submitted == self.assigned


def normalize(totals_by_expert: dict[int, dict[int, float]]) -> dict[int, dict[int, float]]:
    """{expert: {case: raw}} → {expert: {case: normalized}} on the same 0..100 scale."""
    everything = [v for per_case in totals_by_expert.values() for v in per_case.values()]
    if len(everything) < 2:
        return {e: dict(per_case) for e, per_case in totals_by_expert.items()}
    mean, spread = statistics.fmean(everything), statistics.pstdev(everything)
    result: dict[int, dict[int, float]] = {}
    for expert, per_case in totals_by_expert.items():
        values = list(per_case.values())
        own_spread = statistics.pstdev(values) if len(values) > 1 else 0.0
        if own_spread == 0 or spread == 0:
            result[expert] = dict(per_case)
            continue
        own_mean = statistics.fmean(values)
        result[expert] = {
            case: min(100.0, max(0.0, mean + (raw - own_mean) / own_spread * spread)) for case, raw in per_case.items()
        }
    return result


def case_results(campaign: Campaign, category_id: int | None = None) -> list[CaseResult]:
    """Every case that has been assigned reviewers, with its scores, best normalized mean first.

    Set-based: one query for the assignments with their reviews and cases, one for the campaign's totals when
    a single category is shown, whatever the number of cases (no lazy loads per row).
    """
    query = (
        select(Assignment, Review, Case)
        .join(Case, Case.id == Assignment.case_id)
        .outerjoin(Review, Review.assignment_id == Assignment.id)
        .where(Case.campaign_id == campaign.id)
    )
    if category_id is not None:
        query = query.where(Case.category_id == category_id)
    totals: dict[int, dict[int, float]] = {}
    results: dict[int, CaseResult] = {}
    for assignment, review, case in db.session.execute(query).all():
        result = results.setdefault(case.id, CaseResult(case))
        if assignment.status in LIVE:
            result.assigned += 1
        if assignment.status == SUBMITTED and review is not None and review.total is not None:
            result.submitted += 1
            totals.setdefault(assignment.expert_id, {})[case.id] = float(review.total)
    # Normalization uses every expert's whole campaign, even when one category is shown.
    if category_id is not None:
        totals = _campaign_totals(campaign)
    normalized = normalize(totals)
    for expert, per_case in totals.items():
        for case_id, raw in per_case.items():
            if case_id in results:
                results[case_id].raw.append(raw)
                results[case_id].normalized.append(normalized[expert][case_id])
                results[case_id].by_expert[expert] = (raw, round(normalized[expert][case_id], 2))
    ordered = sorted(
        results.values(),
        key=lambda r: (r.normalized_mean is None, -(r.normalized_mean or 0), -(r.raw_mean or 0), r.case.id),
    )
    return ordered


def _campaign_totals(campaign: Campaign) -> dict[int, dict[int, float]]:
    totals: dict[int, dict[int, float]] = {}
    rows = db.session.execute(
        select(Assignment.expert_id, Assignment.case_id, Review.total)
        .join(Review, Review.assignment_id == Assignment.id)
        .join(Case, Case.id == Assignment.case_id)
        .where(Case.campaign_id == campaign.id, Assignment.status == SUBMITTED, Review.total.is_not(None))
    )
    for expert_id, case_id, total in rows:
        totals.setdefault(expert_id, {})[case_id] = float(total)
    return totals
