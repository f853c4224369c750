"""Local stand-ins for Tencent Cloud Captcha and Alibaba Cloud Captcha 2.0 that speak their documented protocols.

voting/captcha.py checks a ticket through each provider's own SDK, pointed at one of these. Each server checks the
request's signature as the provider documents it (TC3-HMAC-SHA256 for Tencent Cloud, service ``captcha``;
ACS3-HMAC-SHA256 for Alibaba Cloud's V3 signature; the checks of tests/cloud_signatures.py, as the SMS stand-ins),
then the action, the app's id and secret (Tencent) or the scene (Alibaba), and answers with the documented bodies:
Tencent's ``DescribeCaptchaResult`` CaptchaCode (1 passed, 7 randstr mismatch, 9 ticket reused, 15 ticket not ours,
16 other app, 100 wrong secret), Alibaba's ``VerifyIntelligentCaptcha`` ``Result.VerifyResult`` and ``VerifyCode``
(T001 passed, F003 not ours, F005 reused...). Tickets are issued by ``ticket()``, as the provider's page script
would after a person's check. Written from the providers' published specifications, not from the SDKs.
"""

from __future__ import annotations

import json
import secrets
import threading
import uuid
from dataclasses import dataclass, field
from urllib.parse import parse_qsl

from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from tests.cloud_signatures import acs3_problem, tc3_error, tc3_problem

APP_ID, APP_SECRET, SCENE_ID = 190000001, "app-secret-of-the-office", "scene-vote-01"


def _json(body: dict, status: int = 200) -> Response:
    return Response(json.dumps(body, ensure_ascii=False), status=status, content_type="application/json")


@dataclass
class FakeCaptcha:
    issued: dict[str, str] = field(default_factory=dict)  # ticket → randstr (Tencent) or "" (Alibaba)
    used: set[str] = field(default_factory=set)
    checked: list[dict] = field(default_factory=list)  # the parameters of every signed call, in order
    refused: list[str] = field(default_factory=list)  # the error codes of the calls refused for their signature
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
        problem = tc3_problem(request, "captcha")
        if problem:
            code, message = tc3_error(problem)
            self.refused.append(code)
            return _json({"Response": {"Error": {"Code": code, "Message": message}, "RequestId": request_id}})
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


class FakeAliyunCaptcha(FakeCaptcha):
    def ticket(self) -> str:
        """What initAliyunCaptcha's success callback gives the page: the captchaVerifyParam."""
        param = json.dumps({"sceneId": SCENE_ID, "certifyId": secrets.token_hex(8), "deviceToken": "web",
                            "data": secrets.token_urlsafe(24)})  # fmt: skip
        self.issued[param] = ""
        return param

    def handle(self, request: Request) -> Response:
        request_id = str(uuid.uuid4()).upper()
        problem = acs3_problem(request)
        if problem:
            self.refused.append("SignatureDoesNotMatch")
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
