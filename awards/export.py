"""Results as spreadsheets: Excel (openpyxl) and CSV, for the organizer (every component) or the public.

The organizer's file lists every decided finalist of each category in rank order with the components of the
final score; the public file lists the awarded cases only, without scores (experts' scores are staff-only).
"""

from __future__ import annotations

import csv
import io

from flask_babel import gettext as _

from awards.organizations import conferred
from awards.ranking import decided_ranking
from campaigns.models import Campaign
from cases import dossier
from pingxuan.i18n import pick
from pingxuan.spreadsheet import append_text_safe, csv_row
from workflow.definition import STATE_BY_NAME, TRANSITION_BY_NAME

AWARDED = TRANSITION_BY_NAME["confirm_award"].dest
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _dossier_fields(campaign: Campaign, full: bool) -> list[dossier.Field]:
    """The declared fields after the fixed columns, one column each: all of them for organizers, the public ones
    in the public file (title, category and recommending organization have their columns already)."""
    skipped = (dossier.CATEGORY, dossier.DOMAIN, dossier.ORGANIZATION)
    return [
        item
        for item in dossier.form_of(campaign).value_fields
        if item.key != "title" and item.type not in skipped and (full or item.public)
    ]


def _headers(full: bool, fields: list[dossier.Field]) -> list[str]:
    head = [_("Category"), _("Rank"), _("Case number"), _("Title"), _("Applicant unit"), _("Recommending organization")]
    if full:
        head += [_("Expert score (normalized)"), _("Votes"), _("Vote score"), _("Final score"), _("State")]
    return head + [item.label for item in fields]


def result_rows(campaign: Campaign, full: bool) -> list[list[object]]:
    """Header and rows: every decided finalist (``full``, for organizers) or the awarded cases only."""
    fields = _dossier_fields(campaign, full)
    rows: list[list[object]] = [_headers(full, fields)]
    for category in campaign.categories:
        for entry in decided_ranking(campaign, category):
            case = entry.case
            if not full and case.state != AWARDED:
                continue
            row: list[object] = [
                pick(category, "name"), entry.rank, case.number or "", case.title, case.unit.name,
                pick(case.recommending_org, "name") if case.recommending_org else "",
            ]  # fmt: skip
            if full:
                row += [entry.expert_score, entry.votes, entry.vote_score, entry.final,
                        pick(STATE_BY_NAME[case.state], "title")]  # fmt: skip
            row += [dossier.shown(item, dossier.value(case, item)) for item in fields]
            rows.append(row)
    return rows


def organization_rows(campaign: Campaign) -> list[list[object]]:
    return [[_("Organization award")]] + [[pick(a.organization, "name")] for a in conferred(campaign)]


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


def to_csv(campaign: Campaign, full: bool) -> bytes:
    return csv_bytes(result_rows(campaign, full))


def to_xlsx(campaign: Campaign, full: bool) -> bytes:
    return xlsx_bytes(result_rows(campaign, full), organization_rows(campaign))
