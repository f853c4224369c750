"""WeChat (issue 22): the JS-SDK signature of a page and voting as a WeChat user, through wechatpy against a local
server that speaks WeChat's protocol (tests/wechat_server.py)."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
import requests
import sqlalchemy as sa

from campaigns.models import VOTE_BY_EITHER, VOTE_BY_SMS, VOTE_BY_WECHAT, VOTE_OPEN
from pingxuan.db import commit
from pingxuan.extensions import db
from tests.wechat_server import APPID, SECRET, FakeWeChat
from voting.models import Ballot, Voter

WECHAT_UA = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
             "Mobile/15E148 MicroMessenger/8.0.47(0x18002f2c) NetType/WIFI Language/zh_CN")  # fmt: skip
PLAIN_UA = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148 Safari/604.1"


@pytest.fixture
def wechat():
    server = FakeWeChat().start()
    yield server
    server.stop()


@pytest.fixture
def app_config(app_config, wechat):
    return app_config | {"WECHAT_APPID": APPID, "WECHAT_SECRET": SECRET, "WECHAT_API_BASE": wechat.url,
                         "WECHAT_OPEN_BASE": wechat.url + "connect/"}  # fmt: skip


def test_a_page_in_wechat_gets_a_js_sdk_configuration_the_ticket_validates(app, client, wechat):
    page = "http://localhost/showcase/cases/7?lang=zh#vote"
    first = client.get("/showcase/wechat/jssdk", query_string={"url": page})
    assert first.status_code == 200 and first.headers["Cache-Control"] == "no-store"
    config = first.get_json()
    assert wechat.valid_signature(config, page)
    assert config["jsApiList"] == ["updateAppMessageShareData", "updateTimelineShareData"]
    again = client.get("/showcase/wechat/jssdk", query_string={"url": "http://localhost/showcase"}).get_json()
    assert wechat.valid_signature(again, "http://localhost/showcase")
    assert (wechat.tokens_issued, wechat.tickets_issued) == (1, 1)  # kept in the shared cache, not fetched again
    refused = client.get("/showcase/wechat/jssdk", query_string={"url": "https://evil.example/page"})
    assert refused.status_code == 422  # no signature for someone else's page
    assert "res.wx.qq.com" in client.get("/showcase").headers["Content-Security-Policy"]


def _sign_in(client, wechat, next_page: str = "/showcase"):
    """Follow web authorization as WeChat's browser would: to WeChat, straight back with a code."""
    to_wechat = client.get("/showcase/wechat/login", query_string={"next": next_page},
                           headers={"User-Agent": WECHAT_UA})  # fmt: skip
    assert to_wechat.status_code == 302 and to_wechat.location.startswith(wechat.url), to_wechat.location
    back = requests.get(to_wechat.location.split("#")[0], allow_redirects=False, timeout=5)
    assert back.status_code == 302
    callback = urlsplit(back.headers["Location"])
    return client.get(f"{callback.path}?{callback.query}", headers={"User-Agent": WECHAT_UA})


def test_a_wechat_only_campaign_lets_a_wechat_user_vote_once_a_day_per_case(app, make, client, wechat):
    campaign = make.campaign()
    campaign.vote_identity, campaign.vote_status = VOTE_BY_WECHAT, VOTE_OPEN
    case = make.case("public_vote", title="智慧停车诱导系统")
    commit()

    outside = client.get("/showcase/verify?lang=en", headers={"User-Agent": PLAIN_UA}).get_data(as_text=True)
    assert "open this page in WeChat" in outside and 'id="send-code"' not in outside
    refused = client.post("/api/v1/voters/code", json={"phone": "13800138000"}, headers={"Accept-Language": "en"})
    assert refused.status_code == 422 and "by WeChat" in refused.get_json()["message"]

    inside = client.get("/showcase/verify?lang=en", headers={"User-Agent": WECHAT_UA}).get_data(as_text=True)
    assert 'id="wechat-sign-in"' in inside
    signed_in = _sign_in(client, wechat, f"/showcase/cases/{case.id}")
    assert signed_in.status_code == 302 and signed_in.location.endswith(f"/showcase/cases/{case.id}")

    voted = client.post(f"/showcase/cases/{case.id}/vote", headers={"Accept": "application/json",
                                                                     "User-Agent": WECHAT_UA})  # fmt: skip
    assert voted.status_code == 200, voted.get_json()
    again = client.post(f"/showcase/cases/{case.id}/vote", headers={"Accept": "application/json",
                                                                     "User-Agent": WECHAT_UA})  # fmt: skip
    assert again.status_code == 409

    other_device = app.test_client()  # the same WeChat user on another phone is the same voter
    _sign_in(other_device, wechat, f"/showcase/cases/{case.id}")
    third = other_device.post(f"/showcase/cases/{case.id}/vote", headers={"Accept": "application/json",
                                                                           "User-Agent": WECHAT_UA})  # fmt: skip
    assert third.status_code == 409
    ballots = db.session.scalars(sa.select(Ballot)).all()
    assert [b.phone_class for b in ballots] == ["wechat"]  # the evidence says which kind of voter
    voter = db.session.get(Voter, ballots[0].voter_id)
    assert wechat.openid not in voter.phone_hash and len(voter.phone_hash) == 64  # a keyed hash, not the openid


def test_a_forged_return_from_wechat_signs_nobody_in(app, make, client, wechat):
    campaign = make.campaign()
    campaign.vote_identity = VOTE_BY_EITHER
    commit()
    client.get("/showcase/wechat/login", headers={"User-Agent": WECHAT_UA})
    forged = client.get(
        "/showcase/wechat/callback?code=whatever&state=not-the-state", headers={"User-Agent": WECHAT_UA}
    )
    assert forged.status_code == 302 and "/showcase/verify" in forged.location
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Voter)) == 0


def test_an_sms_campaign_offers_no_wechat_sign_in(app, make, client, wechat):
    campaign = make.campaign()
    campaign.vote_identity = VOTE_BY_SMS
    commit()
    page = client.get("/showcase/verify?lang=en", headers={"User-Agent": WECHAT_UA}).get_data(as_text=True)
    assert 'id="wechat-sign-in"' not in page and 'id="send-code"' in page
    back = client.get("/showcase/wechat/login", headers={"User-Agent": WECHAT_UA}).location
    assert back.startswith("/showcase/verify?next=/showcase"), back  # in the language chosen (lang=en), remembered
