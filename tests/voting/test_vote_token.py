"""The case page's script votes with the voter token that /showcase/voter hands the verified visitor: no CSRF
token needed (no other site can make a browser send the header), the cookie session is not re-signed for it;
a cookie-only vote still needs the CSRF token, and a bad token votes for nobody."""

from __future__ import annotations

import pytest

from tests.voting.test_pages import FINALIST, as_voter, new_voter, open_campaign
from voting.models import Ballot


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
