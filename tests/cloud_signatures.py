"""The request-signature checks of the local cloud stand-ins (tests/sms_providers.py, tests/captcha_providers.py).

Tencent Cloud signs every API call with TC3-HMAC-SHA256 (the key derived from the secret, the date and the
service), Alibaba Cloud with its V3 signature ACS3-HMAC-SHA256. Each check follows the provider's published
specification, not the SDKs, and answers None when the request is signed right with the test account's key
(KEY_ID, KEY_SECRET), else what is wrong with it: a signing mistake on either side fails the test.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from datetime import UTC, datetime
from urllib.parse import parse_qsl, quote

from werkzeug.wrappers import Request

KEY_ID, KEY_SECRET = "LTAI5tTestKeyId0000", "test-secret-of-the-office"

# Tencent Cloud's error code for each problem tc3_problem names; any other is AuthFailure.SignatureFailure.
TC3_CODES = {"密钥不存在": "AuthFailure.SecretIdNotFound", "签名过期": "AuthFailure.SignatureExpire"}


def _authorization(request: Request) -> tuple[str, dict[str, str]]:
    """The Authorization header's algorithm and its comma-separated name=value parts."""
    algorithm, _, rest = request.headers.get("Authorization", "").partition(" ")
    return algorithm, dict(item.strip().split("=", 1) for item in rest.split(",") if "=" in item)


def _hmac(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode(), hashlib.sha256).digest()


def tc3_problem(request: Request, service: str) -> str | None:
    """What is wrong with a TC3-HMAC-SHA256 signed call to Tencent Cloud's ``service`` (sms, captcha), or None."""
    algorithm, parts = _authorization(request)
    if algorithm != "TC3-HMAC-SHA256":
        return "unsupported algorithm"
    key_id, _, scope = parts.get("Credential", "").partition("/")
    if key_id != KEY_ID:
        return "密钥不存在"
    timestamp = int(request.headers.get("X-TC-Timestamp", "0"))
    if abs(time.time() - timestamp) > 300:
        return "签名过期"
    date = datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d")
    if scope != f"{date}/{service}/tc3_request":
        return "credential scope does not match the timestamp and service"
    signed = parts.get("SignedHeaders", "").split(";")
    if not {"content-type", "host"} <= set(signed):
        return "content-type and host must be signed"
    canonical_headers = "".join(f"{n}:{request.headers.get(n, '').strip().lower()}\n" for n in signed)
    payload_hash = hashlib.sha256(request.get_data()).hexdigest()
    canonical = "\n".join([request.method, request.path or "/", request.query_string.decode(), canonical_headers,
                           ";".join(signed), payload_hash])  # fmt: skip
    to_sign = "\n".join(["TC3-HMAC-SHA256", str(timestamp), scope, hashlib.sha256(canonical.encode()).hexdigest()])
    key = _hmac(_hmac(_hmac(("TC3" + KEY_SECRET).encode(), date), service), "tc3_request")
    expected = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, parts.get("Signature", "")):
        return "请求签名验证失败"
    return None


def tc3_error(problem: str) -> tuple[str, str]:
    """Tencent Cloud's error code and message for a problem tc3_problem found."""
    return TC3_CODES.get(problem, "AuthFailure.SignatureFailure"), problem


def _acs_encode(value: str) -> str:
    """RFC 3986 percent-encoding as the V3 signature documents it (space → %20, * → %2A, ~ kept)."""
    return quote(value, safe="-_.~")


def acs3_problem(request: Request) -> str | None:
    """What is wrong with an ACS3-HMAC-SHA256 (Alibaba Cloud V3) signed call, or None."""
    algorithm, parts = _authorization(request)
    if algorithm != "ACS3-HMAC-SHA256":
        return "unsupported signature algorithm"
    if parts.get("Credential") != KEY_ID:
        return "InvalidAccessKeyId.NotFound"
    signed = parts.get("SignedHeaders", "").split(";")
    if not {"host", "x-acs-action", "x-acs-content-sha256", "x-acs-date"} <= set(signed):
        return "required headers are not signed"
    payload_hash = hashlib.sha256(request.get_data()).hexdigest()
    if request.headers.get("x-acs-content-sha256") != payload_hash:
        return "x-acs-content-sha256 does not match the body"
    stamp = datetime.strptime(request.headers.get("x-acs-date", ""), "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    if abs((datetime.now(UTC) - stamp).total_seconds()) > 900:
        return "x-acs-date is more than 15 minutes off"
    query = sorted(parse_qsl(request.query_string.decode(), keep_blank_values=True))
    canonical_query = "&".join(f"{_acs_encode(k)}={_acs_encode(v)}" for k, v in query)
    canonical_headers = "".join(f"{name}:{request.headers.get(name, '').strip()}\n" for name in signed)
    canonical = "\n".join([request.method, request.path or "/", canonical_query, canonical_headers,
                           ";".join(signed), payload_hash])  # fmt: skip
    to_sign = "ACS3-HMAC-SHA256\n" + hashlib.sha256(canonical.encode()).hexdigest()
    expected = hmac.new(KEY_SECRET.encode(), to_sign.encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, parts.get("Signature", "")):
        return "Specified signature is not matched with our calculation."
    return None
