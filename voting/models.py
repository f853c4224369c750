"""The public vote: verified voters, one-time codes, ballots (never deleted) and live counts."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from pingxuan.db import utcnow
from pingxuan.extensions import db


class Voter(db.Model):
    """A member of the public who verified a mobile number; the number itself is never stored."""

    __tablename__ = "voters"

    id: Mapped[int] = mapped_column(primary_key=True)
    phone_hash: Mapped[str] = mapped_column(String(64), unique=True)  # HMAC-SHA256 keyed by the secret key
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    verified_at: Mapped[datetime | None]  # the latest successful code check
    phone_class: Mapped[str] = mapped_column(String(10), default="", server_default="")  # voting.evidence
    # The objections' daily cap (awards.objections), taken by a conditional UPDATE: the day and how many that day.
    objections_on: Mapped[date | None]
    objections_used: Mapped[int] = mapped_column(default=0, server_default="0")


class OtpChallenge(db.Model):
    __tablename__ = "otp_challenges"

    id: Mapped[int] = mapped_column(primary_key=True)
    phone_hash: Mapped[str] = mapped_column(String(64), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    attempts: Mapped[int] = mapped_column(default=0)
    consumed_at: Mapped[datetime | None]
    ip_hash: Mapped[str] = mapped_column(String(64), default="")


SMS_QUEUED, SMS_SENT, SMS_RETRYING, SMS_FAILED = "queued", "sent", "retrying", "failed"


class SmsMessage(db.Model):
    """Every text, whichever gateway delivers it, with the outcome of its delivery (voting.sms): the office sees
    what went out, what the provider refused and why, and what the vote costs. The one-time code is redacted."""

    __tablename__ = "sms_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    phone_hash: Mapped[str] = mapped_column(String(64), index=True)
    phone_masked: Mapped[str] = mapped_column(String(20))
    body: Mapped[str] = mapped_column(Text)
    backend: Mapped[str] = mapped_column(String(20))  # the gateway: log, aliyun, tencent, or a class of one's own
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    kind: Mapped[str] = mapped_column(String(40), default="", server_default="")  # the wording's key: vote.code, …
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id"), index=True)
    template_code: Mapped[str] = mapped_column(String(64), default="", server_default="")
    status: Mapped[str] = mapped_column(String(12), default=SMS_QUEUED, server_default=SMS_SENT)
    attempts: Mapped[int] = mapped_column(default=0, server_default="1")
    provider_message_id: Mapped[str] = mapped_column(String(100), default="", server_default="")
    error_code: Mapped[str] = mapped_column(String(100), default="", server_default="")
    error: Mapped[str] = mapped_column(String(300), default="", server_default="")
    meaning: Mapped[str] = mapped_column(String(20), default="", server_default="")  # voting.gateways: BLOCKED, …
    sent_at: Mapped[datetime | None]


class SmsTemplate(db.Model):
    """The approved template an organizer names for a kind of text (Set-up → Messages), over the configuration's.
    Append-only: the latest row of a kind is in force, the earlier ones are its history (who, when, what)."""

    __tablename__ = "sms_templates"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40), index=True)
    template_code: Mapped[str] = mapped_column(String(64))
    params: Mapped[dict] = mapped_column(JSON, default=dict)  # the provider's parameter name → the value it takes
    changed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)
    changed_by = relationship("User")


class Ballot(db.Model):
    """One vote. The unique constraints are the rules: one per case per voter per day, and at most N per
    category per voter per day (each of the N daily slots can be taken once)."""

    __tablename__ = "ballots"
    __table_args__ = (
        UniqueConstraint("voter_id", "case_id", "vote_date"),
        UniqueConstraint("voter_id", "category_id", "vote_date", "slot"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"), index=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    category_id: Mapped[int] = mapped_column(ForeignKey("categories.id"))
    voter_id: Mapped[int] = mapped_column(ForeignKey("voters.id"), index=True)
    vote_date: Mapped[date]
    slot: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    ip_hash: Mapped[str] = mapped_column(String(64), default="")
    subnet_hash: Mapped[str] = mapped_column(String(64), default="")  # keyed: /24 (IPv6 /64); read, never searched
    user_agent: Mapped[str] = mapped_column(String(300), default="")  # emptied after the vote (retention)
    # Evidence for the integrity rules (voting.evidence, voting.integrity), taken when the ballot is cast.
    network_hash: Mapped[str] = mapped_column(String(64), default="", server_default="")  # keyed: /16 (IPv6 /48)
    ua_family: Mapped[str] = mapped_column(String(20), default="", server_default="")
    automated: Mapped[bool] = mapped_column(default=False, server_default=false())  # headless / automation marker
    seconds_since_verified: Mapped[int | None]
    voter_age_seconds: Mapped[int | None]  # since the voter's first verification
    voter_ballots_before: Mapped[int | None]  # the voter's earlier ballots in the campaign
    phone_class: Mapped[str] = mapped_column(String(10), default="", server_default="")
    referrer_host: Mapped[str] = mapped_column(String(100), default="", server_default="")
    invalidated_at: Mapped[datetime | None]
    invalidated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    invalid_reason: Mapped[str | None] = mapped_column(Text)


class VoteCount(db.Model):
    """The live count of valid ballots per case, kept in step with the ballots in the same transaction."""

    __tablename__ = "vote_counts"

    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True)
    valid: Mapped[int] = mapped_column(default=0)


class BallotAudit(db.Model):
    """Organizer actions on ballots (invalidation, restoration) with their reason; append-only."""

    __tablename__ = "ballot_audit"

    id: Mapped[int] = mapped_column(primary_key=True)
    ballot_id: Mapped[int] = mapped_column(ForeignKey("ballots.id"), index=True)
    action: Mapped[str] = mapped_column(String(20))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reason: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
