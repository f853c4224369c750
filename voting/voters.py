"""Verifying voters by a one-time code sent to a mainland mobile number."""

from __future__ import annotations

import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta

from flask_babel import gettext as _
from sqlalchemy import select

from notifications.wording import render
from pingxuan.db import utcnow
from pingxuan.errors import Conflict, Invalid
from pingxuan.extensions import db
from pingxuan.i18n import EN, ZH, is_english
from voting.evidence import phone_class
from voting.models import OtpChallenge, Voter
from voting.privacy import ip_hash, keyed_hash, phone_hash
from voting.sms import send_sms

MOBILE = re.compile(r"^1[3-9]\d{9}$")
CODE_TTL = timedelta(minutes=5)
RESEND_DELAY = timedelta(seconds=60)
MAX_ATTEMPTS = 5


def normalize_phone(phone: str) -> str:
    digits = re.sub(r"[\s-]", "", phone or "")
    if digits.startswith("+86"):
        digits = digits[3:]
    if not MOBILE.match(digits):
        raise Invalid(
            _("Enter a mainland mobile number of 11 digits."), {"phone": _("Enter a mainland mobile number.")}
        )
    return digits


def request_code(phone: str, address: str) -> OtpChallenge:
    """Send a fresh 6-digit code, at most once a minute per number."""
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
    send_sms(phone, render("vote.code", EN if is_english() else ZH, {"code": code, "minutes": minutes}).text)
    db.session.flush()
    return challenge


@dataclass
class Verification:
    voter: Voter | None
    message: str = ""


def verify_code(phone: str, code: str) -> Verification:
    """Check a code; a wrong code uses up one of five attempts (the caller commits either way)."""
    phone = normalize_phone(phone)
    hashed = phone_hash(phone)
    challenge = db.session.scalar(
        select(OtpChallenge)
        .where(OtpChallenge.phone_hash == hashed, OtpChallenge.consumed_at.is_(None))
        .order_by(OtpChallenge.id.desc())
        .limit(1)
    )
    now = utcnow()
    if challenge is None or challenge.expires_at < now:
        return Verification(None, _("The code has expired. Ask for a new one."))
    if challenge.attempts >= MAX_ATTEMPTS:
        return Verification(None, _("Too many wrong codes. Ask for a new one."))
    challenge.attempts += 1
    expected = keyed_hash("otp", hashed + re.sub(r"\s", "", code or ""))
    if not hmac.compare_digest(expected, challenge.code_hash):
        left = MAX_ATTEMPTS - challenge.attempts
        db.session.flush()
        return Verification(None, _("The code is wrong. %(n)d attempts left.", n=left))
    challenge.consumed_at = now
    voter = db.session.scalar(select(Voter).where(Voter.phone_hash == hashed))
    if voter is None:
        voter = Voter(phone_hash=hashed)
        db.session.add(voter)
    voter.verified_at, voter.phone_class = now, phone_class(phone)  # evidence for the ballots that follow
    db.session.flush()
    return Verification(voter)
