"""Conflicts of interest: found automatically from affiliations, or declared by the expert."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence

from flask_babel import gettext as _
from sqlalchemy import Select, insert, select
from sqlalchemy.exc import IntegrityError

from accounts.models import Unit, User
from campaigns.models import Campaign, Organization
from cases.dossier import form_of, value
from cases.models import Case
from pingxuan.db import is_unique_violation, savepoint
from pingxuan.extensions import db
from reviewers.models import AUTO, DISMISSED, Conflict, Expert
from workflow.definition import EDIT, OWNER, states_granting

_SPACE = re.compile(r"[\s\u3000()（）]+")


def _norm(name: str | None) -> str:
    return _SPACE.sub("", name or "").lower()


def roles(campaign: Campaign) -> list[tuple[str, str]]:
    """(role, label) of the organizations a case of this campaign belongs to, in the order ``affiliations`` and
    ``case_affiliations`` give their names: the applicant unit and its parent, the units the dossier names (its
    form's fields marked ``names_applicant``, e.g. the 2017 form's construction and operating units), the
    recommending organization."""
    named = [(item.key, item.label) for item in form_of(campaign).value_fields if item.names_applicant]
    return [
        ("unit", _("the applicant unit")),
        ("unit_parent", _("the applicant unit's parent organization")),
        *named,
        ("recommending_org", _("the recommending organization")),
    ]


def affiliations(case: Case) -> dict[str, str]:
    """The organizations a case belongs to, by role (as ``roles``), for comparing with an expert's affiliation."""
    form = form_of(case.campaign)
    named = {item.key: str(value(case, item) or "") for item in form.value_fields if item.names_applicant}
    return {
        "unit": case.unit.name if case.unit else "",
        "unit_parent": case.unit.parent_org if case.unit else "",
        **named,
        "recommending_org": case.recommending_org.name_zh if case.recommending_org else "",
    }


def _reason(label: str, name: str) -> str:
    return _("The expert's organization is %(role)s (%(name)s).", role=label, name=name)


def automatic_reason(expert: Expert, case: Case) -> str | None:
    """Why the expert is conflicted with the case by affiliation, or None."""
    mine = {_norm(expert.organization), _norm(expert.parent_org)} - {""}
    if not mine:
        return None
    labels = dict(roles(case.campaign))
    for role, name in affiliations(case).items():
        if _norm(name) in mine:
            return _reason(labels[role], name)
    return None


def automatic_conflicts(
    cases: Iterable[tuple[int, Sequence[str]]],
    experts: Iterable[tuple[int, str, str]],
    case_roles: Sequence[tuple[str, str]],
) -> dict[tuple[int, int], str]:
    """Every automatic conflict among these cases (id, names in the order of ``case_roles``, see ``roles``) and
    experts (user id, organization, parent organization), with its reason: an index of the experts by
    organization name, so that the work grows with the cases, not with cases × experts."""
    by_name: dict[str, list[int]] = {}
    for expert_id, organization, parent_org in experts:
        for name in {_norm(organization), _norm(parent_org)} - {""}:
            by_name.setdefault(name, []).append(expert_id)
    found: dict[tuple[int, int], str] = {}
    for case_id, names in cases:
        for (_role, label), name in zip(case_roles, names, strict=True):
            for expert_id in by_name.get(_norm(name), ()):
                if (case_id, expert_id) not in found:
                    found[case_id, expert_id] = _reason(label, name)
    return found


def case_affiliations(campaign: Campaign, *where) -> Select:
    """(case id, the names of ``roles(campaign)``) of the campaign's cases matching ``where``, read as rows."""
    named = [Case.dossier[item.key].as_string() for item in form_of(campaign).value_fields if item.names_applicant]
    return (
        select(Case.id, Unit.name, Unit.parent_org, *named, Organization.name_zh)
        .outerjoin(Unit, Case.unit_id == Unit.id)
        .outerjoin(Organization, Case.recommending_org_id == Organization.id)
        .where(Case.campaign_id == campaign.id, *where)
    )


def store_automatic(found: Mapping[tuple[int, int], str]) -> None:
    """Insert these automatic conflicts (already known to be new) in one statement."""
    if found:
        db.session.execute(
            insert(Conflict),
            [{"case_id": c, "expert_id": e, "source": AUTO, "reason": why} for (c, e), why in found.items()],
        )


def conflicted_pairs(case_ids: list[int]) -> set[tuple[int, int]]:
    """All recorded conflicts (automatic and declared) among these cases, as (case, expert) pairs."""
    if not case_ids:
        return set()
    rows = db.session.execute(
        select(Conflict.case_id, Conflict.expert_id).where(Conflict.case_id.in_(case_ids), Conflict.source != DISMISSED)
    )
    return {(c, e) for c, e in rows}


def record_automatic_conflicts(cases: list[Case], experts: list[Expert]) -> int:
    """Store every automatic conflict among these cases and experts (once), so organizers can see them."""
    found: dict[tuple[int, int], str] = {}
    for campaign_id in {c.campaign_id for c in cases}:
        mine = [c for c in cases if c.campaign_id == campaign_id]
        found |= automatic_conflicts(
            [(c.id, [names or "" for names in affiliations(c).values()]) for c in mine],
            [(e.user_id, e.organization, e.parent_org) for e in experts],
            roles(mine[0].campaign),
        )
    known = conflicted_pairs([c.id for c in cases]) if found else set()
    new = {pair: why for pair, why in found.items() if pair not in known}
    store_automatic(new)
    db.session.flush()
    return len(new)


def record_campaign_conflicts(campaign_id: int) -> int:
    """Record the automatic conflicts (same unit, parent organization, builder or recommending organization)
    between the pool's active experts and the campaign's cases past their drafts (a draft's names may still
    change), so organizers see them as soon as experts and cases exist, not only once an assignment ran.
    Pairs recorded before (dismissed ones too) are left as they are. Returns how many were new."""
    experts = db.session.execute(
        select(Expert.user_id, Expert.organization, Expert.parent_org)
        .join(User, User.id == Expert.user_id)
        .where(Expert.active.is_(True), User.active.is_(True))
    ).all()
    if not experts:
        return 0
    campaign = db.session.get(Campaign, campaign_id)
    where = (Case.state.not_in(states_granting(EDIT, {OWNER})),)
    rows = db.session.execute(case_affiliations(campaign, *where))
    found = automatic_conflicts(((r[0], [name or "" for name in r[1:]]) for r in rows),
                                [(r[0], r[1], r[2]) for r in experts], roles(campaign))  # fmt: skip
    if not found:
        return 0
    recorded = select(Conflict.case_id, Conflict.expert_id).join(Case).where(Case.campaign_id == campaign_id)
    known = {(c, e) for c, e in db.session.execute(recorded)}
    new = {pair: why for pair, why in found.items() if pair not in known}
    if not new:
        return 0
    try:
        with savepoint():
            store_automatic(new)
            db.session.flush()
    except IntegrityError as error:  # a parallel reader recorded them first: they are there
        if not is_unique_violation(error):
            raise
        return 0
    return len(new)


def list_conflicts(campaign_id: int) -> list[Conflict]:
    """Every conflict of the campaign's cases, newest first, the automatic ones found so far recorded first."""
    record_campaign_conflicts(campaign_id)
    return list(
        db.session.scalars(
            select(Conflict).join(Case).where(Case.campaign_id == campaign_id).order_by(Conflict.id.desc())
        )
    )


def conflicts_of(expert_id: int) -> list[Conflict]:
    return list(db.session.scalars(select(Conflict).where(Conflict.expert_id == expert_id)))
