"""The expert pool: profiles, and importing experts from a CSV or Excel sheet (all rows or none)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import func, select

from accounts.models import User
from accounts.operations import email_error, new_account_without_password, send_welcome
from accounts.permissions import require_staff
from campaigns.models import Campaign, Category, Domain
from pingxuan import sheets
from pingxuan.errors import Invalid, NotFound
from pingxuan.extensions import db
from pingxuan.text import hidden_character_error
from reviewers.models import LIVE, Assignment, Expert
from workflow.definition import EXPERT

COLUMNS = ("email", "name", "organization", "parent_org", "title", "max_load", "categories", "domains")
_SEPARATORS = str.maketrans({"；": ";", "，": ";", ",": ";", "、": ";"})


@dataclass
class PoolEntry:
    user: User
    expert: Expert | None  # None: an expert account without a profile yet
    load: int  # live assignments


@dataclass
class ImportReport:
    created: list[str] = field(default_factory=list)
    errors: dict[int, list[str]] = field(default_factory=dict)  # row number (1 = header) → problems

    @property
    def ok(self) -> bool:
        return not self.errors


def update_profile(actor: User, user: User, data: dict[str, Any], campaign: Campaign) -> Expert:
    """Create or change an expert's profile; expertise names refer to the campaign's taxonomy."""
    require_staff(actor)
    if user.role != EXPERT:
        raise Invalid(_("This person is not an expert."))
    expert = db.session.get(Expert, user.id) or Expert(user_id=user.id)
    errors = _apply(expert, data, _taxonomy(campaign))
    if errors:
        raise Invalid(_("Please correct the marked fields."), errors)
    db.session.add(expert)
    db.session.flush()
    return expert


def _apply(
    expert: Expert, data: dict[str, Any], taxonomy: tuple[dict[str, Category], dict[str, Domain]]
) -> dict[str, str]:
    errors: dict[str, str] = {}
    for name in ("organization", "parent_org", "title"):
        if name in data:
            setattr(expert, name, (data[name] or "").strip()[:200])
    if "max_load" in data:
        try:
            load = int(str(data["max_load"]).strip() or "20")
            if not 1 <= load <= 500:
                raise ValueError
            expert.max_load = load
        except ValueError:
            errors["max_load"] = _("Enter a whole number from 1 to 500.")
    if "active" in data:
        expert.active = bool(data["active"])
    categories, domains = taxonomy
    if "categories" in data:
        chosen, unknown = _lookup(data["categories"], categories)
        if unknown:
            errors["categories"] = _("Unknown categories: %(names)s.", names=", ".join(unknown))
        expert.categories = chosen
    if "domains" in data:
        chosen, unknown = _lookup(data["domains"], domains)
        if unknown:
            errors["domains"] = _("Unknown domains: %(names)s.", names=", ".join(unknown))
        expert.domains = chosen
    return errors


def _taxonomy(campaign: Campaign) -> tuple[dict[str, Category], dict[str, Domain]]:
    categories: dict[str, Category] = {}
    domains: dict[str, Domain] = {}
    for category in campaign.categories:
        for key in (category.code, category.name_zh, category.name_en, str(category.id)):
            categories[key.lower()] = category
        for domain in category.domains:
            for key in (domain.name_zh, domain.name_en, str(domain.id)):
                domains.setdefault(key.lower(), domain)
    return categories, domains


def _lookup(value: Any, known: dict[str, Any]) -> tuple[list[Any], list[str]]:
    names = value if isinstance(value, list | tuple) else str(value or "").translate(_SEPARATORS).split(";")
    chosen, unknown = [], []
    for name in (str(n).strip() for n in names):
        if not name:
            continue
        item = known.get(name.lower())
        if item is None:
            unknown.append(name)
        elif item not in chosen:
            chosen.append(item)
    return chosen, unknown


def read_sheet(filename: str, data: bytes) -> list[dict[str, str]]:
    """Rows of the experts' CSV or .xlsx sheet (columns email and name at least)."""
    return sheets.read_sheet(filename, data, ("email", "name"))


def import_experts(actor: User, campaign: Campaign, rows: list[dict[str, str]]) -> ImportReport:
    """Create or update one expert per row and invite the new ones; if any row is wrong, nothing is kept.

    New experts get no password (none is hashed, none mailed): the welcome link lets them choose one. The rows
    are checked against one query for the addresses already known and one for their profiles, and written in
    one flush, so a thousand experts take well under two seconds (bench/expert_import.py). The invitations go
    out only once every row has passed: nobody is mailed about an account that was rolled back.
    """
    require_staff(actor)
    report = ImportReport()
    emails = {(row.get("email") or "").strip().lower() for row in rows}
    known = {u.email.lower(): u for u in db.session.scalars(select(User).where(func.lower(User.email).in_(emails)))}
    profiles = {e.user_id: e for e in db.session.scalars(
        select(Expert).where(Expert.user_id.in_([u.id for u in known.values()])))}  # fmt: skip
    taxonomy = _taxonomy(campaign)
    seen: set[str] = set()
    new: list[User] = []
    with db.session.begin_nested() as savepoint:
        with db.session.no_autoflush:
            for number, row in enumerate(rows, start=2):
                problems = _import_row(row, seen, known, profiles, taxonomy, report, new)
                if problems:
                    report.errors[number] = problems
        if report.errors:
            savepoint.rollback()
            report.created.clear()
            return report
        db.session.flush()
    for user in new:
        send_welcome(user)
    return report


def _import_row(
    row: dict[str, str], seen: set[str], known: dict[str, User], profiles: dict[int, Expert],
    taxonomy: tuple[dict[str, Category], dict[str, Domain]], report: ImportReport, new: list[User],
) -> list[str]:  # fmt: skip
    email = (row.get("email") or "").strip().lower()
    if message := email_error(email):
        return [message]
    if email in seen:
        return [_("This e-mail address appears twice in the sheet.")]
    seen.add(email)
    name = (row.get("name") or "").strip()
    if not name:
        return [_("Enter the expert's name.")]
    if message := hidden_character_error(name):
        return [message]
    user = known.get(email)
    if user is not None and user.role != EXPERT:
        return [_("This address belongs to an account that is not an expert.")]
    profile = {k: row[k] for k in COLUMNS[2:] if k in row}
    if user is None:
        user = new_account_without_password(email, name, EXPERT)
        new.append(user)
        report.created.append(email)
        expert = Expert(user=user)
    else:
        expert = profiles.get(user.id) or Expert(user_id=user.id)
    errors = _apply(expert, profile, taxonomy)
    db.session.add(expert)
    return list(errors.values())


def get_expert(user_id: int) -> Expert:
    expert = db.session.get(Expert, user_id)
    if expert is None:
        raise NotFound(_("No such expert."))
    return expert


def list_pool(actor: User) -> list[PoolEntry]:
    """Every expert account with its profile (if any) and current load, for the organizers' pool page."""
    require_staff(actor)
    loads = dict(
        db.session.execute(
            select(Assignment.expert_id, func.count()).where(Assignment.status.in_(LIVE)).group_by(Assignment.expert_id)
        ).all()
    )
    rows = db.session.execute(
        select(User, Expert).outerjoin(Expert, Expert.user_id == User.id).where(User.role == EXPERT).order_by(User.name)
    ).all()
    return [PoolEntry(user, expert, loads.get(user.id, 0)) for user, expert in rows]


def get_expert_user(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None or user.role != EXPERT:
        raise NotFound(_("No such expert."))
    return user
