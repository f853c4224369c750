"""In a real browser: an organizer edits a notice's wording in the back office, is refused an unknown
placeholder with the field marked, previews the fixed wording with a real case, saves it, and the next
transition's mail uses it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from notifications.models import OutboxMail
from pingxuan.clock import today
from pingxuan.db import commit
from pingxuan.extensions import db
from tests.e2e.login import log_in
from tests.factories import Factory
from workflow.definition import TRANSITION_BY_NAME
from workflow.engine import fire

pytestmark = pytest.mark.browser
RETURN = "return_for_revision"


def test_edit_preview_validate_and_save_a_notice(live_server, browser_page):
    with live_server.app.app_context():
        make = Factory()
        shown = make.case(TRANSITION_BY_NAME[RETURN].sources[0], title="智慧停车诱导系统")
        organizer = make.organizer()
        fire(shown, RETURN, organizer, "请补充停车位数据", fields={"due_date": today() + timedelta(days=7)})
        commit()
        number, organizer_email = shown.number, organizer.email
        db.session.remove()
    page, base = browser_page, live_server.url
    log_in(page, base, organizer_email)
    page.goto(f"{base}/admin/messages/")
    page.click(f"tr[data-key='transition.{RETURN}'] td:nth-child(2) a")  # the Chinese wording (first language)
    page.fill("#body", "《{{ case_title }}》需修改：{{ comment }}\n截止 {{ deadline }}")
    page.click("button[value=preview]")
    error = page.locator(".field-error[data-field=body]")
    assert "deadline" in error.inner_text()
    assert page.locator("#body.is-invalid").count() == 1
    assert page.locator(".preview").count() == 0

    page.fill(
        "#body", "《{{ case_title }}》需修改：{{ comment }}\n截止 {{ due_date }}，咨询电话 0532-12345678\n{{ link }}"
    )
    page.click("button[value=preview]")
    preview = page.locator(".preview")
    assert number in preview.locator(".card-header").inner_text()
    assert "《智慧停车诱导系统》需修改：请补充停车位数据" in preview.locator(".preview-text").inner_text()
    assert preview.locator(".preview-html a").count() == 1
    page.click("button[value=save]")
    page.wait_for_load_state()
    assert "0532-12345678" in page.locator("#body").input_value()
    assert page.locator("ul.history li").count() == 1

    with live_server.app.app_context():
        make = Factory()
        case = make.case(TRANSITION_BY_NAME[RETURN].sources[0], title="城市照明监控")
        fire(case, RETURN, make.organizer(), "请补充能耗数据", fields={"due_date": today() + timedelta(days=7)})
        commit()
        sent = db.session.scalars(select(OutboxMail).order_by(OutboxMail.id.desc())).first()
        assert sent.body.startswith("《城市照明监控》需修改：请补充能耗数据") and "0532-12345678" in sent.body
        db.session.remove()
