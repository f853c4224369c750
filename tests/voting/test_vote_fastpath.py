"""The page script's vote is answered before Flask's request machinery (voting.fast_views): the voter sees the same
answer, with the same security headers, in the page's language; a vote is limited once per request; a refused
vote still says which rule refused it."""

from __future__ import annotations

import pytest

from pingxuan.extensions import db
from tests.voting.test_pages import FINALIST, new_voter, open_campaign
from voting.models import Ballot, VoteCount
from voting.operations import voter_token


@pytest.fixture
def app_config(app_config):
    return app_config | {"WTF_CSRF_ENABLED": True, "VOTE_LIMIT_VOTER": "5 per minute"}


def _vote(client, case_id: int, token: str, query: str = ""):
    return client.post(f"/showcase/cases/{case_id}/vote{query}",
                       headers={"Accept": "application/json", "X-Voter-Token": token})  # fmt: skip


def test_a_script_vote_is_answered_counted_and_refused_like_the_page_s(app, make):
    open_campaign(make, votes_per_category_per_day=3)
    first, second, third = make.case(FINALIST), make.case(FINALIST), make.case(FINALIST)
    client = app.test_client()
    token = voter_token(new_voter())

    voted = _vote(client, first.id, token)
    assert voted.status_code == 200
    body = voted.get_json()
    assert body["remaining_today"] == 2 and "感谢您的投票" in body["message"]
    assert body["count"] == db.session.get(VoteCount, first.id).valid == 1
    assert body["count_text"] == "1 票", "the tile's count is rewritten in the page's words"
    headers = voted.headers
    assert headers["Content-Type"] == "application/json" and headers["X-Content-Type-Options"] == "nosniff"
    assert "default-src 'self'" in headers["Content-Security-Policy"] and headers["X-Frame-Options"] == "DENY"
    assert "Set-Cookie" not in headers

    english = _vote(client, second.id, token, "?lang=en")  # an English page's vote URL
    assert english.status_code == 200 and english.get_json()["message"].startswith("Thank you for your vote")
    assert english.get_json()["count_text"] == "1 vote"
    client.get("/language/en")  # the language link: the choice stays on this browser
    remembered = _vote(client, third.id, token)
    assert remembered.get_json()["message"].startswith("Thank you for your vote")
    assert remembered.get_json()["remaining_today"] == 0, "no finalist left to vote for"

    again = _vote(client, first.id, token)  # the fourth request this minute: refused by the rule, not the limit
    assert again.status_code == 409, "English stays chosen (the language cookie ?lang=en left)"
    assert again.get_json()["message"] == "You have already voted for this case today. Come back tomorrow."
    assert again.headers["X-Content-Type-Options"] == "nosniff" and "Set-Cookie" not in again.headers
    in_chinese = _vote(client, first.id, token, "?lang=zh")  # the fifth: a Chinese page's refusal in Chinese
    assert in_chinese.status_code == 409 and in_chinese.get_json()["message"] == "您今天已为该案例投过票，请明天再来。"
    assert _vote(client, second.id, token).status_code == 429, (
        "the sixth request breaks 5 per minute: each counted once"
    )
    assert Ballot.query.count() == 3


def test_a_bad_token_is_sent_to_verification(app, make):
    open_campaign(make)
    case = make.case(FINALIST)
    answer = _vote(app.test_client(), case.id, "not-a-token")
    assert answer.status_code == 401 and answer.get_json()["verify"]
    assert Ballot.query.count() == 0


@pytest.mark.postgresql_only
def test_a_vote_on_a_connection_the_database_dropped_is_counted_once(app, make):
    """The vote takes its connection without the pool's pre-ping (a round trip per vote): after the database
    drops the pool's connections (a restart, a failover), the next vote still lands, once."""
    from sqlalchemy import text

    open_campaign(make, votes_per_category_per_day=3)
    first, second = make.case(FINALIST).id, make.case(FINALIST).id
    client = app.test_client()
    token = voter_token(new_voter())
    assert _vote(client, first, token).status_code == 200  # the pool now holds a connection
    db.session.remove()
    with db.engine.connect() as own:
        dropped = own.execute(text(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )).scalar_one()  # fmt: skip
        own.invalidate()  # this one goes too: every pooled connection is now dead
    assert dropped >= 1
    voted = _vote(client, second, token)
    assert voted.status_code == 200 and voted.get_json()["count"] == 1
    assert Ballot.query.count() == 2 and db.session.get(VoteCount, second).valid == 1
