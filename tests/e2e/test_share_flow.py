"""On a phone in Chinese: tap 分享 on a finalist's page and read "链接已复制" (the link is on the clipboard); where
the browser cannot copy, the page points at the poster; the preview and the poster are PNGs a phone's camera
reads back to the page (issue 21)."""

from __future__ import annotations

from io import BytesIO
from pathlib import Path

import pytest
import zxingcpp
from PIL import Image

from tests.e2e.test_vote_flow import _finalists

pytestmark = pytest.mark.browser

SCREENSHOT = Path("/tmp/e2e-share.png")


def _png(page, url: str) -> Image.Image:
    response = page.request.get(url)
    assert response.ok and response.headers["content-type"] == "image/png", url
    assert len(response.body()) < 200 * 1024
    return Image.open(BytesIO(response.body()))


def test_share_copies_the_link_or_offers_the_poster_on_a_phone(live_server, open_browser):
    case_id, title, _category = _finalists(live_server.app)
    base = live_server.url
    url = f"{base}/showcase/cases/{case_id}"
    page = open_browser(390, 844, locale="zh-CN", phone=True)
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=base)
    page.goto(url)

    assert not page.locator(".share-qr").is_visible()  # the phone showing the page is not shown its own QR code
    page.get_by_role("button", name="分享", exact=True).tap()
    message = page.locator("#share-message")
    message.filter(has_text="链接已复制").wait_for()
    assert message.get_attribute("aria-live") == "polite"
    assert page.evaluate("() => navigator.clipboard.readText()") == url
    page.screenshot(path=str(SCREENSHOT), full_page=True)

    # A browser that lets no page copy: the message says so and points at the poster.
    page.evaluate("""() => { Object.defineProperty(navigator, "clipboard", {value: undefined});
                            document.execCommand = () => false; }""")
    page.get_by_role("button", name="分享", exact=True).tap()
    message.filter(has_text="海报").wait_for()
    assert "链接已复制" not in message.inner_text()
    poster = page.get_by_role("link", name="海报", exact=True)
    assert poster.is_visible()

    # The poster and the preview: the right sizes, each with a QR code that opens this page.
    image = _png(page, base + poster.get_attribute("href"))
    assert image.size == (1080, 1920)
    assert [code.text for code in zxingcpp.read_barcodes(image.convert("RGB"))] == [url]
    preview = page.locator('meta[property="og:image"]').get_attribute("content")
    image = _png(page, preview)
    assert image.size == (1200, 630)
    assert [code.text for code in zxingcpp.read_barcodes(image.convert("RGB"))] == [url]
    assert page.locator('meta[property="og:title"]').get_attribute("content") == title

    # On a wide screen the QR code is there to carry the page to a phone.
    wide = open_browser(1280, 900)
    wide.goto(url)
    assert wide.locator(".share-qr").is_visible()
    wide.locator(".share").screenshot(path=str(SCREENSHOT.with_name("e2e-share-wide.png")))
