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

An office in China may already have a cloud captcha: ``CAPTCHA_PROVIDER`` ``tencent`` (Tencent Cloud Captcha,
DescribeCaptchaResult) or ``aliyun`` (Alibaba Cloud Captcha 2.0, VerifyIntelligentCaptcha) checks the provider's
ticket through its official SDK instead (``CAPTCHA_ACCESS_KEY_ID``/``_SECRET``, ``CAPTCHA_APP_ID``/``_APP_SECRET``
for Tencent, ``CAPTCHA_SCENE_ID``/``CAPTCHA_PREFIX`` for Alibaba, ``CAPTCHA_ENDPOINT`` for a private endpoint); the
page then loads the provider's script from its CDN, which the Content-Security-Policy of that page allows
(``CSP_SOURCES``). A ticket is burned like a payload, and earns the same single-use pass.

Settings (Flask config, ``PINGXUAN_`` in the environment): ``CAPTCHA_ALGORITHM`` (a PBKDF2 or SHA algorithm the
widget's bundled workers know), ``CAPTCHA_COST`` (the key derivation's iterations per try), ``CAPTCHA_MAX_NUMBER``
(the secret counter is drawn between half of it and it: the number of tries), ``CAPTCHA_SECONDS`` (the expiry).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import secrets
import time
from typing import Any

import altcha
from flask import current_app, request, session

from pingxuan.extensions import limiter
from pingxuan.net import client_address
from voting.privacy import keyed_hash

PASS_KEY = "captcha_pass"
PASS_SECONDS = 600
MAX_PAYLOAD = 16384  # characters: an ALTCHA payload is under 2,000, a cloud captcha's ticket a few thousand

log = logging.getLogger(__name__)
PROVIDERS = ("altcha", "tencent", "aliyun")
CSP_SOURCES_KEY = "pingxuan.csp_sources"  # in the request's environ: extra sources of this page's CSP
DEFAULTS: dict[str, Any] = {
    "CAPTCHA_PROVIDER": "altcha",
    "CAPTCHA_ALGORITHM": "PBKDF2/SHA-256",
    "CAPTCHA_COST": 1000,
    "CAPTCHA_MAX_NUMBER": 10000,
    "CAPTCHA_SECONDS": 300,
}
# The algorithms whose workers we serve (pingxuan/static/vendor/altcha: pbkdf2.js and sha.js).
ALGORITHMS = ("PBKDF2/SHA-256", "PBKDF2/SHA-384", "PBKDF2/SHA-512", "SHA-256", "SHA-384", "SHA-512")


def setting(name: str) -> Any:
    value = current_app.config.get(name) or DEFAULTS[name]
    return value if name in ("CAPTCHA_ALGORITHM", "CAPTCHA_PROVIDER") else int(value)


def provider() -> str:
    name = str(setting("CAPTCHA_PROVIDER")).strip().lower()
    if name not in PROVIDERS:
        raise ValueError(f"CAPTCHA_PROVIDER must be one of {', '.join(PROVIDERS)}, not {name!r}")
    return name


NEEDS = {
    "altcha": (),
    "tencent": ("CAPTCHA_ACCESS_KEY_ID", "CAPTCHA_ACCESS_KEY_SECRET", "CAPTCHA_APP_ID", "CAPTCHA_APP_SECRET"),
    "aliyun": ("CAPTCHA_ACCESS_KEY_ID", "CAPTCHA_ACCESS_KEY_SECRET", "CAPTCHA_SCENE_ID", "CAPTCHA_PREFIX"),
}


