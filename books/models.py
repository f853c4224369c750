"""Meeting books and the runs that render them (one Celery task per book, like certificate batches)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from campaigns.models import Campaign, Category
from pingxuan.db import utcnow
from pingxuan.extensions import db

PENDING, ISSUED, FAILED = "pending", "issued", "failed"
PER_CATEGORY, PER_EXPERT = "category", "expert"


class BookRun(db.Model):
    """One request for the books of a campaign: one per category, or one per expert with their cases only."""

    __tablename__ = "book_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"), index=True)
    scope: Mapped[str] = mapped_column(String(20))  # category | expert
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    campaign: Mapped[Campaign] = relationship()
    books: Mapped[list[MeetingBook]] = relationship(back_populates="run", order_by="MeetingBook.id")


class MeetingBook(db.Model):
    __tablename__ = "meeting_books"

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("book_runs.id"), index=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"), index=True)
    category_id: Mapped[int | None] = mapped_column(ForeignKey("categories.id"))
    expert_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    blind: Mapped[bool] = mapped_column(default=False)  # the units' names left out (blind review)
    case_ids: Mapped[list] = mapped_column(JSON, default=list)  # the cases bound, in order, fixed when requested
    status: Mapped[str] = mapped_column(String(20), default=PENDING)
    error: Mapped[str | None] = mapped_column(Text)
    sha256: Mapped[str | None] = mapped_column(String(64))
    pages: Mapped[int | None]
    rendered_at: Mapped[datetime | None]

    run: Mapped[BookRun] = relationship(back_populates="books")
    category: Mapped[Category | None] = relationship()
