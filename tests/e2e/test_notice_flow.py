"""End to end on a phone: a member of the public opens the public notice, verifies a number with the texted code
and objects to a proposed award with a photo; the organizer forwards the objection, the unit answers, the
organizer dismisses it; the objector's SMS outbox has the outcome."""

from __future__ import annotations

import re
from datetime import timedelta
from io import BytesIO
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import select

from awards.decisions import confirm_awards
from awards.models import Objection
from awards.notice import publish_notice
from pingxuan.clock import today
from pingxuan.db import commit
from pingxuan.extensions import db
from tests.awards.test_pages import close_vote, finalists
from tests.e2e.login import log_in
from tests.factories import Factory
from tests.phone import next_code, received
from voting.models import SmsMessage
from voting.privacy import phone_hash

pytestmark = pytest.mark.browser

PHONE = "13800138000"
SCREENSHOT = Path("/tmp/e2e-notice.png")


def _in_notice(app) -> dict:
    """Cases A and B proposed, their category's notice running today."""
    with app.app_context():
        make = Factory()
        cases = finalists(make)
        close_vote(cases["A"].campaign)
        organizer = make.organizer()
        confirm_awards(cases["A"].campaign, cases["A"].category, organizer, size=2)
        notice = publish_notice(cases["A"].campaign, organizer, cases["A"].category)
        notice.starts_on, notice.ends_on = today(), today() + timedelta(days=7)  # whatever the weekday
        commit()
        found = {"case_id": cases["A"].id, "title": cases["A"].title, "organizer": organizer.email,
                 "unit": cases["A"].created_by.email}  # fmt: skip
        db.session.remove()
        return found


def _outbox(app) -> list[str]:
    with app.app_context():
        bodies = db.session.scalars(select(SmsMessage.body).where(SmsMessage.phone_hash == phone_hash(PHONE))
                                    .order_by(SmsMessage.id)).all()  # fmt: skip
        db.session.remove()
    return list(bodies)


def _photo(folder: Path) -> Path:
    path = folder / "现场照片.jpg"
    out = BytesIO()
    Image.new("RGB", (64, 48), (200, 80, 40)).save(out, "JPEG")
    path.write_bytes(out.getvalue())
    return path


def test_an_objection_from_a_phone_is_forwarded_answered_and_dismissed(live_server, phone_page, tmp_path):
    found = _in_notice(live_server.app)
    page, base = phone_page, live_server.url
    page.on("dialog", lambda dialog: dialog.accept())

    # The public: the notice, the case's objection form, a verified number, then the objection with a photo.
    page.goto(f"{base}/notice?lang=en")
    entry = page.locator(f'li.notice-case[data-case="{found["case_id"]}"]')
    assert found["title"] in entry.inner_text() and page.locator("form.objection-form").count() == 0
    entry.locator("a.object-link").click()
    page.click("#verify-to-object")
    page.fill("#phone", PHONE)
    texts = received()
    page.click("#send-code")
    page.fill("#code", next_code(PHONE, texts))
    page.click("#check-code")
    page.wait_for_url(re.compile(rf".*/notice/cases/{found['case_id']}/objection\?lang=en$"))  # back, in English
    form = page.locator("form.objection-form")
    assert "138****8000" in form.inner_text() and form.locator("input[name=phone]").count() == 0
    form.locator("select[name=ground]").select_option("cutoff")
    form.locator("textarea[name=text]").fill("该系统2017年5月才上线，晚于截止日期，附现场照片。")
    form.locator("input[type=file]").set_input_files(str(_photo(tmp_path)))
    form.locator("input[name=anonymous]").check()
    form.locator("button[type=submit]").click()
    assert re.fullmatch(r"\d{2}-\d{4}", page.locator("#objection-reference").inner_text())
    with live_server.app.app_context():
        objection = db.session.scalar(select(Objection))
        objection_id, files = objection.id, [(f.filename, f.content_type) for f in objection.files]
        db.session.remove()
    assert files == [("现场照片.jpg", "image/jpeg")]

    # The organizer forwards it to the unit with a due date.
    log_in(page, base, found["organizer"])
    page.goto(f"{base}/notice/objections")
    page.click(f'tr[data-objection="{objection_id}"] a')
    page.fill("#note", "请说明系统上线时间并提供证明。")
    page.fill("#due", (today() + timedelta(days=3)).isoformat())
    page.click("#forward")
    page.wait_for_selector('.objection-status[data-status="forwarded"]')

    # The unit answers (it does not learn who objected).
    page.goto(f"{base}/logout")
    if page.locator("section.card form[action='/logout']").count():  # a POST (issue 18)
        page.click("section.card form[action='/logout'] button")
    log_in(page, base, found["unit"])
    page.goto(f"{base}/objections/{objection_id}")
    assert "138****8000" not in page.content()
    page.fill("#response", "系统于2016年6月上线，附运行报告。")
    page.click("#answer")
    page.wait_for_selector('.objection-status[data-status="answered"]')

    # The organizer dismisses it with a reason; the objector is told by SMS.
    page.goto(f"{base}/logout")
    if page.locator("section.card form[action='/logout']").count():  # a POST (issue 18)
        page.click("section.card form[action='/logout'] button")
    log_in(page, base, found["organizer"])
    page.goto(f"{base}/objections/{objection_id}")
    page.check("input[name=outcome][value=dismissed]")
    page.fill("#reason", "上线时间早于截止日期，证明材料齐全。")
    page.click("#decide")
    page.wait_for_selector('.objection-status[data-status="dismissed"]')
    assert "证明材料齐全" in page.locator(".objection-reason").inner_text()
    page.screenshot(path=str(SCREENSHOT), full_page=True)
    told = _outbox(live_server.app)[-1]
    assert found["title"] in told and "证明材料齐全" in told
