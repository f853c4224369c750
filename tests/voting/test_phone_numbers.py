"""One number is one voter however it is written (issue 18): full-width digits, other scripts' digits, spaces,
dashes, country code; and the integrity report says how many voters from before were one number."""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa

from pingxuan.db import commit
from pingxuan.extensions import db
from tests.api.conftest import bearer  # noqa: F401  (fixture)
from tests.factories import login
from tests.phone import last_code
from tests.voting.test_integrity import Votes
from tests.voting.test_pages import open_campaign
from voting.models import OtpChallenge, SmsMessage, Voter
from voting.privacy import mask_phone, phone_hash
from voting.voters import request_code, verify_code

NUMBER = "13800138000"
WRITINGS = (
    "13800138000",
    "13８００１３８０００",  # full width
    "13٨٠٠١٣٨٠٠٠",  # Arabic-Indic
    "13८००१३८०००",  # Devanagari
    "+86 138-0013-8000",
    "0086 (138) 0013.8000",
    "86 13800138000",
)
EN = {"Accept-Language": "en"}


def _age_codes() -> None:
    """The resend delay is per number: let a minute pass."""
    for challenge in db.session.scalars(sa.select(OtpChallenge)):
        challenge.created_at -= timedelta(minutes=2)
    commit()


def test_every_writing_of_a_number_is_one_voter(app, make):
    voters = set()
    for i, writing in enumerate(WRITINGS):
        request_code(writing, "203.0.113.5")
        commit()
        code = last_code(NUMBER)  # the text goes to the number, whichever way it was typed
        voter = verify_code(WRITINGS[(i + 1) % len(WRITINGS)], code).voter  # typed another way to check it
        commit()
        assert voter is not None
        voters.add(voter.id)
        _age_codes()
    assert len(voters) == 1 and db.session.scalar(sa.select(sa.func.count()).select_from(Voter)) == 1
    assert db.session.scalar(sa.select(Voter.phone_hash)) == phone_hash(NUMBER)
    assert {m for (m,) in db.session.execute(sa.select(SmsMessage.phone_masked))} == {"138****8000"}


def test_the_api_verifies_one_voter_and_refuses_what_is_not_a_mainland_mobile(app, client, make):
    for writing in ("13८००१३८०००", "13８００１３８０００"):
        assert client.post("/api/v1/voters/code", json={"phone": writing}, headers=EN).status_code == 202
        answer = client.post("/api/v1/voters/verify", json={"phone": NUMBER, "code": last_code(NUMBER)}, headers=EN)
        assert answer.status_code == 200
        _age_codes()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Voter)) == 1
    for bad in ("２３８００１３８０００", "+1 13800138000", "138001380001"):
        refused = client.post("/api/v1/voters/code", json={"phone": bad}, headers=EN)
        assert refused.status_code == 422 and "phone" in refused.get_json()["errors"], bad


def _legacy_voter(votes: Votes, case, typed: str, texted: bool = True) -> Voter:
    """A voter verified before numbers were canonical: the hash and the outbox's mask of the number as typed."""
    voter = Voter(phone_hash=phone_hash(typed), phone_class="mobile")
    db.session.add(voter)
    if texted:
        db.session.add(SmsMessage(phone_hash=phone_hash(typed), phone_masked=mask_phone(typed), body="…",
                                  backend="log", kind="vote.code"))  # fmt: skip
    db.session.flush()
    votes.add(case, datetime(2026, 6, 1, 9, 0), voter=voter)
    return voter


def test_the_integrity_report_says_how_many_voters_are_one_number(app, client, make, bearer):  # noqa: F811
    campaign = open_campaign(make)
    case = make.case("public_vote")
    votes = Votes(campaign)
    for typed in WRITINGS[:4]:  # one number, four voters
        _legacy_voter(votes, case, typed)
    _legacy_voter(votes, case, "13811118000")  # the same visible digits, another number
    _legacy_voter(votes, case, "13912345678")  # a number of its own
    _legacy_voter(votes, case, "13700137000", texted=False)  # no text kept: nothing says it is anyone else's
    _legacy_voter(votes, case, "13８๑๒๓๔８０００")  # the hidden digits in a third script: cannot be found
    commit()
    organizer = make.organizer()
    report = client.get(f"/api/v1/campaigns/{campaign.id}/vote/integrity", headers=bearer(organizer)).get_json()
    assert report["numbers"] == {"voters": 8, "written_otherwise": 4, "collapsed": 4, "numbers": 1, "unchecked": 1}
    login(client, organizer)
    page = client.get(f"/vote-admin/{campaign.id}/integrity").get_data(as_text=True)  # staff read Chinese
    assert "与其他投票人为同一号码的投票人：4 名（号码 1 个）" in page
    assert "8 名投票人中，有 4 人的号码曾以非 ASCII 数字书写" in page
