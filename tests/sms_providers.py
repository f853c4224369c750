"""Local stand-ins for Alibaba Cloud SMS and Tencent Cloud SMS that speak their documented protocols.

The gateways (voting/gateways.py) talk to these through the providers' own SDKs, pointed at a local endpoint.
Each server checks the request's signature the way the provider documents it (ACS3-HMAC-SHA256 for Alibaba
Cloud's V3 signature, TC3-HMAC-SHA256 for Tencent Cloud; the checks of tests/cloud_signatures.py), then the
signature name, the template and its parameter names against what the "account" has had approved, and answers
with the documented success and error bodies. Numbers in ``scripted`` get a provider error instead (a list: one
per attempt, then success), so a test sees how a refusal, or a transient error followed by success, comes out.
Written from the providers' published specifications, not from the SDKs: a signing or naming mistake on either
side fails the test.
"""

from __future__ import annotations

import json
import threading
import uuid
from dataclasses import dataclass, field
from urllib.parse import parse_qsl

from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from tests.cloud_signatures import acs3_problem, tc3_error, tc3_problem


@dataclass
class Received:
    phone: str
    sign_name: str
    template: str
    params: dict[str, str] | list[str]


@dataclass
class FakeProvider:
    """Approved signature and templates (template code → its parameter names, in order), scripted errors."""

    sign_name: str = "青岛智慧城市"
    templates: dict[str, list[str]] = field(default_factory=dict)
    scripted: dict[str, list[str]] = field(default_factory=dict)
    received: list[Received] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)  # error codes answered, in order
    url: str = ""

    def start(self) -> FakeProvider:
        self._server = make_server("127.0.0.1", 0, self.wsgi, threaded=True)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        return self

    def stop(self) -> None:
        self._server.shutdown()

    def wsgi(self, environ, start_response):
        return self.handle(Request(environ))(environ, start_response)  # each provider's class answers

    def scripted_error(self, phone: str) -> str | None:
        errors = self.scripted.get(phone)
        if errors:
            return errors.pop(0)
        return None


def _json(body: dict, status: int = 200) -> Response:
    return Response(json.dumps(body, ensure_ascii=False), status=status, content_type="application/json")


# Alibaba Cloud: V3 signature (ACS3-HMAC-SHA256), dysmsapi 2017-05-25 SendSms ---------------------------------


class FakeAliyun(FakeProvider):
    def handle(self, request: Request) -> Response:
        request_id = str(uuid.uuid4()).upper()
        problem = acs3_problem(request)
        if problem:
            self.refused.append("SignatureDoesNotMatch")
            return _json({"RequestId": request_id, "Code": "SignatureDoesNotMatch", "Message": problem,
                          "HostId": "dysmsapi.aliyuncs.com"}, 400)  # fmt: skip
        headers = request.headers
        if headers.get("x-acs-action") != "SendSms" or headers.get("x-acs-version") != "2017-05-25":
            return _json({"RequestId": request_id, "Code": "InvalidAction.NotFound", "Message": "unknown action"}, 404)
        params = dict(parse_qsl(request.query_string.decode(), keep_blank_values=True))
        params.update(dict(parse_qsl(request.get_data(as_text=True), keep_blank_values=True)))
        phone, template = params.get("PhoneNumbers", ""), params.get("TemplateCode", "")
        if params.get("SignName") != self.sign_name:
            return self._answer(request_id, "isv.SMS_SIGNATURE_ILLEGAL", "该账号下找不到对应签名")
        if template not in self.templates:
            return self._answer(request_id, "isv.SMS_TEMPLATE_ILLEGAL", "该账号下找不到对应模板")
        try:
            values = json.loads(params.get("TemplateParam") or "{}")
        except ValueError:
            return self._answer(request_id, "isv.INVALID_JSON_PARAM", "JSON参数不合法，只接受字符串值")
        if not isinstance(values, dict) or any(not isinstance(v, str) for v in values.values()):
            return self._answer(request_id, "isv.INVALID_JSON_PARAM", "JSON参数不合法，只接受字符串值")
        if sorted(values) != sorted(self.templates[template]):
            return self._answer(request_id, "isv.TEMPLATE_MISSING_PARAMETERS", "模板缺少变量")
        error = self.scripted_error(phone)
        if error:
            return self._answer(request_id, error, "scripted")
        self.received.append(Received(phone, params["SignName"], template, values))
        return _json({"Message": "OK", "RequestId": request_id, "Code": "OK", "BizId": f"{len(self.received)}^0"})

    def _answer(self, request_id: str, code: str, message: str) -> Response:
        """Business errors come back as HTTP 200 with the code in the body, as the SendSms reference shows."""
        self.refused.append(code)
        return _json({"Message": message, "RequestId": request_id, "Code": code})


# Tencent Cloud: TC3-HMAC-SHA256, sms 2021-01-11 SendSms ----------------------------------------------------


class FakeTencent(FakeProvider):
    app_id: str = "1400000001"

    def handle(self, request: Request) -> Response:
        request_id = str(uuid.uuid4())
        problem = tc3_problem(request, "sms")
        if problem:
            return self._error(request_id, *tc3_error(problem))
        if request.headers.get("X-TC-Action") != "SendSms" or request.headers.get("X-TC-Version") != "2021-01-11":
            return self._error(request_id, "InvalidAction", "unknown action or version")
        body = json.loads(request.get_data(as_text=True) or "{}")
        phones = body.get("PhoneNumberSet") or []
        if body.get("SmsSdkAppId") != self.app_id:
            return self._error(request_id, "FailedOperation.SmsSdkAppIdVerifyFail", "SmsSdkAppId 校验失败")
        if body.get("SignName") != self.sign_name:
            return self._error(request_id, "FailedOperation.SignatureIncorrectOrUnapproved", "签名未审批或格式错误")
        template = body.get("TemplateId", "")
        if template not in self.templates:
            return self._error(request_id, "FailedOperation.TemplateIncorrectOrUnapproved", "模板未审批或内容不匹配")
        values = body.get("TemplateParamSet") or []
        if len(values) != len(self.templates[template]) or any(not isinstance(v, str) for v in values):
            return self._error(
                request_id, "InvalidParameterValue.TemplateParameterFormatError", "验证码模板参数格式错误"
            )
        statuses = []
        for number in phones:
            phone = number.removeprefix("+86")
            error = self.scripted_error(phone)
            if error:
                self.refused.append(error)
                statuses.append({"SerialNo": "", "PhoneNumber": number, "Fee": 0, "SessionContext": "",
                                 "Code": error, "Message": "scripted", "IsoCode": "CN"})  # fmt: skip
                continue
            self.received.append(Received(phone, body["SignName"], template, list(values)))
            statuses.append({"SerialNo": f"2028:{len(self.received)}", "PhoneNumber": number, "Fee": 1,
                             "SessionContext": "", "Code": "Ok", "Message": "send success",
                             "IsoCode": "CN"})  # fmt: skip
        return _json({"Response": {"SendStatusSet": statuses, "RequestId": request_id}})

    def _error(self, request_id: str, code: str, message: str) -> Response:
        self.refused.append(code)
        return _json({"Response": {"Error": {"Code": code, "Message": message}, "RequestId": request_id}})
