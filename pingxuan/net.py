"""The client's address, trusting only the configured number of proxies."""

from __future__ import annotations

import logging
import unicodedata
from urllib.parse import urlsplit

from flask import Flask, current_app, request

log = logging.getLogger(__name__)


def client_address() -> str:
    """Take the address ``PROXY_COUNT`` hops from the right of X-Forwarded-For; ignore anything further left.

    A client can put any value in the header; only entries appended by our own proxies are trustworthy.
    """
    return address_from(request.environ, current_app.config.get("PROXY_COUNT", 0))


def address_from(environ: dict, proxy_count: int) -> str:
    """``client_address`` from a WSGI environ (for a layer that answers before Flask makes a request)."""
    if proxy_count > 0:
        header = environ.get("HTTP_X_FORWARDED_FOR", "")
        forwarded = [part.strip() for part in header.split(",") if part.strip()]
        if len(forwarded) >= proxy_count:
            return forwarded[-proxy_count]
    return environ.get("REMOTE_ADDR") or "0.0.0.0"


def warn_about_untrusted_forwarding(app: Flask) -> None:
    """Log a warning, once per process, when a request carries X-Forwarded-For while ``PROXY_COUNT`` is 0.

    Behind a reverse proxy with the count left at 0, every voter has the proxy's address: the per-address
    limits then throttle everyone together and the vote's network evidence groups all ballots as one.
    """
    warned = False

    @app.before_request
    def _check_forwarding() -> None:
        nonlocal warned
        if warned or "X-Forwarded-For" not in request.headers or current_app.config.get("PROXY_COUNT", 0) > 0:
            return
        warned = True
        log.warning(
            "A request arrived with X-Forwarded-For but PINGXUAN_PROXY_COUNT is 0: every client is seen as %s. "
            "Behind a reverse proxy set PINGXUAN_PROXY_COUNT to the number of proxies in front of the app.",
            request.remote_addr,
        )


def local_path(target: str | None) -> str | None:
    """``target`` when it is a path on this site (or a full URL of this site), else None: a ``next`` or Referer
    must never send a visitor elsewhere. Browsers read ``/\\evil`` as ``//evil`` and drop tabs, newlines and
    (some) other invisible characters before parsing, so ``/\t/evil`` is ``//evil`` to them: backslashes,
    whitespace and every control, format or separator character are refused, as is anything that is not a plain
    absolute path (a scheme, a host, ``//``)."""
    if not target:
        return None
    if target.startswith(request.host_url):
        target = "/" + target[len(request.host_url) :]
    if "\\" in target or any(c.isspace() or unicodedata.category(c)[0] in "CZ" for c in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


def safe_next(target: str | None, default: str) -> str:
    """Where to send a visitor after a step that named its ``next``: that path if it stays on this site, else
    ``default``. The one helper for every ``next`` of the project (pages, the vote's verification, the captcha)."""
    return local_path(target) or default
