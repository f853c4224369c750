"""The client's address, trusting only the configured number of proxies."""

from __future__ import annotations

from flask import current_app, request


def client_address() -> str:
    """Take the address ``PROXY_COUNT`` hops from the right of X-Forwarded-For; ignore anything further left.

    A client can put any value in the header; only entries appended by our own proxies are trustworthy.
    """
    count = current_app.config.get("PROXY_COUNT", 0)
    if count > 0:
        forwarded = [part.strip() for part in request.headers.get("X-Forwarded-For", "").split(",") if part.strip()]
        if len(forwarded) >= count:
            return forwarded[-count]
    return request.remote_addr or "0.0.0.0"
