"""In WeChat's browser (its user agent), a finalist's page configures the JS-SDK with a signature that the WeChat
server's ticket validates, and a shared link's card names the finalist (issue 22).

WeChat's own JS-SDK runs only inside WeChat and cannot be fetched here: the browser is handed a stand-in ``wx``
at WeChat's address that records what the page configures and shares, which is what WeChat would display."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from pingxuan.db import commit
from pingxuan.extensions import db
from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS
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
def wechat_page() -> Iterator:
    if not Path(CHROMIUM).exists():
        pytest.fail("Debian's chromium is not installed: ./dev.sh install puts it there (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True,
                                      user_agent=WECHAT_UA, locale="zh-CN")  # fmt: skip
        context.route("https://res.wx.qq.com/**", lambda route: route.fulfill(
            status=200, content_type="application/javascript", body=RECORDING_WX))  # fmt: skip
        page = context.new_page()
        page.set_default_timeout(15_000)
        try:
            yield page
        finally:
            context.close()
            browser.close()


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
