"""The vote's captcha through a cloud captcha an office already has (issue 18): Tencent Cloud Captcha or Alibaba
Cloud Captcha 2.0, chosen by PINGXUAN_CAPTCHA_PROVIDER, each ticket checked through the provider's SDK against a
local server that speaks its documented protocol and checks the request's signature (tests/captcha_providers.py).
A ticket the provider passes earns one pass; a refused, replayed or unsigned one earns nothing."""

from __future__ import annotations

import json

import pytest

from tests.captcha_providers import APP_ID, APP_SECRET, SCENE_ID, FakeAliyunCaptcha, FakeTencentCaptcha
from tests.cloud_signatures import KEY_ID, KEY_SECRET
from tests.voting.test_captcha import _stopped_voter, _vote
from voting.models import Ballot

OFFICE = {"REMOTE_ADDR": "203.0.113.44"}


@pytest.fixture
def tencent(app):
    server = FakeTencentCaptcha().start()
    app.config.update(CAPTCHA_PROVIDER="tencent", CAPTCHA_ENDPOINT=server.url, CAPTCHA_ACCESS_KEY_ID=KEY_ID,
                      CAPTCHA_ACCESS_KEY_SECRET=KEY_SECRET, CAPTCHA_APP_ID=str(APP_ID), CAPTCHA_APP_SECRET=APP_SECRET,
                      VOTE_LIMIT_IP="1 per minute")  # fmt: skip
    yield server
    server.stop()


@pytest.fixture
def aliyun(app):
    server = FakeAliyunCaptcha().start()
    app.config.update(CAPTCHA_PROVIDER="aliyun", CAPTCHA_ENDPOINT=server.url, CAPTCHA_ACCESS_KEY_ID=KEY_ID,
                      CAPTCHA_ACCESS_KEY_SECRET=KEY_SECRET, CAPTCHA_SCENE_ID=SCENE_ID, CAPTCHA_PREFIX="px1a2b",
                      VOTE_LIMIT_IP="1 per minute")  # fmt: skip
    yield server
    server.stop()


def _answer(client, ticket: str) -> int:
    return client.post("/showcase/captcha", data={"captcha": ticket}).status_code


def test_tencent_cloud_captcha_passes_a_ticket_once(app, make, tencent):
    client, finalists = _stopped_voter(app, make, 2)
    page = client.get("/showcase/captcha")
    policy = page.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "https://turing.captcha.qcloud.com" in policy.split("script-src")[1]
    html = page.get_data(as_text=True)
    assert f'data-app-id="{APP_ID}"' in html and "<altcha-widget" not in html and APP_SECRET not in html
    assert "turing.captcha.qcloud.com" not in client.get("/showcase").headers["Content-Security-Policy"]

    ticket = tencent.ticket()
    assert _answer(client, json.dumps({**ticket, "randstr": "@other"})) == 422  # not the callback's randstr
    assert _answer(client, json.dumps(ticket)) == 302
    assert tencent.checked[-1]["UserIp"] == "127.0.0.1" and tencent.checked[-1]["CaptchaType"] == 9
    assert [_vote(client, finalists[0]), _vote(client, finalists[1])] == [200, 429]  # one pass, one vote
    assert _answer(client, json.dumps(ticket)) == 422  # the same ticket again
    assert _answer(client, json.dumps(tencent.ticket() | {"ticket": "tr0forged*"})) == 422
    assert _vote(client, finalists[1]) == 429
    assert Ballot.query.count() == 2


def test_tencent_cloud_captcha_with_a_wrong_key_passes_nothing(app, make, tencent):
    client, finalists = _stopped_voter(app, make, 1)
    app.config.update(CAPTCHA_ACCESS_KEY_SECRET="not-the-office-secret")
    checked = len(tencent.checked)
    assert _answer(client, json.dumps(tencent.ticket())) == 422  # the server refused the signature
    assert len(tencent.checked) == checked and tencent.refused == ["AuthFailure.SignatureFailure"]
    app.config.update(CAPTCHA_ACCESS_KEY_SECRET=KEY_SECRET, CAPTCHA_APP_SECRET="not-the-app-secret")
    assert _answer(client, json.dumps(tencent.ticket())) == 422  # signed, but the app's secret is wrong (100)
    assert _vote(client, finalists[0]) == 429


def test_alibaba_cloud_captcha_passes_a_ticket_once(app, make, aliyun):
    client, finalists = _stopped_voter(app, make, 2)
    page = client.get("/showcase/captcha")
    assert "https://o.alicdn.com" in page.headers["Content-Security-Policy"].split("script-src")[1]
    html = page.get_data(as_text=True)
    assert f'data-scene-id="{SCENE_ID}"' in html and 'data-prefix="px1a2b"' in html
    api = client.get("/api/v1/captcha").get_json()
    assert api == {"provider": "aliyun", "app_id": "", "scene_id": SCENE_ID, "prefix": "px1a2b"}

    ticket = aliyun.ticket()
    assert _answer(client, ticket) == 302
    assert aliyun.checked[-1]["SceneId"] == SCENE_ID
    assert [_vote(client, finalists[0]), _vote(client, finalists[1])] == [200, 429]
    assert _answer(client, ticket) == 422  # replayed
    assert client.post("/api/v1/captcha", json={"payload": '{"certifyId": "made up"}'}).status_code == 422
    assert client.post("/api/v1/captcha", json={"payload": aliyun.ticket()}).status_code == 204  # the API alike
    assert _vote(client, finalists[1]) == 200
    app.config.update(CAPTCHA_ACCESS_KEY_ID="LTAI-someone-else")
    assert _answer(client, aliyun.ticket()) == 422  # the server refused the signature
    assert Ballot.query.count() == 3


def test_alibaba_cloud_captcha_with_a_wrong_secret_passes_nothing(app, make, aliyun):
    client, finalists = _stopped_voter(app, make, 1)
    app.config.update(CAPTCHA_ACCESS_KEY_SECRET="not-the-office-secret")
    assert _answer(client, aliyun.ticket()) == 422  # the server refused the signature
    assert aliyun.checked == [] and aliyun.refused == ["SignatureDoesNotMatch"]
    assert _vote(client, finalists[0]) == 429


def test_readyz_names_a_cloud_captcha_without_its_keys(app, client):
    assert client.get("/readyz").get_json()["checks"]["captcha"] == "ok"
    app.config.update(CAPTCHA_PROVIDER="tencent", CAPTCHA_ACCESS_KEY_ID=KEY_ID)
    answer = client.get("/readyz")
    assert answer.status_code == 503
    problem = answer.get_json()["checks"]["captcha"]
    assert "PINGXUAN_CAPTCHA_ACCESS_KEY_SECRET, PINGXUAN_CAPTCHA_APP_ID, PINGXUAN_CAPTCHA_APP_SECRET" in problem
    app.config.update(CAPTCHA_PROVIDER="geetest")
    assert (
        "CAPTCHA_PROVIDER must be one of altcha, tencent, aliyun"
        in client.get("/readyz").get_json()["checks"]["captcha"]
    )
