"""Service tokens: API tokens an administrator makes for an integration, limited to explicit scopes.

A service token acts as a service account of its own (a user named after the token, who can never log in:
no usable password, an address under ``.invalid``), so whatever it does is recorded under the token's name
in the workflow events and every other audit, and revoking the token disables that account too. Each
request made with one is kept in ``api_token_requests`` with the scope it needed and whether it was let in.
A scope is ``<area>:read`` or ``<area>:write``; write includes read. Personal tokens (``scopes`` None) keep
all of their person's rights.
"""

from __future__ import annotations

import hashlib
import secrets

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from werkzeug.security import check_password_hash

from accounts.models import ApiToken, ApiTokenRequest, User
from pingxuan.db import utcnow
from pingxuan.errors import Forbidden, Invalid, NotFound
from pingxuan.extensions import db
from workflow.definition import ADMIN, ORGANIZER

# The areas an integration may be given, each readable or writable. The API maps its endpoints onto them.
AREAS = {
    "campaign": _l("campaigns, their taxonomy, rubric, organizations and archives"),
    "people": _l("units, members, invitations, users and experts' accounts"),
    "cases": _l("cases, their dossiers, eligibility and workflow actions"),
    "review": _l("the expert pool, assignments, reviews and shortlists"),
    "vote": _l("the public vote's administration"),
    "awards": _l("ranking, awards and certificates"),
    "books": _l("meeting books"),
    "notifications": _l("the service account's own notifications"),
}
AREA_NAMES = {
    "campaign": _l("Campaigns"), "people": _l("People"), "cases": _l("Cases"), "review": _l("Expert review"),
    "vote": _l("Public vote"), "awards": _l("Awards"), "books": _l("Meeting books"),
    "notifications": _l("Notifications"),
}  # fmt: skip
ACCESS_NAMES = {"read": _l("read"), "write": _l("read and write")}
SCOPES = tuple(f"{area}:{access}" for area in AREAS for access in ("read", "write"))


def scope_title(scope: str) -> str:
    """A scope in words ("案例：读写"); the key (``cases:write``) is what an integration names."""
    area, _sep, access = scope.partition(":")
    if area not in AREA_NAMES or access not in ACCESS_NAMES:
        return scope
    return _("%(area)s: %(access)s", area=AREA_NAMES[area], access=ACCESS_NAMES[access])


SERVICE_ROLES = (ORGANIZER, ADMIN)
UNUSABLE_PASSWORD = "!"  # not a werkzeug hash: check_password_hash() is always False


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _require_admin(actor: User | None) -> User:
    if actor is None or actor.role != ADMIN:
        raise Forbidden(_("Only administrators manage service tokens."))
    return actor


def grants(scopes: list[str], needed: str) -> bool:
    """Whether ``scopes`` allow ``needed`` (``area:read`` or ``area:write``); write includes read."""
    area, _sep, access = needed.partition(":")
    return needed in scopes or (access == "read" and f"{area}:write" in scopes)


def create_service_token(actor: User, name: str, scopes: list[str], role: str = ORGANIZER) -> tuple[str, ApiToken]:
    """Make a service account and its token; the token is returned once and only its SHA-256 is kept."""
    _require_admin(actor)
    name = (name or "").strip()
    chosen = list(dict.fromkeys(s.strip() for s in scopes if s and s.strip()))
    errors: dict[str, str] = {}
    if not name:
        errors["name"] = _("Give the token a name.")
    elif len(name) > 100:
        errors["name"] = _("At most %(n)d characters.", n=100)
    unknown = [s for s in chosen if s not in SCOPES]
    if unknown:
        errors["scopes"] = _("Unknown scopes: %(scopes)s.", scopes=", ".join(unknown))
    elif not chosen:
        errors["scopes"] = _("Choose at least one scope.")
    if role not in SERVICE_ROLES:
        errors["role"] = _("A service token acts as an organizer or an administrator.")
    if errors:
        raise Invalid(_("Please correct the marked fields."), errors)
    account = User(
        email=f"service-{secrets.token_hex(8)}@tokens.pingxuan.invalid",
        name=name,
        password_hash=UNUSABLE_PASSWORD,
        role=role,
    )
    db.session.add(account)
    db.session.flush()
    plain = "pxs_" + secrets.token_urlsafe(32)
    record = ApiToken(
        user_id=account.id, name=name, token_hash=_digest(plain), scopes=" ".join(chosen), created_by_id=actor.id
    )
    db.session.add(record)
    db.session.flush()
    return plain, record


def require_password(actor: User, password: str | None) -> None:
    """A token alone cannot make tokens (one stolen token would make others that outlive its revocation): making a
    service token through the API also takes the administrator's password, as changing it does."""
    _require_admin(actor)
    if not check_password_hash(actor.password_hash, password or ""):
        raise Invalid(_("Please correct the marked fields."), {"password": _("The password is wrong.")})


def get_service_token(actor: User, token_id: int) -> ApiToken:
    _require_admin(actor)
    record = db.session.get(ApiToken, token_id)
    if record is None or record.scopes is None:
        raise NotFound(_("No such token."))
    return record


def list_service_tokens(actor: User) -> list[ApiToken]:
    _require_admin(actor)
    return list(db.session.scalars(select(ApiToken).where(ApiToken.scopes.is_not(None)).order_by(ApiToken.id.desc())))


def revoke_service_token(actor: User, token_id: int) -> ApiToken:
    """Revoke the token and disable its service account: the next request with it gets 401."""
    record = get_service_token(actor, token_id)
    if record.revoked_at is None:
        record.revoked_at = utcnow()
        record.user.active = False
    db.session.flush()
    return record


def token_record(plain: str) -> ApiToken | None:
    """The live token (personal or service) a bearer string names, its last use noted; None when not valid."""
    record = db.session.scalar(
        select(ApiToken).where(ApiToken.token_hash == _digest(plain or ""), ApiToken.revoked_at.is_(None))
    )
    if record is None or not record.user.active:
        return None
    record.last_used_at = utcnow()
    return record


def record_request(record: ApiToken, method: str, path: str, scope: str, allowed: bool) -> None:
    """Keep one request of a service token in its audit trail."""
    db.session.add(
        ApiTokenRequest(token_id=record.id, method=method[:10], path=path[:500], scope=scope[:50], allowed=allowed)
    )
    db.session.flush()


def recent_requests(actor: User, token_id: int, limit: int = 50) -> list[ApiTokenRequest]:
    _require_admin(actor)
    return list(
        db.session.scalars(
            select(ApiTokenRequest)
            .where(ApiTokenRequest.token_id == token_id)
            .order_by(ApiTokenRequest.id.desc())
            .limit(limit)
        )
    )
