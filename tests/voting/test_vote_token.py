"""The case page's script votes with the voter token that /showcase/voter hands the verified visitor: no CSRF
token needed (no other site can make a browser send the header), the cookie session is not re-signed for it;
a cookie-only vote still needs the CSRF token, and a bad token votes for nobody."""

from __future__ import annotations

import time

import pytest
from itsdangerous import TimestampSigner, URLSafeTimedSerializer

from tests.voting.test_pages import FINALIST, as_voter, new_voter, open_campaign
from voting.models import Ballot
from voting.operations import VOTER_TOKEN_MAX_AGE, VOTER_TOKEN_SALT


@pytest.fixture
def app_config(app_config):
    return app_config | {"WTF_CSRF_ENABLED": True}


def test_the_page_votes_with_the_voter_token_and_a_cookie_alone_needs_the_csrf_token(app, make):
    open_campaign(make)
    first, second = make.case(FINALIST), make.case(FINALIST)
    client = app.test_client()
    voter_id = new_voter()
    as_voter(client, voter_id)
    json = {"Accept": "application/json"}
    assert client.post(f"/showcase/cases/{first.id}/vote", headers=json).status_code == 400, "no CSRF token"
    state = client.get(f"/showcase/voter?case={first.id}").get_json()
    assert state["verified"] and state["voter_token"]
    voted = client.post(f"/showcase/cases/{first.id}/vote", headers=json | {"X-Voter-Token": state["voter_token"]})
    assert voted.status_code == 200 and voted.get_json()["remaining_today"] >= 0
    assert "Set-Cookie" not in voted.headers, "the session cookie is not re-signed for a token vote"
    forged = client.post(
        f"/showcase/cases/{second.id}/vote", headers=json | {"X-Voter-Token": "x" + state["voter_token"]}
    )
    assert forged.status_code == 401 and forged.get_json()["verify"]
    with_csrf = client.post(f"/showcase/cases/{second.id}/vote", headers=json | {"X-CSRFToken": state["csrf_token"]})
    assert with_csrf.status_code == 200, "without JavaScript's token, the cookie and its CSRF token still vote"
    assert sorted(b.case_id for b in Ballot.query.filter_by(voter_id=voter_id)) == sorted([first.id, second.id])


def test_a_token_older_than_a_month_votes_for_nobody(app, make):
    """The signature is checked once per process (voting.operations._signed_voter), the token's age on every
    vote: a token a minute short of VOTER_TOKEN_MAX_AGE votes, one a minute past it asks to verify again."""
    open_campaign(make)
    first, second = make.case(FINALIST), make.case(FINALIST)
    voter_id = new_voter()
    signed_at = [time.time() - VOTER_TOKEN_MAX_AGE + 60]  # a minute before the token's month ends

    class Signer(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(signed_at[0])

    serializer = URLSafeTimedSerializer(app.config["SECRET_KEY"], salt=VOTER_TOKEN_SALT, signer=Signer)
    token = serializer.dumps({"v": voter_id})
    json = {"Accept": "application/json", "X-Voter-Token": token}
    client = app.test_client()
    assert client.post(f"/showcase/cases/{first.id}/vote", headers=json).status_code == 200
    signed_at[0] -= 120  # the same voter, a token signed two minutes earlier: past the month
    stale = serializer.dumps({"v": voter_id})
    refused = client.post(f"/showcase/cases/{second.id}/vote", headers=json | {"X-Voter-Token": stale})
    assert refused.status_code == 401 and refused.get_json()["verify"], "an expired token asks to verify again"
    assert [b.case_id for b in Ballot.query.filter_by(voter_id=voter_id)] == [first.id]
