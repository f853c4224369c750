"""Pictures for sharing a finalist: a link preview (1200×630, ``og:image``) and a portrait poster (1080×1920) to
post on WeChat Moments, each with the case's photo (or its category's artwork), title, unit, category, the
campaign's name and a QR code to the case's public page; and the campaign's own preview for the other pages.

Why on the server: a preview is fetched by the chat app's crawler, which runs no script, and a poster must look
the same on every phone. Each picture is a PNG under 200 KB (a chat app drops a heavier preview image): the
photo is reduced to a palette of at most 256 colours, fewer if need be.

Rendered once per content: the inputs (texts, the photo's digest, the link, the language, ``RECIPE``) are
hashed; the hash is the picture's ETag and the cache's key to the PNG kept in ``pingxuan.storage``, so a
changed title or photo gives a new picture and an unchanged one is never drawn twice.
"""

from __future__ import annotations

import colorsys
import hashlib
import io
import json
import logging
from dataclasses import asdict, dataclass
from functools import cache
from urllib.parse import urlsplit

import segno
from flask_babel import gettext as _
from PIL import Image, ImageColor, ImageDraw, ImageFilter, ImageFont, ImageOps

from campaigns.models import Campaign, Category
from cases.models import Case
from cases.operations import public_copy
from pingxuan import storage
from pingxuan.cache import cache as shared_cache
from pingxuan.i18n import pick
from pingxuan.pdf_fonts import system_font
from voting.operations import photos

log = logging.getLogger(__name__)

RECIPE = "2"  # change when the drawing changes: every picture is drawn again
CARD, POSTER, CAMPAIGN = "card", "poster", "campaign"
SIZES = {CARD: (1200, 630), POSTER: (1080, 1920), CAMPAIGN: (1200, 630)}
MAX_BYTES = 200 * 1024
KEPT = 30 * 24 * 3600  # seconds the cache remembers which stored PNG a content hash drew

NAVY, BLUE, INK, GREY, PALE, WHITE = "#0b3d6e", "#0b5cad", "#1f2933", "#52606d", "#e6eef8", "#ffffff"
PANEL, MIST = "#f2f5f9", "#b9cde4"
TEXT_ON = ((INK, WHITE), (GREY, WHITE), (NAVY, WHITE), (BLUE, PALE), (PALE, WHITE), (WHITE, NAVY), (MIST, NAVY),
           (INK, PANEL), (GREY, PANEL), (PANEL, WHITE), ("#000000", WHITE))  # fmt: skip
SHADES = 5
# How the photo is drawn, best first: (shrink factor, its colours), until the PNG is small enough.
# Fewer colours at full resolution save little (and band the sky): tried only when the file is nearly small enough.
LADDER = ((1, 224), (1, 128), (2, 224), (2, 128), (3, 128), (4, 64))
NEARLY = 1.25
Box = tuple[int, int, int, int]
REGULAR, BOLD = "Noto Sans CJK SC:weight=80", "Noto Sans CJK SC:weight=200"
# Not at the start of a line (Chinese typesetting): closing punctuation stays with what it closes.
NO_LINE_START = set("，。、；：？！）》」』】〉’”,.;:?!)]}%…·")


@dataclass(frozen=True)
class Content:
    """Everything a picture shows: its hash names the picture."""

    kind: str
    title: str
    unit: str
    category: str
    campaign: str
    url: str
    photo: str | None  # SHA-256 of the photo's public display copy
    hue: float  # the category's colour, for its artwork
    labels: tuple[str, ...]
    recipe: str = RECIPE

    @property
    def etag(self) -> str:
        return hashlib.sha256(json.dumps(asdict(self), ensure_ascii=False, sort_keys=True).encode()).hexdigest()


@dataclass(frozen=True)
class Picture:
    data: bytes
    etag: str


def case_content(case: Case, url: str, kind: str) -> Content:
    """What the case's preview (``CARD``) or poster (``POSTER``) shows, in the request's language."""
    shown = photos([case.id])[case.id]
    photo = next((digest for digest in map(public_copy, shown) if digest), None)
    labels = (_("Scan to read this case"), _("Press and hold the QR code"), _("Finalist"), _("to read this case"))
    return Content(kind, case.title, case.unit.name, pick(case.category, "name") if case.category else "",
                   pick(case.campaign, "title"), url, photo, _hue(case.category), labels)  # fmt: skip


