"""The JSON API under /api/v1 (flask-smorest), its OpenAPI document at /api/v1/openapi.json, and its errors.

Every error of the API is JSON ``{"message", "errors"?, "reasons"?}``: DomainError is translated app-wide by
shell.web; this module adds the same shape for flask-smorest's own validation errors (422) and any other
HTTP error under /api/, and leaves the pages' errors to the pages.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, jsonify, request
from flask_babel import gettext as _
from werkzeug.exceptions import HTTPException

from api.auth import BEARER, BLUEPRINTS, SECURITY_SCHEME, Unauthorized
from api.schemas import ErrorSchema
from pingxuan.extensions import api, csrf

RULES = """Rules every endpoint keeps:

- **Errors** are JSON `{"message", "errors"?, "reasons"?}`: 401 without a valid token, 403 when the caller's
  role may not, 404 for what the caller may not see, 409 when the current state does not allow the action,
  422 with a message per field for bad input (nothing is written).
- **Repeating an action answers 409.** A workflow action (a transition, a shortlist, an award decision,
  opening or closing the vote, conferring organization awards, accepting an assignment) whose effect is already
  in place is refused with 409 and the reason; nothing changes. A client that retries after a lost answer
  reads the resource again (`GET`) to see its current state.
- **Datetimes** are RFC 3339 with their offset (UTC, `+00:00`); dates are ISO 8601 days in the campaign's
  calendar.
"""


def init_api(app: Flask) -> None:
    """Bind the API to the app: spec, blueprints (CSRF-exempt, token-authenticated), JSON errors."""
    from api import (  # noqa: F401
        accounts,
        archives,
        awards,
        books,
        campaign_setup,
        campaigns,
        cases,
        eligibility,
        experts,
        notice,
        notifications,
        people,
        reviews,
        service_tokens,
        workflow,
    )
    from api.integrity import blp as _integrity_api  # noqa: F401  (vote integrity)
    from api.voting import blp as _vote_api  # noqa: F401  (the public vote)

    app.config.setdefault("API_SPEC_OPTIONS", {}).setdefault("info", {}).setdefault("description", RULES)
    api.ERROR_SCHEMA = ErrorSchema  # documents our error shape as the default and per-status error responses
    api.init_app(app)
    api.spec.components.security_scheme(BEARER, SECURITY_SCHEME)
    for blueprint in BLUEPRINTS:
        csrf.exempt(blueprint)
        api.register_blueprint(blueprint)
    # flask-smorest registers a JSON handler for every HTTPException app-wide; keep it to the API's paths.
    app.register_error_handler(HTTPException, _http_exception)
    app.register_error_handler(Unauthorized, _unauthorized)


def _is_api_request() -> bool:
    return request.path.startswith("/api/")


def _flatten(messages: Any, prefix: str = "") -> dict[str, str]:
    """``{"field": ["msg"], "nested": {"inner": ["msg"]}}`` into ``{"field": "msg", "nested.inner": "msg"}``."""
    flat: dict[str, str] = {}
    if isinstance(messages, dict):
        for key, value in messages.items():
            name = str(key)
            flat.update(_flatten(value, f"{prefix}.{name}" if prefix else name))
    elif isinstance(messages, list | tuple):
        texts = [str(m) for m in messages if not isinstance(m, dict | list)]
        nested = [m for m in messages if isinstance(m, dict | list)]
        if texts:
            flat[prefix or "body"] = " ".join(texts)
        for item in nested:
            flat.update(_flatten(item, prefix))
    else:
        flat[prefix or "body"] = str(messages)
    return flat


def _http_exception(error: HTTPException):
    if not _is_api_request():
        return error  # the pages' default (or their own handlers for specific codes)
    data = getattr(error, "data", None) or {}
    errors: dict[str, str] = {}
    if isinstance(data.get("messages"), dict):  # webargs: {location: {field: [messages]}}
        for location, messages in data["messages"].items():
            errors.update(_flatten(messages, "" if isinstance(messages, dict) else str(location)))
    elif data.get("errors"):
        errors = _flatten(data["errors"])
    if error.code == 422:
        message = _("Please correct the marked fields.")
    elif error.code == 400:
        message = _("The request could not be understood.")
    elif error.code is not None and error.code >= 500:
        message = _("Something went wrong on our side. Try again later.")
    else:
        message = data.get("message") or error.description or error.name
    body: dict[str, Any] = {"message": message}
    if errors:
        body["errors"] = errors
    return jsonify(body), error.code, data.get("headers") or {}


def _unauthorized(error: Unauthorized):
    return jsonify(error.to_dict()), 401, {"WWW-Authenticate": 'Bearer realm="pingxuan"'}
