"""Local stand-ins for Tencent Cloud Captcha and Alibaba Cloud Captcha 2.0 that speak their documented protocols.

voting/captcha.py checks a ticket through each provider's own SDK, pointed at one of these. Each server checks the
request's signature as the provider documents it (TC3-HMAC-SHA256 for Tencent Cloud, service ``captcha``;
ACS3-HMAC-SHA256 for Alibaba Cloud's V3 signature, the same check as the SMS stand-in), then the action, the app's
id and secret (Tencent) or the scene (Alibaba), and answers with the documented bodies: Tencent's
``DescribeCaptchaResult`` CaptchaCode (1 passed, 7 randstr mismatch, 9 ticket reused, 15 ticket not ours, 16 other
app, 100 wrong secret), Alibaba's ``VerifyIntelligentCaptcha`` ``Result.VerifyResult`` and ``VerifyCode`` (T001
passed, F003 not ours, F005 reused...). Tickets are issued by ``ticket()``, as the provider's page script would
after a person's check. Written from the providers' published specifications, not from the SDKs.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import parse_qsl

from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from tests.sms_providers import KEY_ID, KEY_SECRET, FakeAliyun, _hmac

APP_ID, APP_SECRET, SCENE_ID = 190000001, "app-secret-of-the-office", "scene-vote-01"


def _json(body: dict, status: int = 200) -> Response:
    return Response(json.dumps(body, ensure_ascii=False), status=status, content_type="application/json")


@dataclass
class FakeCaptcha:
    issued: dict[str, str] = field(default_factory=dict)  # ticket → randstr (Tencent) or "" (Alibaba)
    used: set[str] = field(default_factory=set)
    checked: list[dict] = field(default_factory=list)  # the parameters of every signed call, in order
    url: str = ""

    def start(self) -> FakeCaptcha:
        self._server = make_server("127.0.0.1", 0, lambda e, r: self.handle(Request(e))(e, r), threaded=True)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        return self

    def stop(self) -> None:
        self._server.shutdown()

    def _spend(self, ticket: str) -> str:
        """'ok', 'unknown' or 'reused': a ticket passes once."""
        if ticket not in self.issued:
            return "unknown"
        if ticket in self.used:
            return "reused"
        self.used.add(ticket)
        return "ok"


class FakeTencentCaptcha(FakeCaptcha):
    def ticket(self) -> dict[str, str]:
        """What the TencentCaptcha callback gives the page after a person's check."""
        ticket, randstr = "tr0" + secrets.token_urlsafe(48) + "*", "@" + secrets.token_urlsafe(3)
        self.issued[ticket] = randstr
        return {"ticket": ticket, "randstr": randstr}

    def handle(self, request: Request) -> Response:
        request_id = str(uuid.uuid4())
        problem = self._signature_problem(request)
        if problem:
            return _json({"Response": {"Error": {"Code": problem[0], "Message": problem[1]}, "RequestId": request_id}})
        if request.headers.get("X-TC-Action") != "DescribeCaptchaResult" or \
                request.headers.get("X-TC-Version") != "2019-07-22":  # fmt: skip
            return _json({"Response": {"Error": {"Code": "InvalidAction", "Message": "unknown action"},
                                       "RequestId": request_id}})  # fmt: skip
        body = json.loads(request.get_data(as_text=True) or "{}")
        self.checked.append(body)
        code, message = self._verdict(body)
        return _json({"Response": {"CaptchaCode": code, "CaptchaMsg": message, "EvilLevel": 0,
                                   "GetCaptchaTime": 0, "EvilBitmap": 0, "SubmitCaptchaTime": 0,
                                   "RequestId": request_id}})  # fmt: skip

    def _verdict(self, body: dict) -> tuple[int, str]:
        if body.get("CaptchaType") != 9 or not body.get("UserIp"):
            return 21, "ticket error"
        if body.get("CaptchaAppId") != APP_ID:
            return 16, "appid-ticket mismatch"
        if body.get("AppSecretKey") != APP_SECRET:
            return 100, "appid-secretkey-ticket mismatch"
        ticket = body.get("Ticket", "")
        if ticket in self.issued and self.issued[ticket] != body.get("Randstr"):
            return 7, "captcha no match"
        outcome = self._spend(ticket)
        return {"ok": (1, "OK"), "unknown": (15, "decrypt fail"), "reused": (9, "ticket reused")}[outcome]

    @staticmethod
    def _signature_problem(request: Request) -> tuple[str, str] | None:
        auth = request.headers.get("Authorization", "")
        algorithm, _, rest = auth.partition(" ")
        if algorithm != "TC3-HMAC-SHA256":
            return "AuthFailure.SignatureFailure", "unsupported algorithm"
        parts = dict(item.strip().split("=", 1) for item in rest.split(",") if "=" in item)
        key_id, _, scope = parts.get("Credential", "").partition("/")
        if key_id != KEY_ID:
            return "AuthFailure.SecretIdNotFound", "密钥不存在"
        timestamp = int(request.headers.get("X-TC-Timestamp", "0"))
        if abs(time.time() - timestamp) > 300:
            return "AuthFailure.SignatureExpire", "签名过期"
        date = datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d")
        if scope != f"{date}/captcha/tc3_request":
            return "AuthFailure.SignatureFailure", "credential scope does not match the timestamp and service"
        signed = parts.get("SignedHeaders", "").split(";")
        if not {"content-type", "host"} <= set(signed):
            return "AuthFailure.SignatureFailure", "content-type and host must be signed"
        canonical_headers = "".join(f"{n}:{request.headers.get(n, '').strip().lower()}\n" for n in signed)
        payload_hash = hashlib.sha256(request.get_data()).hexdigest()
        canonical = "\n".join([request.method, request.path or "/", request.query_string.decode(), canonical_headers,
                               ";".join(signed), payload_hash])  # fmt: skip
        to_sign = "\n".join(["TC3-HMAC-SHA256", str(timestamp), scope, hashlib.sha256(canonical.encode()).hexdigest()])
        key = _hmac(_hmac(_hmac(("TC3" + KEY_SECRET).encode(), date), "captcha"), "tc3_request")
        expected = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, parts.get("Signature", "")):
            return "AuthFailure.SignatureFailure", "请求签名验证失败"
        return None


