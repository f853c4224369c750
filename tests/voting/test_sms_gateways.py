"""Texts through the commercial SMS gateways (issue 22): the providers' official SDKs against local servers that
check signatures, signature names, templates and parameter names as the providers do (tests/sms_providers.py)."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from prometheus_client import REGISTRY

from pingxuan.db import commit
from pingxuan.extensions import db
from tests.cloud_signatures import KEY_ID, KEY_SECRET
from tests.factories import login
from tests.sms_providers import FakeAliyun, FakeTencent
from voting.models import SMS_FAILED, SMS_QUEUED, SMS_SENT, SmsMessage
from voting.sms import send_sms

SIGN = "青岛智慧城市"
PROVIDERS = {
    # provider: (fake server class, approved templates (code → parameter names), PINGXUAN_SMS_TEMPLATES, errors)
    "aliyun": (
        FakeAliyun,
        {"SMS_100001": ["code"], "SMS_100002": ["code"], "SMS_100003": ["title", "result"]},
        {"vote.code": {"template": "SMS_100001", "params": {"code": "code"}},
         "objection.code": {"template": "SMS_100002", "params": {"code": "code"}},
         "objection.outcome": {"template": "SMS_100003", "params": {"title": "case_title", "result": "outcome"}}},
        {"too_many": "isv.BUSINESS_LIMIT_CONTROL", "transient": "isp.SYSTEM_ERROR",
         "bad_number": "isv.MOBILE_NUMBER_ILLEGAL", "signature": "SignatureDoesNotMatch"},
    ),
    "tencent": (
        FakeTencent,
        {"2001": ["code", "minutes"], "2002": ["code", "minutes"], "2003": ["title", "result"]},
        {"vote.code": {"template": "2001", "params": {"1": "code", "2": "minutes"}},
         "objection.code": {"template": "2002", "params": {"1": "code", "2": "minutes"}},
         "objection.outcome": {"template": "2003", "params": {"1": "case_title", "2": "outcome"}}},
        {"too_many": "LimitExceeded.PhoneNumberDailyLimit", "transient": "InternalError.Timeout",
         "blocked": "FailedOperation.PhoneNumberInBlacklist", "signature": "AuthFailure.SignatureFailure"},
    ),
}  # fmt: skip


@pytest.fixture(params=sorted(PROVIDERS))
def provider(request):
    server_class, approved, _, _ = PROVIDERS[request.param]
    fake = server_class(sign_name=SIGN, templates={k: list(v) for k, v in approved.items()}).start()
    fake.name = request.param
    yield fake
    fake.stop()


@pytest.fixture
def app_config(app_config, provider):
    return app_config | {
        "SMS_BACKEND": provider.name, "SMS_ACCESS_KEY_ID": KEY_ID, "SMS_ACCESS_KEY_SECRET": KEY_SECRET,
        "SMS_SIGN_NAME": SIGN, "SMS_APP_ID": "1400000001", "SMS_ENDPOINT": provider.url,
        "SMS_TEMPLATES": PROVIDERS[provider.name][2],
    }  # fmt: skip


def _error(provider, what: str) -> str:
    return PROVIDERS[provider.name][3][what]


def _ask_code(client, phone: str):
    client.get("/showcase/verify?lang=en")
    return client.post("/showcase/verify/code?lang=en", data={"phone": phone, "next": "/showcase"})


def _outbox(phone_masked_tail: str) -> SmsMessage:
    db.session.expire_all()
    return db.session.scalars(
        sa.select(SmsMessage).where(SmsMessage.phone_masked.endswith(phone_masked_tail)).order_by(SmsMessage.id.desc())
    ).first()


def _counted(provider: str, outcome: str) -> float:
    return REGISTRY.get_sample_value("pingxuan_sms_total", {"provider": provider, "outcome": outcome}) or 0.0


def test_the_code_goes_to_the_provider_as_the_approved_template_and_verifies(app, make, client, provider):
    make.campaign()
    sent_before = _counted(provider.name, "sent")
    page = _ask_code(client, "13800138000")
    assert page.status_code == 200, page.get_data(as_text=True)
    assert [r.phone for r in provider.received] == ["13800138000"]
    got = provider.received[0]
    assert got.sign_name == SIGN and got.template == PROVIDERS[provider.name][2]["vote.code"]["template"]
    code = got.params["code"] if isinstance(got.params, dict) else got.params[0]
    assert re.fullmatch(r"\d{6}", code)
    text = _outbox("8000")
    assert (text.status, text.backend, text.kind, text.attempts) == (SMS_SENT, provider.name, "vote.code", 1)
    assert text.provider_message_id and text.template_code == got.template
    assert code not in text.body  # the outbox keeps the code redacted
    assert _counted(provider.name, "sent") == sent_before + 1

    verified = client.post("/showcase/verify/check", data={"phone": "13800138000", "code": code, "next": "/showcase"})
    assert verified.status_code == 302  # the code the provider delivered verifies the number


def test_a_provider_refusal_is_the_persons_message_and_the_outbox_row(app, make, client, provider):
    make.campaign()
    provider.scripted["13900139001"] = [_error(provider, "too_many")]
    refused_before = _counted(provider.name, "too_many")
    page = _ask_code(client, "13900139001")
    assert page.status_code == 422
    assert "too many texts" in page.get_data(as_text=True)
    text = _outbox("9001")
    assert (text.status, text.error_code, text.meaning) == (SMS_FAILED, _error(provider, "too_many"), "too_many")
    assert provider.received == []
    assert _counted(provider.name, "too_many") == refused_before + 1

    other = "blocked" if provider.name == "tencent" else "bad_number"
    provider.scripted["13900139002"] = [_error(provider, other)]
    answer = client.post("/api/v1/voters/code", json={"phone": "13900139002"}, headers={"Accept-Language": "en"})
    assert answer.status_code == 422
    wanted = "block list" if other == "blocked" else "does not accept this number"
    assert wanted in answer.get_json()["errors"]["phone"]


def test_a_transient_error_is_retried_until_the_text_goes_out(app, make, client, provider):
    make.campaign()
    provider.scripted["13700137001"] = [_error(provider, "transient")]
    page = _ask_code(client, "13700137001")
    assert page.status_code == 200
    text = _outbox("7001")
    assert (text.status, text.attempts, text.error_code) == (SMS_SENT, 2, "")
    assert provider.refused == [_error(provider, "transient")] and len(provider.received) == 1


def test_a_wrong_secret_fails_the_providers_signature_check(app, make, client, provider):
    make.campaign()
    app.config["SMS_ACCESS_KEY_SECRET"] = "not-the-secret"
    page = _ask_code(client, "13600136001")
    assert page.status_code == 503  # ours to fix: the person is told to try later, the office sees why
    assert provider.refused == [_error(provider, "signature")]
    text = _outbox("6001")
    assert (text.status, text.error_code, text.meaning) == (SMS_FAILED, _error(provider, "signature"), "unavailable")


def test_nothing_reaches_the_provider_before_the_commit(app, make, provider):
    campaign = make.campaign()
    values = {"case_title": "智慧停车", "outcome": "不成立", "reason": "材料齐全"}
    text = send_sms("13500135001", "objection.outcome", values, campaign_id=campaign.id)
    assert text.status == SMS_QUEUED and provider.received == []
    commit()
    db.session.refresh(text)
    assert text.status == SMS_SENT
    got = provider.received[0]
    assert ("智慧停车" in got.params.values()) if isinstance(got.params, dict) else got.params == ["智慧停车", "不成立"]


def test_readyz_names_a_kind_without_an_approved_template(app, client, provider):
    app.config["SMS_TEMPLATES"] = {"vote.code": PROVIDERS[provider.name][2]["vote.code"]}
    answer = client.get("/readyz")
    assert answer.status_code == 503
    sms = answer.get_json()["checks"]["sms"]
    assert "no approved template for objection.code" in sms and "objection.outcome" in sms
    app.config["SMS_TEMPLATES"] = PROVIDERS[provider.name][2]
    assert client.get("/readyz").get_json()["checks"]["sms"] == "ok"


def test_the_office_sees_each_texts_outcome_and_what_the_texts_cost(app, make, client, provider):
    make.campaign()
    provider.scripted["13900139003"] = [_error(provider, "too_many")]
    for phone in ("13800138011", "13800138012", "13900139003"):
        _ask_code(client, phone)
    login(client, make.organizer())
    page = client.get("/admin/sms/?lang=en").get_data(as_text=True)
    assert "Texts and their cost" in page
    assert _error(provider, "too_many") in page and "138****8011" in page
    row = re.search(r"<td>\d{4}-\d\d-\d\d</td><td>(\d{4})</td>\s*<td>(\d+)</td><td>(\d+)</td><td>([\d.]+)</td>", page)
    assert row is not None, page
    assert row.groups()[1:] == ("2", "1", "0.09")  # two accepted at the default 0.045 CNY, one refused (free)


def test_organizers_name_the_approved_template_and_the_next_text_uses_it(app, make, client, provider):
    make.campaign()
    tencent = provider.name == "tencent"
    provider.templates["2999" if tencent else "SMS_999"] = ["code", "minutes"] if tencent else ["code"]
    app.config["SMS_TEMPLATES"] = {k: v for k, v in PROVIDERS[provider.name][2].items() if k != "objection.outcome"}
    assert "objection.outcome" in client.get("/readyz").get_json()["checks"]["sms"]
    login(client, make.organizer())
    messages = client.get("/admin/messages/vote.code/zh_Hans_CN")
    assert messages.status_code == 302 and messages.location.endswith("/admin/sms-templates/vote.code")
    form = client.get("/admin/sms-templates/vote.code?lang=en").get_data(as_text=True)
    assert "approved" in form and PROVIDERS[provider.name][2]["vote.code"]["template"] in form

    wrong = client.post("/admin/sms-templates/vote.code?lang=en", data={"template_code": "SMS 999!",
                                                                        "params": "code = phone"})  # fmt: skip
    assert "Not understood: code = phone" in wrong.get_data(as_text=True)
    mapping = "1 = code\n2 = minutes" if tencent else "code = code"
    saved = client.post("/admin/sms-templates/vote.code", data={"template_code": "2999" if tencent else "SMS_999",
                                                                "params": mapping})  # fmt: skip
    assert saved.status_code == 302
    outcome = "1 = case_title\n2 = outcome" if tencent else "title = case_title\nresult = outcome"
    client.post("/admin/sms-templates/objection.outcome", data={"template_code": "2003" if tencent else "SMS_100003",
                                                                "params": outcome})  # fmt: skip
    assert client.get("/readyz").get_json()["checks"]["sms"] == "ok"

    _ask_code(app.test_client(), "13800138021")
    assert provider.received[-1].template == ("2999" if tencent else "SMS_999")
    history = client.get("/admin/sms-templates/vote.code").get_data(as_text=True)
    assert ("2999" if tencent else "SMS_999") in history
