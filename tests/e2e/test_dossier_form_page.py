"""In a real browser, the unit's dossier form: required fields are marked, the in-operation date is checked
against the cut-off as it is typed, and leaving the edited form asks first."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import Error as PlaywrightError

from tests.e2e.login import log_in
from tests.factories import PDF, Factory

pytestmark = pytest.mark.browser


def test_required_marks_cut_off_as_typed_and_leaving_warns(live_server, browser_page):
    with live_server.app.app_context():
        make = Factory()
        campaign = make.campaign()
        cutoff = campaign.in_operation_before
        owner = make.applicant()
        case = make.case(owner=owner, complete=False, title="半成品")
        email, case_id = owner.email, case.id
    page, base = browser_page, live_server.url
    log_in(page, base, email, lang="en")

    page.goto(f"{base}/cases/{case_id}/edit?lang=en")
    assert page.locator('[data-field="summary"] .required-mark').count() == 1
    assert page.locator('[data-field="public_url"] .required-mark').count() == 0
    assert page.locator("#summary").get_attribute("aria-required") == "true"

    late = (cutoff + timedelta(days=1)).isoformat()
    page.fill("#in_operation_since", late)
    note = page.locator("#in_operation_since-cutoff")
    assert note.is_visible() and cutoff.isoformat() in note.inner_text()
    page.fill("#in_operation_since", cutoff.isoformat())
    assert not note.is_visible()

    asked: list[str] = []
    page.on("dialog", lambda dialog: (asked.append(dialog.type), dialog.dismiss()))
    page.fill("#summary", "改了一半")
    with pytest.raises(PlaywrightError, match="ERR_ABORTED"):  # dismissed: the browser stays on the form
        page.goto(f"{base}/my-cases?lang=en")
    assert asked == ["beforeunload"] and "/edit" in page.url


def test_a_new_case_starts_with_its_first_file(live_server, browser_page):
    """Issue 23: on the new case's page the unit picks a first file; saving the draft uploads it. Without the
    title, the page says so beside the title and nothing is saved."""
    with live_server.app.app_context():
        make = Factory()
        make.campaign()
        email = make.applicant().email
    page, base = browser_page, live_server.url
    log_in(page, base, email, lang="en")

    page.goto(f"{base}/cases/new?lang=en")
    page.select_option("#upload-kind", "document")
    pdf = {"name": "申报书.pdf", "mimeType": "application/pdf", "buffer": PDF}
    page.set_input_files("#upload-file", files=[pdf])
    page.click("button[name=save]")
    page.wait_for_load_state()
    assert "/cases/new" in page.url
    assert "Give the case a title to save it." in page.locator('[data-field="title"]').inner_text()  # English stays

    page.fill("#title", "掌上停车")
    page.set_input_files("#upload-file", files=[pdf])
    page.click("button[name=save]")
    page.wait_for_url("**/edit#attachments")
    listed = page.locator("#attachments ul.attachments")
    assert "申报书.pdf" in listed.inner_text() and page.locator("#title").input_value() == "掌上停车"
