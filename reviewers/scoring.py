"""The rubric and the reviews: experts score blind, organizers reopen or waive with a reason."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select

from accounts.models import User
from accounts.permissions import require_expert, require_staff
from campaigns.models import Campaign, Category
from pingxuan.db import utcnow
from pingxuan.errors import Conflict, Forbidden, Invalid
from pingxuan.extensions import db
from pingxuan.i18n import pick
from reviewers.models import (
    ACCEPTED,
    DRAFT_REVIEW,
    LIVE,
    OPEN,
    PENDING,
    SUBMITTED,
    SUBMITTED_REVIEW,
    WAIVED,
    Assignment,
    Criterion,
    Review,
    ReviewAudit,
    Score,
)
from workflow.definition import REVIEW, REVIEWER, states_granting
from workflow.roles import has_permission

DEFAULT_RUBRIC = (
    ("创新性", "Innovation", 25, "技术、模式或服务方式的创新程度。", "How new the technology, model or service is."),
    ("应用成效", "Results", 30, "投入运营后的实际效果与数据。", "Measured results since it went into operation."),
    ("惠民程度", "Benefit to citizens", 25, "惠及市民、企业的广度和深度。", "How widely and deeply it serves people."),
    ("可推广性", "Replicability", 20, "在其他领域或城市推广的可能。", "How well it can be adopted elsewhere."),
)


def rubric(campaign: Campaign, category: Category | None = None) -> list[Criterion]:
    """The criteria a case of ``category`` is scored on: its own rubric if it has one, else the campaign's."""
    query = select(Criterion).where(Criterion.campaign_id == campaign.id).order_by(Criterion.position)
    if category is not None:
        own = list(db.session.scalars(query.where(Criterion.category_id == category.id)))
        if own:
            return own
    return list(db.session.scalars(query.where(Criterion.category_id.is_(None))))


def ensure_default_rubric(campaign: Campaign) -> list[Criterion]:
    """Give a campaign the default four weighted criteria unless it has a rubric already."""
    existing = rubric(campaign)
    if existing:
        return existing
    for position, (zh, en, weight, guide_zh, guide_en) in enumerate(DEFAULT_RUBRIC):
        db.session.add(Criterion(
            campaign_id=campaign.id, name_zh=zh, name_en=en, weight=weight, max_score=weight,
            guidance_zh=guide_zh, guidance_en=guide_en, position=position,
        ))  # fmt: skip
    db.session.flush()
    return rubric(campaign)


def rubric_errors(criteria: list[Criterion]) -> list[str]:
    problems = []
    if criteria and sum(c.weight for c in criteria) != 100:
        problems.append(_("The weights of the rubric must add up to 100."))
    problems.extend(_("%(name)s needs a maximum score above zero.", name=pick(c, "name")) for c in criteria
                    if c.max_score <= 0)  # fmt: skip
    return problems


def weighted_total(criteria: list[Criterion], values: dict[int, Decimal]) -> Decimal:
    """The review's total on a 0..100 scale: each criterion's share of its maximum times its weight."""
    total = sum((Decimal(c.weight) * values[c.id] / Decimal(c.max_score) for c in criteria), Decimal(0))
    return total.quantize(Decimal("0.001"), rounding=ROUND_HALF_UP)


def save_review(
    assignment: Assignment, actor: User, scores: dict[Any, Any], comment: str = "", submit: bool = False
) -> Review:
    """Save a draft (partial scores allowed) or submit (every criterion, each within its range)."""
    require_expert(actor)
    if assignment.expert_id != actor.id:
        raise Forbidden(_("This review is not yours."))
    if assignment.status not in OPEN:
        raise Conflict(_("This review is closed. An organizer can reopen it."))
    if assignment.status == PENDING:  # scoring is for a review the expert has taken on
        raise Conflict(_("Accept the review first: scoring starts once you have accepted it."))
    if not has_permission(actor, assignment.case, REVIEW):
        raise Conflict(_("The case is not under expert review any more."))
    criteria = rubric(assignment.case.campaign, assignment.case.category)
    values, errors = _clean_scores(criteria, scores, complete=submit)
    if errors:
        raise Invalid(_("Please correct the marked scores."), errors)
    review = _write_scores(assignment, criteria, values, comment, submit)
    db.session.flush()
    return review


def _write_scores(
    assignment: Assignment, criteria: list[Criterion], values: dict[int, Decimal], comment: str, submit: bool
) -> Review:
    review = assignment.review or Review(assignment=assignment)
    db.session.add(review)
    by_criterion = {s.criterion_id: s for s in review.scores}
    for criterion_id, value in values.items():
        if criterion_id in by_criterion:
            by_criterion[criterion_id].value = value
        else:
            review.scores.append(Score(criterion_id=criterion_id, value=value))
    review.comment = (comment or "").strip()
    if assignment.status == PENDING:
        assignment.status = ACCEPTED  # starting to score accepts the assignment
    if submit:
        review.total = weighted_total(criteria, values)
        review.status = SUBMITTED_REVIEW
        review.submitted_at = utcnow() if assignment.status != SUBMITTED else review.submitted_at or utcnow()
        assignment.status = SUBMITTED
    return review


ENTERED_FOR_EXPERT = "entered_for_expert"


