"""The workflow's audit trail: one row per fired transition, never updated or deleted."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, event
from sqlalchemy.orm import Mapped, mapped_column, relationship

from accounts.models import User
from cases.models import Case, DossierVersion
from pingxuan.db import utcnow
from pingxuan.extensions import db


class WorkflowEvent(db.Model):
    __tablename__ = "workflow_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    transition: Mapped[str] = mapped_column(String(40))
    from_state: Mapped[str] = mapped_column(String(30))
    to_state: Mapped[str] = mapped_column(String(30))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    comment: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)

    case: Mapped[Case] = relationship()
    actor: Mapped[User | None] = relationship()


# A frozen dossier names the submission that froze it. Declared here, where both classes are known, so that
# cases.models needs nothing of this module: workflow builds on cases, not the other way round.
DossierVersion.event = relationship(WorkflowEvent)


class ImmutableEventError(RuntimeError):
    pass


@event.listens_for(WorkflowEvent, "before_update")
@event.listens_for(WorkflowEvent, "before_delete")
def _refuse_change(mapper, connection, target) -> None:  # noqa: ARG001
    raise ImmutableEventError("workflow events are append-only")
