"""Named guard predicates that transitions in the declaration refer to.

A guard returns None when it passes, or a Refusal that says why in words the person can act on.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import func, select

from accounts.models import User
from awards.models import OBJECTION_PENDING, Notice, NoticeEntry, Objection
from campaigns.models import VOTE_CLOSED
from cases.models import Case
from cases.operations import dossier_errors
from pingxuan.clock import day, left, today
from pingxuan.extensions import db
from reviewers.models import LIVE, OPEN, Assignment
from workflow.definition import TRANSITION_BY_NAME

# A place in the category's quota is taken by a proposed award as much as by a confirmed one.
AWARD_STATES = (TRANSITION_BY_NAME["propose"].dest, TRANSITION_BY_NAME["confirm_award"].dest)


@dataclass
class Refusal:
    reason: str
    field_errors: dict[str, str] = field(default_factory=dict)


Guard = Callable[[Case, User | None], Refusal | None]
GUARDS: dict[str, Guard] = {}


def guard(name: str) -> Callable[[Guard], Guard]:
    def register(fn: Guard) -> Guard:
        GUARDS[name] = fn
        return fn

    return register


@guard("dossier_complete")
def dossier_complete(case: Case, actor: User | None) -> Refusal | None:
    errors = dossier_errors(case)
    if errors:
        return Refusal(
            ngettext(
                "The dossier is incomplete: %(num)d field needs attention.",
                "The dossier is incomplete: %(num)d fields need attention.",
                len(errors),
            ),
            errors,
        )
    return None


@guard("submission_window_open")
def submission_window_open(case: Case, actor: User | None) -> Refusal | None:
    campaign, now = case.campaign, today()
    if campaign.submission_opens and now < campaign.submission_opens:
        return Refusal(_("Submission opens on %(date)s.", date=day(campaign.submission_opens)))
    if campaign.submission_closes and now > campaign.submission_closes:
        return Refusal(_("Submission closed on %(date)s.", date=day(campaign.submission_closes)))
    return None


@guard("in_operation_before_cutoff")
def in_operation_before_cutoff(case: Case, actor: User | None) -> Refusal | None:
    cutoff = case.campaign.in_operation_before
    if case.in_operation_since is None or case.in_operation_since > cutoff:
        return Refusal(
            _("The case must have been in operation on or before %(date)s.", date=day(cutoff)),
            {"in_operation_since": _("In operation after the cut-off date.")},
        )
    return None


@guard("reviews_complete")
def reviews_complete(case: Case, actor: User | None) -> Refusal | None:
    counts = dict(
        db.session.execute(
            select(Assignment.status, func.count()).where(Assignment.case_id == case.id).group_by(Assignment.status)
        ).all()
    )
    if not any(counts.get(status) for status in LIVE):
        return Refusal(_("No expert has reviewed this case yet."))
    missing = sum(counts.get(status, 0) for status in OPEN)
    if missing:
        return Refusal(
            ngettext(
                "%(num)d assigned review is not submitted yet.",
                "%(num)d assigned reviews are not submitted yet.",
                missing,
            )
        )
    return None


@guard("vote_closed")
def vote_closed(case: Case, actor: User | None) -> Refusal | None:
    if case.campaign.vote_status != VOTE_CLOSED:
        return Refusal(_("The public vote is not closed yet."))
    return None


@guard("within_award_quota")
def within_award_quota(case: Case, actor: User | None) -> Refusal | None:
    awarded = db.session.scalar(
        select(func.count()).where(
            Case.campaign_id == case.campaign_id,
            Case.category_id == case.category_id,
            Case.state.in_(AWARD_STATES),
        )
    )
    quota = case.campaign.awards_per_category
    if awarded >= quota:
        return Refusal(
            ngettext(
                "This category already has its %(num)d award.", "This category already has its %(num)d awards.", quota
            )
        )
    return None


def latest_notice(case_id: int) -> Notice | None:
    """The newest public notice listing the case: its period is the one objections and confirmation follow."""
    return db.session.scalar(
        select(Notice).join(NoticeEntry).where(NoticeEntry.case_id == case_id)
        .order_by(Notice.published_at.desc(), Notice.id.desc()).limit(1)
    )  # fmt: skip


def pending_objections(case_id: int) -> int:
    return db.session.scalar(
        select(func.count()).where(Objection.case_id == case_id, Objection.status.in_(OBJECTION_PENDING))
    )


@guard("notice_period_over")
def notice_period_over(case: Case, actor: User | None) -> Refusal | None:
    notice = latest_notice(case.id)
    if notice is None:
        return Refusal(_("The proposed award has not been published for public notice yet."))
    if today() <= notice.ends_on:
        ends = notice.ends_on
        return Refusal(_("The public notice runs until %(date)s (%(left)s).", date=day(ends), left=left(ends)))
    return None


@guard("no_open_objection")
def no_open_objection(case: Case, actor: User | None) -> Refusal | None:
    pending = pending_objections(case.id)
    if pending:
        return Refusal(
            ngettext(
                "%(num)d objection to this case is not decided yet.",
                "%(num)d objections to this case are not decided yet.",
                pending,
            )
        )
    return None
