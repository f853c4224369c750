"""Shortlisting: per category, the best-reviewed cases go to the public vote, the others are not shortlisted."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _
from flask_babel import ngettext

from accounts.models import User
from accounts.permissions import require_staff
from campaigns.models import Campaign, Category
from cases.models import Case
from pingxuan.db import savepoint
from pingxuan.errors import Conflict, Invalid
from pingxuan.extensions import db
from reviewers.aggregation import CaseResult, case_results
from workflow.definition import TRANSITION_BY_NAME
from workflow.engine import check_guards, fire

SHORTLIST, NOT_SHORTLIST = TRANSITION_BY_NAME["shortlist"], TRANSITION_BY_NAME["not_shortlist"]


def shortlist_size(campaign: Campaign) -> int:
    """How many finalists per category: twice the awards, unless the campaign says otherwise."""
    return campaign.shortlist_per_category or 2 * campaign.awards_per_category


@dataclass
class Preview:
    category: Category
    size: int
    finalists: list[CaseResult]
    others: list[CaseResult]
    blockers: dict[int, list[str]]  # case id → why it cannot move yet (missing reviews, ...)

    @property
    def ready(self) -> bool:
        return not self.blockers


def preview(campaign: Campaign, category: Category, actor: User, size: int | None = None) -> Preview:
    require_staff(actor)
    size = size or shortlist_size(campaign)
    if size <= 0:
        raise Invalid(_("The shortlist needs at least one case."), {"size": _("Enter a number above zero.")})
    results = [r for r in case_results(campaign, category.id) if r.case.state in SHORTLIST.sources]
    blockers = {}
    for result in results:
        refusals = check_guards(result.case, SHORTLIST, actor)
        if refusals:
            blockers[result.case.id] = [r.reason for r in refusals]
    waiting = _unreviewed(campaign, category, {r.case.id for r in results})
    for case in waiting:
        blockers[case.id] = [r.reason for r in check_guards(case, SHORTLIST, actor)] or [_("No reviews yet.")]
    return Preview(category, size, results[:size], results[size:], blockers)


def _decided(campaign: Campaign, category: Category) -> bool:
    """Whether the category's shortlist was confirmed: some of its cases went through it."""
    done = (SHORTLIST.dest, NOT_SHORTLIST.dest)
    return (
        db.session.scalar(
            db.select(Case.id).where(
                Case.campaign_id == campaign.id, Case.category_id == category.id, Case.state.in_(done)
            )
        )
        is not None
    )


def _unreviewed(campaign: Campaign, category: Category, known: set[int]) -> list[Case]:
    return [
        c
        for c in db.session.scalars(
            db.select(Case).where(
                Case.campaign_id == campaign.id, Case.category_id == category.id, Case.state.in_(SHORTLIST.sources)
            )
        )
        if c.id not in known
    ]


def confirm(campaign: Campaign, category: Category, actor: User, size: int | None = None) -> Preview:
    """Move the previewed finalists to the public vote and the rest out, each through fire() with an event.

    Refused as a whole while any case of the category still misses a review: a shortlist is one decision.
    """
    result = preview(campaign, category, actor, size)
    if not result.finalists and not result.others and not result.blockers and _decided(campaign, category):
        # The API's rule for a repeated action: 409 with the reason, never a silent second success.
        raise Conflict(_("The shortlist of this category is already confirmed."))
    if not result.ready:
        raise Invalid(
            ngettext(
                "Shortlisting is not possible yet: %(num)d case still misses reviews.",
                "Shortlisting is not possible yet: %(num)d cases still miss reviews.",
                len(result.blockers),
            ),
            reasons=[f"#{case_id}: {'; '.join(reasons)}" for case_id, reasons in result.blockers.items()],
        )
    with savepoint():
        for finalist in result.finalists:
            fire(finalist.case, SHORTLIST.name, actor, _("Shortlisted for the public vote."))
        for other in result.others:
            fire(
                other.case,
                NOT_SHORTLIST.name,
                actor,
                ngettext(
                    "Not shortlisted: the category has %(num)d finalist.",
                    "Not among the %(num)d finalists.",
                    result.size,
                ),
            )
    return result
