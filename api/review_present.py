"""Plain dicts for the review endpoints. Blind by construction: expert identities appear only in what
organizers are given (the endpoints check that) and in an expert's own assignments and reviews."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select

from accounts.models import User
from api.present import state
from cases.models import Case
from pingxuan.extensions import db
from pingxuan.i18n import pick
from reviewers.aggregation import CaseResult
from reviewers.assignment import ProposalPreview, match_kind
from reviewers.models import Assignment, Criterion, ReviewAudit
from reviewers.pool import PoolEntry
from reviewers.scoring import ENTERED_FOR_EXPERT, review_history


def case_ref(case: Case) -> dict[str, Any]:
    return {"id": case.id, "number": case.number, "title": case.title, "state": state(case.state)}


def person(user: User) -> dict[str, Any]:
    return {"id": user.id, "name": user.name}


def expert(entry: PoolEntry) -> dict[str, Any]:
    """An expert account with its profile; an account without a profile yet has empty fields."""
    profile = entry.expert
    fields = ("organization", "parent_org", "title", "max_load", "active")
    return {
        "user_id": entry.user.id,
        "name": entry.user.name,
        "email": entry.user.email,
        **{name: getattr(profile, name) if profile else None for name in fields},
        "has_profile": profile is not None,
        "load": entry.load,
        "categories": [{"id": c.id, "name": pick(c, "name")} for c in profile.categories] if profile else [],
        "domains": [{"id": d.id, "name": pick(d, "name")} for d in profile.domains] if profile else [],
    }


def assignment(item: Assignment) -> dict[str, Any]:
    return {
        "id": item.id,
        "case": case_ref(item.case),
        "expert": person(item.expert),
        "status": item.status,
        "reason": item.reason,
        "due_date": item.due_date,
        "review_status": item.review.status if item.review is not None else None,
    }


def review(item: Assignment) -> dict[str, Any]:
    found = item.review
    return {
        "assignment": assignment(item),
        "status": found.status if found else None,
        "scores": {str(s.criterion_id): float(s.value) for s in found.scores} if found else {},
        "comment": found.comment if found else "",
        "total": float(found.total) if found and found.total is not None else None,
        "submitted_at": found.submitted_at if found else None,
        "updated_at": found.updated_at if found else None,
        "history": [review_event(item, entry) for entry in review_history(item)],
    }


def review_event(item: Assignment, entry: ReviewAudit) -> dict[str, Any]:
    by = db.session.get(User, entry.actor_id) if entry.actor_id else None
    expert = item.expert.name
    if entry.action == ENTERED_FOR_EXPERT:
        text = _("Entered by %(by)s for %(expert)s", by=by.name if by else "—", expert=expert)
    else:
        text = entry.action.replace("_", " ")
    return {"action": entry.action, "text": text, "by": by.name if by else None, "expert": expert,
            "note": entry.reason or "", "created_at": entry.created_at}  # fmt: skip


def criterion(item: Criterion) -> dict[str, Any]:
    return {
        "id": item.id,
        "name": pick(item, "name"),
        "weight": item.weight,
        "max_score": item.max_score,
        "guidance": pick(item, "guidance"),
    }


def ranking_row(rank: int, result: CaseResult) -> dict[str, Any]:
    """One case of the organizers' ranking, with every expert's raw and normalized total."""
    experts = {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(list(result.by_expert))))}
    return {
        "rank": rank,
        "case": case_ref(result.case),
        "raw_mean": result.raw_mean,
        "normalized_mean": result.normalized_mean,
        "spread": result.spread,
        "disagreement": result.disagreement,
        "submitted": result.submitted,
        "assigned": result.assigned,
        "complete": result.complete,
        "experts": [
            {"expert": person(experts[expert_id]), "raw": raw, "normalized": round(normalized, 2)}
            for expert_id, (raw, normalized) in sorted(result.by_expert.items(), key=lambda kv: experts[kv[0]].name)
        ],
    }


def proposal(preview: ProposalPreview) -> dict[str, Any]:
    """The proposal as organizers preview it: pairs with their match, loads per expert, uncovered cases."""
    item = preview.proposal
    experts = {load.expert.user_id: load.expert.user for load in preview.loads}
    cases = {case.id: case for case, _pairs in preview.matches} | {case.id: case for case, *_rest in preview.uncovered}
    return {
        "id": item.id,
        "mode": item.mode,
        "total_cost": item.total_cost,
        "created_at": item.created_at,
        "applied_at": item.applied_at,
        "pairs": [
            {
                "case": case_ref(cases[case_id]),
                "expert": person(experts[expert_id]),
                "match": match_kind(cost),
                "cost": cost,
            }
            for case_id, expert_id, cost in sorted(item.pairs)
        ],  # fmt: skip
        "loads": [
            {
                "expert": person(load.expert.user),
                "current": load.current,
                "proposed": load.proposed,
                "max_load": load.expert.max_load,
            }
            for load in preview.loads
        ],  # fmt: skip
        "uncovered": [
            {"case": case_ref(case), "missing": missing, "reason": reason}
            for case, missing, reason in preview.uncovered
        ],
    }