def campaign_content(campaign: Campaign | None, url: str) -> Content:
    """The preview of the other public pages: the campaign's name over its artwork, a QR code to the showcase."""
    name = pick(campaign, "title") if campaign else _("Smart city typical case selection")
    organizer = pick(campaign, "organizer") if campaign else ""
    labels = (_("Finalists, public vote and results"), _("Scan to see the finalists"))
    return Content(CAMPAIGN, name, organizer, "", "", url, None, 0.58, labels)


def picture(content: Content) -> Picture:
    """The PNG of ``content``: from the store when drawn before, else drawn now and kept."""
    etag = content.etag
    key = f"share-image:{etag}"
    digest = shared_cache.get(key)
    if digest and storage.backend().exists(storage.key_for(digest)):
        return Picture(storage.read(digest), etag)
    data = draw(content)
    shared_cache.set(key, storage.store(data), timeout=KEPT)
    return Picture(data, etag)


def draw(content: Content) -> bytes:
    """Draw ``content`` (no cache): a PNG of its kind's size, under ``MAX_BYTES``."""
    painters = {CARD: _card, POSTER: _poster, CAMPAIGN: _campaign}
    image, visual = painters[content.kind](content)
    return _small_png(image, visual)


# Layouts ------------------------------------------------------------------------------------------------------


def _card(c: Content) -> tuple[Image.Image, Box]:
    """1200×630: the texts and the QR code on the left, the photo on the right (a chat's preview shows it all,
    WeChat's square thumbnail its middle)."""
    width, height = SIZES[CARD]
    image = Image.new("RGB", (width, height), WHITE)
    picture_box = (660, 0, width, height)
    image.paste(_visual(c, picture_box[2] - picture_box[0], height), picture_box[:2])
    d = ImageDraw.Draw(image)
    d.rectangle((0, 0, 16, height), fill=NAVY)
    left, right = 64, 612
    y = _text(d, (left, 50), c.campaign, _font(BOLD, 28), NAVY, right - left, 1)
    y = _chip(d, (left, y + 22), c.category, _font(REGULAR, 24)) if c.category else y
    y = _text(d, (left, y + 26), c.title, _font(BOLD, 50), INK, right - left, 2, spacing=16, balanced=True)
    _text(d, (left, y + 18), c.unit, _font(REGULAR, 28), GREY, right - left, 1)
    qr_size = 156
    qr_top = height - 52 - qr_size
    image.paste(_qr(c.url, qr_size), (left, qr_top))
    text_left = left + qr_size + 28
    y = _text(d, (text_left, qr_top + 34), c.labels[0], _font(BOLD, 28), INK, right - text_left, 2)
    _text(d, (text_left, y + 12), _host(c.url), _font(REGULAR, 22), GREY, right - text_left, 1)
    return image, picture_box


def _poster(c: Content) -> tuple[Image.Image, Box]:
    """1080×1920, for WeChat Moments: the campaign on top, the photo, the case, and a QR code to press."""
    width, height = SIZES[POSTER]
    image = Image.new("RGB", (width, height), WHITE)
    d = ImageDraw.Draw(image)
    margin = 84
    campaign_lines = len(wrap(c.campaign, _font(BOLD, 48), width - 2 * margin, 2))
    unit_lines = len(wrap(c.unit, _font(REGULAR, 38), width - 2 * margin, 2))
    # the band grows with a long campaign name, the photo gives way to it and to a long unit's name
    photo_top, photo_height = 188 + 62 * campaign_lines, 720 - 62 * (campaign_lines - 1) - 50 * (unit_lines - 1)
    d.rectangle((0, 0, width, photo_top), fill=NAVY)
    y = _text(d, (margin, 64), c.campaign, _font(BOLD, 48), WHITE, width - 2 * margin, 2, spacing=14, balanced=True)
    _text(d, (margin, y + 16), c.labels[2], _font(REGULAR, 32), MIST, width - 2 * margin, 1)
    image.paste(_visual(c, width, photo_height), (0, photo_top))
    visual = (0, photo_top, width, photo_top + photo_height)
    y = photo_top + photo_height + 60
    y = _chip(d, (margin, y), c.category, _font(REGULAR, 34)) if c.category else y
    y = _text(d, (margin, y + 34), c.title, _font(BOLD, 72), INK, width - 2 * margin, 2, spacing=22, balanced=True)
    _text(d, (margin, y + 28), c.unit, _font(REGULAR, 38), GREY, width - 2 * margin, 2, spacing=12)
    box_top = height - 480
    d.rounded_rectangle((margin - 24, box_top, width - margin + 24, height - 84), radius=28, fill=PANEL)
    qr_size = 300
    qr_top = box_top + 48
    image.paste(_qr(c.url, qr_size), (margin + 12, qr_top))
    text_left = margin + 12 + qr_size + 44
    text_width = width - margin - text_left
    y = _text(d, (text_left, qr_top + 56), c.labels[1], _font(BOLD, 44), INK, text_width, 2, spacing=14)
    y = _text(d, (text_left, y + 18), c.labels[3], _font(REGULAR, 38), INK, text_width, 2, spacing=12)
    _text(d, (text_left, y + 26), _host(c.url), _font(REGULAR, 30), GREY, text_width, 1)
    return image, visual


