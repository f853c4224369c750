"""The vote's two rate limits cost one round trip to Redis: a single EVALSHA per vote, whatever the number of
limit items; the per-voter limit answers 429, the per-address one asks for a captcha."""

from __future__ import annotations

import threading
import time

import pytest
import redis

from tests.voting.test_pages import FINALIST, as_voter, new_voter, open_campaign, vote


@pytest.fixture
def app_config(app_config, redis_url):
    return app_config | {"RATELIMIT_STORAGE_URI": redis_url, "VOTE_LIMIT_VOTER": "2 per minute",
                         "VOTE_LIMIT_IP": "4 per minute;100 per hour"}  # fmt: skip


def client_commands(server: redis.Redis, action) -> list[str]:
    """The commands clients sent to Redis while ``action`` ran (MONITOR; those a script ran inside are left out)."""
    seen: list[str] = []
    ready = threading.Event()

    def watch() -> None:
        with server.monitor() as monitor:
            ready.set()
            for entry in monitor.listen():
                if "end-of-action" in entry["command"]:
                    return
                if entry.get("client_type") != "lua" and "lua" not in str(entry.get("client_address", "")):
                    seen.append(entry["command"].split()[0].upper())

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    ready.wait(5)
    time.sleep(0.2)
    action()
    server.echo("end-of-action")
    thread.join(10)
    return seen


def test_both_limits_in_one_redis_round_trip(app, make, redis_url):
    server = redis.Redis.from_url(redis_url)
    server.flushdb()  # counters of an earlier test (the other database backend) would count here
    open_campaign(make)
    cases = [make.case(FINALIST, category_index=i) for i in range(5)]
    voter = app.test_client()
    as_voter(voter, new_voter())
    vote(voter, cases[0].id)  # loads the script once
    answers = []
    sent = client_commands(server, lambda: answers.append(vote(voter, cases[1].id).status_code))
    assert answers == [200]
    handshakes = {"HELLO", "CLIENT", "SELECT"}  # a connection's own set-up (the test's echo opens one)
    assert [c for c in sent if c not in handshakes] == ["EVALSHA"], f"one round trip per vote, not {sent}"

    refused = vote(voter, cases[2].id)  # the voter's third vote in a minute
    assert refused.status_code == 429 and "captcha" not in refused.get_json()
    other = app.test_client()
    as_voter(other, new_voter(1))
    assert vote(other, cases[3].id).status_code == 200
    asked = vote(other, cases[4].id)  # the address's fifth vote in a minute: a captcha, not a block
    assert asked.status_code == 429 and "captcha" in asked.get_json()


def test_limits_still_count_after_redis_forgets_the_script(app, make, redis_url):
    """A restarted Redis has no scripts: the vote loads it again and counts, it neither fails nor skips the limit."""
    server = redis.Redis.from_url(redis_url)
    server.flushdb()
    open_campaign(make)
    cases = [make.case(FINALIST, category_index=i) for i in range(3)]
    voter = app.test_client()
    as_voter(voter, new_voter())
    assert vote(voter, cases[0].id).status_code == 200
    server.script_flush()
    assert vote(voter, cases[1].id).status_code == 200
    assert vote(voter, cases[2].id).status_code == 429, "2 per minute: the reloaded script counted both votes"
