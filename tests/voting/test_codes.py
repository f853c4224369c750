"""One-time codes under parallel requests (issue 14): five attempts are five, a right code verifies once, and the
code is kept nowhere in clear but on the voter's phone."""

from __future__ import annotations

import sqlalchemy as sa
from flask_babel import force_locale

from pingxuan.db import commit, rollback
from pingxuan.extensions import db
from tests.phone import last_code
from tests.races import first_writes_together, parallel
from voting.models import OtpChallenge, SmsMessage, Voter
from voting.privacy import phone_hash
from voting.voters import MAX_ATTEMPTS, request_code, verify_code


def _checks_in_parallel(app, phone: str, codes: list[str]) -> list:
    """Each code checked by its own thread, as by a server's workers; all of them have read the challenge before
    any writes to it."""

    def check(i: int):
        with app.app_context(), force_locale("en"):
            try:
                result = verify_code(phone, codes[i])
                verified = result.voter.id if result.voter is not None else None
                commit()
                return verified or result.message
            except Exception:
                rollback()
                raise
            finally:
                db.session.remove()

    with first_writes_together("otp_challenges", len(codes)):
        return parallel(len(codes), check)


def test_parallel_guesses_get_five_attempts_and_a_right_code_verifies_once(app, make):
    guessed, typed = "13700137000", "13600136000"
    for phone in (guessed, typed):
        request_code(phone, "203.0.113.5")
        commit()
    right = last_code(guessed)
    wrong = f"{(int(right) + 1) % 10**6:06d}"
    db.session.remove()

    results = _checks_in_parallel(app, guessed, [wrong] * 10)
    assert all(isinstance(r, str) for r in results), results
    assert sum(r.startswith("The code is wrong") for r in results) == MAX_ATTEMPTS, results
    assert sum(r.startswith("Too many wrong codes") for r in results) == 10 - MAX_ATTEMPTS, results
    with force_locale("en"):
        assert verify_code(guessed, right).voter is None  # the right code is too late: five guesses were had
    commit()
    assert db.session.scalar(sa.select(OtpChallenge.attempts).where(OtpChallenge.phone_hash == phone_hash(guessed)))\
        == MAX_ATTEMPTS  # fmt: skip

    results = _checks_in_parallel(app, typed, [last_code(typed)] * 4)  # one code typed on four devices at once
    verified = [r for r in results if isinstance(r, int)]
    assert len(verified) == 1, results
    assert (
        sorted(r for r in results if not isinstance(r, int))
        == ["This code has been used already. Ask for a new one."] * 3
    )
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Voter)) == 1

    for phone in (guessed, typed):  # the codes table holds keyed hashes, the outbox the text without the code
        code = last_code(phone)
        assert code not in " ".join(db.session.scalars(sa.select(OtpChallenge.code_hash)))
        assert code not in db.session.scalar(
            sa.select(SmsMessage.body).where(SmsMessage.phone_hash == phone_hash(phone))
        )
