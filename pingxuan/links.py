"""Absolute links to public pages, on the installation's public address (``PINGXUAN_PUBLIC_URL``).

A link that leaves the site (a link preview's ``og:url``, a canonical link, a QR code on a share image, a mail)
names the address the public knows, never the host a request happened to come through (a proxy's, a node's):
the public pages are cached and the same for everyone, so what they print must not depend on the request's
Host header.
"""

from __future__ import annotations

from urllib.parse import urlencode

from flask import current_app, request

from pingxuan.i18n import is_english

# What a link gains on its way through chats and tracking (WeChat adds from/isappinstalled), and what names no
# content of its own (the language, put back from the page's own; where to go next): not part of a canonical link.
NOT_CANONICAL = frozenset({"lang", "next", "from", "isappinstalled", "nsukey", "scene", "clicktime", "enterid"})


def public_url(path: str) -> str:
    """``path`` (starting with /) on the public address."""
    return current_app.config["SERVER_NAME_FOR_MAIL"].rstrip("/") + path


def canonical_url() -> str:
    """This page's one public address: its path and the arguments that choose what it shows (a category, a
    search, a page after the first), sorted, with ``lang=en`` for an English page."""
    args = sorted(
        (name, value)
        for name, value in request.args.items(multi=True)
        if name not in NOT_CANONICAL and not name.startswith("utm_") and not (name == "page" and value == "1")
    )
    if is_english():
        args.append(("lang", "en"))
    return public_url(request.path + ("?" + urlencode(args) if args else ""))
