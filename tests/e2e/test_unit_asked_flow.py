"""In a real browser, the applicant unit sees what is asked of it (issue 21): a returned case shows the office's
reason, the due date and the days left above the fold on a phone and on a desktop, with 重新提交 first and the
final withdrawal set apart; the language chosen stays from page to page."""

from __future__ import annotations

from datetime import timedelta

import pytest

from pingxuan.clock import today
from pingxuan.db import commit
from pingxuan.extensions import db
from tests.e2e.login import log_in
from tests.factories import Factory
from workflow.definition import DUE_DATE
from workflow.engine import fire

pytestmark = pytest.mark.browser

REASON = "请补充2016年全年的运营数据（访问量、办件量），并把系统上线时间改为验收报告上的日期。"


def _returned_case(app) -> tuple[int, str]:
    with app.app_context():
        make = Factory()
        case = make.case("eligibility_check", title="青岛市食品安全追溯监管平台")
        fire(case, "return_for_revision", make.organizer(), comment=REASON,
             fields={DUE_DATE: today() + timedelta(days=5)})  # fmt: skip
        commit()
        found = case.id, case.created_by.email
        db.session.remove()
    return found


@pytest.mark.parametrize("width,height,phone", [(390, 844, True), (1280, 800, False)])
def test_a_returned_case_shows_reason_and_due_date_above_the_fold(live_server, open_browser, width, height, phone):
    case_id, email = _returned_case(live_server.app)
    page, base = open_browser(width, height, locale="zh-CN", phone=phone), live_server.url
    log_in(page, base, email)
    page.goto(f"{base}/cases/{case_id}")
    page.screenshot(path=f"/tmp/unit21-returned-{width}.png")
    for selector in ("#returned-title", "#returned-reason", ".returned-due", "#actions button[value=resubmit]"):
        box = page.locator(selector).bounding_box()
        assert box is not None and box["y"] >= 0 and box["y"] + box["height"] <= height, (selector, box)
        assert box["x"] >= 0 and box["x"] + box["width"] <= width, (selector, box)
    assert REASON in page.inner_text("#returned-reason")
    assert "还剩 5 天" in page.inner_text(".returned-due")
    assert page.locator("#actions button[value=withdraw]").count() == 0, "withdrawal is set apart"
    withdraw = page.locator("#other-actions button[value=withdraw]")
    assert withdraw.bounding_box()["y"] > height, "withdrawal sits lower, out of the first screen"
    asked: list[str] = []
    page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.dismiss()))
    withdraw.click()
    assert asked and "最终" in asked[0] and "无法撤销" in asked[0]
    page.screenshot(path=f"/tmp/unit21-returned-{width}-full.png", full_page=True)
    assert f"/cases/{case_id}" in page.url, "dismissing the question withdraws nothing"


def test_english_stays_from_page_to_page_after_lang_en(live_server, open_browser):
    case_id, email = _returned_case(live_server.app)
    page, base = open_browser(390, 844, locale="zh-CN", phone=True), live_server.url
    log_in(page, base, email, lang="en")
    for path in ("/my-cases", f"/cases/{case_id}", "/notifications", "/"):
        page.goto(base + path)
        assert page.get_attribute("html", "lang") == "en", path
    page.goto(f"{base}/cases/{case_id}")
    assert "5 days left" in page.inner_text(".returned-due")
    page.click(".lang a")  # 中文
    page.wait_for_load_state()
    page.goto(f"{base}/my-cases")
    assert page.get_attribute("html", "lang") == "zh-CN"
    page.screenshot(path="/tmp/unit21-my-cases-390.png", full_page=True)
