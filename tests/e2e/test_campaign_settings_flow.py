"""End to end in a real browser: an organizer changes the votes per day and the weights in the back office, the
public case page states the new daily rule at once (the cached page is rebuilt) and the ranking uses the weights."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from campaigns.models import VOTE_OPEN
from pingxuan.db import commit
from pingxuan.extensions import db
from tests.awards.test_pages import finalists
from tests.e2e.login import log_in
from tests.factories import Factory

pytestmark = pytest.mark.browser

SCREENSHOT = Path("/tmp/e2e-campaign-settings.png")


def test_organizer_changes_votes_per_day_and_weights(live_server, browser_page):
    with live_server.app.app_context():
        make = Factory()
        cases = finalists(make)
        campaign = cases["A"].campaign
        campaign.vote_status = VOTE_OPEN
        commit()
        campaign_id, case_id, category_id = campaign.id, cases["A"].id, cases["A"].category_id
        organizer_email = make.organizer().email
        db.session.remove()
    page, base = browser_page, live_server.url

    page.goto(f"{base}/showcase/cases/{case_id}?lang=en")  # cached before the change
    assert re.search(r"up to 3 cases", page.locator("#vote-rule").inner_text())

    log_in(page, base, organizer_email)
    page.goto(f"{base}/admin/campaigns/edit/?id={campaign_id}")
    page.fill("#votes_per_category_per_day", "5")
    page.fill("#expert_weight", "60")
    page.fill("#public_weight", "40")
    page.locator("form.admin-form input[type=submit]").first.click()
    page.wait_for_load_state()
    assert "/admin/campaigns" in page.url and "edit" not in page.url, page.content()

    page.goto(f"{base}/admin/campaigns/edit/?id={campaign_id}")
    page.fill("#expert_weight", "75")  # 75 + 40 is refused, with the reason beside the field
    page.locator("form.admin-form input[type=submit]").first.click()
    page.wait_for_load_state()
    assert page.locator("#public_weight").evaluate("e => e.closest('.form-group').innerText").strip()
    assert "edit" in page.url

    page.goto(f"{base}/showcase/cases/{case_id}?lang=en")
    page.reload()  # the browser may keep a public page 10 s (max-age); a reload asks the server, which rebuilt it
    assert re.search(r"up to 5 cases", page.locator("#vote-rule").inner_text())

    page.goto(f"{base}/admin/awards/ranking/{category_id}")
    ranking = page.locator("body").inner_text()
    assert re.search(r"60\s*%", ranking) and re.search(r"40\s*%", ranking), ranking[:2000]
    page.screenshot(path=str(SCREENSHOT), full_page=True)
