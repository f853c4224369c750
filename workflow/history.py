"""The timeline of a case: its workflow events, shown only to those the declaration lets see them."""

from __future__ import annotations

from sqlalchemy import select

from cases.models import Case
from pingxuan.accounts.models import User
from pingxuan.extensions import db
from workflow.definition import HISTORY
from workflow.models import WorkflowEvent
from workflow.roles import has_permission


def timeline(case: Case, actor: User | None) -> list[WorkflowEvent] | None:
    """Events oldest first, or None when the actor may not see them (the public sees no comments)."""
    if not has_permission(actor, case, HISTORY):
        return None
    query = select(WorkflowEvent).where(WorkflowEvent.case_id == case.id)
    return list(db.session.scalars(query.order_by(WorkflowEvent.created_at, WorkflowEvent.id)))
