"""Security headers on every response, pages, API, back office and static files alike."""

from __future__ import annotations

from flask import Flask, Response

# No page may be framed (clickjacking): frame-ancestors for current browsers, X-Frame-Options for older ones.
CSP = "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
HSTS = "max-age=31536000; includeSubDomains"


def init_app(app: Flask) -> None:
    if app.config.get("SECURE_COOKIES"):
        app.config.update(SESSION_COOKIE_SECURE=True, REMEMBER_COOKIE_SECURE=True)

    @app.after_request
    def _security_headers(response: Response) -> Response:
        headers = response.headers
        own = headers.get("Content-Security-Policy")  # a file download's sandbox, say
        if own is None:
            headers["Content-Security-Policy"] = CSP
        elif "frame-ancestors" not in own:
            headers["Content-Security-Policy"] = own + "; frame-ancestors 'none'"
        headers["X-Frame-Options"] = "DENY"
        headers["X-Content-Type-Options"] = "nosniff"
        headers["Referrer-Policy"] = "strict-origin-when-cross-origin"
        if app.config.get("SECURE_COOKIES"):
            headers["Strict-Transport-Security"] = HSTS
        return response