def configuration_problems() -> list[str]:
    """What stops the configured captcha from working: said at start and by ``/readyz``, not first to a voter
    stopped by the per-address limit (who could then not vote from that address at all)."""
    try:
        name = provider()
        if name == "altcha" and setting("CAPTCHA_ALGORITHM") not in ALGORITHMS:
            return [f"PINGXUAN_CAPTCHA_ALGORITHM must be one of {', '.join(ALGORITHMS)}"]
        for number in ("CAPTCHA_COST", "CAPTCHA_MAX_NUMBER", "CAPTCHA_SECONDS"):
            if setting(number) < 1:
                return [f"PINGXUAN_{number} must be a positive number"]
    except ValueError as error:
        return [str(error)]
    missing = [f"PINGXUAN_{need}" for need in NEEDS[name] if not current_app.config.get(need)]
    return [f"PINGXUAN_CAPTCHA_PROVIDER={name} needs {', '.join(missing)}"] if missing else []


def check_ready() -> str:
    """``/readyz``'s captcha check: the provider and its settings."""
    problems = configuration_problems()
    if problems:
        raise RuntimeError("; ".join(problems))
    return "ok"


# What each cloud captcha's page script loads, per the providers' integration guides (added to that page's CSP).
# Their scripts draw the puzzle with inline styles and their own stylesheets: on that one page only, and only with
# a cloud captcha configured, style-src allows them (a script trusted to run there could restyle it anyway). The
# default, ALTCHA, needs nothing: its styles are our static file.
CSP_SOURCES = {
    "tencent": {
        "script-src": "https://turing.captcha.qcloud.com https://turing.captcha.gtimg.com",
        "style-src": "'unsafe-inline' https://turing.captcha.qcloud.com https://turing.captcha.gtimg.com",
        "frame-src": "https://turing.captcha.qcloud.com",
        "connect-src": "https://turing.captcha.qcloud.com",
        "img-src": "https://turing.captcha.qcloud.com https://turing.captcha.gtimg.com",
    },
    "aliyun": {
        "script-src": "https://o.alicdn.com https://g.alicdn.com",
        "style-src": "'unsafe-inline' https://o.alicdn.com https://g.alicdn.com",
        "connect-src": "https://*.captcha-open.aliyuncs.com",
        "img-src": "https://*.alicdn.com https://*.captcha-open.aliyuncs.com",
    },
}


def page_settings() -> dict[str, str]:
    """What the captcha page needs to show the configured captcha; also opens its CSP to a cloud provider."""
    name = provider()
    if name in CSP_SOURCES:
        request.environ[CSP_SOURCES_KEY] = CSP_SOURCES[name]  # this response's CSP (shell/headers.py)
    return {
        "provider": name,
        "app_id": str(current_app.config.get("CAPTCHA_APP_ID") or ""),
        "scene_id": str(current_app.config.get("CAPTCHA_SCENE_ID") or ""),
        "prefix": str(current_app.config.get("CAPTCHA_PREFIX") or ""),
    }


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


def _altcha_solved(payload: str) -> bool:
    result = altcha.verify_solution(payload, _key("challenge"), hmac_key_secret=_key("derived-key"))
    if not result.verified:
        return False
    challenge = _challenge_of(payload)
    expires_at = (challenge or {}).get("parameters", {}).get("expiresAt")
    if challenge is None or not isinstance(expires_at, int):
        return False  # every challenge we sign expires
    return _burn(str(challenge["signature"]), expires_at)


def _endpoint(default_host: str) -> tuple[str, str]:
    """(scheme, host[:port]) of ``CAPTCHA_ENDPOINT`` (a host, or a URL for a private or test endpoint)."""
    value = str(current_app.config.get("CAPTCHA_ENDPOINT") or default_host)
    if "://" not in value:
        return "https", value
    scheme, _, rest = value.partition("://")
    return scheme, rest.split("/", 1)[0]


