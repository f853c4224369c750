"""Rate limits of the public vote (Flask-Limiter), shared by the pages and the API.

Every limit is keyed either by the client address (``pingxuan.net.client_address``: X-Forwarded-For is read
only as far as ``PROXY_COUNT`` trusted proxies) or by the voter / phone number. A breach of the per-address
vote limit does not block the address (offices and schools share one): it answers 429 with a captcha, and
each captcha solved lets one vote past that limit (a single-use pass bound to the address, voting.captcha).
The per-voter limits still apply to everyone.

Each limit can be changed in the Flask config (the names below), e.g. raised for a benchmark.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache, lru_cache, wraps

from flask import current_app, jsonify, render_template, request, session, url_for
from flask_babel import gettext as _
from hiredis import pack_command
from limits import parse_many
from redis.exceptions import RedisError, ResponseError

from pingxuan.extensions import csrf, limiter
from pingxuan.net import address_from, client_address
from voting import captcha
from voting.operations import voter_from_token
from voting.privacy import hashed, keyed_hash
from voting.voters import canonical_phone

DEFAULTS = {
    "VOTE_LIMIT_IP": "60 per minute",  # then a captcha, not a block
    "VOTE_LIMIT_VOTER": "10 per minute",
    "CODE_LIMIT_IP": "20 per minute;200 per hour",
    "CODE_LIMIT_PHONE": "5 per hour",
    "CHECK_LIMIT_IP": "30 per minute",
    "CHECK_LIMIT_PHONE": "10 per 10 minutes",
    "OBJECTION_LIMIT_IP": "10 per minute",  # objections to proposed awards (the page and the API share it)
}
VOTER_SESSION_KEY = "voter_id"
VOTER_HEADER = "X-Voter-Token"
_VOTER_ENVIRON = "pingxuan.voter_id"
COUNTED_ENVIRON = "pingxuan.vote_limits_counted"  # the fast path's counts of this request's limits
_UNSET = object()


def setting(name: str):
    """The limit string for ``name`` from the config, read per request so tests and benchmarks can change it."""
    return lambda: current_app.config.get(name, DEFAULTS[name])


def current_voter_id() -> int | None:
    """The verified voter of this request: the signed session cookie (pages) or X-Voter-Token (API).

    Neither needs a database lookup: both are signed with the secret key.
    """
    token = request.headers.get(VOTER_HEADER)
    if token:
        known = request.environ.get(_VOTER_ENVIRON, _UNSET)  # the limits and the view both ask: check it once
        if known is _UNSET:
            known = request.environ[_VOTER_ENVIRON] = voter_from_token(token)
        return known
    voter_id = session.get(VOTER_SESSION_KEY)
    return voter_id if isinstance(voter_id, int) else None


def remember_voter(environ: dict, voter_id: int | None) -> None:
    """The voter a token named, for the rest of this request (the fast path read it before Flask did)."""
    environ[_VOTER_ENVIRON] = voter_id


def carries_voter_token() -> bool:
    return VOTER_HEADER in request.headers


def csrf_unless_voter_token(view):
    """CSRF protection for a cookie-authenticated request; none for one carrying X-Voter-Token, whose credential
    is that header (no other site can make a browser send it) and whose cookie session is neither trusted for the
    voter nor refreshed (pingxuan.httpcache)."""
    csrf.exempt(view)

    @wraps(view)
    def checked(*args, **kwargs):
        if current_app.config.get("WTF_CSRF_ENABLED", True) and not carries_voter_token():
            csrf.protect()  # what CSRFProtect's own check does for every other view
        return view(*args, **kwargs)

    return checked


def phone_key() -> str:
    """The phone number named in the request, hashed (limits in Redis never hold a number)."""
    data = request.get_json(silent=True) if request.is_json else request.form
    phone = canonical_phone(str((data or {}).get("phone", ""))) or ""  # one number however it is written
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
        page = render_template("voting/captcha.html", message=message, next=_back(), captcha=captcha.page_settings())
        response = current_app.make_response(page)
    response.status_code = 429
    return response


# Both vote limits in one round trip: a fixed window per limit item, INCR + EXPIRE for every key at once.
_VOTE_SCRIPT = """
local counts = {}
for i, key in ipairs(KEYS) do
  local n = redis.call('INCR', key)
  if n == 1 then redis.call('EXPIRE', key, tonumber(ARGV[i])) end
  counts[i] = n
