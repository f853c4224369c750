"""Plain dicts for the review endpoints. Blind by construction: expert identities appear only in what
organizers are given (the endpoints check that) and in an expert's own assignments and reviews."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from api.present import state
from cases.models import Case
from pingxuan.accounts.models import User
from pingxuan.extensions import db
from pingxuan.i18n import pick
from reviewers import solver
from reviewers.aggregation import CaseResult
from reviewers.models import LIVE, Assignment, Criterion, Expert, Proposal

MATCH_KINDS = {solver.DOMAIN_MATCH: "domain", solver.CATEGORY_MATCH: "category", solver.NO_MATCH: "none"}


def case_ref(case: Case) -> dict[str, Any]:
    return {"id": case.id, "number": case.number, "title": case.title, "state": state(case.state)}


def person(user: User) -> dict[str, Any]:
    return {"id": user.id, "name": user.name}


def live_loads(expert_ids: list[int] | None = None) -> dict[int, int]:
    """Live assignments per expert."""
    query = select(Assignment.expert_id, func.count()).where(Assignment.status.in_(LIVE))
    if expert_ids is not None:
        query = query.where(Assignment.expert_id.in_(expert_ids))
    return dict(db.session.execute(query.group_by(Assignment.expert_id)).all())


def expert(profile: Expert, load: int) -> dict[str, Any]:
    return {
        "user_id": profile.user_id,
        "name": profile.user.name,
        "email": profile.user.email,
        **{name: getattr(profile, name) for name in ("organization", "parent_org", "title", "max_load", "active")},
        "load": load,
        "categories": [{"id": c.id, "name": pick(c, "name")} for c in profile.categories],
        "domains": [{"id": d.id, "name": pick(d, "name")} for d in profile.domains],
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
    }


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


def proposal(item: Proposal) -> dict[str, Any]:
    """The proposal as organizers preview it: pairs with their match, loads per expert, uncovered cases."""
    case_ids = {p[0] for p in item.pairs} | {u[0] for u in item.uncovered}
    cases = {c.id: c for c in db.session.scalars(select(Case).where(Case.id.in_(case_ids)))} if case_ids else {}
    profiles = {
        e.user_id: e
        for e in db.session.scalars(
            select(Expert).where(Expert.active.is_(True) | Expert.user_id.in_({p[1] for p in item.pairs}))
        )
    }
    proposed: dict[int, int] = {}
    for _case, expert_id, _cost in item.pairs:
        proposed[expert_id] = proposed.get(expert_id, 0) + 1
    current = live_loads(list(profiles))
    return {
        "id": item.id,
        "mode": item.mode,
        "total_cost": item.total_cost,
        "created_at": item.created_at,
        "applied_at": item.applied_at,
        "pairs": [
            {
                "case": case_ref(cases[case_id]),
                "expert": person(profiles[expert_id].user),
                "match": MATCH_KINDS.get(cost, "none"),
                "cost": cost,
            }
            for case_id, expert_id, cost in sorted(item.pairs)
        ],
        "loads": [
            {
                "expert": person(profile.user),
                "current": current.get(user_id, 0),
                "proposed": proposed.get(user_id, 0),
                "max_load": profile.max_load,
            }
            for user_id, profile in sorted(profiles.items(), key=lambda kv: kv[1].user.name)
        ],
        "uncovered": [
            {"case": case_ref(cases[case_id]), "missing": missing, "reason": reason}
            for case_id, missing, reason in item.uncovered
        ],
    }
