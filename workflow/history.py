"""The timeline of a case: its workflow events, with actors and comments only for those the declaration allows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from accounts.models import User
from cases.models import Case
from pingxuan.extensions import db
from workflow.definition import DUE_DATE, HISTORY, TRANSITION_BY_NAME, Transition
from workflow.models import WorkflowEvent
from workflow.roles import has_permission


def may_see_history(actor: User | None, case: Case) -> bool:
    """The unit and the office see who did what and why; everyone else at most the bare sequence of states."""
    return has_permission(actor, case, HISTORY)


def events(case: Case) -> list[WorkflowEvent]:
    query = select(WorkflowEvent).where(WorkflowEvent.case_id == case.id)
    return list(db.session.scalars(query.order_by(WorkflowEvent.created_at, WorkflowEvent.id)))


def timeline(case: Case, actor: User | None) -> list[WorkflowEvent] | None:
    """Events oldest first, or None when the actor may not see them (the public sees no comments)."""
    return events(case) if may_see_history(actor, case) else None


@dataclass(frozen=True)
class AskedOfUnit:
    """What the office asked when it sent the case back to its unit by a date: its reason and the due date."""

    event: WorkflowEvent
    transition: Transition
    reason: str
    due: date | None


def arrival(case: Case) -> WorkflowEvent | None:
    """The transition that brought the case into its current state (the steps on its timeline move no state)."""
    query = select(WorkflowEvent).where(
        WorkflowEvent.case_id == case.id,
        WorkflowEvent.to_state == case.state,
        WorkflowEvent.transition.in_(list(TRANSITION_BY_NAME)),
    )
    return db.session.scalar(query.order_by(WorkflowEvent.created_at.desc(), WorkflowEvent.id.desc()).limit(1))


def asked_of_unit(case: Case, actor: User | None) -> AskedOfUnit | None:
    """When the case came into its state by a transition that gives the unit a due date (the declaration's
    ``due_date`` input: a return for revision), the office's reason and that date, for who sees the history."""
    event = arrival(case)
    if event is None or not may_see_history(actor, case):
        return None
    transition = TRANSITION_BY_NAME[event.transition]
    if DUE_DATE not in transition.required_fields:
        return None
    return AskedOfUnit(event, transition, event.comment or "", case.revision_due)


@dataclass(frozen=True)
class Decision:
    """The office's reasoned decision that brought the case into its state (a transition whose declaration
    requires a comment: ineligible, reinstated, revoked, moved up), for the unit to read at the top of its page."""

    event: WorkflowEvent
    transition: Transition
    reason: str


def decision_for_unit(case: Case, actor: User | None) -> Decision | None:
    event = arrival(case)
    if event is None or not may_see_history(actor, case):
        return None
    transition = TRANSITION_BY_NAME[event.transition]
    if not transition.comment_required or DUE_DATE in transition.required_fields:
        return None  # no reason owed, or a return for revision (asked_of_unit)
    return Decision(event, transition, event.comment or "")
