"""Review progress per category and per expert, and reminders for reviews due soon or overdue."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select

from accounts.models import User
from campaigns.models import Campaign
from cases.models import Case
from notifications.operations import mail
from pingxuan.clock import day, left, today
from pingxuan.extensions import db
from pingxuan.i18n import EN, ZH, pick
from reviewers.models import LIVE, OPEN, SUBMITTED, WAIVED, Assignment

REMIND_DAYS = 2


@dataclass
class Progress:
    label: str
    assigned: int = 0
    submitted: int = 0
    waived: int = 0

    @property
    def outstanding(self) -> int:
        return self.assigned - self.submitted

    @property
    def percent(self) -> int:
        return round(100 * self.submitted / self.assigned) if self.assigned else 0


def _rows(campaign: Campaign):
    return db.session.execute(
        select(Assignment, Case)
        .join(Case, Case.id == Assignment.case_id)
        .where(Case.campaign_id == campaign.id, Assignment.status.in_((*LIVE, WAIVED)))
    ).all()


def by_category(campaign: Campaign) -> list[Progress]:
    result = {c.id: Progress(pick(c, "name")) for c in campaign.categories}
    for assignment, case in _rows(campaign):
        _count(result[case.category_id], assignment)
    return list(result.values())


def by_expert(campaign: Campaign) -> list[tuple[User, Progress]]:
    result: dict[int, tuple[User, Progress]] = {}
    for assignment, _case in _rows(campaign):
        user = assignment.expert
        _count(result.setdefault(user.id, (user, Progress(user.name)))[1], assignment)
    return sorted(result.values(), key=lambda pair: (-pair[1].outstanding, pair[0].name))


def _count(progress: Progress, assignment: Assignment) -> None:
    if assignment.status == WAIVED:
        progress.waived += 1
        return
    progress.assigned += 1
    if assignment.status == SUBMITTED:
        progress.submitted += 1


def due_reviews(on: date | None = None) -> dict[User, list[Assignment]]:
    """Outstanding reviews due within REMIND_DAYS days or overdue, grouped by expert."""
    on = on or today()
    rows = db.session.scalars(
        select(Assignment).where(
            Assignment.status.in_(OPEN),
            Assignment.due_date.is_not(None),
            Assignment.due_date <= on + timedelta(days=REMIND_DAYS),
        )
    )
    grouped: dict[User, list[Assignment]] = {}
    for assignment in rows:
        grouped.setdefault(assignment.expert, []).append(assignment)
    return grouped


def send_reminders(on: date | None = None) -> int:
    """Mail every expert with reviews due soon or overdue, once per run, in their language."""
    on = on or today()
    sent = 0
    for expert, assignments in due_reviews(on).items():
        locale = EN if expert.locale == EN else ZH
        with force_locale(locale):
            lines = []
            for a in sorted(assignments, key=lambda a: a.due_date):
                state = _("due %(date)s", date=day(a.due_date)) + ", " + left(a.due_date, on)
                lines.append(f"- {a.case.number or a.case.id} {a.case.title} ({state})")
            mail(expert.email, "review.reminder", locale,
                 {"name": expert.name, "count": len(assignments), "reviews": "\n".join(lines)})  # fmt: skip
        sent += 1
    return sent
