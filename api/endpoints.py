"""Pieces every endpoint module repeated: the usual error answers documented in one line, a record by id or 404,
the calling organizer."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask_smorest import Blueprint

from accounts.models import User
from accounts.permissions import require_staff
from api.auth import require_actor
from pingxuan.errors import NotFound
from pingxuan.extensions import db

F = TypeVar("F", bound=Callable[..., Any])

# The name of each error answer in the OpenAPI document (its component response, see api/__init__.py).
ERRORS = {
    400: "BAD_REQUEST",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    409: "CONFLICT",
    422: "UNPROCESSABLE_ENTITY",
    429: "TOO_MANY_REQUESTS",
}


def refusals(blp: Blueprint, *codes: int) -> Callable[[F], F]:
    """Document the endpoint's error answers (403, 404, 422, …); one with a description of its own is still
    written out with ``blp.alt_response``."""

    def decorator(fn: F) -> F:
        for code in reversed(codes):
            fn = blp.alt_response(code, ERRORS[code])(fn)
        return fn

    return decorator


def found(model: type, ident: int, message: str) -> Any:
    """The record of ``model`` with this id, or a 404 saying ``message``."""
    record = db.session.get(model, ident)
    if record is None:
        raise NotFound(message)
    return record


def staff() -> User:
    """The caller, who must be an organizer (or an administrator)."""
    return require_staff(require_actor())
