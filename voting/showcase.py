"""What the public sees: finalists (and later winners) by category and domain, with search."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import Select, event, or_, select
from sqlalchemy.orm import Session

from accounts.models import Unit
from campaigns.models import Campaign, Category, Domain
from cases.dossier import form_of
from cases.models import Attachment, Case
from pingxuan.cache import SHOWCASE, bump
from pingxuan.errors import NotFound
from pingxuan.extensions import db
from workflow.definition import ANONYMOUS, PUBLIC, states_granting

SHOWN = (Campaign, Category, Domain, Case, Attachment, Unit)  # what the public pages print


@event.listens_for(Session, "after_flush")
def _showcase_changed(session: Session, _context: object) -> None:
    """Any change to what the showcase prints (a campaign's settings or vote status, a case, its photos, a
    unit's name) makes the cached public pages stale once the transaction commits; ``fire`` bumps too, since it
    moves states with a Core UPDATE that the ORM does not see."""
    if any(isinstance(row, SHOWN) for row in (*session.new, *session.dirty, *session.deleted)):
        bump(SHOWCASE)


def public_states() -> tuple[str, ...]:
    return states_granting(PUBLIC, {ANONYMOUS})


def showcase_query(
    campaign: Campaign, category_id: int | None = None, domain_id: int | None = None, search: str = ""
) -> Select:
    query = (
        select(Case)
        .join(Unit, Unit.id == Case.unit_id)
        .where(Case.campaign_id == campaign.id, Case.state.in_(public_states()))
        .order_by(Case.number)
    )
    if category_id:
        query = query.where(Case.category_id == category_id)
    if domain_id:
        query = query.where(Case.domain_id == domain_id)
    if search.strip():
        pattern = f"%{search.strip()}%"
        searched = [Case.dossier[item.key].as_string().ilike(pattern) for item in form_of(campaign).searched]
        query = query.where(
            or_(Case.title.ilike(pattern), Unit.name.ilike(pattern), Case.number.ilike(pattern), *searched)
        )
    return query


def public_case(case_id: int) -> Case:
    """A case the public may see; anything else is 'not found', never 'forbidden'."""
    case = db.session.get(Case, case_id)
    if case is None or case.state not in public_states():
        raise NotFound(_("No such case."))
    return case
