"""The expert pool, conflicts of interest, reviewer assignments, the rubric and the reviews."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import JSON, Column, ForeignKey, Numeric, String, Table, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from accounts.models import User
from campaigns.models import Campaign, Category, Domain
from cases.models import Case
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
    due_date: Mapped[date | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    case: Mapped[Case] = relationship()
    expert: Mapped[User] = relationship(foreign_keys=[expert_id])
    review: Mapped[Review | None] = relationship(back_populates="assignment", uselist=False)


expert_categories = Table(
    "expert_categories",
    db.metadata,
    Column("expert_id", ForeignKey("experts.user_id", ondelete="CASCADE"), primary_key=True),
    Column("category_id", ForeignKey("categories.id", ondelete="CASCADE"), primary_key=True),
)
expert_domains = Table(
    "expert_domains",
    db.metadata,
    Column("expert_id", ForeignKey("experts.user_id", ondelete="CASCADE"), primary_key=True),
    Column("domain_id", ForeignKey("domains.id", ondelete="CASCADE"), primary_key=True),
)


class Expert(db.Model):
    """An expert's profile in the pool (专家库); the account is a User with the expert role."""

    __tablename__ = "experts"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    organization: Mapped[str] = mapped_column(String(200), default="")
    parent_org: Mapped[str] = mapped_column(String(200), default="")
    title: Mapped[str] = mapped_column(String(100), default="")
    max_load: Mapped[int] = mapped_column(default=20)
    active: Mapped[bool] = mapped_column(default=True)

    user: Mapped[User] = relationship()
    categories: Mapped[list[Category]] = relationship(secondary=expert_categories)
    domains: Mapped[list[Domain]] = relationship(secondary=expert_domains)


AUTO, DECLARED = "auto", "declared"
# After a review was submitted a conflict is the office's to decide: reported by the expert, then upheld (it becomes
# DECLARED and the review is released) or dismissed by an organizer.
REPORTED, DISMISSED = "reported", "dismissed"


class Conflict(db.Model):
    """A conflict of interest between an expert and a case; kept for the audit even when it is lifted."""

    __tablename__ = "conflicts"
    __table_args__ = (UniqueConstraint("case_id", "expert_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    expert_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    source: Mapped[str] = mapped_column(String(20))  # auto | declared
    reason: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    case: Mapped[Case] = relationship()
    expert: Mapped[User] = relationship()


class Criterion(db.Model):
    """One weighted criterion of a campaign's rubric."""

    __tablename__ = "criteria"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), index=True)
    # Empty: the campaign's rubric; set: a category's own rubric, which replaces the campaign's for its cases.
    category_id: Mapped[int | None] = mapped_column(ForeignKey("categories.id", ondelete="CASCADE"), index=True)
    name_zh: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(100))
    weight: Mapped[int]  # percent; a rubric's weights add up to 100
    max_score: Mapped[int] = mapped_column(default=10)
    guidance_zh: Mapped[str] = mapped_column(Text, default="")
    guidance_en: Mapped[str] = mapped_column(Text, default="")
    position: Mapped[int] = mapped_column(default=0)

    campaign: Mapped[Campaign] = relationship()


DRAFT_REVIEW, SUBMITTED_REVIEW = "draft", "submitted"


class Review(db.Model):
    """An expert's scores for one assigned case; submitted reviews are reopened only by an organizer."""

    __tablename__ = "reviews"

    id: Mapped[int] = mapped_column(primary_key=True)
    assignment_id: Mapped[int] = mapped_column(ForeignKey("assignments.id", ondelete="CASCADE"), unique=True)
    status: Mapped[str] = mapped_column(String(20), default=DRAFT_REVIEW)
    comment: Mapped[str] = mapped_column(Text, default="")
    total: Mapped[Decimal | None] = mapped_column(Numeric(7, 3))  # weighted, on the rubric's 0..100 scale
    submitted_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    assignment: Mapped[Assignment] = relationship(back_populates="review")
    scores: Mapped[list[Score]] = relationship(back_populates="review", cascade="all, delete-orphan")


class Score(db.Model):
    __tablename__ = "scores"
    __table_args__ = (UniqueConstraint("review_id", "criterion_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("reviews.id", ondelete="CASCADE"), index=True)
    criterion_id: Mapped[int] = mapped_column(ForeignKey("criteria.id", ondelete="CASCADE"))
    value: Mapped[Decimal] = mapped_column(Numeric(6, 2))

    review: Mapped[Review] = relationship(back_populates="scores")
    criterion: Mapped[Criterion] = relationship()


class ReviewAudit(db.Model):
    """Organizer interventions on reviews (reopen, waive, release) with their reason; append-only."""

    __tablename__ = "review_audit"

    id: Mapped[int] = mapped_column(primary_key=True)
    assignment_id: Mapped[int] = mapped_column(ForeignKey("assignments.id", ondelete="CASCADE"), index=True)
    action: Mapped[str] = mapped_column(String(30))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Proposal(db.Model):
    """An assignment proposal: computed, previewed and adjusted by an organizer, then applied once."""

    __tablename__ = "proposals"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), index=True)
    mode: Mapped[str] = mapped_column(String(20))  # full | topup
    pairs: Mapped[list] = mapped_column(JSON)  # [[case_id, expert_id, cost], ...]
    uncovered: Mapped[list] = mapped_column(JSON)  # [[case_id, missing, reason], ...]
    total_cost: Mapped[int] = mapped_column(default=0)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    applied_at: Mapped[datetime | None]
