"""Results as spreadsheets: Excel (openpyxl) and CSV, for the organizer (every component) or the public.

The organizer's file lists every decided finalist of each category in rank order with the components of the
final score; the public file lists the awarded cases only, without scores (experts' scores are staff-only).
"""

from __future__ import annotations

from flask_babel import gettext as _

from awards.organizations import conferred
from awards.ranking import decided_ranking
from awards.sheets import csv_bytes, xlsx_bytes
from campaigns.models import Campaign
from cases import dossier
from pingxuan.i18n import pick
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


def to_csv(campaign: Campaign, full: bool) -> bytes:
    return csv_bytes(result_rows(campaign, full))


def to_xlsx(campaign: Campaign, full: bool) -> bytes:
    return xlsx_bytes(result_rows(campaign, full), organization_rows(campaign))