def enter_review_for_expert(
    assignment: Assignment, actor: User, scores: dict[Any, Any], comment: str = "", submit: bool = False,
    note: str = "",
) -> Review:  # fmt: skip
    """An organizer enters (or corrects) an expert's scores from a paper score sheet, saying where they come
    from; the review's history records "entered by <organizer> for <expert>" with that note.

    A submitted review stays submitted: a correction must give every criterion again.
    """
    require_staff(actor)
    note = (note or "").strip()
    if not note:
        raise Invalid(
            _("Say where the scores come from (for example the meeting's paper score sheet)."),
            {"note": _("A note is required.")},
        )
    if assignment.status not in LIVE:
        raise Conflict(_("This review is closed: the assignment was declined, waived or replaced."))
    if not has_permission(assignment.expert, assignment.case, REVIEW):
        raise Conflict(_("The case is not under expert review any more."))
    criteria = rubric(assignment.case.campaign, assignment.case.category)
    submit = submit or assignment.status == SUBMITTED
    values, errors = _clean_scores(criteria, scores, complete=submit)
    if errors:
        raise Invalid(_("Please correct the marked scores."), errors)
    before = {s.criterion_id: s.value for s in assignment.review.scores} if assignment.review else {}
    review = _write_scores(assignment, criteria, values, comment, submit)
    names = {c.id: pick(c, "name") for c in criteria}
    changes = [f"{names[cid]} {before.get(cid, '—')} → {value}" for cid, value in values.items()
               if before.get(cid) != value]  # fmt: skip
    db.session.add(ReviewAudit(
        assignment_id=assignment.id, action=ENTERED_FOR_EXPERT, actor_id=actor.id,
        reason=note + ("; " + ", ".join(changes) if changes else ""),
    ))  # fmt: skip
    db.session.flush()
    return review


def review_history(assignment: Assignment) -> list[ReviewAudit]:
    """What organizers did to this review (entered for the expert, reopened, waived, …), oldest first."""
    return list(
        db.session.scalars(
            select(ReviewAudit).where(ReviewAudit.assignment_id == assignment.id).order_by(ReviewAudit.id)
        )
    )


def _clean_scores(
    criteria: list[Criterion], scores: dict[Any, Any], complete: bool
) -> tuple[dict[int, Decimal], dict[str, str]]:
    values: dict[int, Decimal] = {}
    errors: dict[str, str] = {}
    given = {str(k): v for k, v in (scores or {}).items()}
    for criterion in criteria:
        key = str(criterion.id)
        raw = given.get(key)
        if raw in (None, ""):
            if complete:
                errors[key] = _("Score %(name)s.", name=pick(criterion, "name"))
            continue
        try:
            value = Decimal(str(raw))
        except InvalidOperation:
            errors[key] = _("Enter a number.")
            continue
        if not value.is_finite() or value < 0 or value > criterion.max_score:
            errors[key] = _("Enter a score from 0 to %(max)d.", max=criterion.max_score)
            continue
        values[criterion.id] = value
    unknown = set(given) - {str(c.id) for c in criteria}
    errors.update({key: _("Unknown criterion.") for key in unknown})
    return values, errors


def reopen_review(assignment: Assignment, actor: User, comment: str) -> Assignment:
    """Only an organizer reopens a submitted review, and says why; only while the case is under expert review,
    since a reopened review leaves the ranking until it is submitted again, and only then can it be."""
    require_staff(actor)
    comment = (comment or "").strip()
    if not comment:
        raise Invalid(_("Say why the review is reopened."), {"comment": _("A comment is required.")})
    if assignment.status != SUBMITTED or assignment.review is None:
        raise Conflict(_("Only a submitted review can be reopened."))
    if assignment.case.state not in states_granting(REVIEW, {REVIEWER}):
        raise Conflict(
            _("The case is no longer under expert review: a reopened review could not be submitted again and its "
              "score would be lost. The review stays as submitted.")
        )  # fmt: skip
    assignment.status = ACCEPTED
    assignment.review.status = DRAFT_REVIEW
    db.session.add(ReviewAudit(assignment_id=assignment.id, action="reopened", actor_id=actor.id, reason=comment))
    db.session.flush()
    return assignment


def waive_review(assignment: Assignment, actor: User, reason: str) -> Assignment:
    """An organizer lets shortlisting go ahead without this review, with a reason on record."""
    require_staff(actor)
    reason = (reason or "").strip()
    if not reason:
        raise Invalid(_("Say why the review is waived."), {"reason": _("A reason is required.")})
    if assignment.status not in OPEN:
        raise Conflict(_("Only an outstanding review can be waived."))
    assignment.status = WAIVED
    assignment.reason = reason
    db.session.add(ReviewAudit(assignment_id=assignment.id, action="waived", actor_id=actor.id, reason=reason))
    db.session.flush()
    return assignment


def reviews_by_case(actor: User, case_ids: list[int]) -> dict[int, list[Assignment]]:
    """Every expert's assignment (with review and scores) on these cases: for organizers only, never experts."""
    require_staff(actor)
    if not case_ids:
        return {}
    rows = db.session.scalars(
        select(Assignment)
        .where(Assignment.case_id.in_(case_ids), Assignment.status.in_((*LIVE, WAIVED)))
        .order_by(Assignment.case_id, Assignment.id)
    )
    grouped: dict[int, list[Assignment]] = {}
    for assignment in rows:
        grouped.setdefault(assignment.case_id, []).append(assignment)
    return grouped
