"""The public notice (公示) of proposed awards: its period in working days, publishing it, and its figures.

Proposed winners are not final on the day the office decides: the list is published for a notice period
(the campaign's working days, its holidays skipped) during which anyone may object (awards.objections). A case
is confirmed (``confirm_award``, guarded by ``notice_period_over`` and ``no_open_objection``) only after that.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import func, select

from accounts.models import User
from accounts.permissions import require_staff
from awards.models import OBJECTION_DISMISSED, OBJECTION_UPHELD, Notice, NoticeEntry, Objection
from campaigns.models import Campaign, Category
from cases.models import Case
from pingxuan.cache import RESULTS, SHOWCASE, bump
from pingxuan.clock import today
from pingxuan.errors import Conflict, Invalid
from pingxuan.extensions import db
from workflow.definition import TRANSITION_BY_NAME
from workflow.engine import record_step
from workflow.guards import latest_notice

PROPOSED = TRANSITION_BY_NAME["propose"].dest
REVOKE = TRANSITION_BY_NAME["revoke"]


def holidays(campaign: Campaign) -> set[date]:
    found = set()
    for value in campaign.notice_holidays or []:
        try:
            found.add(date.fromisoformat(str(value)))
        except ValueError:
            continue
    return found


def is_working_day(day: date, off: set[date]) -> bool:
    return day.weekday() < 5 and day not in off


def notice_period(campaign: Campaign, start: date) -> tuple[date, date]:
    """First and last day of a notice starting on ``start`` (or the next working day): N working days."""
    off = holidays(campaign)
    first = start
    while not is_working_day(first, off):
        first += timedelta(days=1)
    last, counted = first, 1
    while counted < max(1, campaign.notice_working_days):
        last += timedelta(days=1)
        if is_working_day(last, off):
            counted += 1
    return first, last


def unnoticed_proposed(campaign: Campaign, category: Category | None = None) -> list[Case]:
    """Proposed cases not yet on any notice (the ones a new notice would list)."""
    query = (
        select(Case)
        .where(Case.campaign_id == campaign.id, Case.state == PROPOSED)
        .where(~select(NoticeEntry.id).where(NoticeEntry.case_id == Case.id).exists())
        .order_by(Case.category_id, Case.number, Case.id)
    )
    if category is not None:
        query = query.where(Case.category_id == category.id)
    return list(db.session.scalars(query))


def publish_notice(
    campaign: Campaign,
    actor: User | None,
    category: Category | None = None,
    starts_on: date | None = None,
    cases: list[Case] | None = None,
) -> Notice:
    """Publish the proposed list of a category (or of the whole campaign) for public notice; recorded on each
    case's timeline. ``actor`` None is the system (a case moved up after an upheld objection)."""
    if actor is not None:
        require_staff(actor)
    start = starts_on or today()
    if start < today():
        raise Invalid(_("A notice cannot start in the past."), {"starts_on": _("Choose today or a later day.")})
    listed = cases if cases is not None else unnoticed_proposed(campaign, category)
    if not listed:
        raise Conflict(_("There is no proposed award waiting for a public notice here."))
    first, last = notice_period(campaign, start)
    notice = Notice(
        campaign_id=campaign.id, category_id=category.id if category is not None else None, starts_on=first,
        ends_on=last, contact=campaign.notice_contact or "", published_by_id=actor.id if actor is not None else None,
    )  # fmt: skip
    db.session.add(notice)
    db.session.flush()
    for case in listed:
        db.session.add(NoticeEntry(notice_id=notice.id, case_id=case.id))
        record_step(case, "notice_published", actor, _("Public notice from %(start)s to %(end)s.",
                                                       start=first.isoformat(), end=last.isoformat()))  # fmt: skip
    db.session.flush()
    bump(SHOWCASE)
    bump(RESULTS)  # the results page, unpublished yet, points to the notice
    return notice


