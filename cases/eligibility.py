"""The organizer's eligibility check: automatic pre-checks beside the dossier, then a decision through fire()."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from difflib import SequenceMatcher

from flask_babel import format_date
from flask_babel import gettext as _
from sqlalchemy import select

from accounts.models import User
from accounts.permissions import require_staff
from campaigns.models import Campaign
from cases.models import Case
from cases.operations import dossier_errors
from pingxuan.clock import today
from pingxuan.db import savepoint
from pingxuan.errors import DomainError, Invalid
from pingxuan.extensions import db
from workflow.definition import INITIAL_STATE, TRANSITION_BY_NAME
from workflow.engine import fire
from workflow.models import WorkflowEvent

SIMILAR_TITLE = 0.8


@dataclass(frozen=True)
class Check:
    name: str
    passed: bool
    reason: str


def prechecks(case: Case) -> list[Check]:
    """Each automatic pre-check with its verdict and reason, in the order an organizer reads them."""
    campaign = case.campaign
    cutoff = campaign.in_operation_before
    checks: list[Check] = []
    since = case.in_operation_since
    if since is None:
        checks.append(Check("in_operation", False, _("No date of going into operation is given.")))
    elif since > cutoff:
        checks.append(Check("in_operation", False, _(
            "In operation since %(since)s, after the cut-off %(cutoff)s.",
            since=format_date(since), cutoff=format_date(cutoff))))  # fmt: skip
    else:
        checks.append(Check("in_operation", True, _(
            "In operation since %(since)s, before the cut-off %(cutoff)s.",
            since=format_date(since), cutoff=format_date(cutoff))))  # fmt: skip
    missing = dossier_errors(case)
    checks.append(
        Check("complete", not missing, _("All required fields and attachments are present.") if not missing
              else _("Missing or wrong: %(fields)s.", fields=", ".join(sorted(missing))))
    )  # fmt: skip
    consistent = case.category is not None and case.domain is not None and case.domain.category_id == case.category_id
    checks.append(Check("taxonomy", consistent, _("The domain belongs to the category.") if consistent
                        else _("The domain does not belong to the chosen category.")))  # fmt: skip
    duplicates = likely_duplicates(case)
    checks.append(
        Check("duplicates", not duplicates, _("No similar case from the same unit.") if not duplicates
              else _("Similar to %(cases)s from the same unit.",
                     cases="; ".join(f"{d.number or '#' + str(d.id)} {d.title}" for d in duplicates)))
    )  # fmt: skip
    return checks


def likely_duplicates(case: Case) -> list[Case]:
    """Cases of the same unit, in this or the previous campaign, with a very similar title."""
    campaign_ids = [case.campaign_id]
    previous = db.session.scalar(select(Campaign.id).where(Campaign.year == case.campaign.year - 1))
    if previous is not None:
        campaign_ids.append(previous)
    others = db.session.scalars(
        select(Case).where(
            Case.unit_id == case.unit_id, Case.id != case.id, Case.campaign_id.in_(campaign_ids),
            Case.state != INITIAL_STATE,
        )
    )  # fmt: skip
    title = _simplify(case.title)
    return [o for o in others if title and SequenceMatcher(None, title, _simplify(o.title)).ratio() >= SIMILAR_TITLE]


def _simplify(title: str) -> str:
    return "".join(ch for ch in (title or "").lower() if ch.isalnum())


def return_for_revision(
    case: Case, actor: User, comment: str, due: date | None, version: int | None = None
) -> WorkflowEvent:
    """Send the case back to its unit with what to change and by when (every missing piece reported at once)."""
    require_staff(actor)
    errors: dict[str, str] = {}
    if not (comment or "").strip():
        errors["comment"] = _("A comment is required.")
    if due is None:
        errors["due_date"] = _("A due date is required.")
    elif due < today():
        errors["due_date"] = _("The due date cannot be in the past.")
    if errors:
        raise Invalid(_("Say what to change and by when the revision is due."), errors)
    event = fire(case, "return_for_revision", actor, comment, expected_version=version)
    case.revision_due = due
    db.session.flush()
    return event


def bulk_approve(cases: list[Case], actor: User) -> tuple[list[Case], dict[int, str]]:
    """Approve each case whose pre-checks all pass; the others are reported with the first failing check."""
    require_staff(actor)
    approved: list[Case] = []
    skipped: dict[int, str] = {}
    start, approve = TRANSITION_BY_NAME["start_check"], TRANSITION_BY_NAME["approve"]
    for case in cases:
        failing = [c for c in prechecks(case) if not c.passed]
        if failing:
            skipped[case.id] = failing[0].reason
            continue
        if case.state not in approve.sources and case.state not in start.sources:
            skipped[case.id] = _("Not waiting for an eligibility decision.")
            continue
        try:
            with savepoint():
                if case.state in start.sources:
                    fire(case, start.name, actor)
                fire(case, approve.name, actor)
        except DomainError as error:
            skipped[case.id] = error.message
            continue
        approved.append(case)
    return approved, skipped
