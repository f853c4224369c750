"""Awards and their certificates: organization awards, issued certificates and the batches that issue them."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, ForeignKey, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from campaigns.models import Campaign, Organization
from cases.models import Case
from pingxuan.db import utcnow
from pingxuan.extensions import db


class OrganizationAward(db.Model):
    """An organization award (组织奖) conferred on a recommending organization in a campaign."""

    __tablename__ = "organization_awards"
    __table_args__ = (UniqueConstraint("campaign_id", "organization_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"), index=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    confirmed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    confirmed_at: Mapped[datetime] = mapped_column(default=utcnow)

    campaign: Mapped[Campaign] = relationship()
    organization: Mapped[Organization] = relationship()


PENDING, ISSUED, FAILED, SUPERSEDED = "pending", "issued", "failed", "superseded"


class CertificateBatch(db.Model):
    """One run of issuing certificates, processed by Celery one certificate per task."""

    __tablename__ = "certificate_batches"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    zip_sha256: Mapped[str | None] = mapped_column(String(64))

    certificates: Mapped[list[Certificate]] = relationship(back_populates="batch", order_by="Certificate.id")


class Certificate(db.Model):
    """A numbered certificate; its content is signed with an HMAC so a forged or altered one fails verification."""

    __tablename__ = "certificates"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(40), unique=True)
    kind: Mapped[str] = mapped_column(String(30))  # a folder name under pdf_templates/
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"), index=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    organization_award_id: Mapped[int | None] = mapped_column(ForeignKey("organization_awards.id"))
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("certificate_batches.id"), index=True)
    content: Mapped[dict] = mapped_column(JSON)  # award name, recipient, title, date, organizer: what is printed
    issued_on: Mapped[date]
    signature: Mapped[str] = mapped_column(String(64))  # HMAC-SHA256 over number and content
    status: Mapped[str] = mapped_column(String(20), default=PENDING)
    error: Mapped[str | None] = mapped_column(Text)
    sha256: Mapped[str | None] = mapped_column(String(64))  # of the rendered PDF
    supersedes_id: Mapped[int | None] = mapped_column(ForeignKey("certificates.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    rendered_at: Mapped[datetime | None]

    batch: Mapped[CertificateBatch | None] = relationship(back_populates="certificates")
    case: Mapped[Case | None] = relationship()
    organization_award: Mapped[OrganizationAward | None] = relationship()


class ResultSnapshot(db.Model):
    """A published version of a campaign's public results: every figure the public sees, frozen, with its hash.

    Never updated: a change after publication (a category decided again, a certificate reissued, ballots struck)
    makes the next version, and the public pages read the newest one only.
    """

    __tablename__ = "result_snapshots"
    __table_args__ = (UniqueConstraint("campaign_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"), index=True)
    version: Mapped[int]
    data: Mapped[dict] = mapped_column(JSON)
    content_hash: Mapped[str] = mapped_column(String(64))  # SHA-256 of the canonical JSON of data (not a file)
    reason: Mapped[str] = mapped_column(Text, default="")
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    published_at: Mapped[datetime] = mapped_column(default=utcnow)


class ResultRendering(db.Model):
    """A published version's public files as they are served: each language's results page, CSV and XLSX,
    rendered once when the version is published (awards.publication); a request sends these bytes, with their
    SHA-256 as the ETag. Never updated, like the version they belong to."""

    __tablename__ = "result_renderings"

    snapshot_id: Mapped[int] = mapped_column(ForeignKey("result_snapshots.id"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(10), primary_key=True)  # page, csv, xlsx
    lang: Mapped[str] = mapped_column(String(5), primary_key=True)  # zh, en
    body: Mapped[bytes] = mapped_column(LargeBinary)
    sha256: Mapped[str] = mapped_column(String(64))


class Notice(db.Model):
    """A public notice (公示) of proposed awards: for one category, the whole campaign, or one case that moved up.

    Objections are accepted from ``starts_on`` to ``ends_on`` inclusive (working days, the campaign's holidays
    skipped); a proposed award is confirmed only after ``ends_on``."""

    __tablename__ = "award_notices"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"), index=True)
    category_id: Mapped[int | None] = mapped_column(ForeignKey("categories.id"))  # None: the whole campaign
    starts_on: Mapped[date]
    ends_on: Mapped[date]
    contact: Mapped[str] = mapped_column(Text, default="")  # the organizer's contact shown on the notice
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    published_at: Mapped[datetime] = mapped_column(default=utcnow)

    campaign: Mapped[Campaign] = relationship()
    entries: Mapped[list[NoticeEntry]] = relationship(back_populates="notice", cascade="all, delete-orphan")


class NoticeEntry(db.Model):
    """A proposed case listed on a notice; a case moved up after an upheld objection gets a notice of its own."""

    __tablename__ = "award_notice_entries"
    __table_args__ = (UniqueConstraint("notice_id", "case_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    notice_id: Mapped[int] = mapped_column(ForeignKey("award_notices.id", ondelete="CASCADE"), index=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)

    notice: Mapped[Notice] = relationship(back_populates="entries")
    case: Mapped[Case] = relationship()


OBJECTION_OPEN, OBJECTION_FORWARDED, OBJECTION_ANSWERED = "open", "forwarded", "answered"
OBJECTION_UPHELD, OBJECTION_DISMISSED = "upheld", "dismissed"
OBJECTION_PENDING = (OBJECTION_OPEN, OBJECTION_FORWARDED, OBJECTION_ANSWERED)  # not decided yet


class Objection(db.Model):
    """An objection (异议) to a proposed award. The objector is known by a keyed hash of their verified phone;
    the number itself is kept sealed only until the outcome is sent, then erased."""

    __tablename__ = "objections"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    notice_id: Mapped[int] = mapped_column(ForeignKey("award_notices.id"), index=True)
    ground: Mapped[str] = mapped_column(String(30))
    text: Mapped[str] = mapped_column(Text)
    phone_hash: Mapped[str] = mapped_column(String(64), index=True)
    phone_masked: Mapped[str] = mapped_column(String(20))
    contact_sealed: Mapped[str | None] = mapped_column(Text)  # erased once the objector is told the outcome
    anonymous: Mapped[bool] = mapped_column(default=False)  # the unit is not told who objected
    dossier_version: Mapped[int | None]  # the dossier's version number when the objection was lodged
    status: Mapped[str] = mapped_column(String(20), default=OBJECTION_OPEN, index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    forwarded_at: Mapped[datetime | None]
    forward_note: Mapped[str] = mapped_column(Text, default="")
    response_due: Mapped[date | None]
    response: Mapped[str] = mapped_column(Text, default="")
    responded_at: Mapped[datetime | None]
    responded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reason: Mapped[str] = mapped_column(Text, default="")  # why upheld or dismissed
    decided_at: Mapped[datetime | None]
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    moved_up_case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"))

    case: Mapped[Case] = relationship(foreign_keys=[case_id])
    notice: Mapped[Notice] = relationship()
    files: Mapped[list[ObjectionFile]] = relationship(
        back_populates="objection", order_by="ObjectionFile.id", cascade="all, delete-orphan"
    )


class ObjectionFile(db.Model):
    """A file attached to an objection's grounds or to the unit's response; stored once by its SHA-256."""

    __tablename__ = "objection_files"

    id: Mapped[int] = mapped_column(primary_key=True)
    objection_id: Mapped[int] = mapped_column(ForeignKey("objections.id", ondelete="CASCADE"), index=True)
    part: Mapped[str] = mapped_column(String(20))  # grounds | response
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    objection: Mapped[Objection] = relationship(back_populates="files")