def notices(campaign: Campaign) -> list[Notice]:
    """The campaign's notices, newest first."""
    return list(db.session.scalars(select(Notice).where(Notice.campaign_id == campaign.id)
                                   .order_by(Notice.published_at.desc(), Notice.id.desc())))  # fmt: skip


def notice_listing(campaign: Campaign) -> list[tuple[Category, list[tuple[Case, Notice]]]]:
    """What the public notice page lists: per category, each case still proposed with the notice it is on."""
    rows = db.session.execute(
        select(Case, Notice).join(NoticeEntry, NoticeEntry.case_id == Case.id).join(Notice)
        .where(Case.campaign_id == campaign.id, Case.state == PROPOSED)
        .order_by(Notice.published_at.desc(), Notice.id.desc())
    ).all()  # fmt: skip
    newest: dict[int, tuple[Case, Notice]] = {}
    for case, notice in rows:
        newest.setdefault(case.id, (case, notice))
    return [(category, sorted((v for v in newest.values() if v[0].category_id == category.id),
                              key=lambda pair: (pair[0].number or "", pair[0].id)))
            for category in campaign.categories]  # fmt: skip


def notice_of(case: Case) -> Notice | None:
    """The newest notice listing the case (its period is the one objections follow), or None."""
    return latest_notice(case.id)


def in_notice(campaign: Campaign) -> bool:
    """Whether the campaign has a proposed case on a notice: the results page, not published yet, points there."""
    return db.session.scalar(
        select(NoticeEntry.id).join(Case, Case.id == NoticeEntry.case_id)
        .where(Case.campaign_id == campaign.id, Case.state == PROPOSED).limit(1)
    ) is not None  # fmt: skip


def campaigns_in_notice(but: Campaign | None = None) -> list[Campaign]:
    """Campaigns (newest first) with a proposed case on a notice: where to send a visitor who opened the notice
    page of a campaign that has none."""
    query = (select(Campaign).where(Campaign.id.in_(
        select(Case.campaign_id).join(NoticeEntry, NoticeEntry.case_id == Case.id).where(Case.state == PROPOSED)
    )).order_by(Campaign.year.desc()))  # fmt: skip
    if but is not None:
        query = query.where(Campaign.id != but.id)
    return list(db.session.scalars(query))


def figures(campaign: Campaign) -> dict[str, Any]:
    """The notice's public figures: its dates and the objections' count and outcomes, no objector's identity;
    and which awards changed because of an upheld objection."""
    span = db.session.execute(
        select(func.min(Notice.starts_on), func.max(Notice.ends_on)).where(Notice.campaign_id == campaign.id)
    ).one()
    counts = dict(db.session.execute(
        select(Objection.status, func.count()).join(Case, Case.id == Objection.case_id)
        .where(Case.campaign_id == campaign.id).group_by(Objection.status)
    ).all())  # fmt: skip
    upheld = db.session.scalars(
        select(Objection).join(Case, Case.id == Objection.case_id)
        .where(Case.campaign_id == campaign.id, Objection.status == OBJECTION_UPHELD).order_by(Objection.decided_at)
    ).all()  # fmt: skip
    changes = []
    for objection in upheld:
        moved = db.session.get(Case, objection.moved_up_case_id) if objection.moved_up_case_id else None
        changes.append({"category_id": objection.case.category_id, "revoked_number": objection.case.number,
                        "revoked_title": objection.case.title,
                        "moved_up_number": moved.number if moved else None,
                        "moved_up_title": moved.title if moved else None})  # fmt: skip
    return {
        "starts_on": span[0].isoformat() if span[0] else None,
        "ends_on": span[1].isoformat() if span[1] else None,
        "objections": sum(counts.values()),
        "upheld": counts.get(OBJECTION_UPHELD, 0),
        "dismissed": counts.get(OBJECTION_DISMISSED, 0),
        "changes": changes,
    }
