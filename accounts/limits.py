"""Rate limits of the account endpoints (Flask-Limiter; Redis in production, memory in the embedded default).

Guessing a current password, asking for reset links and sending invitations cost nothing to repeat, and the last
two mail whoever is named: each is limited per client address (``pingxuan.net.client_address``) and per the
account or e-mail address it aims at, so neither one address nor many can flood one inbox. A limit refuses with
429 whatever the e-mail address: the answer to ``/forgot`` says nothing about whether an account exists.
Registering a unit is limited per client address and per e-mail address named (it mails that address: a link to
confirm, or a note to the owner of an account).
Each limit can be changed in the Flask config (the names below, ``PINGXUAN_`` + name in the environment).
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Callable

from flask import current_app, request
from flask_login import current_user

from pingxuan.extensions import limiter
from pingxuan.net import client_address

DEFAULTS = {
    "PASSWORD_LIMIT": "5 per minute;20 per hour",  # password changes (current password guesses) per account, address
    "FORGOT_LIMIT_IP": "5 per minute;30 per hour",
    "FORGOT_LIMIT_EMAIL": "3 per hour;10 per day",
    "INVITE_LIMIT_IP": "20 per minute;200 per hour",
    "INVITE_LIMIT_EMAIL": "3 per day",
    # Registrations per address: an office behind one NAT registers a few units, a script registers thousands.
    "REGISTER_LIMIT_IP": "10 per hour;30 per day",
    "REGISTER_LIMIT_EMAIL": "5 per hour;10 per day",  # a few tries with typos; no inbox flooded with mails
}
FREE_LOGIN_FAILURES = 3  # wrong passwords for one address before each further try waits
MAX_LOGIN_DELAY = 60  # seconds: the longest wait, so an attacker cannot keep the owner out for long


def setting(name: str) -> Callable[[], str]:
    """The limit string for ``name``, read per request so tests and deployments can change it."""
    return lambda: current_app.config.get(name) or DEFAULTS[name]


def _keyed(kind: str, value: str) -> str:
    """Limits in Redis never hold an e-mail address or a token, only a keyed hash."""
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, f"{kind}:{value}".encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()


def account_key() -> str:
    """The account a request acts as: the bearer token (API) or the logged-in person (pages)."""
    header = request.headers.get("Authorization")
    if header:
        return "token:" + _keyed("token", header.strip())
    if current_user.is_authenticated:
        return f"user:{current_user.id}"
    return f"anon:{client_address()}"


def email_key() -> str:
    """The e-mail address a request names (form or JSON), normalized and hashed."""
    data = request.get_json(silent=True) if request.is_json else request.form
    email = str((data if isinstance(data, dict) else request.form).get("email") or "").strip().lower()
    return "email:" + _keyed("email", email) if email else f"noemail:{client_address()}"


def _limited(view, *limits: tuple[str, str, Callable[[], str]]):
    """``view`` under each (setting, scope, key) limit, on POST only (the pages' GETs show the forms)."""
    for name, scope, key in limits:
        view = limiter.shared_limit(setting(name), scope, key_func=key, methods=["POST"])(view)
    return view


def password_limits(view):
    """A password change checks the current password: limited per address and per account, like logging in."""
    return _limited(view, ("PASSWORD_LIMIT", "password-ip", client_address),
                    ("PASSWORD_LIMIT", "password-account", account_key))  # fmt: skip


def forgot_limits(view):
    return _limited(view, ("FORGOT_LIMIT_IP", "forgot-ip", client_address),
                    ("FORGOT_LIMIT_EMAIL", "forgot-email", email_key))  # fmt: skip


def registration_limits(view):
    return _limited(view, ("REGISTER_LIMIT_IP", "register-ip", client_address),
                    ("REGISTER_LIMIT_EMAIL", "register-email", email_key))  # fmt: skip


def invitation_limits(view):
    """Self-service invitations (a unit's member inviting colleagues): per client address and per inbox."""
    return _limited(view, ("INVITE_LIMIT_IP", "invite-ip", client_address),
                    ("INVITE_LIMIT_EMAIL", "invite-email", email_key))  # fmt: skip


def staff_invitation_limits(view):
    """Invitations only staff may send (their endpoints refuse everyone else): an office setting up a campaign
    invites many addresses from one client, so only the per-inbox limit holds, protecting the people named."""
    return _limited(view, ("INVITE_LIMIT_EMAIL", "invite-email", email_key))


# Failed logins per address named: a delay that doubles with each consecutive failure (1 s after the fourth, 2 s,
# 4 s, … at most a minute), whatever the client's address, so many addresses guessing one account's password
# gain nothing; not a lockout: the owner waits at most a minute, and a right password clears the count. Addresses
# without an account are counted the same way, so the answers tell nothing about which exist.


def _login_keys(email: str) -> tuple[str, str]:
    hashed = _keyed("login", (email or "").strip().lower())
    return f"login-failures:{hashed}", f"login-wait:{hashed}"


def login_wait(email: str) -> int:
    """Seconds until this address may be tried again (0: now)."""
    if not current_app.config.get("RATELIMIT_ENABLED", True):
        return 0
    _failures, wait = _login_keys(email)
    storage = limiter.storage
    if not storage.get(wait):
        return 0
    return max(1, int(storage.get_expiry(wait) - time.time() + 0.999))


def login_failed(email: str) -> None:
    if not current_app.config.get("RATELIMIT_ENABLED", True):
        return
    failures, wait = _login_keys(email)
    count = limiter.storage.incr(failures, 24 * 3600)
    if count > FREE_LOGIN_FAILURES:
        limiter.storage.incr(wait, min(2 ** (count - FREE_LOGIN_FAILURES - 1), MAX_LOGIN_DELAY))


def login_succeeded(email: str) -> None:
    if current_app.config.get("RATELIMIT_ENABLED", True):
        for key in _login_keys(email):
            limiter.storage.clear(key)
