"""Awards and their certificates: organization awards, issued certificates and the batches that issue them."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
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