def _campaign(c: Content) -> tuple[Image.Image, Box]:
    """1200×630: the campaign's name and organizer on its artwork, a QR code to the showcase."""
    width, height = SIZES[CAMPAIGN]
    image = _artwork(width, height, c.hue, "")
    d = ImageDraw.Draw(image)
    left, column = 80, 800  # the column ends before the QR code's box
    sizes = range(64, 42, -2)  # the largest that shows the whole name on one line, else on two
    size = next((size for size in sizes if _font(BOLD, size).getlength(c.title) <= column), None) or next(
        (size for size in sizes if not wrap(c.title, _font(BOLD, size), column, 2)[-1].endswith("…")), sizes[-1]
    )
    y = _text(d, (left, 150), c.title, _font(BOLD, size), WHITE, column, 2, spacing=20, balanced=True)
    y = _text(d, (left, y + 28), c.labels[0], _font(REGULAR, 34), "#dce8f5", column - 40, 1)
    if c.unit:
        _text(d, (left, y + 18), c.unit, _font(REGULAR, 28), MIST, column - 40, 1)
    qr_size = 200
    font = _font(REGULAR, 22)
    label = wrap(c.labels[1], font, qr_size + 16, 2)
    qr_left, qr_top = width - 80 - qr_size, height - 76 - qr_size - 30 * len(label)
    box_bottom = qr_top + qr_size + 24 + 30 * len(label)
    d.rounded_rectangle((qr_left - 16, qr_top - 16, qr_left + qr_size + 16, box_bottom), 16, fill=WHITE)
    image.paste(_qr(c.url, qr_size), (qr_left, qr_top))
    for n, line in enumerate(label):  # centred under the code
        d.text((qr_left + qr_size / 2, qr_top + qr_size + 14 + 30 * n), line, font=font, fill=INK, anchor="mt")
    return image, (0, 0, width, height)


# Parts --------------------------------------------------------------------------------------------------------


def _visual(c: Content, width: int, height: int) -> Image.Image:
    """The case's photo cut to ``width``×``height`` around its middle, else its category's artwork."""
    if c.photo:
        try:
            with Image.open(io.BytesIO(storage.read(c.photo))) as photo:
                return ImageOps.fit(photo.convert("RGB"), (width, height), Image.Resampling.LANCZOS)
        except Exception as error:  # a photo that no longer reads: the artwork, never a broken picture
            log.warning("share image: photo %s unreadable (%s)", c.photo, error)
    return _artwork(width, height, c.hue, c.category)


def _hue(category: Category | None) -> float:
    """A steady colour per category: blues, teals, greens and violets, never alarm red."""
    if category is None:
        return 0.58
    hues = (0.58, 0.49, 0.40, 0.66, 0.53, 0.72, 0.45, 0.62)
    return hues[(category.position or 0) % len(hues)]


