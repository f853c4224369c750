"""The results as spreadsheet bytes: CSV for Excel (UTF-8 with a byte-order mark) and XLSX with the organization
awards on a sheet of their own, every cell of text stored as text. Writers only, so that publishing (which renders
the public files once) and the exports share them without importing each other."""

from __future__ import annotations

import csv
import io

from flask_babel import gettext as _

from pingxuan.spreadsheet import append_text_safe, csv_row


def csv_bytes(rows: list[list[object]]) -> bytes:
    """UTF-8 with a byte-order mark, so Excel opens the Chinese text correctly; no cell can be a formula."""
    buffer = io.StringIO()
    csv.writer(buffer).writerows(csv_row(row) for row in rows)
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def xlsx_bytes(rows: list[list[object]], organizations: list[list[object]]) -> bytes:
    """The results and the organization awards as two sheets; every string is stored as a string, never a
    formula (openpyxl would otherwise turn text starting with "=" into one)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    sheet.title = _("Results")[:31]
    for sheet_, data in ((sheet, rows), (book.create_sheet(_("Organization awards")[:31]), organizations)):
        for values in data:
            append_text_safe(sheet_, values)
        for cell in sheet_[1]:
            cell.font = Font(bold=True)
    sheet.freeze_panes = "A2"
    for letter, width in zip("ABCDEFGHIJK", (22, 6, 16, 40, 30, 24, 12, 8, 10, 10, 12), strict=False):
        sheet.column_dimensions[letter].width = width
    book.worksheets[1].column_dimensions["A"].width = 40
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
