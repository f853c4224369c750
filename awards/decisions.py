"""Deciding a category's awards: the top N awarded, the other finalists not, then the results published.

Separate from the ranking (which only computes) so that the publication can read the ranking without the
ranking depending on it.
"""

from __future__ import annotations

from flask_babel import gettext as _

from accounts.models import User
from accounts.permissions import require_staff
from awards import publication
from awards.ranking import AWARD, NOT_AWARD, Ranked, category_ranking, decided_ranking
from campaigns.models import Campaign, Category
from pingxuan.db import savepoint
from pingxuan.errors import Conflict, Invalid
from workflow.engine import check_guards, fire


def award_refusals(ranking: list[Ranked], actor: User) -> list[str]:
    """Why the award decision cannot be confirmed now (the declared guards, e.g. the vote is still open)."""
    return [r.reason for r in check_guards(ranking[0].case, NOT_AWARD, actor)] if ranking else []


def confirm_awards(campaign: Campaign, category: Category, actor: User, size: int | None = None) -> list[Ranked]:
    """The top N go to awarded and the other finalists to not awarded, each through fire(); all or nothing."""
    require_staff(actor)
    size = size if size is not None else campaign.awards_per_category
    if size <= 0:
        raise Invalid(_("Award at least one case."), {"size": _("Enter a number above zero.")})
    ranking = category_ranking(campaign, category)
    if not ranking:
        if decided_ranking(campaign, category):  # a repeated confirmation: 409, the API's rule for repeats
            raise Conflict(_("The awards of this category are already confirmed."))
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
        publication.publish(campaign, actor, _("Awards of %(category)s confirmed.", category=category.name_zh))
    return ranking
