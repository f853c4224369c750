"""The vote's escalation captcha: ALTCHA, a proof of work, with no third party and no picture to read.

Offices and schools share one address, so a crowded address asks people to prove they are people instead of
being blocked (voting.abuse). The self-made captcha it replaces drew digits as polylines in an SVG, and a script
read them from the markup (issue 18). An ALTCHA challenge has no answer in it: the browser's widget (the npm
``altcha`` package, served from our static files, its workers too, so the CSP needs nothing new) searches for the
counter whose derived key starts with the challenge's key prefix, a few seconds of a phone's work; a script has to
spend the same work for every pass, which is what prices a flood of votes from one address.

A challenge (``altcha.create_challenge``) is signed with a key derived from the secret key, carries its expiry,
and is stateless until it is solved. A solved payload (``altcha.verify_solution``) is then burned: its signature
is counted in the rate limiter's storage (Redis in production, memory in the embedded default) until the challenge
expires, one atomic increment, so a payload sent twice, in parallel or to another node, earns one pass.

Solving earns a **pass** that lets one vote past the per-address limit. The pass lives in the same storage, not in
the cookie: the cookie holds only its random id, the stored key binds it to the address that solved the challenge,
and spending it is one atomic increment, so a pass copied to another client, another address or replayed after use
is refused.

Settings (Flask config, ``PINGXUAN_`` in the environment): ``CAPTCHA_ALGORITHM`` (a PBKDF2 or SHA algorithm the
widget's bundled workers know), ``CAPTCHA_COST`` (the key derivation's iterations per try), ``CAPTCHA_MAX_NUMBER``
(the secret counter is drawn between half of it and it: the number of tries), ``CAPTCHA_SECONDS`` (the expiry).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from typing import Any

import altcha
from flask import current_app, session

from pingxuan.extensions import limiter
from pingxuan.net import client_address
from voting.privacy import keyed_hash

PASS_KEY = "captcha_pass"
PASS_SECONDS = 600
MAX_PAYLOAD = 8192  # characters of base64; a genuine payload is under 2,000

DEFAULTS: dict[str, Any] = {
    "CAPTCHA_ALGORITHM": "PBKDF2/SHA-256",
    "CAPTCHA_COST": 1000,
    "CAPTCHA_MAX_NUMBER": 10000,
    "CAPTCHA_SECONDS": 300,
}
# The algorithms whose workers we serve (pingxuan/static/vendor/altcha: pbkdf2.js and sha.js).
ALGORITHMS = ("PBKDF2/SHA-256", "PBKDF2/SHA-384", "PBKDF2/SHA-512", "SHA-256", "SHA-384", "SHA-512")


def setting(name: str) -> Any:
    value = current_app.config.get(name) or DEFAULTS[name]
    return value if name == "CAPTCHA_ALGORITHM" else int(value)


def _key(purpose: str) -> bytes:
    """A key of its own for each use, derived from the secret key: a captcha key never signs anything else."""
    secret = current_app.config["SECRET_KEY"].encode()
    return hmac.new(secret, f"altcha:{purpose}".encode(), hashlib.sha256).digest()


def new_challenge() -> dict[str, Any]:
    """A fresh signed challenge, the JSON the widget fetches: ``{"parameters": {...}, "signature": "..."}``.

    Deterministic mode: the server draws the counter and publishes only the derived key's prefix, so the number of
    tries a client needs is known (half of ``CAPTCHA_MAX_NUMBER`` at least), and the derived key's own signature
    lets the server check a solution with one HMAC.
    """
    algorithm = setting("CAPTCHA_ALGORITHM")
    if algorithm not in ALGORITHMS:
        raise ValueError(f"CAPTCHA_ALGORITHM must be one of {', '.join(ALGORITHMS)}, not {algorithm!r}")
    top = max(1, setting("CAPTCHA_MAX_NUMBER"))
    challenge = altcha.create_challenge(
        algorithm=algorithm,
        cost=max(1, setting("CAPTCHA_COST")),
        counter=top // 2 + secrets.randbelow(top - top // 2 + 1),
        expires_at=int(time.time()) + setting("CAPTCHA_SECONDS"),
        hmac_secret=_key("challenge"),
        hmac_key_secret=_key("derived-key"),
    )
    return challenge.to_dict()


def _storage():
    return limiter.storage if limiter.enabled else None


def _burn(signature: str, expires_at: int) -> bool:
    """Mark a solved challenge used until it expires; False when it was used before (a replayed payload)."""
    storage = _storage()
    if storage is None:
        return True
    window = max(1, expires_at - int(time.time())) + 60
    name = hashlib.sha256(signature.encode()).hexdigest()
    return storage.incr(f"pingxuan-altcha/{name}", window) == 1


def _pass_key(pass_id: str) -> str:
    return f"pingxuan-captcha-pass/{pass_id}/{keyed_hash('captcha-pass', client_address())}"


def _challenge_of(payload: str) -> dict[str, Any] | None:
    try:
        challenge = json.loads(base64.b64decode(payload, validate=True))["challenge"]
        return challenge if isinstance(challenge, dict) else None
    except (ValueError, TypeError, KeyError):
        return None


def solve(payload: str) -> bool:
    """Check an ALTCHA payload (the widget's ``altcha`` field): a valid, unexpired, unused solution of a challenge
    we signed earns a pass; anything else, or the same payload again, earns nothing."""
    if not isinstance(payload, str) or not payload or len(payload) > MAX_PAYLOAD:
        return False
    result = altcha.verify_solution(payload, _key("challenge"), hmac_key_secret=_key("derived-key"))
    if not result.verified:
        return False
    challenge = _challenge_of(payload)
    expires_at = (challenge or {}).get("parameters", {}).get("expiresAt")
    if challenge is None or not isinstance(expires_at, int):
        return False  # every challenge we sign expires
    if not _burn(str(challenge["signature"]), expires_at):
        return False
    storage = _storage()
    if storage is not None:
        pass_id = secrets.token_urlsafe(16)
        storage.incr(_pass_key(pass_id), PASS_SECONDS, amount=1)  # 1: earned, not spent
        session[PASS_KEY] = pass_id
    return True


def use_pass() -> bool:
    """Spend this client's pass on one vote past the per-address limit.

    Earned it is 1; spending adds 2, so only the first spend from the address that earned it reads 3. A spent
    pass reads 5, 7, …; a pass id from another address, or one expired, names a key that does not exist, whose
    increments read 2, 4, … and never 3. One atomic increment, in Redis as in memory: parallel spends of one
    copied cookie admit one vote.
    """
    pass_id = session.pop(PASS_KEY, None)
    storage = _storage()
    if not isinstance(pass_id, str) or storage is None:
        return False
    return storage.incr(_pass_key(pass_id), PASS_SECONDS, amount=2) == 3
