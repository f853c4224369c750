"""The vote's captcha in a browser (issue 18): on a phone, in Chinese, with the Content-Security-Policy enforced,
the per-address limit sends a verified voter to the captcha page, the ALTCHA widget does its proof of work in
chromium (its workers are our static files), and the vote then goes through. axe-core finds no serious or critical
violation on the page, before and after the check."""

from __future__ import annotations

import json
import re
import time

import pytest
from sqlalchemy import select

from cases.models import Case
from pingxuan.extensions import db
from tests.e2e.test_accessibility import AXE, PHONE, chromium, serious_violations  # noqa: F401 (fixture)
from tests.e2e.test_vote_flow import _finalists
from tests.phone import next_code, received

pytestmark = pytest.mark.browser

PHONE_NUMBER = "13912345670"


def test_the_widget_solves_in_chromium_and_the_vote_goes_through(live_server, chromium):  # noqa: F811
    case_id, _title, _category = _finalists(live_server.app)
    with live_server.app.app_context():
        other = db.session.scalar(select(Case.id).where(Case.id != case_id, Case.state == "public_vote"))
        db.session.remove()
    live_server.app.config.update(VOTE_LIMIT_IP="1 per minute")
    base = live_server.url
    context = chromium.new_context(**PHONE, locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(20_000)
    refused: list[str] = []
    page.on("console", lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None)

    page.goto(f"{base}/showcase/verify?next=/showcase/cases/{case_id}")
    page.fill("#phone", PHONE_NUMBER)
    texts = received()
    page.click("#send-code")
    page.fill("#code", next_code(PHONE_NUMBER, texts))
    page.click("#check-code")
    page.wait_for_url(f"{base}/showcase/cases/{case_id}")
    page.goto(f"{base}/showcase/cases/{other}")
    page.click("button#vote-button")  # the address's one vote this minute
    page.wait_for_function("() => parseInt(document.getElementById('vote-count').textContent, 10) === 1")

    page.goto(f"{base}/showcase/cases/{case_id}")
    page.click("button#vote-button")  # the second: the address has to show it is a person
    page.wait_for_url(re.compile(r"/showcase/captcha\?next="))
    assert page.locator("h1").inner_text() == "人机验证"
    assert "<svg" not in page.content().split("<altcha-widget", 1)[0]  # no picture to read, nothing to type
    page.get_by_text("我不是机器人").click()  # the label, as a thumb taps it
    started = time.monotonic()
    page.wait_for_selector("altcha-widget [data-state=verified]")
    print(f"proof of work in chromium: {time.monotonic() - started:.2f} s")
    page.screenshot(path="/tmp/e2e-captcha.png", full_page=True)
    page.get_by_role("button", name="继续").click()
    page.wait_for_url(f"{base}/showcase/cases/{case_id}")
    page.click("button#vote-button")
    page.wait_for_function("() => parseInt(document.getElementById('vote-count').textContent, 10) === 1")
    assert not refused, refused
    context.close()


def test_the_captcha_page_has_no_serious_accessibility_violation(live_server, chromium):  # noqa: F811
    found: list[str] = []
    for locale, lang in (("zh-CN", "zh"), ("en-US", "en")):
        context = chromium.new_context(**PHONE, locale=locale, bypass_csp=True)  # axe is injected inline
        page = context.new_page()
        page.set_default_timeout(20_000)
        found += serious_violations(page, f"{live_server.url}/showcase/captcha?lang={lang}")
        page.get_by_text("我不是机器人" if lang == "zh" else "I'm not a robot").click()  # and once the check has run
        page.wait_for_selector("altcha-widget [data-state=verified]")
        violations = page.evaluate("async () => (await axe.run(document)).violations")
        found += [
            f"verified, {lang}: {v['id']} ({v['impact']})" for v in violations if v["impact"] in ("serious", "critical")
        ]
        context.close()
    assert not found, "\n".join(found)


# The providers' page scripts come from their CDNs, which a test cannot reach: these stand-ins are served at the
# same addresses (so the page's CSP is the one a voter gets) and behave as the providers document their callbacks.
FAKE_TENCENT_JS = """window.TencentCaptcha = function (appId, callback, options) {
  this.show = function () { callback(appId === "%(app)s" ? {ret: 0, ticket: "%(ticket)s", randstr: "%(randstr)s"}
                                                        : {ret: 2}); };
};"""
FAKE_ALIYUN_JS = """window.initAliyunCaptcha = function (options) {
  var config = window.AliyunCaptchaConfig || {};
  var ok = config.prefix === "px1a2b" && options.SceneId === "%(scene)s";
  document.querySelector(options.button).addEventListener("click", function () {
    if (ok) { options.success(%(param)s); }
  });
  options.getInstance({});
};"""


@pytest.mark.parametrize("name", ["tencent", "aliyun"])
def test_a_cloud_captcha_page_sends_the_providers_ticket(live_server, chromium, name):  # noqa: F811
    from tests.captcha_providers import APP_ID, APP_SECRET, SCENE_ID, FakeAliyunCaptcha, FakeTencentCaptcha
    from tests.cloud_signatures import KEY_ID, KEY_SECRET

    server = (FakeTencentCaptcha if name == "tencent" else FakeAliyunCaptcha)().start()
    live_server.app.config.update(
        CAPTCHA_PROVIDER=name, CAPTCHA_ENDPOINT=server.url, CAPTCHA_ACCESS_KEY_ID=KEY_ID,
        CAPTCHA_ACCESS_KEY_SECRET=KEY_SECRET, CAPTCHA_APP_ID=str(APP_ID), CAPTCHA_APP_SECRET=APP_SECRET,
        CAPTCHA_SCENE_ID=SCENE_ID, CAPTCHA_PREFIX="px1a2b",
    )  # fmt: skip
    if name == "tencent":
        script, cdn = FAKE_TENCENT_JS % {"app": APP_ID, **server.ticket()}, "https://turing.captcha.qcloud.com/**"
    else:
        script, cdn = (
            FAKE_ALIYUN_JS % {"scene": SCENE_ID, "param": json.dumps(server.ticket())},
            "https://o.alicdn.com/**",
        )
    context = chromium.new_context(**PHONE, locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(20_000)
    refused: list[str] = []
    page.on("console", lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None)
    page.route(cdn, lambda route: route.fulfill(status=200, content_type="application/javascript", body=script))
    try:
        page.goto(f"{live_server.url}/showcase/captcha?next=/showcase")
        page.get_by_role("button", name="开始验证").click()
        page.wait_for_url(f"{live_server.url}/showcase")
        assert "谢谢，您可以继续投票。" in page.locator(".flash").inner_text()  # the ticket passed: a pass earned
        assert len(server.used) == 1 and not refused, refused
    finally:
        context.close()
        server.stop()
