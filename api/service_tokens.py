"""Service tokens through the API (administrators): list them, make one (its secret shown once), see its
requests, revoke it, as in the back office (People → Service tokens).

In no scope area: a service token cannot reach these endpoints, and making a token also takes the
administrator's password, so a token alone never makes tokens (one stolen token would make others that outlive
its revocation). Limited like a password change (it checks a password)."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, validate

from accounts import limits
from accounts import service_tokens as tokens
from accounts.models import ApiToken
from api.auth import api_blueprint, require_actor, secured
from api.fields import UtcDateTime
from pingxuan.db import commit

blp = api_blueprint("api_service_tokens", __name__, "Service tokens for integrations (administrators)")


class ServiceTokenSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    scopes = fields.List(fields.String())
    role = fields.String(metadata={"description": "What the token's service account acts as: organizer or admin"})
    created_at = UtcDateTime()
    created_by = fields.String(allow_none=True)
    last_used_at = UtcDateTime(allow_none=True)
    revoked_at = UtcDateTime(allow_none=True)


class NewServiceTokenSchema(ServiceTokenSchema):
    token = fields.String(metadata={"description": "The token itself (pxs_…): shown only in this response"})


class ServiceTokenCreateSchema(Schema):
    name = fields.String(required=True, metadata={"description": "The integration it is for"})
    scopes = fields.List(fields.String(validate=validate.OneOf(tokens.SCOPES)), required=True,
                         metadata={"description": "<area>:read or <area>:write (write includes read); areas: "
                                   + ", ".join(tokens.AREAS)})  # fmt: skip
    role = fields.String(load_default=tokens.SERVICE_ROLES[0], validate=validate.OneOf(tokens.SERVICE_ROLES))
    password = fields.String(required=True, load_only=True,
                             metadata={"description": "The administrator's own password: a token alone makes no "
                                       "tokens"})  # fmt: skip


class TokenRequestSchema(Schema):
    method = fields.String()
    path = fields.String()
    scope = fields.String(metadata={"description": "The scope the endpoint needs"})
    allowed = fields.Boolean()
    created_at = UtcDateTime()


def _token(record: ApiToken) -> dict[str, Any]:
    return {
        "id": record.id, "name": record.name, "scopes": record.scope_list, "role": record.user.role,
        "created_at": record.created_at, "created_by": record.created_by.name if record.created_by else None,
        "last_used_at": record.last_used_at, "revoked_at": record.revoked_at,
    }  # fmt: skip


@blp.route("/service-tokens", methods=["GET"])
@blp.response(200, ServiceTokenSchema(many=True))
@blp.alt_response(403, "FORBIDDEN")
@secured(blp)
def list_tokens():
    """Every service token, newest first, revoked ones too (the tokens themselves are never shown again)."""
    return [_token(record) for record in tokens.list_service_tokens(require_actor())]


@blp.route("/service-tokens", methods=["POST"])
@blp.arguments(ServiceTokenCreateSchema)
@blp.response(201, NewServiceTokenSchema)
@blp.alt_response(403, "FORBIDDEN")
@blp.alt_response(422, "UNPROCESSABLE_ENTITY")
@blp.alt_response(429, "TOO_MANY_REQUESTS")
@secured(blp)
@limits.password_limits
def create(data: dict[str, Any]):
    """Make a service token with its scopes, acting as a service account named after it; the answer holds the
    token, shown this once. Needs the administrator's password besides their personal token."""
    actor = require_actor()
    tokens.require_password(actor, data["password"])
    plain, record = tokens.create_service_token(actor, data["name"], data["scopes"], data["role"])
    commit()
    return {**_token(record), "token": plain}


@blp.route("/service-tokens/<int:token_id>/requests", methods=["GET"])
@blp.response(200, TokenRequestSchema(many=True))
@blp.alt_response(403, "FORBIDDEN")
@blp.alt_response(404, "NOT_FOUND")
@secured(blp)
def requests(token_id: int):
    """The token's 50 latest requests: what it asked, the scope that needed, whether it was let in."""
    actor = require_actor()
    return tokens.recent_requests(actor, tokens.get_service_token(actor, token_id).id)


@blp.route("/service-tokens/<int:token_id>/revoke", methods=["POST"])
@blp.response(200, ServiceTokenSchema)
@blp.alt_response(403, "FORBIDDEN")
@blp.alt_response(404, "NOT_FOUND")
@secured(blp)
def revoke(token_id: int):
    """Revoke the token and disable its service account: its next request gets 401. Revoking again changes
    nothing."""
    record = tokens.revoke_service_token(require_actor(), token_id)
    commit()
    return _token(record)
