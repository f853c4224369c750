"""Comparing secrets (signatures, codes) safely for any input a client can send."""

from __future__ import annotations

import hmac


def same_secret(expected: str, given: str | None) -> bool:
    """Constant-time comparison that never raises: ``hmac.compare_digest`` refuses non-ASCII text with a
    TypeError, and a client controls ``given`` (a query parameter, a file in an upload)."""
    return hmac.compare_digest(expected.encode(), (given or "").encode("utf-8", "surrogatepass"))
