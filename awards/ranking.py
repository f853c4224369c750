"""Final ranking of the finalists and the award decision per category.

final = expert weight × normalized expert score + public weight × vote score, where the vote score is the
case's valid votes relative to its category's leader (leader = 100); weights are the campaign's (70/30 by
default). Ties go to the better expert score, then to the earlier submission.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import select

from accounts.models import User
from accounts.permissions import require_staff
from campaigns.models import Campaign, Category
from cases.models import Case
from pingxuan.db import savepoint
from pingxuan.errors import Invalid
from pingxuan.extensions import db
from reviewers.aggregation import case_results
from voting.ballots import counts
from workflow.definition import TRANSITION_BY_NAME
from workflow.engine import check_guards, fire

AWARD, NOT_AWARD = TRANSITION_BY_NAME["award"], TRANSITION_BY_NAME["not_award"]


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
    return _ranking(campaign, category, AWARD.sources)


def decided_ranking(campaign: Campaign, category: Category) -> list[Ranked]:
    """After the decision: the same ranking of the finalists, now awarded or not (for results and exports)."""
    return _ranking(campaign, category, (AWARD.dest, NOT_AWARD.dest))


def results(campaign: Campaign) -> list[tuple[Category, list[Ranked]]]:
    """Per category, the awarded cases in rank order: what the public results page lists."""
    return [(category, [r for r in decided_ranking(campaign, category) if r.case.state == AWARD.dest])
            for category in campaign.categories]  # fmt: skip


def award_refusals(ranking: list[Ranked], actor: User) -> list[str]:
    """Why the award decision cannot be confirmed now (the declared guards, e.g. the vote is still open)."""
    return [r.reason for r in check_guards(ranking[0].case, NOT_AWARD, actor)] if ranking else []


def _ranking(campaign: Campaign, category: Category, states: tuple[str, ...]) -> list[Ranked]:
    finalists = db.session.scalars(
        select(Case).where(Case.campaign_id == campaign.id, Case.category_id == category.id, Case.state.in_(states))
    ).all()
    expert = {r.case.id: (r.normalized_mean or 0.0) for r in case_results(campaign, category.id)}
    votes = counts([c.id for c in finalists])
    return rank([(c, expert.get(c.id, 0.0), votes.get(c.id, 0)) for c in finalists],
                campaign.expert_weight, campaign.public_weight)  # fmt: skip


def confirm_awards(campaign: Campaign, category: Category, actor: User, size: int | None = None) -> list[Ranked]:
    """The top N go to awarded and the other finalists to not awarded, each through fire(); all or nothing."""
    require_staff(actor)
    size = size if size is not None else campaign.awards_per_category
    if size <= 0:
        raise Invalid(_("Award at least one case."), {"size": _("Enter a number above zero.")})
    ranking = category_ranking(campaign, category)
    if not ranking:
        raise Invalid(_("This category has no finalists."))
    refusals = award_refusals(ranking, actor)
    if refusals:
        raise Invalid(refusals[0], reasons=refusals)
    with savepoint():
        for entry in ranking:
            if entry.rank <= size:
                fire(entry.case, AWARD.name, actor, _("Ranked %(rank)d of %(n)d.", rank=entry.rank, n=len(ranking)))
            else:
                fire(entry.case, NOT_AWARD.name, actor, _("Ranked %(rank)d of %(n)d.", rank=entry.rank, n=len(ranking)))
    return ranking
