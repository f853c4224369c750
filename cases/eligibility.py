"""The organizer's eligibility check: automatic pre-checks beside the dossier, then a decision through fire()."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from difflib import SequenceMatcher

from flask_babel import gettext as _
from sqlalchemy import and_, or_, select

from accounts.models import User
from accounts.permissions import require_staff
from campaigns.models import Campaign
from cases.models import DUPLICATE, DUPLICATE_DECISIONS, Case, DuplicateDecision
from cases.operations import dossier_errors
from pingxuan.clock import day
from pingxuan.db import savepoint, utcnow
from pingxuan.errors import DomainError, Invalid
from pingxuan.extensions import db
from workflow.definition import DUE_DATE, INITIAL_STATE, TRANSITION_BY_NAME
from workflow.engine import check_inputs, fire
from workflow.models import WorkflowEvent

SIMILAR_TITLE = 0.8
RETURN = TRANSITION_BY_NAME["return_for_revision"]


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
            since=day(since), cutoff=day(cutoff))))  # fmt: skip
    else:
        checks.append(Check("in_operation", True, _(
            "In operation since %(since)s, before the cut-off %(cutoff)s.",
            since=day(since), cutoff=day(cutoff))))  # fmt: skip
    missing = dossier_errors(case)
    checks.append(
        Check("complete", not missing, _("All required fields and attachments are present.") if not missing
              else _("Missing or wrong: %(fields)s.", fields=", ".join(sorted(missing))))
    )  # fmt: skip
    consistent = case.category is not None and case.domain is not None and case.domain.category_id == case.category_id
    checks.append(Check("taxonomy", consistent, _("The domain belongs to the category.") if consistent
                        else _("The domain does not belong to the chosen category.")))  # fmt: skip
    checks.append(_duplicates_check(case))
    return checks


def _label(case: Case) -> str:
    return f"{case.number or '#' + str(case.id)} {case.title}"


def _duplicates_check(case: Case) -> Check:
    """Open flags and confirmed duplicates fail; flags acknowledged as different projects pass, and say so."""
    flags = duplicate_flags(case)
    if not flags:
        return Check("duplicates", True, _("No similar case from the same unit."))
    confirmed = [f for f in flags if f.decision is not None and f.decision.decision == DUPLICATE]
    if confirmed:
        return Check("duplicates", False, _("Confirmed as a duplicate of %(cases)s: %(reason)s",
                                            cases="; ".join(_label(f.other) for f in confirmed),
                                            reason=confirmed[0].decision.reason))  # fmt: skip
    open_flags = [f for f in flags if f.decision is None]
    if open_flags:
        return Check("duplicates", False, _("Similar to %(cases)s from the same unit.",
                                            cases="; ".join(_label(f.other) for f in open_flags)))  # fmt: skip
    return Check("duplicates", True, _("Similar to %(cases)s, acknowledged as different projects.",
                                       cases="; ".join(_label(f.other) for f in flags)))  # fmt: skip


@dataclass(frozen=True)
class DuplicateFlag:
    other: Case
    decision: DuplicateDecision | None  # None: open, nobody has decided yet


def duplicate_flags(case: Case) -> list[DuplicateFlag]:
    """Each likely duplicate of the case with the organizers' decision on the pair, if any."""
    others = likely_duplicates(case)
    if not others:
        return []
    ids = [o.id for o in others]
    decisions = db.session.scalars(
        select(DuplicateDecision).where(
            or_(
                and_(DuplicateDecision.case_id == case.id, DuplicateDecision.other_case_id.in_(ids)),
                and_(DuplicateDecision.other_case_id == case.id, DuplicateDecision.case_id.in_(ids)),
            )
        )
    )
    by_other = {d.other_case_id if d.case_id == case.id else d.case_id: d for d in decisions}
    return [DuplicateFlag(o, by_other.get(o.id)) for o in others]


def open_duplicates(case: Case) -> list[Case]:
    """The likely duplicates nobody has decided on yet: shown on the shortlist, the awards and in the API."""
    return [f.other for f in duplicate_flags(case) if f.decision is None]


