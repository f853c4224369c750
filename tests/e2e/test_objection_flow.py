"""On a 390 px phone, in Chinese: from the public notice, read a case's dossier, open its objection form (limits
stated first), verify a number from there (the page names the case, the resend button counts down, the text says
异议, not 投票), come back to the form with the number carried over, lodge the objection and get a reference
number. axe-core finds nothing serious or critical on the pages of the way."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.e2e.test_accessibility import AXE, serious_violations
from tests.e2e.test_notice_flow import PHONE, _in_notice, _outbox
from tests.phone import next_code, received

pytestmark = pytest.mark.browser

SHOTS = Path("/tmp")


def _violations_here(page) -> list[str]:
    """axe-core on the page as it is (a page reached by a form's POST cannot be opened again by its URL)."""
    page.add_script_tag(path=str(AXE))
    found = page.evaluate("async () => (await axe.run(document)).violations")
    serious = [v for v in found if v["impact"] in ("serious", "critical")]
    return [f"{page.url}: {v['id']} ({v['impact']}) {v['help']}" for v in serious]


def _no_sideways_scroll(page) -> None:
    assert page.evaluate("() => document.scrollingElement.scrollWidth") <= 390, page.url


def test_object_from_the_notice_on_a_phone_in_chinese(live_server, open_browser):
    found = _in_notice(live_server.app)
    case_id, title = found["case_id"], found["title"]
    page, base = open_browser(390, 844, locale="zh-CN", phone=True, bypass_csp=True), live_server.url  # axe inline
    problems: list[str] = []

    # The notice is in the navigation of the public pages, and the unpublished results point to it.
    problems += serious_violations(page, f"{base}/results")
    assert "评选结果尚未发布" in page.content()
    page.click("#results-notice-link")
    page.wait_for_url(f"{base}/notice")
    assert page.locator('.main-nav a[href="/notice"]').inner_text() == "公示"
    problems += serious_violations(page, f"{base}/notice")
    page.screenshot(path=str(SHOTS / "verify21-notice.png"), full_page=True)
    entry = page.locator(f'li.notice-case[data-case="{case_id}"]')

    # Each title opens the public dossier.
    entry.locator("a.notice-title").click()
    page.wait_for_url(f"{base}/showcase/cases/{case_id}")
    assert page.locator("h1").inner_text() == title
    page.go_back()

    # The form says its limits before anything is refused, and leads to verification.
    entry.locator("a.object-link").click()
    page.wait_for_url(f"{base}/notice/cases/{case_id}/objection")
    limits = page.locator("#objection-limits").inner_text()
    assert "10 至 5000 个字" in limits and "每天最多提交 5 条" in limits and "5 个证明文件" in limits
    assert page.locator(".field-error, .error-message").count() == 0
    _no_sideways_scroll(page)
    problems += _violations_here(page)
    page.screenshot(path=str(SHOTS / "verify21-form.png"), full_page=True)
    page.click("#verify-to-object")

    # The verify page names the objection and speaks plainly.
    assert f"您正在对拟获奖案例“{title}”提出异议。" in page.locator("#verify-for").inner_text()
    assert "结果发出后即删除" in page.locator("#verify-privacy").inner_text()
    assert "哈希" not in page.content() and "投票" not in page.locator("main").inner_text()
    problems += _violations_here(page)
    page.fill("#phone", "12345")
    page.click("#send-code")
    assert page.locator(".field-error, .error-message").count() == 1, "one error for one mistake"
    page.screenshot(path=str(SHOTS / "verify21-bad-number.png"), full_page=True)
    page.fill("#phone", PHONE)
    texts = received()
    page.click("#send-code")
    code = next_code(PHONE, texts)
    resend = page.locator("#resend-code")
    page.wait_for_selector("#resend-code[disabled]")  # verify.js (deferred) disables it as the page loads
    first = resend.inner_text()
    assert re.fullmatch(r"重新发送验证码（\d+ 秒）", first), first
    page.wait_for_function("label => document.getElementById('resend-code').textContent !== label", arg=first)
    assert resend.is_disabled(), "still counting down"
    _no_sideways_scroll(page)
    problems += _violations_here(page)
    page.screenshot(path=str(SHOTS / "verify21-code.png"), full_page=True)
    assert "异议" in _outbox(live_server.app)[-1] and "投票" not in _outbox(live_server.app)[-1]
    page.fill("#code", code)
    page.click("#check-code")

    # Back on the form, verified, the number carried over: lodge without typing it again.
    page.wait_for_url(f"{base}/notice/cases/{case_id}/objection")
    assert "手机号已验证" in page.locator(".flash-success").inner_text()
    form = page.locator("form.objection-form")
    assert "138****8000" in form.inner_text() and form.locator("input[name=phone]").count() == 0
    form.locator("select[name=ground]").select_option("cutoff")
    form.locator("textarea[name=text]").fill("该系统2017年5月才上线，晚于申报截止日期。")
    problems += _violations_here(page)
    page.screenshot(path=str(SHOTS / "verify21-form-verified.png"), full_page=True)
    form.locator("button[type=submit]").click()
    page.wait_for_url(f"{base}/notice/objection-lodged")
    reference = page.locator("#objection-reference").inner_text()
    assert re.fullmatch(r"\d{2}-\d{4}", reference) and "异议已提交" in page.locator("h1").inner_text()
    _no_sideways_scroll(page)
    problems += _violations_here(page)
    page.screenshot(path=str(SHOTS / "verify21-lodged.png"), full_page=True)
    assert problems == []
