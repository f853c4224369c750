"""A record of each archive made from the back office: who asked, when, and the stored file's hashes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from campaigns.models import Campaign
from pingxuan.db import utcnow
from pingxuan.extensions import db

PENDING, DONE, FAILED = "pending", "done", "failed"


class CampaignArchive(db.Model):
    __tablename__ = "campaign_archives"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(20), default=PENDING)
    sha256: Mapped[str | None] = mapped_column(String(64))  # of the archive file, in storage
    manifest_sha256: Mapped[str | None] = mapped_column(String(64))  # what the office publishes
    size: Mapped[int | None]
    error: Mapped[str | None] = mapped_column(Text)

    campaign: Mapped[Campaign] = relationship()
