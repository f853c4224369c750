"""Public pages that anything in front of the app may cache: the same bytes for every visitor.

A view decorated with ``public(max_age)`` answers with ``Cache-Control: public, max-age=…`` and an ``ETag``
over its body, ``304 Not Modified`` to a matching ``If-None-Match``, and never a ``Set-Cookie``: the session
is not saved for it (``PublicSessionInterface``) and its page must not depend on one (no login state, no
flash messages, no CSRF token; the language comes from the URL's ``lang``). What is per visitor — a voter's
own state — comes from small uncached JSON endpoints instead.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Flask, has_request_context, make_response, request
from flask.sessions import SecureCookieSessionInterface

from pingxuan.i18n import PUBLIC_FLAG  # in the request's environ: per request, whatever the app context


def is_public() -> bool:
    return has_request_context() and bool(request.environ.get(PUBLIC_FLAG))


def public(max_age: int) -> Callable:
    def decorate(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any):
            request.environ[PUBLIC_FLAG] = True
            response = make_response(view(*args, **kwargs))
            if request.method in ("GET", "HEAD") and response.status_code == 200:
                response.cache_control.no_cache = None  # send_file's default: revalidate every time
                response.cache_control.public = True
                response.cache_control.max_age = max_age
                if request.path.startswith("/api/"):
                    response.vary.add("Accept-Language")  # the API's messages follow the caller's language
                if response.get_etag()[0] is None:
                    response.direct_passthrough = False  # a file sent from memory: read it to hash it
                    response.add_etag()
                response = response.make_conditional(request)
            response.headers.pop("Set-Cookie", None)
            return response

        return wrapper

    return decorate


def private(response: Any) -> Any:
    """Per-visitor answers (a voter's own state): never stored by a shared cache."""
    response.headers["Cache-Control"] = "private, no-store"
    return response


VOTER_TOKEN_ENVIRON = "HTTP_X_VOTER_TOKEN"  # the X-Voter-Token header (voting.abuse.VOTER_HEADER)


class PublicSessionInterface(SecureCookieSessionInterface):
    """The signed-cookie session, not written (no Set-Cookie, no ``Vary: Cookie``) for public pages, nor merely
    refreshed for a request authenticated by a voter token (a vote: re-signing the cookie is most of its cost)."""

    def save_session(self, app: Flask, session: Any, response: Any) -> None:
        if is_public():
            return
        if not session.modified and VOTER_TOKEN_ENVIRON in request.environ:
            return
        super().save_session(app, session, response)


def init_app(app: Flask) -> None:
    app.session_interface = PublicSessionInterface()
