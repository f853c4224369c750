"""Bearer-token authentication of the JSON API.

The API authenticates by personal access token only (``Authorization: Bearer px_...``), never by the session
cookie of the pages, so its blueprints are CSRF-exempt. A request without a token is anonymous: it may read
what the declaration grants to everyone (public cases, the campaign) and gets 401 elsewhere. A request with
a wrong, revoked or malformed token always gets 401, never a silent downgrade to anonymous.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from flask import g, request
from flask_babel import gettext as _
from flask_smorest import Blueprint

from accounts.models import User
from accounts.service_tokens import AREAS, grants, record_request, token_record
from pingxuan.db import commit
from pingxuan.errors import DomainError, Forbidden

BEARER = "bearerAuth"
SECURITY_SCHEME = {
    "type": "http",
    "scheme": "bearer",
    "description": (
        "A personal access token (created on the account page /tokens by a person logged in; a token cannot "
        "create tokens), or a service token "
        "an administrator made for an integration in the back office (People → Service tokens). A service token "
        "only reaches the endpoints its scopes allow: `<area>:read` for GET, `<area>:write` for the rest (write "
        "includes read); areas: " + ", ".join(AREAS) + " (each endpoint's area follows its tag: the workflow "
        "and eligibility tags are `cases`, the experts tag is `review`, campaign archives are `campaign`; the caller's "
        "own account and the service tokens themselves are in none). "
        "Every request with a service token is audited under the token's name."
    ),
}
PREFIX = "/api/v1"

F = TypeVar("F", bound=Callable)

# Endpoints that also answer anonymous callers (what the declaration grants to ``anonymous``).
_PUBLIC_ENDPOINTS: set[str] = set()
BLUEPRINTS: list[Blueprint] = []


class Unauthorized(DomainError):
    """No valid token where one is needed."""

    status = 401


def api_blueprint(name: str, import_name: str, description: str) -> Blueprint:
    """A blueprint of the API: under /api/v1, authenticated by token before anything else runs."""
    blp = Blueprint(name, import_name, url_prefix=PREFIX, description=description)
    blp.before_request(authenticate)
    BLUEPRINTS.append(blp)
    return blp


def authenticate() -> None:
    """Resolve the bearer token into ``g.api_user``; refuse bad tokens and anonymous calls to private endpoints."""
    g.api_user = g.api_token_id = None  # always reset: an app context may outlive one request (tests, CLI)
    header = request.headers.get("Authorization")
    if header is None:
        if request.endpoint not in _PUBLIC_ENDPOINTS:
            raise Unauthorized(_("Authentication required: send an API token as “Authorization: Bearer <token>”."))
        return
    scheme, _sep, token = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized(_("Send the API token as “Authorization: Bearer <token>”."))
    record = token_record(token.strip())
    if record is None:
        raise Unauthorized(_("This API token is not valid or has been revoked."))
    if record.scopes is not None:  # a service token: only its scopes, every request audited
        needed = required_scope()
        allowed = grants(record.scope_list, needed)
        record_request(record, request.method, request.path, needed, allowed)
        commit()
        if not allowed:
            raise Forbidden(_("This service token lacks the scope %(scope)s.", scope=needed), reasons=[needed])
    commit()  # keeps the token's last use
    g.api_user, g.api_token_id = record.user, record.id


# Blueprint name prefixes → the scope area of their endpoints (the longest matching prefix wins). Endpoints of
# the caller's own account are in no area a service token can be given.
_AREA_OF_BLUEPRINT = {
    "api_campaign": "campaign",
    "api_people": "people",
    "api_cases": "cases",
    "api_workflow": "cases",
    "api_eligibility": "cases",
    "api_reviews": "review",
    "api_experts": "review",
    "api_voting": "vote",
    "api_integrity": "vote",
    "api_awards": "awards",
    "api_books": "books",
    "api_notifications": "notifications",
}


def scope_area(blueprint: str | None) -> str:
    matches = [prefix for prefix in _AREA_OF_BLUEPRINT if (blueprint or "").startswith(prefix)]
    return _AREA_OF_BLUEPRINT[max(matches, key=len)] if matches else "account"


def required_scope() -> str:
    """The scope this request needs: its endpoint's area, read for GET/HEAD/OPTIONS, write otherwise."""
    access = "read" if request.method in ("GET", "HEAD", "OPTIONS") else "write"
    return f"{scope_area(request.blueprint)}:{access}"


def current_actor() -> User | None:
    """The authenticated caller, or None for an anonymous one."""
    return g.get("api_user")


def require_actor() -> User:
    user = current_actor()
    if user is None:  # endpoints not marked public never get here anonymously; this is a second line
        raise Unauthorized(_("Authentication required."))
    return user


def secured(blp: Blueprint, public: bool = False) -> Callable[[F], F]:
    """Document the endpoint's security (bearer, optional when ``public``) and its 401 answer."""

    def decorator(fn: F) -> F:
        if public:
            _PUBLIC_ENDPOINTS.add(f"{blp.name}.{fn.__name__}")
        fn = blp.alt_response(401, "UNAUTHORIZED")(fn)
        return blp.doc(security=[{}, {BEARER: []}] if public else [{BEARER: []}])(fn)

    return decorator
