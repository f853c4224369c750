"""Worklists (review queues) and case listings, derived from the declaration's roles and permissions."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import ColumnElement, Select, func, select, true

from accounts.models import User
from awards.models import (
    OBJECTION_ANSWERED,
    OBJECTION_FORWARDED,
    OBJECTION_OPEN,
    OBJECTION_PENDING,
    Notice,
    NoticeEntry,
    Objection,
)
from cases.models import Case
from pingxuan.clock import today
from workflow.definition import (
    APPLICANT,
    EXPERT,
    OWNER,
    REVIEWER,
    VIEW,
    WORKLIST_BY_NAME,
    WORKLISTS,
    Worklist,
)
from workflow.roles import global_roles, is_authenticated, permitted_clause, role_clause


def _objection_in(statuses: tuple[str, ...]) -> ColumnElement[bool]:
    return select(Objection.id).where(Objection.case_id == Case.id, Objection.status.in_(statuses)).exists()


def _notice_over() -> ColumnElement[bool]:
    last_day = select(func.max(Notice.ends_on)).join(NoticeEntry).where(NoticeEntry.case_id == Case.id)
    return last_day.scalar_subquery() < today()


# The named conditions a worklist may add to its states (declared in workflow.definition by name).
CONDITIONS: dict[str, Callable[[], ColumnElement[bool]]] = {
    "open_objection": lambda: _objection_in((OBJECTION_OPEN, OBJECTION_ANSWERED)),  # the office's move
    "awaiting_response": lambda: _objection_in((OBJECTION_FORWARDED,)),  # the unit's move
    "ready_to_confirm": lambda: _notice_over() & ~_objection_in(OBJECTION_PENDING),
}


def possible_roles(actor: User | None) -> frozenset[str]:
    """Roles the actor has or could have on some case (an applicant with a unit can own cases, ...)."""
    roles = set(global_roles(actor))
    if is_authenticated(actor):
        if actor.role == APPLICANT and actor.unit_id is not None:
            roles.add(OWNER)
        if actor.role == EXPERT:
            roles.add(REVIEWER)
    return frozenset(roles)


def worklists_for(actor: User | None) -> list[Worklist]:
    mine = possible_roles(actor)
    return [w for w in WORKLISTS if w.roles & mine]


def worklist_query(name: str, actor: User | None, campaign_id: int | None = None) -> Select:
    worklist = WORKLIST_BY_NAME[name]
    query = (
        select(Case)
        .where(Case.state.in_(worklist.states), role_clause(actor, worklist.roles), permitted_clause(actor, VIEW))
        .where(CONDITIONS[worklist.condition]() if worklist.condition else true())
        .order_by(Case.updated_at.desc(), Case.id.desc())
    )
    if campaign_id is not None:
        query = query.where(Case.campaign_id == campaign_id)
    return query


def own_cases_query(actor: User | None) -> Select:
    """The cases of the actor's own unit ("My cases"), never the other units' finalists everyone may view."""
    owned = role_clause(actor, frozenset({OWNER}))
    return select(Case).where(owned, permitted_clause(actor, VIEW)).order_by(Case.id.desc())


def visible_cases_query(actor: User | None, states: tuple[str, ...] | None = None) -> Select:
    """Every case the actor may view (optionally only in ``states``)."""
    return select(Case).where(permitted_clause(actor, VIEW, states)).order_by(Case.id.desc())
