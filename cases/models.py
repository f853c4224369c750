"""The case (申报案例): a dossier owned by an applicant unit, moving through the declared workflow."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from accounts.models import Unit, User
from campaigns.models import Campaign, Category, Domain, Organization
from pingxuan.db import utcnow
from pingxuan.extensions import db
from workflow.definition import INITIAL_STATE


class Case(db.Model):
    __tablename__ = "cases"
    # the vote counts its category's finalists on every ballot; serves lookups by category alone too
    __table_args__ = (Index("ix_cases_category_id_state", "category_id", "state"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    number: Mapped[str | None] = mapped_column(String(20), unique=True)
    # Changed only by workflow.engine.fire(), with a conditional UPDATE on (state, version).
    state: Mapped[str] = mapped_column(String(30), default=INITIAL_STATE, index=True)
    version: Mapped[int] = mapped_column(default=1)

    title: Mapped[str] = mapped_column(String(200), default="")
    category_id: Mapped[int | None] = mapped_column(ForeignKey("categories.id"))
    domain_id: Mapped[int | None] = mapped_column(ForeignKey("domains.id"))
    recommending_org_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id"), index=True)
    in_operation_since: Mapped[date | None]
    # The values of the campaign's declared form (cases/dossier.py) that the rules do not use: key -> JSON value.
    dossier: Mapped[dict] = mapped_column(JSON().with_variant(JSONB(), "postgresql"), default=dict, server_default="{}")

    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    submitted_at: Mapped[datetime | None]  # first submission; breaks ranking ties later
    revision_due: Mapped[date | None]  # set when the office returns the case for revision

    campaign: Mapped[Campaign] = relationship()
    unit: Mapped[Unit] = relationship()
    created_by: Mapped[User] = relationship()
    category: Mapped[Category | None] = relationship()
    domain: Mapped[Domain | None] = relationship()
    recommending_org: Mapped[Organization | None] = relationship()
    attachments: Mapped[list[Attachment]] = relationship(
        back_populates="case", order_by="Attachment.id", cascade="all, delete-orphan"
    )

    def __str__(self) -> str:
        return f"{self.number or '#' + str(self.id)} {self.title}"


PUBLIC_FILE, PRIVATE_FILE = "public", "private"
VISIBILITIES = (PUBLIC_FILE, PRIVATE_FILE)


class Attachment(db.Model):
    """A photo or document of a case; the bytes live in the storage folder under their SHA-256."""

    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # photo | document
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    # Pictures: a JPEG re-encoded without EXIF (no GPS), upright, resized, for pages viewed on phones and for the
    # public; the original stays for the unit, its reviewers and the office.
    display_sha256: Mapped[str | None] = mapped_column(String(64))
    # Who may open it besides the unit, its reviewers and the office: everyone who may view the case (public) or
    # nobody (private). The unit chooses; documents are private unless it says otherwise, photos public.
    visibility: Mapped[str] = mapped_column(String(10), default=PRIVATE_FILE, server_default=PRIVATE_FILE)
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    case: Mapped[Case] = relationship(back_populates="attachments")


DIFFERENT, DUPLICATE = "different", "duplicate"
DUPLICATE_DECISIONS = (DIFFERENT, DUPLICATE)


class DuplicateDecision(db.Model):
    """An organizer's decision on a "likely duplicate" flag between two cases of one unit: different projects
    (the flag is acknowledged) or a real duplicate (acted on: the case stays refused by the pre-check). A flag
    without a decision is open, and shows wherever the case is decided on."""

    __tablename__ = "duplicate_decisions"
    __table_args__ = (UniqueConstraint("case_id", "other_case_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    other_case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    decision: Mapped[str] = mapped_column(String(20))  # one of DUPLICATE_DECISIONS
    reason: Mapped[str] = mapped_column(Text)
    decided_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime] = mapped_column(default=utcnow)

    decided_by: Mapped[User] = relationship()


class DossierVersion(db.Model):
    """The dossier as it was submitted or resubmitted, frozen: every field and the attachments' names, kinds and
    SHA-256 (the bytes stay stored once, under their hash). Numbered 1, 2, … per case; never changed."""

    __tablename__ = "dossier_versions"
    __table_args__ = (UniqueConstraint("case_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    number: Mapped[int]
    event_id: Mapped[int | None] = mapped_column(ForeignKey("workflow_events.id"))  # the submission that froze it
    fields: Mapped[dict] = mapped_column(JSON)  # field name -> value as JSON (ids, ISO dates, decimal strings)
    attachments: Mapped[list] = mapped_column(JSON)  # [{filename, kind, sha256, size, content_type}, ...]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    case: Mapped[Case] = relationship()
    # ``event`` (the WorkflowEvent of that submission) is declared in workflow.models, which builds on this one.
