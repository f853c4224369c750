"""The applicant unit's pages fit a phone (issue 21): at 320, 390 and 430 px nothing scrolls sideways, the header is
one row with the navigation folded into a menu button that opens and leads to the unit's cases, tables scroll in
their own named, focusable box; axe-core finds nothing serious. The staff's header at 1280 px stays one row of
links with no menu button."""

from __future__ import annotations

import pytest

from tests.e2e.login import log_in
from tests.e2e.test_accessibility import axe_serious, unit_pages

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("width", [320, 390, 430])
def test_every_unit_page_fits_a_phone_with_a_menu(live_server, open_browser, width):
    email, urls, _organizer = unit_pages(live_server.app)
    page, base = open_browser(width, 844, locale="zh-CN", phone=True, bypass_csp=True), live_server.url  # axe inline
    log_in(page, base, email)
    wide, tall, problems = [], [], []
    for url in urls:
        response = page.goto(base + url)
        assert response is not None and response.ok, url
        assert page.get_attribute("html", "lang") == "zh-CN"
        scroll = page.evaluate("() => document.scrollingElement.scrollWidth")
        if scroll > width:
            wide.append(f"{url}: {scroll} px")
        header = page.locator(".site-header").bounding_box()
        if header["height"] > 56:
            tall.append(f"{url}: header {header['height']} px")
        menu = page.locator(".nav-menu summary")
        assert menu.is_visible(), url
        assert "菜单" in menu.inner_text()
        assert not page.locator(".nav-menu a[href='/my-cases'], .nav-menu a[href='/dashboard']").first.is_visible()
        if width != 430:
            page.screenshot(path=f"/tmp/phone21-{width}-{url.strip('/').replace('/', '-')}.png", full_page=True)
            if width == 390:
                problems += axe_serious(page)
    assert not wide, f"sideways scroll at {width} px: " + ", ".join(wide)
    assert not tall, ", ".join(tall)
    assert not problems, "\n".join(problems)

    # The menu opens on a tap, every link is labelled and inside the screen, and it leads to the unit's cases.
    page.goto(f"{base}/notifications")
    page.tap(".nav-menu summary")
    panel = page.locator(".nav-menu-panel")
    assert panel.is_visible()
    for link in panel.locator("a, button").all():
        box = link.bounding_box()
        assert link.inner_text().strip(), "each entry is labelled"
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= width, (link.inner_text(), box)
    assert "退出登录" in panel.inner_text() and "通知" in panel.inner_text()
    page.screenshot(path=f"/tmp/phone21-{width}-menu-open.png")
    if width == 390:
        assert not axe_serious(page), "the open menu"
    panel.get_by_text("我的待办").tap()
    page.wait_for_url(f"{base}/my-cases")
    assert page.locator("h1").first.inner_text() == "我的案例"


def test_tables_scroll_in_a_named_box_of_their_own(live_server, open_browser):
    email, urls, _organizer = unit_pages(live_server.app)
    page, base = open_browser(320, 844, locale="zh-CN", phone=True), live_server.url
    log_in(page, base, email)
    page.goto(base + urls[4])  # the versions page: two tables
    boxes = page.locator(".table-wrap")
    assert boxes.count() >= 1
    for box in boxes.all():
        assert box.get_attribute("tabindex") == "0" and box.get_attribute("role") == "region"
        assert box.get_attribute("aria-label") or box.get_attribute("aria-labelledby")


def test_staff_header_at_1280_is_one_row_of_links(live_server, open_browser):
    _email, _urls, organizer = unit_pages(live_server.app)
    page, base = open_browser(1280, 800, locale="zh-CN"), live_server.url
    log_in(page, base, organizer)
    for url in ("/staff", "/notice/objections"):
        page.goto(base + url)
        assert not page.locator(".nav-menu summary").is_visible(), url
        for name in ("展示与投票", "我的待办", "退出登录"):
            assert page.locator(".site-header").get_by_text(name).first.is_visible(), (url, name)
        header = page.locator(".site-header").bounding_box()
        assert header["height"] <= 56, (url, header)
        page.screenshot(path=f"/tmp/phone21-1280-{url.strip('/').replace('/', '-')}.png")
