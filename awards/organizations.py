"""Organization awards: how well each recommending organization took part, and the organizer's choice."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import func, select

from accounts.models import User
from accounts.permissions import require_staff
from awards import publication
from awards.models import OrganizationAward
from campaigns.models import Campaign, Organization
from cases.models import Case
from pingxuan.errors import Conflict, Invalid
from pingxuan.extensions import db
from workflow.definition import TRANSITION_BY_NAME, TRANSITIONS


def reached(target: str) -> set[str]:
    """``target`` and every state after it: a case in one of them has passed through ``target``."""
    result = {target}
    frontier = [target]
    while frontier:
        current = frontier.pop()
        for t in TRANSITIONS:
            if current in t.sources and t.dest not in result:
                result.add(t.dest)
                frontier.append(t.dest)
    return result


@dataclass
class Participation:
    organization: Organization
    submitted: int = 0
    eligible: int = 0
    shortlisted: int = 0
    awarded: int = 0
    conferred: bool = False

    @property
    def score(self) -> tuple[int, int, int, int]:
        return (self.awarded, self.shortlisted, self.eligible, self.submitted)


def participation(campaign: Campaign) -> list[Participation]:
    # Derived from the declaration: approval leads to eligibility, shortlisting to the vote, award to awarded.
    eligible_states = reached(TRANSITION_BY_NAME["approve"].dest)
    shortlisted_states = reached(TRANSITION_BY_NAME["shortlist"].dest)
    awarded_state = TRANSITION_BY_NAME["confirm_award"].dest
    rows = db.session.execute(
        select(Case.recommending_org_id, Case.state, func.count())
        .where(Case.campaign_id == campaign.id, Case.recommending_org_id.is_not(None), Case.number.is_not(None))
        .group_by(Case.recommending_org_id, Case.state)
    ).all()
    conferred = set(db.session.scalars(
        select(OrganizationAward.organization_id).where(OrganizationAward.campaign_id == campaign.id)))  # fmt: skip
    table: dict[int, Participation] = {}
    for org_id, state, n in rows:
        entry = table.setdefault(org_id, Participation(db.session.get(Organization, org_id)))
        entry.submitted += n  # every case with a number was submitted once
        if state in eligible_states:
            entry.eligible += n
        if state in shortlisted_states:
            entry.shortlisted += n
        if state == awarded_state:
            entry.awarded += n
    for entry in table.values():
        entry.conferred = entry.organization.id in conferred
    return sorted(table.values(), key=lambda p: p.score, reverse=True)


def confer(campaign: Campaign, actor: User, organization_ids: list[int]) -> list[OrganizationAward]:
    """Confirm the organizations awarded in this campaign, at most the campaign's number."""
    require_staff(actor)
    chosen = list(dict.fromkeys(organization_ids))
    if not chosen:
        raise Invalid(_("Choose at least one organization."), {"organizations": _("Choose at least one.")})
    existing = {a.organization_id: a for a in db.session.scalars(
        select(OrganizationAward).where(OrganizationAward.campaign_id == campaign.id))}  # fmt: skip
    if set(chosen) <= set(existing):  # a repeated confirmation: 409, the API's rule for repeats
        raise Conflict(_("These organizations are already awarded."))
    if len(set(existing) | set(chosen)) > campaign.organization_awards:
        raise Invalid(ngettext("This campaign confers at most %(num)d organization award.",
                               "This campaign confers at most %(num)d organization awards.",
                               campaign.organization_awards),
                      {"organizations": _("Too many organizations chosen.")})  # fmt: skip
    awards = []
    for org_id in chosen:
        if db.session.get(Organization, org_id) is None:
            raise Invalid(_("No such organization."), {"organizations": _("No such organization.")})
        award = existing.get(org_id) or OrganizationAward(campaign_id=campaign.id, organization_id=org_id,
                                                          confirmed_by_id=actor.id)  # fmt: skip
        db.session.add(award)
        awards.append(award)
    db.session.flush()
    publication.refresh(campaign, actor, _("Organization awards conferred."))
    return awards


def conferred(campaign: Campaign) -> list[OrganizationAward]:
    """The organization awards confirmed for a campaign, by organization name (public on the results page)."""
    return list(db.session.scalars(
        select(OrganizationAward).join(Organization, Organization.id == OrganizationAward.organization_id)
        .where(OrganizationAward.campaign_id == campaign.id).order_by(Organization.name_zh)
    ))  # fmt: skip