def _tencent_solved(payload: str) -> bool:
    """Tencent Cloud Captcha: the page's callback gave ``{"ticket": ..., "randstr": ...}``; CaptchaCode 1 is a pass
    (7 randstr mismatch, 8 expired, 9 reused, 15 forged, 16/100 wrong app or secret: refused)."""
    from tencentcloud.captcha.v20190722 import captcha_client, models
    from tencentcloud.common import credential
    from tencentcloud.common.profile.client_profile import ClientProfile
    from tencentcloud.common.profile.http_profile import HttpProfile

    try:
        answer = json.loads(payload)
        ticket, randstr = str(answer["ticket"]), str(answer["randstr"])
    except (ValueError, TypeError, KeyError):
        return False
    config = current_app.config
    scheme, host = _endpoint("captcha.tencentcloudapi.com")
    client = captcha_client.CaptchaClient(
        credential.Credential(str(config.get("CAPTCHA_ACCESS_KEY_ID") or ""),
                              str(config.get("CAPTCHA_ACCESS_KEY_SECRET") or "")),
        "", ClientProfile(httpProfile=HttpProfile(protocol=scheme, endpoint=host, reqTimeout=5)),
    )  # fmt: skip
    request = models.DescribeCaptchaResultRequest()
    request.CaptchaType, request.Ticket, request.Randstr = 9, ticket, randstr
    request.UserIp = client_address()
    request.CaptchaAppId = int(config.get("CAPTCHA_APP_ID") or 0)
    request.AppSecretKey = str(config.get("CAPTCHA_APP_SECRET") or "")
    try:
        response = client.DescribeCaptchaResult(request)
    except Exception as exc:  # noqa: BLE001  the SDK's errors and the network: no pass, said in the log
        log.warning("Tencent Cloud Captcha could not check a ticket: %s", exc)
        return False
    if response.CaptchaCode != 1:
        log.info("Tencent Cloud Captcha refused a ticket: %s %s", response.CaptchaCode, response.CaptchaMsg)
        return False
    return _burn(ticket, int(time.time()) + 300)  # a ticket lives 5 minutes


def _aliyun_solved(payload: str) -> bool:
    """Alibaba Cloud Captcha 2.0: the page's ``success`` callback gave the CaptchaVerifyParam; the verdict is
    ``Result.VerifyResult`` (``VerifyCode`` T001 passed, F0xx why not)."""
    from alibabacloud_captcha20230305.client import Client
    from alibabacloud_captcha20230305.models import VerifyIntelligentCaptchaRequest
    from alibabacloud_tea_openapi.models import Config
    from alibabacloud_tea_util.models import RuntimeOptions

    config = current_app.config
    scheme, host = _endpoint("captcha.cn-shanghai.aliyuncs.com")
    client = Client(Config(
        access_key_id=str(config.get("CAPTCHA_ACCESS_KEY_ID") or ""),
        access_key_secret=str(config.get("CAPTCHA_ACCESS_KEY_SECRET") or ""),
        endpoint=host, protocol=scheme, region_id=str(config.get("CAPTCHA_REGION") or "cn-shanghai"),
    ))  # fmt: skip
    request = VerifyIntelligentCaptchaRequest(
        captcha_verify_param=payload, scene_id=str(config.get("CAPTCHA_SCENE_ID") or "") or None
    )
    runtime = RuntimeOptions(autoretry=False, connect_timeout=3000, read_timeout=5000)
    try:
        body = client.verify_intelligent_captcha_with_options(request, runtime).body
    except Exception as exc:  # noqa: BLE001  the SDK's errors and the network: no pass, said in the log
        log.warning("Alibaba Cloud Captcha could not check a ticket: %s", exc)
        return False
    verdict = body.result
    if not body.success or verdict is None or verdict.verify_result is not True:
        log.info("Alibaba Cloud Captcha refused a ticket: %s %s", body.code, verdict and verdict.verify_code)
        return False
    return _burn(payload, int(time.time()) + 300)


def solve(payload: str) -> bool:
    """Check what the page's captcha gave (ALTCHA: the widget's ``altcha`` payload; a cloud captcha: its ticket):
    a valid, unexpired, unused one earns a pass; anything else, or the same one again, earns nothing."""
    if not isinstance(payload, str) or not payload or len(payload) > MAX_PAYLOAD:
        return False
    check = {"altcha": _altcha_solved, "tencent": _tencent_solved, "aliyun": _aliyun_solved}[provider()]
    if not check(payload):
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
