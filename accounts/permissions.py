"""Global-role checks shared by operations (case-level permissions come from the workflow declaration)."""

from __future__ import annotations

from flask_babel import gettext as _

from accounts.models import User
from pingxuan.errors import Forbidden
from workflow.definition import ADMIN, EXPERT, STAFF


def require_staff(actor: User | None) -> User:
    if actor is None or not getattr(actor, "is_authenticated", False) or actor.role not in STAFF:
        raise Forbidden(_("Only organizers may do this."))
    return actor


def require_expert(actor: User | None) -> User:
    if actor is None or not getattr(actor, "is_authenticated", False) or actor.role != EXPERT:
        raise Forbidden(_("Only experts may do this."))
    return actor


def require_admin(actor: User | None) -> User:
    if actor is None or not getattr(actor, "is_authenticated", False) or actor.role != ADMIN:
        raise Forbidden(_("Only administrators may do this."))
    return actor
