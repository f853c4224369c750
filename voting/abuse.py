"""Rate limits of the public vote (Flask-Limiter), shared by the pages and the API.

Every limit is keyed either by the client address (``pingxuan.net.client_address``: X-Forwarded-For is read
only as far as ``PROXY_COUNT`` trusted proxies) or by the voter / phone number. A breach of the per-address
vote limit does not block the address (offices and schools share one): it answers 429 with a captcha, and a
client that solved one recently is exempt from that limit for a while (voting.captcha). The per-voter limits
still apply to everyone.

Each limit can be changed in the Flask config (the names below), e.g. raised for a benchmark.
"""

from __future__ import annotations

from flask import current_app, jsonify, render_template, request, session, url_for
from flask_babel import gettext as _

from pingxuan.extensions import limiter
from pingxuan.net import client_address
from voting import captcha
from voting.operations import voter_from_token
from voting.privacy import keyed_hash

DEFAULTS = {
    "VOTE_LIMIT_IP": "60 per minute",  # then a captcha, not a block
    "VOTE_LIMIT_VOTER": "10 per minute",
    "CODE_LIMIT_IP": "20 per minute;200 per hour",
    "CODE_LIMIT_PHONE": "5 per hour",
    "CHECK_LIMIT_IP": "30 per minute",
    "CHECK_LIMIT_PHONE": "10 per 10 minutes",
}
VOTER_SESSION_KEY = "voter_id"
VOTER_HEADER = "X-Voter-Token"


def setting(name: str):
    """The limit string for ``name`` from the config, read per request so tests and benchmarks can change it."""
    return lambda: current_app.config.get(name, DEFAULTS[name])


def current_voter_id() -> int | None:
    """The verified voter of this request: the signed session cookie (pages) or X-Voter-Token (API).

    Neither needs a database lookup: both are signed with the secret key.
    """
    token = request.headers.get(VOTER_HEADER)
    if token:
        return voter_from_token(token)
    voter_id = session.get(VOTER_SESSION_KEY)
    return voter_id if isinstance(voter_id, int) else None


def voter_key() -> str:
    voter_id = current_voter_id()
    return f"voter:{voter_id}" if voter_id is not None else f"anon:{client_address()}"


def phone_key() -> str:
    """The phone number named in the request, hashed (limits in Redis never hold a number)."""
    data = request.get_json(silent=True) if request.is_json else request.form
    phone = "".join(ch for ch in str((data or {}).get("phone", "")) if ch.isdigit())[-11:]
    return "phone:" + keyed_hash("phone", phone) if phone else f"nophone:{client_address()}"


def _back() -> str:
    """Where to return after the captcha: the case page of the vote that was stopped."""
    return request.path.removesuffix("/vote")


def ask_for_captcha(_limit) -> object:
    """``on_breach`` of the per-address vote limit: a 429 that asks for a captcha instead of a flat refusal."""
    message = _("Many votes are coming from your network. Please show that you are a person to go on voting.")
    if request.path.startswith("/api/"):
        response = jsonify({
            "message": message, "reasons": [_("Solve the captcha at %(url)s, then vote again.",
                                              url=url_for("api_voting.get_captcha"))],
            "captcha": url_for("api_voting.get_captcha"),
        })  # fmt: skip
    elif request.accept_mimetypes.best == "application/json":
        response = jsonify({"message": message, "captcha": url_for("showcase.captcha_page", next=_back())})
    else:
        page = render_template("voting/captcha.html", svg=captcha.new_challenge(), message=message, next=_back())
        response = current_app.make_response(page)
    response.status_code = 429
    return response


def vote_limits(view):
    """The vote endpoint's two limits: per address (escalating to a captcha) and per voter."""
    view = limiter.shared_limit(
        setting("VOTE_LIMIT_IP"), "vote-ip", key_func=client_address, on_breach=ask_for_captcha,
        exempt_when=captcha.recently_solved,
    )(view)  # fmt: skip
    return limiter.shared_limit(setting("VOTE_LIMIT_VOTER"), "vote-voter", key_func=voter_key)(view)


def code_limits(view):
    view = limiter.shared_limit(setting("CODE_LIMIT_IP"), "code-ip", key_func=client_address)(view)
    return limiter.shared_limit(setting("CODE_LIMIT_PHONE"), "code-phone", key_func=phone_key)(view)


def check_limits(view):
    view = limiter.shared_limit(setting("CHECK_LIMIT_IP"), "check-ip", key_func=client_address)(view)
    return limiter.shared_limit(setting("CHECK_LIMIT_PHONE"), "check-phone", key_func=phone_key)(view)


def too_many(error):
    """A blueprint's 429 handler: the captcha response when there is one, else the same error shape as elsewhere."""
    response = getattr(error, "response", None)
    if response is not None:
        return response
    message = _("Too many attempts. Wait a moment and try again.")
    if request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json":
        return jsonify({"message": message}), 429
    from pingxuan.errors import DomainError

    return render_template("error.html", error=DomainError(message)), 429
