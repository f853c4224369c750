"""In WeChat's browser (its user agent), a finalist's page configures the JS-SDK with a signature that the WeChat
server's ticket validates, and a shared link's card names the finalist (issue 22).

WeChat's own JS-SDK runs only inside WeChat and cannot be fetched here: the browser is handed a stand-in ``wx``
at WeChat's address that records what the page configures and shares, which is what WeChat would display."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from pingxuan.db import commit
from pingxuan.extensions import db
from tests.factories import Factory
from tests.voting.test_wechat import WECHAT_UA
from tests.wechat_server import APPID, SECRET, FakeWeChat

pytestmark = pytest.mark.browser

RECORDING_WX = """window.wx = {
  config: function (c) { window.__wxConfig = c; },
  ready: function (f) { setTimeout(f, 0); },
  error: function () {},
  updateAppMessageShareData: function (d) { window.__share = d; },
  updateTimelineShareData: function (d) { window.__timeline = d; }
};"""


@pytest.fixture
def wechat() -> Iterator[FakeWeChat]:
    server = FakeWeChat().start()
    yield server
    server.stop()


@pytest.fixture
def live_config(wechat) -> dict:
    return {"WECHAT_APPID": APPID, "WECHAT_SECRET": SECRET, "WECHAT_API_BASE": wechat.url,
            "WECHAT_OPEN_BASE": wechat.url + "connect/"}  # fmt: skip


@pytest.fixture
def wechat_page(open_browser):
    """A phone whose browser is WeChat's, with the JS-SDK answered by a recorder."""
    page = open_browser(390, 844, phone=True, user_agent=WECHAT_UA)
    page.context.route("https://res.wx.qq.com/**", lambda route: route.fulfill(
        status=200, content_type="application/javascript", body=RECORDING_WX))  # fmt: skip
    return page


def test_a_finalist_shared_from_wechat_shows_its_own_card(live_server, wechat, wechat_page):
    with live_server.app.app_context():
        case = Factory().case("public_vote", title="城市运行一网统管平台")
        commit()
        case_id, unit = case.id, case.unit.name
        db.session.remove()
    page = wechat_page
    url = f"{live_server.url}/showcase/cases/{case_id}"
    page.goto(url)
    page.wait_for_function("() => window.__share !== undefined")
    config = page.evaluate("() => window.__wxConfig")
    assert wechat.valid_signature(config, page.url)  # signed with the ticket WeChat issued, for this very page
    share = page.evaluate("() => window.__share")
    assert share["title"] == "城市运行一网统管平台" and unit in share["desc"]
    assert share["link"] == url
    assert page.evaluate("() => window.__timeline.title") == "城市运行一网统管平台"
