"""Sharing a finalist: the link preview and the poster a phone reads, and the link-preview tags of every public
page (issue 21)."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from io import BytesIO
from unittest import mock

import pytest
import zxingcpp
from PIL import Image, ImageDraw, ImageFilter

from pingxuan.db import commit
from tests.voting.test_pages import FINALIST, finalist_with_photo, open_campaign
from voting import share_image

MAX_BYTES = 200 * 1024


def busy_photo(width: int = 1800, height: int = 1200) -> bytes:
    """A photo as hard to compress as a real street scene: fractal detail in colour, stripes and blocks."""
    fractal = Image.effect_mandelbrot((width, height), (-2.2, -1.2, 1.0, 1.2), 120)
    noise = Image.effect_noise((width, height), 60).filter(ImageFilter.GaussianBlur(1.2))  # texture, grain
    image = Image.merge("RGB", (fractal, noise, Image.linear_gradient("L").resize((width, height))))
    draw = ImageDraw.Draw(image)
    for n in range(0, width, 37):
        draw.rectangle((n, height * 0.6, n + 20, height * 0.6 + (n * 7) % 300), fill=(200, (n * 3) % 255, 90))
    out = BytesIO()
    image.save(out, "JPEG", quality=90)
    return out.getvalue()


def qr_texts(image: Image.Image) -> list[str]:
    return [code.text for code in zxingcpp.read_barcodes(image)]


@pytest.mark.parametrize(("kind", "size"), [("share", (1200, 630)), ("poster", (1080, 1920))])
def test_share_image_and_poster_are_small_pngs_whose_qr_code_opens_the_case(app, make, kind, size):
    open_campaign(make)
    case, _attachment = finalist_with_photo(make, busy_photo())
    client = app.test_client()

    response = client.get(f"/showcase/cases/{case.id}/{kind}.png")
    assert response.status_code == 200 and response.mimetype == "image/png"
    assert len(response.data) < MAX_BYTES, f"{len(response.data) // 1024} KB"
    image = Image.open(BytesIO(response.data))
    assert image.format == "PNG" and image.size == size
    assert qr_texts(image.convert("RGB")) == [f"http://localhost/showcase/cases/{case.id}"]
    # the photo is on it: many colours, not only the texts' few
    assert len(image.convert("RGB").getcolors(1 << 16) or range(1 << 16)) > 120
    # cached by browsers and proxies, revalidated by its ETag
    assert "public" in response.headers["Cache-Control"] and "max-age" in response.headers["Cache-Control"]
    etag = response.headers["ETag"]
    assert client.get(f"/showcase/cases/{case.id}/{kind}.png", headers={"If-None-Match": etag}).status_code == 304
    assert "Set-Cookie" not in response.headers


def test_a_picture_is_drawn_once_per_content_and_again_when_the_case_changes(app, make):
    open_campaign(make)
    case = make.case(FINALIST, title="城市大脑交通信号优化")
    client = app.test_client()
    with mock.patch.object(share_image, "draw", wraps=share_image.draw) as draw:
        first = client.get(f"/showcase/cases/{case.id}/share.png")
        again = client.get(f"/showcase/cases/{case.id}/share.png")
        assert draw.call_count == 1 and again.data == first.data
        assert again.headers["ETag"] == first.headers["ETag"]

        case.title = "城市大脑交通信号优化（二期）"
        commit()
        changed = client.get(f"/showcase/cases/{case.id}/share.png")
        assert draw.call_count == 2 and changed.headers["ETag"] != first.headers["ETag"]


def test_a_case_without_photo_gets_its_category_artwork_and_an_english_link(app, make):
    open_campaign(make)
    case = make.case(FINALIST)
    response = app.test_client().get(f"/showcase/cases/{case.id}/poster.png?lang=en")
    image = Image.open(BytesIO(response.data))
    assert image.size == (1080, 1920) and len(response.data) < MAX_BYTES
    assert qr_texts(image.convert("RGB")) == [f"http://localhost/showcase/cases/{case.id}?lang=en"]


def test_a_case_not_in_public_has_no_share_image(app, make):
    open_campaign(make)
    case = make.case("expert_review")
    client = app.test_client()
    for kind in ("share", "poster"):
        assert client.get(f"/showcase/cases/{case.id}/{kind}.png").status_code == 404


def test_the_campaign_image_previews_the_other_pages(app, make):
    open_campaign(make)
    response = app.test_client().get("/showcase/share.png")
    image = Image.open(BytesIO(response.data))
    assert image.size == (1200, 630) and len(response.data) < MAX_BYTES
    assert qr_texts(image.convert("RGB")) == ["http://localhost/showcase"]


def test_a_long_title_takes_two_lines_ending_in_an_ellipsis_and_no_line_starts_with_punctuation():
    font = share_image._font(share_image.BOLD, 50)
    title = "城市运行“一网统管”平台：让城市管理从被动处置转向主动发现、精准治理的实践探索"
    lines = share_image.wrap(title, font, 548, 2)
    assert len(lines) == 2 and lines[1].endswith("…") and lines[0] + lines[1][:-1] in title
    assert all(font.getlength(line) <= 548 for line in lines)
    for line in share_image.wrap(title, font, 548, 9):
        assert line[0] not in share_image.NO_LINE_START, line
    assert share_image.wrap("智慧养老服务平台", font, 548, 2) == ["智慧养老服务平台"]


# Link previews on every public page -------------------------------------------------------------------------


class Head(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.meta: dict[str, str] = {}
        self.canonical: list[str] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        found = dict(attrs)
        if tag == "meta" and (found.get("property") or found.get("name")):
            self.meta[found.get("property") or found.get("name")] = found.get("content") or ""
        if tag == "link" and found.get("rel") == "canonical":
            self.canonical.append(found.get("href") or "")


def head_of(html: str) -> Head:
    head = Head()
    head.feed(html)
    return head


def test_every_public_page_carries_a_link_preview_and_a_canonical_link(app, make):
    campaign = open_campaign(make)
    case = make.case(FINALIST, title="城市大脑交通信号优化")
    category = campaign.categories[0].id
    client = app.test_client()
    pages = {
        "/": None,
        "/showcase": None,
        f"/showcase?category={category}": f"http://localhost/showcase?category={category}",
        f"/showcase/cases/{case.id}": f"http://localhost/showcase/cases/{case.id}",
        f"/showcase/cases/{case.id}?lang=en&from=singlemessage&isappinstalled=0":
            f"http://localhost/showcase/cases/{case.id}?lang=en",
        "/results": None,
        "/notice": None,
        "/showcase/verify": None,
        "/verify": None,
    }  # fmt: skip
    for path, canonical in pages.items():
        response = client.get(path)
        assert response.status_code == 200, path
        head = head_of(response.get_data(as_text=True))
        for tag in ("og:title", "og:description", "og:url", "og:image", "og:type", "twitter:card", "description"):
            assert head.meta.get(tag, "").strip(), (path, tag)
        assert len(head.canonical) == 1 and head.canonical[0].startswith("http://localhost/"), path
        assert head.meta["og:url"] == head.canonical[0], path
        assert re.fullmatch(r"http://localhost/\S+\.png(\?lang=en)?", head.meta["og:image"]), (path, head.meta)
        if canonical:
            assert head.canonical[0] == canonical, path

    page = head_of(client.get(f"/showcase/cases/{case.id}").get_data(as_text=True))
    assert page.meta["og:title"] == "城市大脑交通信号优化" and page.meta["og:type"] == "article"
    assert case.unit.name in page.meta["og:description"]
    assert page.meta["og:image"] == f"http://localhost/showcase/cases/{case.id}/share.png"
    assert client.get(page.meta["og:image"]).mimetype == "image/png"
    gallery = head_of(client.get(f"/showcase?category={category}").get_data(as_text=True))
    assert campaign.categories[0].name_zh in gallery.meta["og:title"]
    assert campaign.title_zh in gallery.meta["og:description"]
    assert client.get(gallery.meta["og:image"]).status_code == 200
