"""SMS gateways: how a text reaches a phone, chosen by ``PINGXUAN_SMS_BACKEND``.

A commercial gateway in mainland China sends only what the provider approved in advance: a signature (签名) and a
template (模板) per kind of message. The application names the template and hands over its parameters
(``{"code": "483920"}``), never a body, so each kind of message (the vote's code, the objection's code, the
objection's outcome) needs an approved template code and a mapping from the provider's parameter names to the
message's values. ``PINGXUAN_SMS_TEMPLATES`` (JSON) gives them, organizers can change them in Set-up → Messages,
and a kind without a template is reported by ``/readyz`` before the first voter meets it.

``log`` (the default) writes the text to the log: the demo's phone. ``aliyun`` and ``tencent`` talk to Alibaba
Cloud SMS and Tencent Cloud SMS through their official SDKs. ``package.module:Class`` names any class with
``send(phone, body)`` (free text, for a gateway of one's own). A gateway raises ``Refusal`` with the provider's
code, whether trying again may help, and what it means for the person.
"""

from __future__ import annotations

import importlib
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol
from urllib.parse import urlsplit

from voting.privacy import mask_phone

log = logging.getLogger("pingxuan.sms")

# What a refusal means for the person who asked for the text (voting.sms words each for them).
BLOCKED = "blocked"  # the number is on the provider's block list
TOO_MANY = "too_many"  # the provider's per-number limits (per minute, hour, day)
BAD_NUMBER = "bad_number"  # the provider does not take this number
UNAVAILABLE = "unavailable"  # our side: configuration, balance, account; the office must act
TRY_LATER = "try_later"  # the provider's trouble or the network: retried, then given up


@dataclass(frozen=True)
class Template:
    """An approved template: its code and, per parameter of the provider's template, the message value it takes
    (Tencent's parameters are positional: their names are "1", "2", …)."""

    code: str
    params: dict[str, str] = field(default_factory=dict)

    def arguments(self, values: Mapping[str, object]) -> dict[str, str]:
        missing = sorted(name for name in self.params.values() if name not in values)
        if missing:
            raise Refusal("TemplateValueMissing", f"no value for {', '.join(missing)}", UNAVAILABLE)
        return {param: str(values[name]) for param, name in self.params.items()}


@dataclass(frozen=True)
class Outgoing:
    phone: str
    kind: str
    values: dict[str, str]
    text: str  # the rendered wording: what the log backend and free-text gateways send
    template: Template | None = None


class Refusal(Exception):
    """The gateway did not take the message. ``transient``: the same message may go through later."""

    def __init__(self, code: str, detail: str, meaning: str, transient: bool = False) -> None:
        super().__init__(f"{code}: {detail}")
        self.code, self.detail, self.meaning, self.transient = code, detail[:300], meaning, transient


class Gateway(Protocol):
    name: str
    templated: bool  # True: sends an approved template with parameters, not the text

    def send(self, message: Outgoing) -> str:
        """Hand the message to the provider; returns the provider's message id."""


class LogGateway:
    name, templated = "log", False

    def send(self, message: Outgoing) -> str:
        log.info("SMS to %s: %s", mask_phone(message.phone), message.text)
        return ""


class FreeTextGateway:
    """A class of one's own with ``send(phone, body)`` (``PINGXUAN_SMS_BACKEND=package.module:Class``)."""

    templated = False

    def __init__(self, spec: str) -> None:
        module, _, attr = spec.partition(":")
        self.inner = getattr(importlib.import_module(module), attr)()
        self.name = str(getattr(self.inner, "name", attr))[:20]

    def send(self, message: Outgoing) -> str:
        return str(self.inner.send(message.phone, message.text) or "")


def _endpoint(config: Mapping[str, object], default_host: str) -> tuple[str, str]:
    """(scheme, host[:port]) of ``PINGXUAN_SMS_ENDPOINT`` (a host, or a URL for a private or test endpoint)."""
    value = str(config.get("SMS_ENDPOINT") or default_host)
    if "://" not in value:
        return "https", value
    parts = urlsplit(value)
    return parts.scheme, parts.netloc


def _required(config: Mapping[str, object], *names: str) -> list[str]:
    return [f"PINGXUAN_{name}" for name in names if not config.get(name)]


# Alibaba Cloud SMS (dysmsapi 2017-05-25, SendSms) ------------------------------------------------------------

