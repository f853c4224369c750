"""The caller's account: profile, password, personal access tokens, and their applicant unit."""

from __future__ import annotations

from typing import Any

from flask import g
from flask_babel import gettext as _

from accounts import limits
from accounts.models import ApiToken, User
from accounts.operations import (
    change_password,
    create_api_token,
    invite_member,
    list_api_tokens,
    revoke_api_token,
)
from api.auth import api_blueprint, require_actor, secured
from api.schemas import (
    InvitationCreateSchema,
    InvitationSchema,
    NewTokenSchema,
    PasswordChangeSchema,
    TokenCreateSchema,
    TokenSchema,
    UnitSchema,
    UserSchema,
)
from pingxuan.db import commit
from pingxuan.errors import NotFound

blp = api_blueprint("api_accounts", __name__, "The caller's account, API tokens and applicant unit")


def _user(user: User) -> dict[str, Any]:
    unit = {"id": user.unit.id, "name": user.unit.name} if user.unit else None
    fields = {name: getattr(user, name) for name in ("id", "email", "name", "role", "locale")}
    return {**fields, "unit": unit}


def _token(record: ApiToken) -> dict[str, Any]:
    return {"id": record.id, "name": record.name, "created_at": record.created_at, "last_used_at": record.last_used_at}


@blp.route("/me", methods=["GET"])
@blp.response(200, UserSchema)
@secured(blp)
def me():
    """Who the token belongs to."""
    return _user(require_actor())


@blp.route("/me/password", methods=["POST"])
@blp.arguments(PasswordChangeSchema)
@blp.response(204)
@blp.alt_response(429, "TOO_MANY_REQUESTS")
@secured(blp)
@limits.password_limits
def password(data: dict[str, Any]):
    """Change the caller's password; the current one must be given.

    The caller's sessions on the pages end and their other personal tokens are revoked (whoever knew the old
    password may have made them); the token making this call keeps working.
    """
    change_password(require_actor(), data["current_password"], data["new_password"], g.api_token_id)
    commit()


@blp.route("/me/tokens", methods=["GET"])
@blp.response(200, TokenSchema(many=True))
@secured(blp)
def tokens():
    """The caller's active API tokens (the tokens themselves are never shown again)."""
    return [_token(record) for record in list_api_tokens(require_actor())]


@blp.route("/me/tokens", methods=["POST"])
@blp.arguments(TokenCreateSchema)
@blp.response(201, NewTokenSchema)
@blp.alt_response(403, "FORBIDDEN")
@secured(blp)
def create_token(data: dict[str, Any]):
    """Refused (403): a token cannot make tokens, or one stolen token would make others that outlive its
    revocation. Personal tokens are created on the account page (/tokens), by a person logged in."""
    plain, record = create_api_token(require_actor(), data["name"], via_token_id=g.api_token_id)
    commit()
    return {**_token(record), "token": plain}


@blp.route("/me/tokens/<int:token_id>", methods=["DELETE"])
@blp.response(204)
@blp.alt_response(404, "NOT_FOUND")
@secured(blp)
def revoke_token(token_id: int):
    """Revoke one of the caller's tokens; it stops working at once."""
    revoke_api_token(require_actor(), token_id)
    commit()


@blp.route("/unit", methods=["GET"])
@blp.response(200, UnitSchema)
@blp.alt_response(404, "NOT_FOUND")
@secured(blp)
def unit():
    """The caller's applicant unit and its members."""
    actor = require_actor()
    if actor.unit is None:
        raise NotFound(_("You do not belong to an applicant unit."))
    found = actor.unit
    return {
        **{
            name: getattr(found, name)
            for name in ("id", "name", "kind", "district", "credit_code", "parent_org", "contact_name", "contact_phone")
        },
        "members": [{"id": m.id, "name": m.name, "email": m.email, "active": m.active} for m in found.members],
    }


@blp.route("/unit/invitations", methods=["POST"])
@blp.arguments(InvitationCreateSchema)
@blp.response(201, InvitationSchema)
@blp.alt_response(403, "FORBIDDEN")
@blp.alt_response(429, "TOO_MANY_REQUESTS")
@secured(blp)
@limits.invitation_limits
def invite(data: dict[str, Any]):
    """Invite a colleague into the caller's unit; they receive a link by mail."""
    invitation = invite_member(require_actor(), data["email"])
    commit()
    return {"id": invitation.id, "email": invitation.email, "expires_at": invitation.expires_at}
