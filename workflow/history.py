"""The timeline of a case: its workflow events, with actors and comments only for those the declaration allows."""

from __future__ import annotations

from sqlalchemy import select

from accounts.models import User
from cases.models import Case
from pingxuan.extensions import db
from workflow.definition import HISTORY
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