ALIYUN_MEANINGS = {
    "isv.BUSINESS_LIMIT_CONTROL": TOO_MANY,
    "isv.DAY_LIMIT_CONTROL": TOO_MANY,
    "isv.MOBILE_NUMBER_ILLEGAL": BAD_NUMBER,
    "isv.BLACK_KEY_CONTROL_LIMIT": UNAVAILABLE,  # a word of the parameters is on the keyword block list
    "isv.DENY_IP_RANGE": UNAVAILABLE,
}
ALIYUN_TRANSIENT = {"isp.SYSTEM_ERROR", "isp.GATEWAY_ERROR", "isp.UNKNOWN", "Throttling", "Throttling.User",
                    "ServiceUnavailable", "InternalError"}  # fmt: skip


class AliyunGateway:
    name, templated = "aliyun", True
    needs = ("SMS_ACCESS_KEY_ID", "SMS_ACCESS_KEY_SECRET", "SMS_SIGN_NAME")

    def __init__(self, config: Mapping[str, object]) -> None:
        from alibabacloud_dysmsapi20170525.client import Client
        from alibabacloud_tea_openapi.models import Config

        scheme, host = _endpoint(config, "dysmsapi.aliyuncs.com")
        self.sign_name = str(config.get("SMS_SIGN_NAME") or "")
        self.client = Client(Config(
            access_key_id=str(config.get("SMS_ACCESS_KEY_ID") or ""),
            access_key_secret=str(config.get("SMS_ACCESS_KEY_SECRET") or ""),
            endpoint=host, protocol=scheme, region_id=str(config.get("SMS_REGION") or "cn-hangzhou"),
        ))  # fmt: skip

    def send(self, message: Outgoing) -> str:
        from alibabacloud_dysmsapi20170525.models import SendSmsRequest
        from darabonba.runtime import RuntimeOptions

        assert message.template is not None
        request = SendSmsRequest(
            phone_numbers=message.phone, sign_name=self.sign_name, template_code=message.template.code,
            template_param=json.dumps(message.template.arguments(message.values), ensure_ascii=False),
        )  # fmt: skip
        runtime = RuntimeOptions(autoretry=False, connect_timeout=3000, read_timeout=5000)
        try:
            body = self.client.send_sms_with_options(request, runtime).body
        except Exception as exc:  # noqa: BLE001  the SDK's HTTP errors carry a code; anything else is the network
            code = getattr(exc, "code", None)
            if not code:
                raise Refusal("NetworkError", str(exc), TRY_LATER, transient=True) from exc
            status = getattr(exc, "status_code", None) or 0
            transient = code in ALIYUN_TRANSIENT or code.startswith("Throttling") or status >= 500
            meaning = TRY_LATER if transient else ALIYUN_MEANINGS.get(code, UNAVAILABLE)
            raise Refusal(code, str(getattr(exc, "message", "") or exc), meaning, transient) from exc
        if body.code != "OK":
            transient = body.code in ALIYUN_TRANSIENT
            meaning = TRY_LATER if transient else ALIYUN_MEANINGS.get(body.code, UNAVAILABLE)
            raise Refusal(body.code or "Unknown", body.message or "", meaning, transient)
        return body.biz_id or ""


# Tencent Cloud SMS (sms 2021-01-11, SendSms) ----------------------------------------------------------------

TENCENT_MEANINGS = {
    "FailedOperation.PhoneNumberInBlacklist": BLOCKED,
    "LimitExceeded.PhoneNumberDailyLimit": TOO_MANY,
    "LimitExceeded.PhoneNumberOneHourLimit": TOO_MANY,
    "LimitExceeded.PhoneNumberThirtySecondLimit": TOO_MANY,
    "LimitExceeded.PhoneNumberSameContentDailyLimit": TOO_MANY,
    "LimitExceeded.DeliveryFrequencyLimit": TOO_MANY,
    "InvalidParameterValue.IncorrectPhoneNumber": BAD_NUMBER,
    "UnsupportedOperation.ContainDomesticAndInternationalPhoneNumber": BAD_NUMBER,
}
TENCENT_TRANSIENT_PREFIXES = ("InternalError", "RequestLimitExceeded", "ServerNetworkError", "ClientNetworkError")


