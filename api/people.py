"""People for staff and integrations: applicant units (one, or a sheet of them, all or nothing), their members'
invitations, invitations of experts and staff, and users with their role grants (as in the back office)."""

from __future__ import annotations

from typing import Any

from flask_smorest.fields import Upload
from marshmallow import Schema, fields, validate

from accounts import limits, people
from accounts.models import Invitation, Unit, User
from accounts.operations import invite_into_unit, invite_user, update_user
from accounts.permissions import require_staff
from api.auth import api_blueprint, require_actor, secured
from api.fields import UtcDateTime
from api.present import refused_rows
from api.schemas import InvitationCreateSchema, InvitationSchema, UnitSchema, UserSchema
from pingxuan.db import commit
from pingxuan.sheets import read_sheet
from workflow.definition import GLOBAL_ROLES

blp = api_blueprint("api_people", __name__, "People: units, members, invitations and users (staff)")


class UnitInputSchema(Schema):
    name = fields.String(required=True)
    kind = fields.String(required=True, metadata={"description": "government, enterprise or institution"})
    district = fields.String(required=True)
    credit_code = fields.String(required=True, metadata={"description": "统一社会信用代码, 18 characters"})
    parent_org = fields.String(load_default="")
    contact_name = fields.String(required=True)
    contact_phone = fields.String(required=True)


class UnitSheetSchema(Schema):
    file = Upload(required=True, metadata={"description": "CSV (UTF-8) or .xlsx; first row: " + ", ".join(
        people.UNIT_COLUMNS) + "; optional column " + people.MEMBERS + ": the members' e-mail addresses (commas, "
        "semicolons or spaces between them), each invited into the unit"})  # fmt: skip


class UnitRefSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    credit_code = fields.String()


class SheetInvitationSchema(Schema):
    id = fields.Integer()
    email = fields.String()
    unit_id = fields.Integer()
    expires_at = UtcDateTime()


class UnitImportResultSchema(Schema):
    rows = fields.Integer()
    created = fields.List(fields.Nested(UnitRefSchema))
    invited = fields.List(fields.Nested(SheetInvitationSchema), metadata={"description": "One per member address"})


class StaffInvitationSchema(Schema):
    email = fields.String(required=True)
    role = fields.String(required=True, validate=validate.OneOf(GLOBAL_ROLES))


class UserQuerySchema(Schema):
    role = fields.String(validate=validate.OneOf(GLOBAL_ROLES))


class UserUpdateSchema(Schema):
    name = fields.String()
    role = fields.String(validate=validate.OneOf(GLOBAL_ROLES))
    unit_id = fields.Integer(allow_none=True)
    active = fields.Boolean()


def _unit(unit: Unit) -> dict[str, Any]:
    return {
        **{name: getattr(unit, name) for name in ("id", *people.UNIT_COLUMNS)},
        "members": [{"id": m.id, "name": m.name, "email": m.email, "active": m.active} for m in unit.members],
    }


def _user(user: User) -> dict[str, Any]:
    unit = {"id": user.unit.id, "name": user.unit.name} if user.unit else None
    return {**{n: getattr(user, n) for n in ("id", "email", "name", "role", "locale", "active")}, "unit": unit}


def _invitation(invitation: Invitation) -> dict[str, Any]:
    return {"id": invitation.id, "email": invitation.email, "expires_at": invitation.expires_at}


@blp.route("/units", methods=["GET"])
@blp.response(200, UnitSchema(many=True))
@blp.alt_response(403, "FORBIDDEN")
@secured(blp)
def list_units():
    """Every applicant unit with its members (staff)."""
    return [_unit(u) for u in people.list_units(require_actor())]


@blp.route("/units", methods=["POST"])
@blp.arguments(UnitInputSchema)
@blp.response(201, UnitSchema)
@blp.alt_response(403, "FORBIDDEN")
@blp.alt_response(422, "UNPROCESSABLE_ENTITY")
@secured(blp)
def create_unit(data: dict[str, Any]):
    """Register an applicant unit (staff); its credit code is checked like at self-registration."""
    unit = people.create_unit(require_actor(), data)
    commit()
    return _unit(unit)


