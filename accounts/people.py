"""Units made by staff, one at a time or from a spreadsheet (integrations and organizers setting a campaign up).

A sheet is all or nothing: every row is checked (credit code and its check digit, duplicates in the sheet and
against the units already registered, kind, district, contact, the members' e-mail addresses) and every refused
row is reported with its number and reasons; when any row is refused, no unit is created and nobody is invited.
The optional ``members`` column lists the addresses of the unit's members (separated by commas, semicolons or
spaces): each is invited into the unit in the same import, as one staff action (no per-invitation throttling).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select

from accounts.models import UNIT_KINDS, Invitation, Unit, User
from accounts.operations import credit_code_error, email_error, invite_into_unit, phone_error, unit_text_errors
from accounts.permissions import require_staff
from pingxuan.errors import Invalid, NotFound
from pingxuan.extensions import db

UNIT_COLUMNS = ("name", "kind", "district", "credit_code", "parent_org", "contact_name", "contact_phone")
MEMBERS = "members"  # optional column: the members' e-mail addresses, each invited into the unit
_SEPARATORS = re.compile(r"[\s,;，；、]+")


@dataclass
class UnitImportReport:
    created: list[Unit] = field(default_factory=list)
    invited: list[Invitation] = field(default_factory=list)
    errors: dict[int, list[str]] = field(default_factory=dict)  # row number (1 = header) → problems

    @property
    def ok(self) -> bool:
        return not self.errors


def _unit_errors(data: dict[str, Any], names: set[str], codes: set[str]) -> tuple[dict[str, str], dict[str, str]]:
    """Field errors of one unit's data, and the cleaned values; ``names``/``codes`` are those already taken."""
    clean = {k: str(data.get(k) or "").strip() for k in UNIT_COLUMNS}
    clean["credit_code"] = clean["credit_code"].upper()
    clean["contact_phone"] = clean["contact_phone"].replace(" ", "")
    errors: dict[str, str] = {}
    if not clean["name"]:
        errors["name"] = _("Enter the unit's full name.")
    elif clean["name"] in names:
        errors["name"] = _("A unit with this name is registered already.")
    if clean["kind"] not in UNIT_KINDS:
        errors["kind"] = _("Choose the kind of unit: %(kinds)s.", kinds=", ".join(UNIT_KINDS))
    if not clean["district"]:
        errors["district"] = _("Enter the district.")
    if message := credit_code_error(clean["credit_code"]):
        errors["credit_code"] = message
    elif clean["credit_code"] in codes:
        errors["credit_code"] = _("A unit with this credit code is registered already.")
    if not clean["contact_name"]:
        errors["contact_name"] = _("Enter the contact person.")
    if message := phone_error(clean["contact_phone"]):
        errors["contact_phone"] = message
    errors |= unit_text_errors(clean)
    return errors, clean


def _taken() -> tuple[set[str], set[str]]:
    rows = db.session.execute(select(Unit.name, Unit.credit_code)).all()
    return {r.name for r in rows}, {r.credit_code for r in rows}


def create_unit(actor: User, data: dict[str, Any]) -> Unit:
    require_staff(actor)
    names, codes = _taken()
    errors, clean = _unit_errors(data, names, codes)
    if errors:
        raise Invalid(_("Please correct the marked fields."), errors)
    unit = Unit(**clean)
    db.session.add(unit)
    db.session.flush()
    return unit


def import_units(actor: User, rows: list[dict[str, str]]) -> UnitImportReport:
    """Create one unit per row, or none when any row is refused (each refused row reported with its reasons)."""
    require_staff(actor)
    report = UnitImportReport()
    names, codes = _taken()
    in_sheet_names: dict[str, int] = {}
    in_sheet_codes: dict[str, int] = {}
    in_sheet_emails: dict[str, int] = {}
    cleaned, members = [], []
    for number, row in enumerate(rows, start=2):
        errors, clean = _unit_errors(row, names, codes)
        emails, error = _member_emails(row.get(MEMBERS), number, in_sheet_emails)
        if error:
            errors[MEMBERS] = error
        members.append(emails)
        if "name" not in errors and clean["name"] in in_sheet_names:
            errors["name"] = _("Same name as row %(n)d.", n=in_sheet_names[clean["name"]])
        if "credit_code" not in errors and clean["credit_code"] in in_sheet_codes:
            errors["credit_code"] = _("Same credit code as row %(n)d.", n=in_sheet_codes[clean["credit_code"]])
        in_sheet_names.setdefault(clean["name"], number)
        in_sheet_codes.setdefault(clean["credit_code"], number)
        if errors:
            report.errors[number] = [f"{name}: {message}" for name, message in errors.items()]
        cleaned.append(clean)
    if not rows:
        report.errors[1] = [_("The sheet has no units.")]
    if report.errors:
        return report
    report.created = [Unit(**clean) for clean in cleaned]
    db.session.add_all(report.created)
    db.session.flush()
    for unit, emails in zip(report.created, members, strict=True):
        report.invited += [invite_into_unit(actor, unit, email) for email in emails]
    return report


def _member_emails(cell: str | None, number: int, seen: dict[str, int]) -> tuple[list[str], str | None]:
    """The addresses of a row's members column (normalized), or why they cannot be invited; ``seen`` (address →
    row) catches an address given twice in the sheet."""
    emails = list(dict.fromkeys(e.lower() for e in _SEPARATORS.split(str(cell or "").strip()) if e))
    problems = []
    for email in emails:
        if message := email_error(email):
            problems.append(f"{email}: {message}")
        elif email in seen:
            problems.append(_("%(email)s is given in row %(n)d too.", email=email, n=seen[email]))
        seen.setdefault(email, number)
    if emails and not problems:
        taken = db.session.scalars(select(User.email).where(User.email.in_(emails))).all()
        problems += [_("%(email)s has an account already.", email=email) for email in taken]
    return emails, "; ".join(problems) or None


def list_units(actor: User) -> list[Unit]:
    require_staff(actor)
    return list(db.session.scalars(select(Unit).order_by(Unit.id)))


def get_unit(actor: User, unit_id: int) -> Unit:
    require_staff(actor)
    unit = db.session.get(Unit, unit_id)
    if unit is None:
        raise NotFound(_("No such unit."))
    return unit


def list_users(actor: User, role: str | None = None) -> list[User]:
    require_staff(actor)
    query = select(User).order_by(User.id)
    if role:
        query = query.where(User.role == role)
    return list(db.session.scalars(query))


def get_user(actor: User, user_id: int) -> User:
    require_staff(actor)
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound(_("No such user."))
    return user
