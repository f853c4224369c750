"""Deciding a category's awards: the top N proposed (then in public notice), the other finalists not awarded;
after the notice, the proposed awards confirmed and the results published.

Separate from the ranking (which only computes) so that the publication can read the ranking without the
ranking depending on it.
"""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select

from accounts.models import User
from accounts.permissions import require_staff
from awards import publication
from awards.ranking import CONFIRM, NOT_AWARD, PROPOSE, Ranked, category_ranking, decided_ranking
from campaigns.models import Campaign, Category
from cases.models import Case
from pingxuan.db import savepoint
from pingxuan.errors import Conflict, Invalid
from pingxuan.extensions import db
from workflow.engine import Outcome, check_guards, fire, fire_many


def award_refusals(ranking: list[Ranked], actor: User) -> list[str]:
    """Why the award decision cannot be confirmed now (the declared guards, e.g. the vote is still open)."""
    return [r.reason for r in check_guards(ranking[0].case, NOT_AWARD, actor)] if ranking else []


def confirm_awards(campaign: Campaign, category: Category, actor: User, size: int | None = None) -> list[Ranked]:
    """The top N are proposed for award (public notice follows) and the other finalists go to not awarded, each
    through fire(); all or nothing."""
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
                fire(entry.case, PROPOSE.name, actor, _("Ranked %(rank)d of %(n)d.", rank=entry.rank, n=len(ranking)))
            else:
                fire(entry.case, NOT_AWARD.name, actor, _("Ranked %(rank)d of %(n)d.", rank=entry.rank, n=len(ranking)))
    return ranking


def confirm_proposed(campaign: Campaign, actor: User, category: Category | None = None) -> list[Outcome]:
    """Confirm every proposed award whose notice is over with no objection open (the declared guards); the
    others are reported with their reason. Publishes the results when at least one award was confirmed."""
    require_staff(actor)
    proposed = list(db.session.scalars(
        select(Case).where(Case.campaign_id == campaign.id, Case.state.in_(CONFIRM.sources),
                           *([Case.category_id == category.id] if category is not None else []))
        .order_by(Case.category_id, Case.id)
    ))  # fmt: skip
    if not proposed:
        raise Conflict(_("There is no proposed award to confirm."))
    outcomes = fire_many(proposed, CONFIRM.name, actor)
    if any(o.event is not None for o in outcomes):
        publication.publish(campaign, actor, _("Awards confirmed after the public notice."))
    return outcomes