class FakeAliyunCaptcha(FakeCaptcha):
    def ticket(self) -> str:
        """What initAliyunCaptcha's success callback gives the page: the captchaVerifyParam."""
        param = json.dumps({"sceneId": SCENE_ID, "certifyId": secrets.token_hex(8), "deviceToken": "web",
                            "data": secrets.token_urlsafe(24)})  # fmt: skip
        self.issued[param] = ""
        return param

    def handle(self, request: Request) -> Response:
        request_id = str(uuid.uuid4()).upper()
        problem = FakeAliyun._signature_problem(request)
        if problem:
            return _json({"RequestId": request_id, "Code": "SignatureDoesNotMatch", "Message": problem,
                          "HostId": "captcha.cn-shanghai.aliyuncs.com"}, 400)  # fmt: skip
        headers = request.headers
        if headers.get("x-acs-action") != "VerifyIntelligentCaptcha" or headers.get("x-acs-version") != "2023-03-05":
            return _json({"RequestId": request_id, "Code": "InvalidAction.NotFound", "Message": "unknown action"}, 404)
        params = dict(parse_qsl(request.query_string.decode(), keep_blank_values=True))
        params.update(dict(parse_qsl(request.get_data(as_text=True), keep_blank_values=True)))
        self.checked.append(params)
        param = params.get("CaptchaVerifyParam", "")
        if params.get("SceneId") not in (None, SCENE_ID):
            verdict, code = False, "F002"  # the scene the page used is not this one
        else:
            outcome = self._spend(param)
            verdict, code = {"ok": (True, "T001"), "unknown": (False, "F003"), "reused": (False, "F005")}[outcome]
        return _json({"RequestId": request_id, "Success": True, "Code": "Success", "Message": "success",
                      "Result": {"VerifyResult": verdict, "VerifyCode": code}})  # fmt: skip