def _artwork(width: int, height: int, hue: float, caption: str) -> Image.Image:
    """The branded artwork: a deep gradient in the category's colour with a city's grid of blocks and rings
    (signals, networks), and the category's name set large when there is one."""
    top = tuple(round(255 * v) for v in colorsys.hsv_to_rgb(hue, 0.85, 0.42))
    bottom = tuple(round(255 * v) for v in colorsys.hsv_to_rgb((hue + 0.04) % 1, 0.75, 0.68))
    gradient = Image.linear_gradient("L").resize((width, height))
    image = Image.composite(Image.new("RGB", (width, height), bottom), Image.new("RGB", (width, height), top),
                            gradient)  # fmt: skip
    overlay = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    d = ImageDraw.Draw(overlay)
    step = 48
    for x in range(0, width + step, step):  # a street grid, fading in toward the bottom
        d.line((x, height * 0.55, x - height * 0.25, height), fill=(255, 255, 255, 26), width=1)
    for y in range(int(height * 0.55), height, step // 2):
        d.line((0, y, width, y), fill=(255, 255, 255, 18), width=1)
    skyline_base = height * 0.78
    x, n = 0, 0
    while x < width:  # blocks of a skyline, heights from a fixed sequence: the same artwork every time
        block_width = 36 + (n * 37) % 50
        block_height = height * (0.12 + ((n * 53) % 29) / 100)
        d.rectangle((x, skyline_base - block_height, x + block_width - 6, skyline_base), fill=(255, 255, 255, 30))
        x += block_width
        n += 1
    cx, cy = width * 0.82, height * 0.26
    for r in range(40, int(max(width, height) * 0.6), 44):  # rings, as from a signal
        d.ellipse((cx - r, cy - r, cx + r, cy + r), outline=(255, 255, 255, max(8, 60 - r // 12)), width=2)
    image = Image.alpha_composite(image.convert("RGBA"), overlay.filter(ImageFilter.SMOOTH)).convert("RGB")
    if caption:
        d = ImageDraw.Draw(image)
        size = max(40, min(96, width // max(4, len(caption) + 1)))
        font = _font(BOLD, size)
        d.text((width / 2, height * 0.42), _fit(caption, font, width - 80), font=font, fill=WHITE, anchor="mm")
    return image


def _qr(url: str, size: int) -> Image.Image:
    """A QR code at most ``size`` px square, drawn at a whole number of pixels per module (sharp to a camera),
    centred on white, with a quiet zone of two modules."""
    code = segno.make(url, error="m")
    modules = code.symbol_size(scale=1, border=2)[0]
    scale = max(1, size // modules)
    out = io.BytesIO()
    code.save(out, kind="png", scale=scale, border=2)
    out.seek(0)
    drawn = Image.open(out).convert("RGB")
    square = Image.new("RGB", (size, size), WHITE)
    square.paste(drawn, ((size - drawn.width) // 2, (size - drawn.height) // 2))
    return square


def _chip(d: ImageDraw.ImageDraw, at: tuple[int, int], text: str, font: ImageFont.FreeTypeFont) -> int:
    """The category as a rounded label; returns the y below it."""
    x, y = at
    text = _fit(text, font, 520)
    left, top, right, bottom = d.textbbox((0, 0), text, font=font)
    pad_x, pad_y = font.size * 0.6, font.size * 0.32
    box = (x, y, x + (right - left) + 2 * pad_x, y + font.size + 2 * pad_y)
    d.rounded_rectangle(box, radius=int(box[3] - box[1]) // 2, fill=PALE)
    d.text((x + pad_x, y + pad_y + font.size / 2), text, font=font, fill=BLUE, anchor="lm")
    return int(box[3])


def _text(d: ImageDraw.ImageDraw, at: tuple[int, int], text: str, font: ImageFont.FreeTypeFont, fill: str,
          width: int, max_lines: int, spacing: int = 10, balanced: bool = False) -> int:  # fmt: skip
    """``text`` wrapped to ``width`` in at most ``max_lines`` lines, the last ending in "…" when cut; returns the
    y below the last line. ``balanced``: lines of even length (no single word left alone on the last line)."""
    x, y = at
    lines = wrap(text, font, width, max_lines)
    if balanced and len(lines) > 1 and not lines[-1].endswith("…"):
        narrowest = width
        for narrower in range(width - font.size // 2, width // 2, -(font.size // 2)):
            if len(tried := wrap(text, font, narrower, max_lines)) != len(lines) or tried[-1].endswith("…"):
                break
            narrowest = narrower
        lines = wrap(text, font, narrowest, max_lines)
    for line in lines:
        d.text((x, y), line, font=font, fill=fill)
        y += font.size + spacing
    return y - spacing


def wrap(text: str, font: ImageFont.FreeTypeFont, width: float, max_lines: int) -> list[str]:
    """Lines of ``text`` no wider than ``width``: Chinese breaks between any two characters (never before closing
    punctuation), Latin between words; what does not fit in ``max_lines`` ends the last line with "…"."""
    text = " ".join(text.split())
    lines: list[str] = []
    line = ""
    for token in _tokens(text):
        candidate = line + token
        if not line or font.getlength(candidate.rstrip()) <= width:
            line = candidate
            continue
        if token[0] in NO_LINE_START and len(line) > 1:  # the last character goes down with the punctuation
            line, token = line[:-1], line[-1] + token
        lines.append(line.rstrip())
        line = token.lstrip()
    if line.strip():
        lines.append(line.rstrip())
    if len(lines) <= max_lines:
        return [_fit(line, font, width) for line in lines]
    return [*(_fit(line, font, width) for line in lines[: max_lines - 1]), _cut(lines[max_lines - 1], font, width)]


def _fit(text: str, font: ImageFont.FreeTypeFont, width: float) -> str:
    """``text``, or when too wide (a single overlong word, a long unit's name) cut to ``width`` with "…"."""
    return text if font.getlength(text) <= width else _cut(text, font, width)


def _cut(text: str, font: ImageFont.FreeTypeFont, width: float) -> str:
    """``text`` ending in "…", shortened until it fits ``width``: more follows that is not shown."""
    text = text.rstrip()
    while text and font.getlength(text.rstrip(" ，、,;；:：") + "…") > width:
        text = text[:-1]
    return text.rstrip(" ，、,;；:：") + "…"


def _tokens(text: str) -> list[str]:
    """Words of Latin script (with the space after them) and single other characters."""
    tokens: list[str] = []
    word = ""
    for char in text:
        if char.isascii() and not char.isspace() and char not in NO_LINE_START:
            word += char
            continue
        if word:
            tokens.append(word)
            word = ""
        if char.isspace() and tokens:
            tokens[-1] += char
        else:
            tokens.append(char)
    if word:
        tokens.append(word)
    return tokens


def _host(url: str) -> str:
    return urlsplit(url).netloc


@cache
def _font(pattern: str, size: int) -> ImageFont.FreeTypeFont:
    """Noto Sans CJK SC (the face the certificates use) at ``size`` px; Pillow's own face if it is missing."""
    try:
        path, index = system_font(pattern)
        return ImageFont.truetype(path, size, index=index)
    except Exception as error:
        log.warning("share image: %s not found (%s); Chinese will not show", pattern, error)
        return ImageFont.load_default(size)


def _ui_colours() -> list[tuple[int, int, int]]:
    """The texts' colours on their backgrounds, with the shades between (a letter's smoothed edges): kept
    exactly in the palette, so that grey text stays grey whatever colours the photo brings."""
    pure = list(dict.fromkeys(ImageColor.getrgb(colour)[:3] for pair in TEXT_ON for colour in pair))
    found = list(pure)
    for ink, ground in TEXT_ON:
        a, b = ImageColor.getrgb(ink), ImageColor.getrgb(ground)
        for step in range(1, SHADES):
            shade = tuple(round(a[i] + (b[i] - a[i]) * step / SHADES) for i in range(3))
            # not beside a pure colour: Pillow finds colours through a coarse table, and would give that shade
            # for a pure white or navy
            if all(max(abs(shade[i] - other[i]) for i in range(3)) > 10 for other in found):
                found.append(shade)
    return found


def _small_png(image: Image.Image, visual: Box) -> bytes:
    """The picture as a palette PNG: the text colours exactly (the palette's first entries), the photo (or
    artwork) in the rest. A busy photo is drawn with fewer colours, then at half or a third of its resolution,
    until the file is under ``MAX_BYTES``."""
    ui = _ui_colours()
    flat = [v for colour in ui for v in colour]
    texts = image.quantize(palette=_palette(flat), dither=Image.Dither.NONE)  # everything but the photo
    region = image.crop(visual)
    data = b""
    for shrink, colours in LADDER:
        if shrink == 1 and len(data) > NEARLY * MAX_BYTES:
            continue
        small = region if shrink == 1 else region.resize((region.width // shrink, region.height // shrink),
                                                         Image.Resampling.LANCZOS)  # fmt: skip
        own = small.quantize(min(colours, 256 - len(ui)), method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
        count = len(own.getcolors(256) or [])
        palette = _palette(flat + own.getpalette()[: 3 * count])
        photo = small.quantize(palette=palette, dither=Image.Dither.NONE).resize(region.size, Image.Resampling.NEAREST)
        whole = texts.copy()
        whole.putpalette(palette.getpalette())
        whole.paste(photo, visual[:2])
        out = io.BytesIO()
        whole.save(out, "PNG", optimize=True)
        data = out.getvalue()
        if len(data) <= MAX_BYTES:
            break
    return data


def _palette(flat: list[int]) -> Image.Image:
    """A palette image holding the colours ``flat`` (r, g, b, r, …), padded with its first colour."""
    holder = Image.new("P", (1, 1))
    holder.putpalette(flat + flat[:3] * (256 - len(flat) // 3))
    return holder
