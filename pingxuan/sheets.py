"""Reading the spreadsheets organizers upload (experts, units): CSV in UTF-8 or Excel .xlsx, first row = columns."""

from __future__ import annotations

import csv
import io

from flask_babel import gettext as _

from pingxuan.errors import Invalid


def read_sheet(filename: str, data: bytes, required: tuple[str, ...]) -> list[dict[str, str]]:
    """Rows of a CSV (UTF-8, with or without BOM) or .xlsx sheet whose first row names the columns."""
    if filename.lower().endswith(".xlsx"):
        from openpyxl import load_workbook

        try:
            sheet = load_workbook(io.BytesIO(data), read_only=True, data_only=True).active
        except Exception as exc:  # openpyxl raises many kinds for a broken file
            raise Invalid(_("This is not a readable Excel file.")) from exc
        rows = [["" if v is None else str(v) for v in row] for row in sheet.iter_rows(values_only=True)]
    else:
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise Invalid(_("Save the CSV file as UTF-8.")) from exc
        rows = _csv_rows(text)
    if not rows:
        raise Invalid(_("The sheet is empty."))
    header = [h.strip().lower() for h in rows[0]]
    missing = [c for c in required if c not in header]
    if missing:
        raise Invalid(_("The sheet needs the columns %(names)s.", names=", ".join(missing)))
    return [dict(zip(header, row, strict=False)) for row in rows[1:] if any(cell.strip() for cell in row)]


def _csv_rows(text: str) -> list[list[str]]:
    """The CSV's rows; what the parser refuses (a field over its 128 KB limit, a broken quote) is a 422."""
    reader = csv.reader(io.StringIO(text))
    try:
        return list(reader)
    except csv.Error as exc:
        raise Invalid(
            _(
                "Line %(line)d of the CSV file cannot be read: a field is too long (at most 128 KB) or badly quoted.",
                line=reader.line_num,
            )
        ) from exc