end
return counts
"""


def _hit(keys: list[str], windows: list[int]) -> list[int]:
    """Count one hit on every key; on Redis one EVALSHA for all of them, in memory (embedded) a counter each."""
    storage = limiter.storage
    client = getattr(storage, "storage", None)
    if client is not None and hasattr(client, "register_script"):
        script = current_app.extensions.get("pingxuan.vote_script")
        if script is None:
            script = current_app.extensions["pingxuan.vote_script"] = client.register_script(_VOTE_SCRIPT)
        counts = _evalsha(client, script.sha, keys, windows)
        if counts is None:  # the script is not loaded (a restarted Redis), or the connection failed: the
            counts = script(keys=keys, args=windows)  # client's own call loads it and retries as configured
        return [int(n) for n in counts]
    return [storage.incr(key, window) for key, window in zip(keys, windows, strict=True)]


def _evalsha(client, sha: str, keys: list[str], args: list[int]) -> list | None:
    """EVALSHA on one of the pool's connections, without the client's command machinery (retries, response
    callbacks, per-argument encoding), which cost a third of the round trip in the vote's profile; None on any
    error."""
    pool = client.connection_pool
    connection = pool.get_connection()
    try:
        connection.send_packed_command([pack_command(("EVALSHA", sha, len(keys), *keys, *args))], check_health=False)
        return connection.read_response()
    except ResponseError:  # NOSCRIPT: the connection is fine
        return None
    except RedisError:
        connection.disconnect()  # its state is unknown: the next use reconnects
        return None
    finally:
        pool.release(connection)


@dataclass(frozen=True)
class VoteLimits:
    """This request's hits on the vote's two limits: which of them it breached."""

    breached: frozenset[str]


@cache
def _parsed(limits: str) -> tuple:
    """A limit string parsed once per process (the vote reads it on every request)."""
    return tuple(parse_many(limits))


def count_vote_limits(voter_id: int | None, address: str) -> VoteLimits:
    """Count one hit on the vote's limits, per voter and per address, in one round trip to the storage."""
    voter = f"voter:{voter_id}" if voter_id is not None else f"anon:{address}"
    checks = [("vote-voter", voter, item) for item in _parsed(setting("VOTE_LIMIT_VOTER")())]
    checks += [("vote-ip", address, item) for item in _parsed(setting("VOTE_LIMIT_IP")())]
    secret = current_app.config["SECRET_KEY"]
    keys = [_limit_key(secret, scope, item.get_expiry(), who) for scope, who, item in checks]
    counts = _hit(keys, [item.get_expiry() for _scope, _who, item in checks])
    return VoteLimits(frozenset(scope for (scope, _who, item), n in zip(checks, counts, strict=True)
                                if n > item.amount))  # fmt: skip


@lru_cache(maxsize=8192)
def _limit_key(secret_key: str, scope: str, expiry: int, who: str) -> str:
    """The Redis key of a limit's window for one voter or address (hashed: Redis never holds an address);
    cached, as a voter votes many times and offices share an address."""
    return f"px-limit:{scope}:{expiry}:{hashed(secret_key, scope, who)}"


def address_of(environ: dict) -> str:
    return address_from(environ, current_app.config.get("PROXY_COUNT", 0))


def vote_limits(view):
    """The vote endpoint's two limits, checked in one round trip to the limiter's storage: per address
    (escalating to a captcha; a solved one's pass is spent, one more round trip, only once it is breached) and
    per voter (a plain 429). A vote the fast path (voting.fast_views) handed on was counted there already."""

    @wraps(view)
    def limited(*args, **kwargs):
        if not current_app.config.get("RATELIMIT_ENABLED", True):
            return view(*args, **kwargs)
        counted = request.environ.get(COUNTED_ENVIRON)
        if counted is None:
            counted = count_vote_limits(current_voter_id(), client_address())
        if "vote-voter" in counted.breached:
            return too_many(None)
        if "vote-ip" in counted.breached and not captcha.use_pass():  # a solved captcha admits one vote past it
            return ask_for_captcha(None)
        return view(*args, **kwargs)

    return limited


def code_limits(view):
    view = limiter.shared_limit(setting("CODE_LIMIT_IP"), "code-ip", key_func=client_address)(view)
    return limiter.shared_limit(setting("CODE_LIMIT_PHONE"), "code-phone", key_func=phone_key)(view)


def check_limits(view):
    view = limiter.shared_limit(setting("CHECK_LIMIT_IP"), "check-ip", key_func=client_address)(view)
    return limiter.shared_limit(setting("CHECK_LIMIT_PHONE"), "check-phone", key_func=phone_key)(view)


def objection_limits(view):
    """Objections lodged per client address, one counter for the notice page and the API (the operation also
    limits each verified number to a few a day)."""
    return limiter.shared_limit(setting("OBJECTION_LIMIT_IP"), "objection-ip", key_func=client_address)(view)


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
