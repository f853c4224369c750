"""End to end: an organizer opens the anomaly report, selects two rules for one case, reads the preview and
invalidates; the showcase count drops by exactly the previewed number."""

from __future__ import annotations

import re

import pytest

from campaigns.models import VOTE_OPEN
from pingxuan.db import commit
from tests.factories import PASSWORD, Factory
from tests.voting.test_integrity import T0, Votes, honest_background
from voting.ballots import recount

pytestmark = pytest.mark.browser


def test_organizer_invalidates_two_rules_for_one_case(live_server, browser_page):
    from datetime import timedelta

    with live_server.app.app_context():
        make = Factory()
        campaign = make.campaign()
        campaign.vote_status = VOTE_OPEN
        commit()
        a, b, c = (make.case("public_vote") for _ in range(3))
        votes = Votes(campaign)
        honest_background(votes, [a, b, c], minutes=150)
        minute = T0 + timedelta(minutes=100)
        for i in range(30):
            votes.add(a, minute + timedelta(seconds=i), subnet="farm", secs=15)
        for i in range(12):  # another case's crowded network: not selected, must stay
            votes.add(b, T0 + timedelta(minutes=5 * i), subnet="office-b", secs=15)
        recount(campaign, fix=True)
        commit()
        organizer = make.organizer()
        commit()
        ids = (campaign.id, a.id, organizer.email)
    campaign_id, case_id, email = ids
    base, page = live_server.url, browser_page

    page.goto(f"{base}/showcase/cases/{case_id}")
    before = int(page.inner_text("#vote-count").split()[0])  # "80 票"

    page.goto(f"{base}/login")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.click("form button[type=submit]")
    page.wait_for_url(re.compile(r".*/(dashboard|admin/?|worklists|my-cases|staff|review/mine)$"))
    page.goto(f"{base}/language/en?next=/vote-admin/")
    page.click("#integrity-link")
    page.wait_for_url(f"{base}/vote-admin/{campaign_id}/integrity")
    first = page.locator("#integrity-report tr[data-case]").first
    assert first.get_attribute("data-case") == str(case_id)  # the stuffed case ranks first
    page.check(f'input[name=case][value="{case_id}"]')
    page.check('input[name=rule][value="network_24"]')
    page.check('input[name=rule][value="single_purpose"]')
    page.click("#preview")
    page.wait_for_url(re.compile(r".*/integrity/preview\?.*"))
    previewed = int(page.inner_text("#preview-total"))
    row = page.locator(f'#preview-table tr[data-case="{case_id}"]')
    assert int(row.locator(".before").inner_text()) == before
    assert int(row.locator(".after").inner_text()) == before - previewed
    assert previewed == 30
    page.fill("#reason", "刷票：同一网段的一次性投票人")
    page.click("#invalidate")
    page.wait_for_url(f"{base}/vote-admin/{campaign_id}/integrity")

    page.goto(f"{base}/showcase/cases/{case_id}")
    page.reload()  # as a visitor would: the page may be cached for a few seconds, its count never is on reload
    assert int(page.inner_text("#vote-count").split()[0]) == before - previewed