def decide_duplicate(case: Case, other_id: int, actor: User, decision: str, reason: str) -> DuplicateDecision:
    """Settle a likely-duplicate flag: different projects (acknowledged) or a real duplicate, with a reason.

    One decision per pair of cases, whichever of the two it is made from; a new decision replaces it (audited
    by who and when). A confirmed duplicate keeps failing the pre-check, so it is never bulk-approved.
    """
    require_staff(actor)
    errors: dict[str, str] = {}
    if decision not in DUPLICATE_DECISIONS:
        errors["decision"] = _("Choose different projects or duplicate.")
    reason = (reason or "").strip()
    if not reason:
        errors["reason"] = _("A reason is required.")
    flagged = {o.id: o for o in likely_duplicates(case)}
    if other_id not in flagged:
        errors["other_case_id"] = _("These two cases are not flagged as likely duplicates.")
    if errors:
        raise Invalid(_("Please correct the marked fields."), errors)
    low, high = sorted((case.id, other_id))
    record = db.session.scalar(
        select(DuplicateDecision).where(DuplicateDecision.case_id == low, DuplicateDecision.other_case_id == high)
    ) or DuplicateDecision(case_id=low, other_case_id=high)
    record.decision, record.reason, record.decided_by_id, record.decided_at = decision, reason, actor.id, utcnow()
    db.session.add(record)
    db.session.flush()
    return record


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
    """Send the case back to its unit with what to change and by when (fire() checks both: every route alike)."""
    require_staff(actor)
    return fire(case, RETURN.name, actor, comment, expected_version=version, fields={DUE_DATE: due})


def bulk_approve(
    cases: list[Case], actor: User, include_possible_duplicates: bool = False
) -> tuple[list[Case], dict[int, str]]:
    """Approve each case whose pre-checks all pass; the others are reported with the first failing check.

    With ``include_possible_duplicates`` (an explicit choice of the organizer), a case whose only failing
    pre-check is an open likely-duplicate flag is approved too; a confirmed duplicate never is.
    """
    require_staff(actor)
    approved: list[Case] = []
    skipped: dict[int, str] = {}
    start, approve = TRANSITION_BY_NAME["start_check"], TRANSITION_BY_NAME["approve"]
    for case in cases:
        failing = [c for c in prechecks(case) if not c.passed]
        if (
            include_possible_duplicates
            and [c.name for c in failing] == ["duplicates"]
            and all(f.decision is None or f.decision.decision != DUPLICATE for f in duplicate_flags(case))
        ):
            failing = []
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


def _decide_many(cases: list[Case], actor: User, decide, start_first: bool) -> tuple[list[Case], dict[int, str]]:
    """One decision on many cases, each in its own savepoint: a refused case is reported and left as it was."""
    done: list[Case] = []
    skipped: dict[int, str] = {}
    start = TRANSITION_BY_NAME["start_check"]
    for case in cases:
        try:
            with savepoint():
                if start_first and case.state in start.sources:
                    fire(case, start.name, actor)
                decide(case)
        except DomainError as error:
            db.session.expire(case)
            skipped[case.id] = error.message
            continue
        done.append(case)
    return done, skipped


def bulk_reject(cases: list[Case], actor: User, comment: str) -> tuple[list[Case], dict[int, str]]:
    """Reject every listed case with one comment (for example the duplicates of a unit)."""
    require_staff(actor)
    if not (comment or "").strip():
        raise Invalid(_("Say why the cases are rejected."), {"comment": _("A comment is required.")})
    return _decide_many(cases, actor, lambda case: fire(case, "reject", actor, comment), start_first=True)


def bulk_return(cases: list[Case], actor: User, comment: str, due: date | None) -> tuple[list[Case], dict[int, str]]:
    """Return every listed case for revision with one comment and one due date (checked once, for all)."""
    require_staff(actor)
    check_inputs(RETURN, comment, {DUE_DATE: due})
    return _decide_many(cases, actor, lambda case: return_for_revision(case, actor, comment, due), start_first=False)
