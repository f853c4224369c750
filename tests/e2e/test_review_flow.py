"""End to end in a real browser: an organizer approves a case and assigns reviewers; an expert declares a
conflict on one case and scores another; the organizer sees the progress change."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pingxuan.db import commit
from pingxuan.extensions import db
from reviewers.scoring import ensure_default_rubric
from tests.factories import PASSWORD, Factory

pytestmark = pytest.mark.browser

SCREENSHOT = Path("/tmp/e2e-review.png")
SCORING_SCREENSHOT = Path("/tmp/e2e-review-score.png")


def _log_in(page, base: str, email: str, then: str) -> None:
    page.goto(f"{base}/logout")
    if page.locator("section.card form[action='/logout']").count():  # a POST (issue 18)
        page.click("section.card form[action='/logout'] button")
    page.goto(f"{base}/login")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.click("form button[type=submit]")
    page.wait_for_url(re.compile(r".*/(dashboard|admin/?|worklists|my-cases|staff|review/mine)$"))
    page.goto(f"{base}/language/en?next={then}")  # the msgids, whatever the Chinese catalogue holds
    page.wait_for_url(f"{base}{then}")


def _progress_row(page, expert_id: int) -> str:
    return page.locator(f'#by-expert tr[data-expert="{expert_id}"]').inner_text()


def test_organizer_assigns_and_expert_declares_a_conflict_and_scores(live_server, browser_page):
    with live_server.app.app_context():
        make = Factory()
        campaign = make.campaign()
        campaign.reviewers_per_case = 1
        criteria = [(c.id, c.max_score) for c in ensure_default_rubric(campaign)]
        commit()
        organizer = make.organizer()
        expert = make.pool_expert(name="陈专家", organization="中国海洋大学", max_load=5)
        to_approve = make.case("eligibility_check", title="城市运行一网统管平台")
        reviewed = make.case("expert_review", title="智慧社区养老服务平台")
        ids = {"org": organizer.email, "expert": expert.email, "expert_id": expert.id}
        a, b = to_approve.id, reviewed.id
        db.session.remove()
    page, base = browser_page, live_server.url
    page.on("dialog", lambda dialog: dialog.accept())  # applying, declaring a conflict, submitting ask first

    # The organizer approves the case from its check page: every pre-check passes.
    _log_in(page, base, ids["org"], f"/review/eligibility/{a}")
    assert page.locator("ul.checks li.check-pass").count() == 4
    page.click("form.option-approve button[type=submit]")
    page.wait_for_url(f"{base}/review/eligibility")
    assert "Done: Approve as eligible" in page.locator(".flash").inner_text()

    # Auto-assignment: preview, then apply.
    page.click('.review-tabs a[href="/review/assignment"]')
    page.select_option("#mode", "topup")
    page.click("#propose")
    page.wait_for_url(re.compile(r".*/review/assignment/\d+$"))
    assert page.locator(f'[data-pair="{a}-{ids["expert_id"]}"]').count() == 1
    assert page.locator(f'[data-pair="{b}-{ids["expert_id"]}"]').count() == 1
    assert "2 / 5" in page.locator(f'table.loads tr[data-expert="{ids["expert_id"]}"]').inner_text()
    page.screenshot(path="/tmp/e2e-review-proposal.png", full_page=True)
    page.click("#apply")
    page.wait_for_url(f"{base}/review/progress")
    assert "2 new assignments" in page.locator(".flash").inner_text()
    before = _progress_row(page, ids["expert_id"])
    assert "0%" in before

    # The expert declares a conflict on one case; it leaves their list.
    _log_in(page, base, ids["expert"], "/review/mine")
    assert page.locator("section.assignment").count() == 2
    conflicted = page.locator(f'section.assignment[data-case="{a}"]')
    conflicted.locator("summary", has_text="Declare a conflict of interest").click()
    conflicted.locator("form.conflict textarea").fill("我曾为该项目提供咨询")
    conflicted.locator("form.conflict button[type=submit]").click()
    page.wait_for_url(f"{base}/review/mine")
    assert page.locator(f'section.assignment[data-case="{a}"]').count() == 0
    assert page.locator("section.assignment").count() == 1

    # ... accepts the other one, then scores it (scoring starts once accepted).
    page.locator(f'section.assignment[data-case="{b}"] button.accept').click()
    page.wait_for_url(f"{base}/review/mine")
    page.locator(f'section.assignment[data-case="{b}"] a.button').click()
    page.wait_for_url(f"{base}/review/cases/{b}/score")
    assert page.locator("#rubric .criterion").count() == len(criteria)
    for criterion_id, max_score in criteria:
        page.fill(f"#score_{criterion_id}", str(max_score * 4 // 5))
    page.fill("#comment", "应用成效显著，可推广。")
    page.screenshot(path=str(SCORING_SCREENSHOT), full_page=True)
    page.click("#submit_review")
    page.wait_for_url(f"{base}/review/mine")
    assert "Your review is submitted." in page.locator(".flash").inner_text()
    assert "Submitted" in page.locator(f'section.assignment[data-case="{b}"]').inner_text()

    # The organizer sees the progress change.
    _log_in(page, base, ids["org"], "/review/progress")
    after = _progress_row(page, ids["expert_id"])
    assert "100%" in after and after != before
    page.screenshot(path=str(SCREENSHOT), full_page=True)
    assert SCREENSHOT.stat().st_size > 10_000
    conflicts = page.goto(f"{base}/review/assignment")
    assert conflicts.ok
    assert "我曾为该项目提供咨询" in page.locator("#conflicts").inner_text()
