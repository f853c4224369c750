"""Charts as inline SVG, drawn on the server: no JavaScript library, nothing loaded from the network.

Pure functions from figures to markup; every text is escaped. Each chart carries a ``<title>`` and an
``aria-label`` so it is readable without seeing it, and the pages show the numbers in a table as well.
"""

from __future__ import annotations

from collections.abc import Sequence
from math import ceil

from markupsafe import Markup, escape

PALETTE = ("#0b5cad", "#2e9d5b", "#e0a100", "#b42318", "#7c3aed", "#0e7490", "#9a3412", "#52606d", "#db2777",
           "#65a30d", "#64748b")  # fmt: skip
LABEL_CHAR, LABEL_GAP = 7, 10  # px: a digit or dash at font-size 12, and the space kept between two labels
FONT = 'font-family="Noto Sans CJK SC, Noto Sans SC, sans-serif"'


def _svg(width: int, height: int, label: str, body: list[str]) -> Markup:
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="100%" role="img" '
        f'aria-label="{escape(label)}" class="chart" {FONT} font-size="12"><title>{escape(label)}</title>'
    )
    return Markup(head + "".join(body) + "</svg>")


def _fmt(value: float) -> str:
    return f"{value:,.2f}".rstrip("0").rstrip(".") if isinstance(value, float) else f"{value:,}"


def bars(label: str, items: Sequence[tuple[str, float]], unit: str = "", color: str = PALETTE[0]) -> Markup:
    """Horizontal bars, one per item, with the value written at the end of each bar."""
    row, left, width = 26, 190, 720
    height = row * len(items) + 10
    top = max((v for _k, v in items), default=0) or 1
    body = []
    for i, (name, value) in enumerate(items):
        y = 5 + i * row
        length = (width - left - 90) * value / top
        body.append(f'<text x="{left - 8}" y="{y + 16}" text-anchor="end">{escape(name)}</text>')
        body.append(f'<rect x="{left}" y="{y + 3}" width="{length:.1f}" height="{row - 8}" fill="{color}" rx="2"/>')
        body.append(f'<text x="{left + length + 6:.1f}" y="{y + 16}">{escape(_fmt(value))}{escape(unit)}</text>')
    return _svg(width, height, label, body)


def stacked(label: str, rows: Sequence[tuple[str, Sequence[float]]], series: Sequence[str]) -> Markup:
    """One horizontal bar per row, split into the series (e.g. categories × states), with a legend."""
    row, left, width = 26, 190, 720
    legend_rows = (len(series) + 3) // 4
    height = row * len(rows) + 20 + legend_rows * 18
    top = max((sum(values) for _k, values in rows), default=0) or 1
    body = []
    for i, (name, values) in enumerate(rows):
        y = 5 + i * row
        x = float(left)
        body.append(f'<text x="{left - 8}" y="{y + 16}" text-anchor="end">{escape(name)}</text>')
        for j, value in enumerate(values):
            if not value:
                continue
            length = (width - left - 50) * value / top
            body.append(
                f'<rect x="{x:.1f}" y="{y + 3}" width="{length:.1f}" height="{row - 8}" '
                f'fill="{PALETTE[j % len(PALETTE)]}">'
                f"<title>{escape(name)} · {escape(series[j])}: {value:g}</title></rect>"
            )
            x += length
        body.append(f'<text x="{x + 6:.1f}" y="{y + 16}">{escape(_fmt(sum(values)))}</text>')
    base = row * len(rows) + 14
    for j, name in enumerate(series):
        lx, ly = 10 + (j % 4) * 175, base + (j // 4) * 18
        body.append(f'<rect x="{lx}" y="{ly}" width="10" height="10" fill="{PALETTE[j % len(PALETTE)]}"/>')
        body.append(f'<text x="{lx + 14}" y="{ly + 9}">{escape(name)}</text>')
    return _svg(width, height, label, body)


def columns(label: str, items: Sequence[tuple[str, float]], color: str = PALETTE[1]) -> Markup:
    """Vertical columns over time (e.g. ballots per day); a label is written under every column, or every second,
    third… column, as the labels' length leaves room (a full date is ten characters), so none overlap."""
    width, height, bottom, left = 720, 220, 30, 40
    top = max((v for _k, v in items), default=0) or 1
    n = max(len(items), 1)
    step = (width - left - 10) / n
    room = LABEL_CHAR * max((len(name) for name, _v in items), default=0) + LABEL_GAP
    every = max(1, ceil(room / step))
    body = [f'<line x1="{left}" y1="{height - bottom}" x2="{width - 5}" y2="{height - bottom}" stroke="#9aa5b1"/>']
    if items:
        body.append(f'<text x="{left - 4}" y="16" text-anchor="end">{escape(_fmt(top))}</text>')
    for i, (name, value) in enumerate(items):
        h = (height - bottom - 20) * value / top
        x = left + i * step
        body.append(
            f'<rect x="{x + step * 0.15:.1f}" y="{height - bottom - h:.1f}" width="{step * 0.7:.1f}" height="{h:.1f}" '
            f'fill="{color}"><title>{escape(name)}: {value:g}</title></rect>'
        )
        if i % every == 0:
            body.append(f'<text x="{x + step / 2:.1f}" y="{height - 12}" text-anchor="middle">{escape(name)}</text>')
    if not items:
        body.append(f'<text x="{width / 2}" y="{height / 2}" text-anchor="middle" fill="#616e7c">—</text>')
    return _svg(width, height, label, body)


def funnel(label: str, stages: Sequence[tuple[str, int]]) -> Markup:
    """Centred bars narrowing from the first stage, each with its count and its share of the first."""
    row, width = 34, 720
    height = row * len(stages) + 10
    first = stages[0][1] if stages and stages[0][1] else 1
    body = []
    for i, (name, value) in enumerate(stages):
        y = 5 + i * row
        length = max(2.0, (width - 260) * value / first)
        x = 150 + (width - 260 - length) / 2
        share = f" ({100 * value / first:.0f} %)" if i else ""
        body.append(f'<text x="140" y="{y + 20}" text-anchor="end">{escape(name)}</text>')
        body.append(f'<rect x="{x:.1f}" y="{y + 4}" width="{length:.1f}" height="{row - 8}" '
                    f'fill="{PALETTE[i % len(PALETTE)]}" rx="3"/>')  # fmt: skip
        body.append(f'<text x="{width - 100}" y="{y + 20}">{value:,}{share}</text>')
    return _svg(width, height, label, body)


def progress(label: str, items: Sequence[tuple[str, int, int]]) -> Markup:
    """Per item, a track with the done part filled: (name, done, total)."""
    row, left, width = 26, 190, 720
    height = row * len(items) + 10
    body = []
    for i, (name, done, total) in enumerate(items):
        y = 5 + i * row
        track = width - left - 110
        filled = track * done / total if total else 0
        body.append(f'<text x="{left - 8}" y="{y + 16}" text-anchor="end">{escape(name)}</text>')
        body.append(f'<rect x="{left}" y="{y + 3}" width="{track}" height="{row - 8}" fill="#e4e7eb" rx="2"/>')
        body.append(f'<rect x="{left}" y="{y + 3}" width="{filled:.1f}" height="{row - 8}" fill="{PALETTE[1]}"/>')
        percent = f"{100 * done / total:.0f} %" if total else "—"
        body.append(f'<text x="{left + track + 6}" y="{y + 16}">{done}/{total} · {percent}</text>')
    return _svg(width, height, label, body)
