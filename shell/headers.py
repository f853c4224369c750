"""Security headers on every response, pages, API, back office and static files alike.

The Content-Security-Policy allows no inline script: the few inline ``<script>`` blocks (ours and Flask-Admin's)
carry the response's nonce (``csp_nonce()`` in templates), everything else is a file under ``static/``, except a
script another service requires be loaded from its own origin (WeChat's JS-SDK, when WeChat is set up): the
shell names that origin in ``CSP_SCRIPT_SOURCES``. Inline
event handlers and ``javascript:`` links are therefore blocked; pages use ``data-autosubmit`` and the like.
Styles likewise come from stylesheet files only: no ``<style>`` element and no ``style="…"`` attribute applies (an
injected one could restyle a page to mislead, or read it through selectors); a width a page computes, a progress
bar's, is a ``data-width`` that ``static/csp.js`` sets through the CSSOM, which the policy allows.
"""

from __future__ import annotations

import secrets

from flask import Flask, Response, g, has_request_context, request

# No page may be framed (clickjacking): frame-ancestors for current browsers, X-Frame-Options for older ones.
POLICY = (
    "default-src 'self'; script-src 'self'{nonce}{sources}; style-src 'self'; "
    "img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'"
)
HSTS = "max-age=31536000; includeSubDomains"


def csp_nonce() -> str:
    """This response's script nonce, made on first use (a response without inline script names none)."""
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(16)
    return g.csp_nonce


def _with_sources(policy: str, sources: dict[str, str]) -> str:
    """The policy with one page's own extra sources appended (``pingxuan.csp_sources`` in the request's environ:
    a cloud captcha's CDN on the captcha page, voting/captcha.py), directive by directive."""
    directives = [d.strip() for d in policy.split(";")]
    names = [d.split(" ", 1)[0] for d in directives]
    for name, extra in sources.items():
        if name in names:
            directives[names.index(name)] += " " + extra
        else:
            directives.append(f"{name} 'self' {extra}")
    return "; ".join(directives)


# No page uses these: a script that got in (or a framed page) cannot ask for them.
PERMISSIONS = ("camera=(), microphone=(), geolocation=(), payment=(), usb=(), serial=(), bluetooth=(), "
               "magnetometer=(), gyroscope=(), accelerometer=(), interest-cohort=()")  # fmt: skip


def init_app(app: Flask) -> None:
    if app.config.get("SECURE_COOKIES"):
        app.config.update(SESSION_COOKIE_SECURE=True, REMEMBER_COOKIE_SECURE=True)
    app.jinja_env.globals["csp_nonce"] = csp_nonce

    fixed = fixed_headers(app)

    @app.after_request
    def _security_headers(response: Response) -> Response:
        headers = response.headers
        own = headers.get("Content-Security-Policy")  # a file download's sandbox, say
        if own is None:
            nonce = g.get("csp_nonce")
            sources = "".join(f" {origin}" for origin in app.config.get("CSP_SCRIPT_SOURCES", ()))  # WeChat's
            policy = POLICY.format(nonce=f" 'nonce-{nonce}'" if nonce else "", sources=sources)
            page_sources = request.environ.get("pingxuan.csp_sources") if has_request_context() else None
            headers["Content-Security-Policy"] = _with_sources(policy, page_sources) if page_sources else policy
        elif "frame-ancestors" not in own:
            headers["Content-Security-Policy"] = own + "; frame-ancestors 'none'"
        for name, value in fixed:
            if name != "Permissions-Policy" or name not in headers:
                headers[name] = value
        return response


def fixed_headers(app: Flask) -> list[tuple[str, str]]:
    """The headers every answer carries whatever its content (the policy is added per answer)."""
    headers = [("X-Frame-Options", "DENY"), ("X-Content-Type-Options", "nosniff"),
               ("Referrer-Policy", "strict-origin-when-cross-origin"), ("Permissions-Policy", PERMISSIONS)]  # fmt: skip
    if app.config.get("SECURE_COOKIES"):
        headers.append(("Strict-Transport-Security", HSTS))
    return headers


def answer_headers(app: Flask) -> list[tuple[str, str]]:
    """Every security header of an answer that is not a page (no nonce, no page's own sources): JSON."""
    sources = "".join(f" {origin}" for origin in app.config.get("CSP_SCRIPT_SOURCES", ()))
    return [("Content-Security-Policy", POLICY.format(nonce="", sources=sources)), *fixed_headers(app)]
