"""Verifying voters by a one-time code sent to a mainland mobile number."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import re
import secrets
import unicodedata
from collections import Counter
from dataclasses import dataclass
from datetime import timedelta

from cryptography.fernet import InvalidToken
from flask import current_app
from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import select, update

from awards.models import Objection
from campaigns.models import Campaign
from pingxuan.db import utcnow
from pingxuan.errors import Conflict, Invalid
from pingxuan.extensions import db
from pingxuan.signing import same_secret, sealer
from voting.evidence import phone_class
from voting.models import Ballot, OtpChallenge, SmsMessage, Voter
from voting.privacy import ip_hash, keyed_hash, phone_hash
from voting.sms import send_sms
from voting.wechat import sms_allowed

MOBILE = re.compile(r"1[3-9][0-9]{9}", re.ASCII)  # a mainland mobile number, canonical: 11 ASCII digits
CODE_TTL = timedelta(minutes=5)
RESEND_DELAY = timedelta(seconds=60)
MAX_ATTEMPTS = 5
VOTE, OBJECTION = "vote", "objection"
VERIFIED_NUMBER_KEY = "verified_number"  # the session's sealed copy of a number verified to object (seal_number)
PURPOSES = (VOTE, OBJECTION)  # what a number is verified for: the wording of the text (vote.code, objection.code)


SEPARATORS = frozenset(".()/")  # besides spaces, dashes and invisible format characters


def canonical_phone(phone: str) -> str | None:
    """The one way a mainland mobile number is written: 11 ASCII digits, or None if ``phone`` is not one.

    Every writing of the same number must come to the same string, since its keyed hash is the voter: NFKC (full
    width), the decimal digits of any script (Arabic-Indic, Devanagari, …), spaces, dashes, dots, parentheses and
    invisible format characters dropped, the country code (+86, 0086, 86) removed."""
    digits: list[str] = []
    plus = False
    for ch in unicodedata.normalize("NFKC", phone or ""):
        if ch.isspace() or ch in SEPARATORS or unicodedata.category(ch) in ("Pd", "Cf"):
            continue
        if ch == "+" and not digits and not plus:
            plus = True
            continue
        value = unicodedata.decimal(ch, None)
        if value is None:
            return None
        digits.append(str(value))
    number = "".join(digits)
    if plus:
        if not number.startswith("86"):
            return None  # another country
        number = number[2:]
    elif number.startswith("0086"):
        number = number[4:]
    elif len(number) == 13 and number.startswith("86"):
        number = number[2:]
    return number if MOBILE.fullmatch(number) else None


def normalize_phone(phone: str) -> str:
    """The canonical number (``canonical_phone``) or Invalid: every number that enters goes through here."""
    number = canonical_phone(phone)
    if number is None:
        message = _("Enter a mainland mobile number of 11 digits.")
        raise Invalid(message, {"phone": message})  # one mistake, one sentence: the page shows it on the field
    return number


def resend_wait(phone: str) -> int:
    """Seconds until this number may ask for another code (0: now); the verify page counts them down."""
    number = canonical_phone(phone)
    if number is None:
        return 0
    created = db.session.scalar(
        select(OtpChallenge.created_at)
        .where(OtpChallenge.phone_hash == phone_hash(number))
        .order_by(OtpChallenge.id.desc())
        .limit(1)
    )
    if created is None:
        return 0
    left = RESEND_DELAY - (utcnow() - created)
    return max(0, int(left.total_seconds()) + (1 if left.total_seconds() % 1 else 0))


NUMBER_TTL = int(timedelta(days=1).total_seconds())  # how long a verified number is carried to the objection form


def seal_number(phone: str) -> str:
    """The verified number sealed for the visitor's own session, so that the objection form need not ask for it
    again (the reply goes to it); readable only with the secret key, and only for a day."""
    return sealer("verified-number").encrypt(normalize_phone(phone).encode()).decode()


def open_number(sealed: object) -> str | None:
    """The number ``seal_number`` sealed, or None (nothing sealed, another key, older than a day)."""
    if not isinstance(sealed, str) or not sealed:
        return None
    try:
        return sealer("verified-number").decrypt(sealed.encode(), ttl=NUMBER_TTL).decode()
    except (InvalidToken, UnicodeDecodeError):
        return None


def request_code(phone: str, address: str, purpose: str = VOTE, campaign_id: int | None = None) -> SmsMessage:
    """Send a fresh 6-digit code, at most once a minute per number; returns the queued text (its delivery's
    outcome follows once the request commits). ``purpose``: what the number is verified for, which the text says."""
    phone = normalize_phone(phone)
    if purpose == VOTE:
        campaign = db.session.scalar(select(Campaign).where(Campaign.is_current.is_(True)))
        if campaign is not None and not sms_allowed(campaign):
            message = _("This campaign's vote is by WeChat: open the vote in WeChat to take part.")
            raise Invalid(message, {"phone": message})
    hashed = phone_hash(phone)
    wait = resend_wait(phone)
    if wait:
        raise Conflict(
            ngettext(
                "A code was sent just now. You can ask for another in %(num)d second.",
                "A code was sent just now. You can ask for another in %(num)d seconds.",
                wait,
            )
        )
    now = utcnow()
    code = f"{secrets.randbelow(10**6):06d}"
    challenge = OtpChallenge(
        phone_hash=hashed, code_hash=keyed_hash("otp", hashed + code), created_at=now, expires_at=now + CODE_TTL,
        ip_hash=ip_hash(address),
    )  # fmt: skip
    db.session.add(challenge)
    minutes = int(CODE_TTL.total_seconds() // 60)
    kind = f"{purpose if purpose in PURPOSES else VOTE}.code"
    # the phone gets the code; the wording and the outbox never see it
    return send_sms(phone, kind, {"minutes": minutes}, secrets={"code": code}, campaign_id=campaign_id)


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
        return Verification(
            None,
            ngettext(
                "The code is wrong. %(num)d attempt left.",
                "The code is wrong. %(num)d attempts left.",
                MAX_ATTEMPTS - attempts,
            ),
        )
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


# The numbers of existing voters (integrity report) ----------------------------------------------------------


@dataclass
class NumberCheck:
    """How many of a campaign's voters are one number written several ways (before numbers were made canonical).

    Numbers are not kept, only their keyed hash of the number as typed, so a legacy voter can be checked only
    through what the installation kept: an objector's sealed number, and the outbox's masked number (first three
    and last four characters as typed). Voters whose visible digits are the same are the only ones that can be
    one number; for those, the four hidden digits are found by trying them against the voter's hash (in the
    scripts the visible digits are written in), in memory, with nothing kept or shown but these counts."""

    voters: int = 0  # voters with ballots in the campaign
    written_otherwise: int = 0  # numbers seen written with other than ASCII digits (full width, other scripts)
    collapsed: int = 0  # voters that are one number together with at least one other voter
    numbers: int = 0  # the numbers those voters are
    unchecked: int = 0  # voters that may share a number but whose number cannot be found


TRY_BUDGET = 3_000_000  # hidden-digit candidates tried per report at most (about a few seconds)


def _visible(mask: str) -> str | None:
    """The canonical visible digits of a masked number (``138****8000``), or None if it is not one."""
    if len(mask) != 11 or mask[3:7] != "****":
        return None
    digits = [unicodedata.decimal(ch, None) for ch in mask[:3] + mask[7:]]
    return None if None in digits else "".join(map(str, digits))


def _find_hidden(target: str, mask: str, budget: list[int]) -> str | None:
    """The number (as typed) behind a masked number whose keyed hash is ``target``, or None."""
    zeros = sorted({ord(ch) - unicodedata.decimal(ch) for ch in mask[:3] + mask[7:]} | {ord("0")})
    if len(zeros) > 2:
        return None
    alphabet = [chr(zero + d) for zero in zeros for d in range(10)]
    tries = len(alphabet) ** 4
    if budget[0] < tries:
        return None
    budget[0] -= tries
    key = current_app.config["SECRET_KEY"].encode()
    base = hmac.new(key, f"phone:{mask[:3]}".encode(), hashlib.sha256)
    tail = mask[7:]
    for middle in itertools.product(alphabet, repeat=4):
        h = base.copy()
        h.update(("".join(middle) + tail).encode())
        if h.hexdigest() == target:
            return mask[:3] + "".join(middle) + tail
    return None


def number_check(campaign_id: int) -> NumberCheck:
    """Which of the campaign's voters collapse to one number now that every writing of a number is one voter."""
    voters = dict(
        db.session.execute(
            select(Voter.id, Voter.phone_hash).where(
                Voter.id.in_(select(Ballot.voter_id).where(Ballot.campaign_id == campaign_id))
            )
        ).all()
    )
    hashes = set(voters.values())
    masks: dict[str, str] = {}
    for hashed, mask in db.session.execute(
        select(SmsMessage.phone_hash, SmsMessage.phone_masked).where(
            SmsMessage.phone_hash.in_(select(Voter.phone_hash).where(Voter.id.in_(voters)))
        )
    ):
        masks.setdefault(hashed, mask)
    typed: dict[str, str] = {}  # hash -> the number as typed, from an objector's sealed copy
    seal = sealer("objection-contact")
    for hashed, sealed in db.session.execute(
        select(Objection.phone_hash, Objection.contact_sealed).where(Objection.phone_hash.in_(hashes))
    ):
        try:
            typed[hashed] = seal.decrypt(sealed.encode()).decode()
        except (InvalidToken, UnicodeDecodeError):
            continue
    result = NumberCheck(voters=len(voters))
    groups: dict[str, list[int]] = {}
    for voter_id, hashed in voters.items():
        raw = typed.get(hashed) or masks.get(hashed, "")
        if any(ch not in "0123456789*" for ch in raw):
            result.written_otherwise += 1
        number = canonical_phone(typed[hashed]) if hashed in typed else None
        visible = (number[:3] + number[7:]) if number else _visible(masks.get(hashed, ""))
        if visible is not None:
            groups.setdefault(visible, []).append(voter_id)
    budget = [TRY_BUDGET]
    for members in groups.values():
        if len(members) < 2:
            continue  # no other voter has these visible digits: this number is no one else's
        numbers: Counter[str] = Counter()
        for voter_id in members:
            hashed = voters[voter_id]
            found = typed.get(hashed) or _find_hidden(hashed, masks.get(hashed, ""), budget)
            if found is None:
                result.unchecked += 1
            else:
                numbers[canonical_phone(found) or found] += 1
        shared = [n for n in numbers.values() if n > 1]
        result.collapsed += sum(shared)
        result.numbers += len(shared)
    return result