@blp.route("/units/import", methods=["POST"])
@blp.arguments(UnitSheetSchema, location="files")
@blp.response(201, UnitImportResultSchema)
@blp.alt_response(403, "FORBIDDEN")
@blp.alt_response(422, "UNPROCESSABLE_ENTITY")
@secured(blp)
def import_units(files: dict[str, Any]):
    """Create units from a CSV or Excel sheet, and invite the members its ``members`` column lists: every row or
    none (nobody is invited when a row is refused). One staff request, not throttled per invitation.

    In a 422 answer, ``errors`` maps each refused row's number (the header is row 1) to its problems.
    """
    actor = require_staff(require_actor())
    upload = files["file"]
    rows = read_sheet(upload.filename or "", upload.read(), ("name", "credit_code"))
    report = people.import_units(actor, rows)
    if not report.ok:
        raise refused_rows(report.errors)
    commit()
    return {"rows": len(rows), "created": [{"id": u.id, "name": u.name, "credit_code": u.credit_code}
                                           for u in report.created],
            "invited": [{"id": i.id, "email": i.email, "unit_id": i.unit_id, "expires_at": i.expires_at}
                        for i in report.invited]}  # fmt: skip


@blp.route("/units/<int:unit_id>", methods=["GET"])
@blp.response(200, UnitSchema)
@blp.alt_response(403, "FORBIDDEN")
@blp.alt_response(404, "NOT_FOUND")
@secured(blp)
def show_unit(unit_id: int):
    """One unit with its members (staff)."""
    return _unit(people.get_unit(require_actor(), unit_id))


@blp.route("/units/<int:unit_id>/invitations", methods=["POST"])
@blp.arguments(InvitationCreateSchema)
@blp.response(201, InvitationSchema)
@blp.alt_response(403, "FORBIDDEN")
@blp.alt_response(404, "NOT_FOUND")
@blp.alt_response(422, "UNPROCESSABLE_ENTITY")
@blp.alt_response(429, "TOO_MANY_REQUESTS")
@secured(blp)
@limits.staff_invitation_limits
def invite_member(data: dict[str, Any], unit_id: int):
    """Invite a member into a unit (staff): they get a link to set their name and password, never a password."""
    actor = require_actor()
    invitation = invite_into_unit(actor, people.get_unit(actor, unit_id), data["email"])
    commit()
    return _invitation(invitation)


@blp.route("/invitations", methods=["POST"])
@blp.arguments(StaffInvitationSchema)
@blp.response(201, InvitationSchema)
@blp.alt_response(403, "FORBIDDEN")
@blp.alt_response(422, "UNPROCESSABLE_ENTITY")
@blp.alt_response(429, "TOO_MANY_REQUESTS")
@secured(blp)
@limits.staff_invitation_limits
def invite(data: dict[str, Any]):
    """Invite an expert or a staff member (organizers; administrators only for administrators)."""
    invitation = invite_user(require_actor(), data["email"], data["role"])
    commit()
    return _invitation(invitation)


@blp.route("/users", methods=["GET"])
@blp.arguments(UserQuerySchema, location="query")
@blp.response(200, UserSchema(many=True))
@blp.alt_response(403, "FORBIDDEN")
@secured(blp)
def list_users(args: dict[str, Any]):
    """Every account, or those of one role (staff)."""
    return [_user(u) for u in people.list_users(require_actor(), args.get("role"))]


@blp.route("/users/<int:user_id>", methods=["PATCH"])
@blp.arguments(UserUpdateSchema)
@blp.response(200, UserSchema)
@blp.alt_response(403, "FORBIDDEN")
@blp.alt_response(404, "NOT_FOUND")
@blp.alt_response(422, "UNPROCESSABLE_ENTITY")
@secured(blp)
def change_user(data: dict[str, Any], user_id: int):
    """Change a person's name, role, unit or whether they may log in; role grants as in the back office."""
    actor = require_actor()
    user = people.get_user(actor, user_id)
    unit = user.unit
    if "unit_id" in data:
        unit = people.get_unit(actor, data["unit_id"]) if data["unit_id"] is not None else None
    update_user(actor, user, data.get("name", user.name), data.get("role", user.role), unit,
                data.get("active", user.active))  # fmt: skip
    commit()
    return _user(user)