class TencentGateway:
    name, templated = "tencent", True
    needs = ("SMS_ACCESS_KEY_ID", "SMS_ACCESS_KEY_SECRET", "SMS_SIGN_NAME", "SMS_APP_ID")

    def __init__(self, config: Mapping[str, object]) -> None:
        from tencentcloud.common import credential
        from tencentcloud.common.profile.client_profile import ClientProfile
        from tencentcloud.common.profile.http_profile import HttpProfile
        from tencentcloud.sms.v20210111 import sms_client

        scheme, host = _endpoint(config, "sms.tencentcloudapi.com")
        http = HttpProfile(protocol=scheme, endpoint=host, reqTimeout=5)
        self.sign_name, self.app_id = str(config.get("SMS_SIGN_NAME") or ""), str(config.get("SMS_APP_ID") or "")
        self.client = sms_client.SmsClient(
            credential.Credential(str(config.get("SMS_ACCESS_KEY_ID") or ""),
                                  str(config.get("SMS_ACCESS_KEY_SECRET") or "")),
            str(config.get("SMS_REGION") or "ap-guangzhou"), ClientProfile(httpProfile=http),
        )  # fmt: skip

    def send(self, message: Outgoing) -> str:
        from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
        from tencentcloud.sms.v20210111 import models

        assert message.template is not None
        arguments = message.template.arguments(message.values)
        request = models.SendSmsRequest()
        request.PhoneNumberSet = ["+86" + message.phone]
        request.SmsSdkAppId, request.SignName = self.app_id, self.sign_name
        request.TemplateId = message.template.code
        request.TemplateParamSet = [arguments[k] for k in sorted(arguments, key=lambda k: (len(k), k))]
        try:
            response = self.client.SendSms(request)
        except TencentCloudSDKException as exc:
            code = exc.get_code() or "Unknown"
            transient = code.startswith(TENCENT_TRANSIENT_PREFIXES)
            meaning = TRY_LATER if transient else TENCENT_MEANINGS.get(code, UNAVAILABLE)
            raise Refusal(code, exc.get_message() or "", meaning, transient) from exc
        except Exception as exc:  # noqa: BLE001  the network
            raise Refusal("NetworkError", str(exc), TRY_LATER, transient=True) from exc
        status = (response.SendStatusSet or [None])[0]
        if status is None:
            raise Refusal("NoStatus", "the provider answered without a status", TRY_LATER, transient=True)
        if status.Code != "Ok":
            transient = status.Code.startswith(TENCENT_TRANSIENT_PREFIXES)
            meaning = TRY_LATER if transient else TENCENT_MEANINGS.get(status.Code, UNAVAILABLE)
            raise Refusal(status.Code, status.Message or "", meaning, transient)
        return status.SerialNo or ""


BUILT_IN = {"aliyun": AliyunGateway, "tencent": TencentGateway}


def templates(config: Mapping[str, object]) -> dict[str, Template]:
    """The approved templates of ``PINGXUAN_SMS_TEMPLATES``: ``{"vote.code": {"template": "SMS_1", "params":
    {"code": "code"}}, …}`` (a parameter name of the provider's template → the message value it takes)."""
    raw = config.get("SMS_TEMPLATES") or {}
    if isinstance(raw, str):
        raw = json.loads(raw)
    found = {}
    for kind, entry in dict(raw).items():
        if isinstance(entry, str):
            entry = {"template": entry}
        found[str(kind)] = Template(
            str(entry.get("template") or ""), {str(k): str(v) for k, v in dict(entry.get("params") or {}).items()}
        )
    return found


def configuration_problems(
    config: Mapping[str, object], kinds: tuple[str, ...], chosen: Mapping[str, Template] | None = None
) -> list[str]:
    """What stops the configured gateway from sending ``kinds``: missing settings, unparsable or missing templates
    (``chosen``: the organizers' templates over the configuration's). Checked at start and by ``/readyz``, so an
    office learns it before the first voter does."""
    spec = str(config.get("SMS_BACKEND") or "log")
    gateway = BUILT_IN.get(spec)
    if gateway is None:
        return []
    problems = [f"{name} is not set" for name in _required(config, *gateway.needs)]
    try:
        known = templates(config) | dict(chosen or {})
    except (ValueError, TypeError, AttributeError) as exc:
        return [*problems, f"PINGXUAN_SMS_TEMPLATES is not valid JSON of templates: {exc}"]
    for kind in kinds:
        if not (known.get(kind) and known[kind].code):
            problems.append(f"no approved template for {kind} (PINGXUAN_SMS_TEMPLATES)")
    return problems


def gateway(config: Mapping[str, object]) -> Gateway:
    spec = str(config.get("SMS_BACKEND") or "log")
    if spec == "log":
        return LogGateway()
    if spec in BUILT_IN:
        return BUILT_IN[spec](config)
    return FreeTextGateway(spec)


def templated(config: Mapping[str, object]) -> bool:
    """Whether the configured gateway sends approved templates (the words are then the provider's)."""
    return str(config.get("SMS_BACKEND") or "log") in BUILT_IN
