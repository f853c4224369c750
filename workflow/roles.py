"""Who someone is with respect to one case: global role plus local roles (owner, reviewer)."""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_, exists, false, or_, select, true

from accounts.models import User
from cases.models import Case
from pingxuan.extensions import db
from reviewers.models import LIVE, Assignment
from workflow.definition import (
    ANONYMOUS,
    APPLICANT,
    EXPERT,
    GLOBAL_ROLES,
    OWNER,
    REVIEWER,
    STATE_BY_NAME,
    STATES,
)


def is_authenticated(actor: User | None) -> bool:
    return actor is not None and getattr(actor, "is_authenticated", False) and isinstance(actor, User)


def global_roles(actor: User | None) -> frozenset[str]:
    if not is_authenticated(actor):
        return frozenset({ANONYMOUS})
    return frozenset({ANONYMOUS, actor.role})


def roles_on(actor: User | None, case: Case) -> frozenset[str]:
    """Global and local roles of ``actor`` on ``case``."""
    roles = set(global_roles(actor))
    if not is_authenticated(actor):
        return frozenset(roles)
    if actor.role == APPLICANT and actor.unit_id is not None and actor.unit_id == case.unit_id:
        roles.add(OWNER)
    if actor.role == EXPERT and case.id is not None:
        assigned = db.session.scalar(
            select(
                exists().where(
                    Assignment.case_id == case.id,
                    Assignment.expert_id == actor.id,
                    Assignment.status.in_(LIVE),
                )
            )
        )
        if assigned:
            roles.add(REVIEWER)
    return frozenset(roles)


def has_permission(actor: User | None, case: Case, permission: str) -> bool:
    granted = STATE_BY_NAME[case.state].roles_for(permission)
    return bool(granted & roles_on(actor, case))


def _local_clause(role: str, actor: User | None) -> ColumnElement[bool]:
    if not is_authenticated(actor):
        return false()
    if role == OWNER:
        if actor.role != APPLICANT or actor.unit_id is None:
            return false()
        return Case.unit_id == actor.unit_id
    if role == REVIEWER:
        if actor.role != EXPERT:
            return false()
        return exists().where(
            Assignment.case_id == Case.id, Assignment.expert_id == actor.id, Assignment.status.in_(LIVE)
        )
    raise ValueError(f"not a local role: {role}")


def permitted_clause(actor: User | None, permission: str, states: tuple[str, ...] | None = None):
    """A WHERE clause selecting the cases on which ``actor`` holds ``permission``, derived from the declaration."""
    mine = global_roles(actor)
    parts: list[ColumnElement[bool]] = []
    for state in STATES:
        if states is not None and state.name not in states:
            continue
        granted = state.roles_for(permission)
        if granted & mine:
            parts.append(Case.state == state.name)
            continue
        local = [_local_clause(role, actor) for role in sorted(granted) if role not in GLOBAL_ROLES + (ANONYMOUS,)]
        if local:
            parts.append(and_(Case.state == state.name, or_(*local)))
    return or_(*parts) if parts else false()


def role_clause(actor: User | None, roles: frozenset[str]):
    """A WHERE clause selecting the cases on which ``actor`` holds any of ``roles``."""
    if global_roles(actor) & roles:
        return true()
    local = [_local_clause(role, actor) for role in sorted(roles) if role in (OWNER, REVIEWER)]
    return or_(*local) if local else false()
