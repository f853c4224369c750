"""Secrets (signatures, codes, links): compared safely for any input a client can send, kept out of records."""

from __future__ import annotations

import base64
import hashlib
import hmac

from cryptography.fernet import Fernet
from flask import current_app


def same_secret(expected: str, given: str | None) -> bool:
    """Constant-time comparison that never raises: ``hmac.compare_digest`` refuses non-ASCII text with a
    TypeError, and a client controls ``given`` (a query parameter, a file in an upload)."""
    return hmac.compare_digest(expected.encode(), (given or "").encode("utf-8", "surrogatepass"))


def sealer(purpose: str) -> Fernet:
    """Symmetric sealing for a secret that must travel or wait (a broker message, a number kept until a reply):
    the key derives from the installation's secret key and the purpose, so one purpose's seal opens nothing else."""
    digest = hashlib.sha256(f"{purpose}:{current_app.config['SECRET_KEY']}".encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))
