"""Reviewer assignments: who reviews which case. The expert pool and scoring build on this."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cases.models import Case
from pingxuan.accounts.models import User
from pingxuan.db import utcnow
from pingxuan.extensions import db

# An assignment is live while pending, accepted or submitted; declined and released ones stay for the audit.
PENDING, ACCEPTED, DECLINED, SUBMITTED, WAIVED, RELEASED = (
    "pending", "accepted", "declined", "submitted", "waived", "released",
)  # fmt: skip
LIVE = (PENDING, ACCEPTED, SUBMITTED)
OPEN = (PENDING, ACCEPTED)


class Assignment(db.Model):
    __tablename__ = "assignments"
    __table_args__ = (UniqueConstraint("case_id", "expert_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    expert_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    status: Mapped[str] = mapped_column(String(20), default=PENDING)
    reason: Mapped[str | None] = mapped_column(Text)
    assigned_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    case: Mapped[Case] = relationship()
    expert: Mapped[User] = relationship(foreign_keys=[expert_id])
