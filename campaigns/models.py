"""Campaigns (one selection per year) and their taxonomy of categories and domains."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint, false, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from pingxuan.db import utcnow
from pingxuan.extensions import db

VOTE_NOT_OPEN, VOTE_OPEN, VOTE_CLOSED = "not_open", "open", "closed"
# Who may vote (voting.wechat): a verified mobile number, a follower of the office's WeChat account, or either.
VOTE_BY_SMS, VOTE_BY_WECHAT, VOTE_BY_EITHER = "sms", "wechat", "either"
VOTE_IDENTITIES = (VOTE_BY_SMS, VOTE_BY_WECHAT, VOTE_BY_EITHER)


class Campaign(db.Model):
    __tablename__ = "campaigns"

    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int] = mapped_column(unique=True)
    title_zh: Mapped[str] = mapped_column(String(200))
    title_en: Mapped[str] = mapped_column(String(200))
    organizer_zh: Mapped[str] = mapped_column(String(200), default="")
    organizer_en: Mapped[str] = mapped_column(String(200), default="")
    in_operation_before: Mapped[date]
    submission_opens: Mapped[date | None]
    submission_closes: Mapped[date | None]
    review_opens: Mapped[date | None]
    review_closes: Mapped[date | None]
    vote_opens: Mapped[date | None]
    vote_closes: Mapped[date | None]
    vote_status: Mapped[str] = mapped_column(String(20), default=VOTE_NOT_OPEN)
    votes_per_category_per_day: Mapped[int] = mapped_column(default=3, server_default="3")
    vote_identity: Mapped[str] = mapped_column(String(10), default=VOTE_BY_SMS, server_default=VOTE_BY_SMS)
    show_live_counts: Mapped[bool] = mapped_column(
        default=True, server_default=true()
    )  # False hides counts until the vote closes
    awards_per_category: Mapped[int] = mapped_column(default=10)
    organization_awards: Mapped[int] = mapped_column(default=6, server_default="6")  # how many organizations
    reviewers_per_case: Mapped[int] = mapped_column(default=5)
    shortlist_per_category: Mapped[int | None]  # finalists per category; empty means twice the awards
    expert_weight: Mapped[int] = mapped_column(default=70)
    public_weight: Mapped[int] = mapped_column(default=30)
    notice_working_days: Mapped[int] = mapped_column(default=5, server_default="5")  # 公示期
    notice_holidays: Mapped[list[str]] = mapped_column(JSON, default=list, server_default="[]")  # ISO dates off
    notice_contact: Mapped[str] = mapped_column(Text, default="", server_default="")  # shown on the notice
    blind_review: Mapped[bool] = mapped_column(default=False, server_default=false())  # experts' books omit units
    is_current: Mapped[bool] = mapped_column(default=False)
    vote_rule_settings: Mapped[dict | None] = mapped_column(JSON)  # parameters of voting.integrity's rules
    dossier_form: Mapped[dict | None] = mapped_column(JSON)  # the declared dossier form (cases.dossier); empty: 2017's
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    categories: Mapped[list[Category]] = relationship(
        back_populates="campaign", order_by="Category.position", cascade="all, delete-orphan"
    )

    def __str__(self) -> str:
        return self.title_zh


class Category(db.Model):
    __tablename__ = "categories"
    __table_args__ = (UniqueConstraint("campaign_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(40))
    abbr: Mapped[str] = mapped_column(String(4))  # used in case numbers, e.g. 2017-CO-0007
    name_zh: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(100))
    award_zh: Mapped[str] = mapped_column(String(200), default="")
    award_en: Mapped[str] = mapped_column(String(200), default="")
    position: Mapped[int] = mapped_column(default=0)
    last_case_number: Mapped[int] = mapped_column(default=0)  # incremented atomically by cases.operations

    campaign: Mapped[Campaign] = relationship(back_populates="categories")
    domains: Mapped[list[Domain]] = relationship(
        back_populates="category", order_by="Domain.position", cascade="all, delete-orphan"
    )

    def __str__(self) -> str:
        return self.name_zh


class Domain(db.Model):
    __tablename__ = "domains"
    __table_args__ = (UniqueConstraint("category_id", "name_zh"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    category_id: Mapped[int] = mapped_column(ForeignKey("categories.id", ondelete="CASCADE"), index=True)
    name_zh: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(Text, default="")
    position: Mapped[int] = mapped_column(default=0)

    category: Mapped[Category] = relationship(back_populates="domains")

    def __str__(self) -> str:
        return self.name_zh


class Organization(db.Model):
    """A recommending organization (推荐单位): a district or a city department; organization awards go to these."""

    __tablename__ = "organizations"

    id: Mapped[int] = mapped_column(primary_key=True)
    name_zh: Mapped[str] = mapped_column(String(200), unique=True)
    name_en: Mapped[str] = mapped_column(String(200), default="")
    kind: Mapped[str] = mapped_column(String(20), default="district")  # district | department
    active: Mapped[bool] = mapped_column(default=True)

    def __str__(self) -> str:
        return self.name_zh


class SettingChange(db.Model):
    """One field of a campaign's set-up changed by someone: kept with its value before and after, never edited."""

    __tablename__ = "setting_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    subject: Mapped[str] = mapped_column(String(20))  # campaign | category | domain | rubric | import
    subject_id: Mapped[int | None]
    field: Mapped[str] = mapped_column(String(60))
    before: Mapped[str | None] = mapped_column(Text)
    after: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)

    campaign: Mapped[Campaign] = relationship()
