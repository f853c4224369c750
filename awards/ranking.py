"""Final ranking of the finalists and the award decision per category.

final = expert weight × normalized expert score + public weight × vote score, where the vote score is the
case's valid votes relative to its category's leader (leader = 100); weights are the campaign's (70/30 by
default). Ties go to the better expert score, then to the earlier submission.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from campaigns.models import Campaign, Category
from cases.models import Case
from pingxuan.extensions import db
from reviewers.aggregation import case_results
from voting.ballots import counts
from workflow.definition import TRANSITION_BY_NAME

PROPOSE, NOT_AWARD = TRANSITION_BY_NAME["propose"], TRANSITION_BY_NAME["not_award"]
CONFIRM = TRANSITION_BY_NAME["confirm_award"]


@dataclass
class Ranked:
    case: Case
    expert_score: float
    votes: int
    vote_score: float
    final: float
    rank: int = 0


def final_score(expert_score: float, vote_score: float, expert_weight: int, public_weight: int) -> float:
    return round((expert_weight * expert_score + public_weight * vote_score) / (expert_weight + public_weight), 3)


def rank(entries: list[tuple[Case, float, int]], expert_weight: int, public_weight: int) -> list[Ranked]:
    """Rank (case, expert score, votes) triples; pure, so the tests can check it by hand."""
    leader = max((votes for _case, _score, votes in entries), default=0)
    ranked = []
    for case, expert_score, votes in entries:
        vote_score = round(100 * votes / leader, 3) if leader else 0.0
        ranked.append(Ranked(case, expert_score, votes, vote_score,
                             final_score(expert_score, vote_score, expert_weight, public_weight)))  # fmt: skip
    ranked.sort(key=lambda r: (-r.final, -r.expert_score, r.case.submitted_at or datetime.max, r.case.id))
    for position, entry in enumerate(ranked, start=1):
        entry.rank = position
    return ranked


def category_ranking(campaign: Campaign, category: Category) -> list[Ranked]:
    """The finalists still waiting for the award decision, ranked."""
    return _ranking(campaign, category, PROPOSE.sources)


def decided_ranking(campaign: Campaign, category: Category) -> list[Ranked]:
    """After the decision: the same ranking of the finalists, now proposed, awarded or not (results, exports)."""
    return _ranking(campaign, category, (PROPOSE.dest, CONFIRM.dest, NOT_AWARD.dest))


def results(campaign: Campaign) -> list[tuple[Category, list[Ranked]]]:
    """Per category, the confirmed awards in rank order: what the public results page lists (not the proposed)."""
    return [(category, [r for r in decided_ranking(campaign, category) if r.case.state == CONFIRM.dest])
            for category in campaign.categories]  # fmt: skip


def _ranking(campaign: Campaign, category: Category, states: tuple[str, ...]) -> list[Ranked]:
    finalists = db.session.scalars(
        select(Case).where(Case.campaign_id == campaign.id, Case.category_id == category.id, Case.state.in_(states))
        .options(selectinload(Case.unit), selectinload(Case.recommending_org))  # shown beside each entry
    ).all()  # fmt: skip
    expert = {r.case.id: (r.normalized_mean or 0.0) for r in case_results(campaign, category.id)}
    votes = counts([c.id for c in finalists])
    return rank([(c, expert.get(c.id, 0.0), votes.get(c.id, 0)) for c in finalists],
                campaign.expert_weight, campaign.public_weight)  # fmt: skip
