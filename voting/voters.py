"""Verifying voters by a one-time code sent to a mainland mobile number."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import timedelta

from flask_babel import gettext as _
from sqlalchemy import select, update

from pingxuan.db import utcnow
from pingxuan.errors import Conflict, Invalid
from pingxuan.extensions import db
from pingxuan.signing import same_secret
from voting.evidence import phone_class
from voting.models import OtpChallenge, SmsMessage, Voter
from voting.privacy import ip_hash, keyed_hash, phone_hash
from voting.sms import send_sms

MOBILE = re.compile(r"^1[3-9]\d{9}$")
CODE_TTL = timedelta(minutes=5)
RESEND_DELAY = timedelta(seconds=60)
MAX_ATTEMPTS = 5
VOTE, OBJECTION = "vote", "objection"
PURPOSES = (VOTE, OBJECTION)  # what a number is verified for: the wording of the text (vote.code, objection.code)


def normalize_phone(phone: str) -> str:
    digits = re.sub(r"[\s-]", "", phone or "")
    if digits.startswith("+86"):
        digits = digits[3:]
    if not MOBILE.match(digits):
        raise Invalid(
            _("Enter a mainland mobile number of 11 digits."), {"phone": _("Enter a mainland mobile number.")}
        )
    return digits


def request_code(phone: str, address: str, purpose: str = VOTE, campaign_id: int | None = None) -> SmsMessage:
    """Send a fresh 6-digit code, at most once a minute per number; returns the queued text (its delivery's
    outcome follows once the request commits). ``purpose``: what the number is verified for, which the text says."""
    phone = normalize_phone(phone)
    hashed = phone_hash(phone)
    last = db.session.scalar(
        select(OtpChallenge).where(OtpChallenge.phone_hash == hashed).order_by(OtpChallenge.id.desc()).limit(1)
    )
    now = utcnow()
    if last is not None and now - last.created_at < RESEND_DELAY:
        wait = int((RESEND_DELAY - (now - last.created_at)).total_seconds()) + 1
        raise Conflict(_("A code was sent just now. You can ask for another in %(n)d seconds.", n=wait))
    code = f"{secrets.randbelow(10**6):06d}"
    challenge = OtpChallenge(
        phone_hash=hashed, code_hash=keyed_hash("otp", hashed + code), created_at=now, expires_at=now + CODE_TTL,
        ip_hash=ip_hash(address),
    )  # fmt: skip
    db.session.add(challenge)
    minutes = int(CODE_TTL.total_seconds() // 60)
    kind = f"{purpose if purpose in PURPOSES else VOTE}.code"
    # the phone gets the code, the outbox keeps it redacted
    return send_sms(phone, kind, {"code": code, "minutes": minutes}, secrets=(code,), campaign_id=campaign_id)


@dataclass
class Verification:
    voter: Voter | None
    message: str = ""


def verify_code(phone: str, code: str) -> Verification:
    """Check a code; every check uses up one of five attempts (the caller commits either way).

    Both rules are single conditional UPDATEs, so parallel requests cannot get round them: an attempt is
    counted only while fewer than five were (``attempts < 5``, rows changed says whether this one may look at the
    code), and a right code is consumed only once (``consumed_at IS NULL``): a code verifies one device.
    """
    phone = normalize_phone(phone)
    hashed = phone_hash(phone)
    challenge_id, expires_at, code_hash = db.session.execute(
        select(OtpChallenge.id, OtpChallenge.expires_at, OtpChallenge.code_hash)
        .where(OtpChallenge.phone_hash == hashed, OtpChallenge.consumed_at.is_(None))
        .order_by(OtpChallenge.id.desc())
        .limit(1)
    ).first() or (None, None, None)
    now = utcnow()
    if challenge_id is None or expires_at < now:
        return Verification(None, _("The code has expired. Ask for a new one."))
    attempts = db.session.scalar(
        update(OtpChallenge)
        .where(OtpChallenge.id == challenge_id, OtpChallenge.attempts < MAX_ATTEMPTS)
        .values(attempts=OtpChallenge.attempts + 1)
        .returning(OtpChallenge.attempts)
        .execution_options(synchronize_session=False)
    )
    if attempts is None:
        return Verification(None, _("Too many wrong codes. Ask for a new one."))
    expected = keyed_hash("otp", hashed + re.sub(r"\s", "", code or ""))
    if not same_secret(code_hash, expected):
        return Verification(None, _("The code is wrong. %(n)d attempts left.", n=MAX_ATTEMPTS - attempts))
    consumed = db.session.execute(
        update(OtpChallenge)
        .where(OtpChallenge.id == challenge_id, OtpChallenge.consumed_at.is_(None))
        .values(consumed_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if consumed != 1:  # a parallel request with the same code was first
        return Verification(None, _("This code has been used already. Ask for a new one."))
    voter = db.session.scalar(select(Voter).where(Voter.phone_hash == hashed))
    if voter is None:
        voter = Voter(phone_hash=hashed)
        db.session.add(voter)
    voter.verified_at, voter.phone_class = now, phone_class(phone)  # evidence for the ballots that follow
    db.session.flush()
    return Verification(voter)
