"""On a phone, in Chinese (issue 21): vote from a finalist's tile in the gallery, by way of the number's
verification and back, and see "今日已投" at once, without a reload; every public page fits 320 px without
sideways scrolling, under a one-row header."""

from __future__ import annotations

import pytest

from pingxuan.extensions import db
from tests.e2e.test_vote_flow import _finalists
from tests.phone import next_code, received

pytestmark = pytest.mark.browser

PHONE = "13912345600"


def _category_id(app, case_id: int) -> int:
    with app.app_context():
        from cases.models import Case

        category_id = db.session.get(Case, case_id).category_id
        db.session.remove()
    return category_id


def test_a_visitor_votes_from_a_tile_and_sees_voted_today_at_once(live_server, open_browser):
    case_id, title, _category = _finalists(live_server.app)
    category_id = _category_id(live_server.app, case_id)
    page, base = open_browser(390, 844, locale="zh-CN", phone=True), live_server.url
    page.goto(f"{base}/showcase")
    assert page.locator(".countdown-line").is_visible()  # the live countdown to the close, next to the rules
    assert "UTC+8" in page.locator(".rules").inner_text() and "每个大类中最多可投 3 个案例" in page.content()
    page.screenshot(path="/tmp/vote21-gallery-anonymous.png")
    page.get_by_role("link", name="智慧城市运行").first.click()
    tile = page.locator(f"#case-{case_id}")
    tile.get_by_role("link", name="投票").click()  # not verified yet: verify, then back to this tile

    page.wait_for_url(f"{base}/showcase/verify**")
    assert f"您正在为“{title}”投票。" in page.locator("#verify-for").inner_text()  # the page names the case
    page.fill("#phone", PHONE)
    texts = received()
    page.click("#send-code")
    page.fill("#code", next_code(PHONE, texts))
    page.click("#check-code")
    page.wait_for_url(f"{base}/showcase?category={category_id}#case-{case_id}")

    button = tile.locator("button.vote-button")  # the voter's own state made the link a one-tap button
    button.wait_for()
    assert page.locator("#voter-status").inner_text() == "您今天在本类别还可投 2 票。"  # 2 finalists: not 3
    assert tile.locator(".tile-message").inner_text() == "手机号码已验证，现在可以投票了。"  # said where they are
    page.evaluate("() => { window.notReloaded = true; }")
    button.click()
    page.wait_for_function(f"() => document.querySelector('#case-{case_id} .vote-button').textContent === '今日已投'")
    assert button.is_disabled() and page.evaluate("() => window.notReloaded === true")
    assert tile.locator(".tile-count").inner_text() == "1 票"
    assert "感谢您的投票！您今天在本类别还可投 1 票。" in tile.locator(".tile-message").inner_text()
    assert "tile voted" in (tile.get_attribute("class") or "")
    page.screenshot(path="/tmp/vote21-gallery-voted.png")

    page.reload()  # the mark comes from what the server knows of this voter today
    page.locator(f"#case-{case_id} button.vote-button").wait_for()
    assert tile.locator(".vote-button").inner_text() == "今日已投" and tile.locator(".vote-button").is_disabled()
    others = page.locator(f".tile:not(#case-{case_id}) button.vote-button")
    assert others.count() == 1 and others.first.inner_text() == "投票" and others.first.is_enabled()


PUBLIC_PAGES = (
    "/", "/showcase", "/showcase?category={category}", "/showcase/cases/{case}", "/showcase/cases/{case}/vote",
    "/showcase/verify", "/showcase/captcha", "/results", "/notice", "/verify", "/verify/NO-SUCH-NUMBER", "/login",
    "/register", "/forgot",
)  # fmt: skip


@pytest.mark.parametrize("width", [320, 430])
def test_no_public_page_scrolls_sideways_and_each_has_a_one_row_header(live_server, open_browser, width):
    case_id, _title, _category = _finalists(live_server.app)
    category_id = _category_id(live_server.app, case_id)
    page = open_browser(width, 800, locale="zh-CN", phone=True)
    wide, tall = [], []
    for template in PUBLIC_PAGES:
        url = template.format(case=case_id, category=category_id)
        response = page.goto(live_server.url + url)
        assert response is not None and response.ok, url
        page.wait_for_load_state("networkidle")
        scroll = page.evaluate("() => document.scrollingElement.scrollWidth")
        if scroll > width:
            wide.append(f"{url}: {scroll} px")
        header = page.evaluate("() => document.querySelector('.site-header').getBoundingClientRect().height")
        if header > 56:  # one row: brand and links side by side
            tall.append(f"{url}: header {header} px")
        if width == 320 and url.startswith("/showcase/cases/") and not url.endswith("/vote"):
            page.screenshot(path="/tmp/vote21-case-320.png", full_page=True)
    assert not wide, f"sideways scroll at {width} px: " + ", ".join(wide)
    assert not tall, ", ".join(tall)
