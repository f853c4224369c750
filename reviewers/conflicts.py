"""Conflicts of interest: found automatically from affiliations, or declared by the expert."""

from __future__ import annotations

import re

from flask_babel import gettext as _
from sqlalchemy import select

from cases.models import Case
from pingxuan.extensions import db
from reviewers.models import AUTO, DISMISSED, Conflict, Expert

_SPACE = re.compile(r"[\s\u3000()（）]+")


def _norm(name: str | None) -> str:
    return _SPACE.sub("", name or "").lower()


def affiliations(case: Case) -> dict[str, str]:
    """The organizations a case belongs to, by role, for comparing with an expert's affiliation."""
    return {
        "unit": case.unit.name if case.unit else "",
        "unit_parent": case.unit.parent_org if case.unit else "",
        "construction_unit": case.construction_unit,
        "operating_unit": case.operating_unit,
        "recommending_org": case.recommending_org.name_zh if case.recommending_org else "",
    }


def automatic_reason(expert: Expert, case: Case) -> str | None:
    """Why the expert is conflicted with the case by affiliation, or None."""
    mine = {_norm(expert.organization), _norm(expert.parent_org)} - {""}
    if not mine:
        return None
    labels = {
        "unit": _("the applicant unit"),
        "unit_parent": _("the applicant unit's parent organization"),
        "construction_unit": _("the construction unit"),
        "operating_unit": _("the operating unit"),
        "recommending_org": _("the recommending organization"),
    }
    for role, name in affiliations(case).items():
        if _norm(name) in mine:
            return _("The expert's organization is %(role)s (%(name)s).", role=labels[role], name=name)
    return None


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
    known = conflicted_pairs([c.id for c in cases])
    added = 0
    for case in cases:
        for expert in experts:
            if (case.id, expert.user_id) in known:
                continue
            reason = automatic_reason(expert, case)
            if reason:
                db.session.add(Conflict(case_id=case.id, expert_id=expert.user_id, source=AUTO, reason=reason))
                known.add((case.id, expert.user_id))
                added += 1
    db.session.flush()
    return added


def list_conflicts(campaign_id: int) -> list[Conflict]:
    return list(
        db.session.scalars(
            select(Conflict).join(Case).where(Case.campaign_id == campaign_id).order_by(Conflict.id.desc())
        )
    )


def conflicts_of(expert_id: int) -> list[Conflict]:
    return list(db.session.scalars(select(Conflict).where(Conflict.expert_id == expert_id)))
