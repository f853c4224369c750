"""An organizer runs a whole campaign from the campaign home by clicking links and buttons only (no typed URL):
eligibility, assignment, closing the vote (asked, refused once, reopened with a reason, closed again), integrity,
proposing the awards, publishing the notice, deciding an objection, confirming the awards, issuing certificates.
What others do in between (the public objects, the notice's days pass) is written to the database."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from awards.models import Notice, Objection
from awards.objections import lodge_objection
from campaigns.models import VOTE_CLOSED, VOTE_OPEN, Campaign
from cases.models import Case
from pingxuan.clock import today
from pingxuan.db import commit
from pingxuan.extensions import db
from tests.awards.test_notice import PHONE, verified
from tests.awards.test_pages import finalists
from tests.e2e.login import log_in
from tests.factories import Factory

pytestmark = pytest.mark.browser

SCREENSHOT = Path("/tmp/e2e-campaign-home.png")  # docs/campaign-home.png is a copy of it


def test_an_organizer_runs_the_campaign_from_its_home(live_server, browser_page):
    with live_server.app.app_context():
        make = Factory()
        cases = finalists(make)  # A, B, C in the public vote, reviewed, with votes
        campaign = cases["A"].campaign
        campaign.vote_status, campaign.reviewers_per_case = VOTE_OPEN, 2
        waiting = make.case("eligibility_check", category_index=1)
        for _ in range(2):
            make.pool_expert(categories=[campaign.categories[1]])
        organizer = make.organizer()
        commit()
        ids = {"campaign": campaign.id, "waiting": waiting.id, "category": cases["A"].category_id}
        finalist_ids = [c.id for c in cases.values()]
        email = organizer.email
        db.session.remove()

    def state(model, key: int, attribute: str):
        with live_server.app.app_context():
            value = getattr(db.session.get(model, key), attribute)
            db.session.remove()
            return value

    page, base = browser_page, live_server.url
    page.set_viewport_size({"width": 1280, "height": 900})
    answers: list[bool] = []  # the next confirmation dialogs' answers; accepted when none is queued
    asked: list[str] = []

    def answer(dialog) -> None:
        asked.append(dialog.message)
        dialog.accept() if not answers or answers.pop(0) else dialog.dismiss()

    page.on("dialog", answer)

    def tool(name: str) -> None:
        """Click a tool in the staff navigation."""
        with page.expect_navigation():  # the tool's page, not the one before it, is what the next step reads
            page.locator(".staff-nav").get_by_role("link", name=name, exact=True).click()
        page.wait_for_load_state("networkidle")

    # Log in: the campaign home, with the eligibility check to do.
    log_in(page, base, email)
    assert page.url == f"{base}/staff"
    assert page.locator('li[data-phase="vote"]').get_attribute("class") == "now"
    page.screenshot(path=str(SCREENSHOT))

    # Eligibility: nothing is ticked; tick the case, approve it (asked with the count).
    page.click('li[data-worklist="to_check"] a')
    assert page.url.endswith("/review/eligibility")
    box = page.locator(f'input[name="case_ids"][value="{ids["waiting"]}"]')
    assert not box.is_checked()
    page.click("#tick-passing")  # the cases whose pre-checks all pass, ticked on request
    assert box.is_checked()
    page.click("#approve-selected")
    page.wait_for_selector(".flash-success")
    assert "1" in asked[-1] and state(Case, ids["waiting"], "state") == "expert_review"

    # Assignment: compute a proposal, apply it (asked with the number of assignments).
    tool("评审分配")
    page.click("#propose")
    page.wait_for_url(re.compile(r".*/review/assignment/\d+$"))
    page.click("#apply")
    page.wait_for_url(re.compile(r".*/review/progress$"))
    assert "2" in asked[-1]

    # The vote: closing asks first; refused, nothing changes; then closed, reopened with a reason, closed again.
    tool("公众投票")
    answers.append(False)
    page.click("#close-vote")
    assert "结束投票" in asked[-1] and state(Campaign, ids["campaign"], "vote_status") == VOTE_OPEN
    page.click("#close-vote")
    page.wait_for_selector("#reopen-vote")
    assert state(Campaign, ids["campaign"], "vote_status") == VOTE_CLOSED
    page.fill("#reopen-reason", "提前结束了投票，重新开启")
    page.click("#reopen-vote")
    page.wait_for_selector("#close-vote")
    assert state(Campaign, ids["campaign"], "vote_status") == VOTE_OPEN
    page.click("#close-vote")
    page.wait_for_selector("#reopen-vote")
    assert state(Campaign, ids["campaign"], "vote_status") == VOTE_CLOSED

    # Integrity, then the awards: propose the top 2 of the category (worded as proposing).
    tool("投票真实性")
    assert page.locator("h1").inner_text().startswith("投票真实性")
    tool("奖项")
    page.click(f'tr[data-category="{ids["category"]}"] a')
    page.fill("#n", "2")  # preview the cut at 2
    page.locator("#n").press("Enter")
    page.wait_for_url(re.compile(r".*\?n=2$"))
    page.click("#propose-awards")
    page.wait_for_load_state("networkidle")
    assert "拟授予" in asked[-1]
    assert sorted(state(Case, i, "state") for i in finalist_ids) == ["not_awarded", "proposed", "proposed"]

    # The notice: its dates are shown before publishing.
    tool("公示与异议")
    assert page.locator("#notice-dates").is_visible()
    page.click("#publish-notice")
    page.wait_for_load_state("networkidle")
    assert "公示" in asked[-1]
    with live_server.app.app_context():  # whatever the weekday, the notice runs today; a member of the public objects
        notice = db.session.scalar(select(Notice))
        notice.starts_on, notice.ends_on = today(), today() + timedelta(days=7)
        proposed = db.session.scalars(select(Case).where(Case.state == "proposed")).first()
        objection = lodge_objection(proposed, verified(), PHONE, "cutoff", "该系统晚于截止日期上线。")
        commit()
        objection_id = objection.id
        db.session.remove()

    # The objection: no outcome is chosen for the organizer; dismiss it with a reason.
    tool("公示与异议")
    page.click(f'tr[data-objection="{objection_id}"] a')
    assert not page.locator('input[name="outcome"]:checked').count()
    page.check('input[name="outcome"][value="dismissed"]')
    page.fill("#reason", "材料证明上线时间合规。")
    page.click("#decide")
    page.wait_for_load_state("networkidle")
    assert state(Objection, objection_id, "status") == "dismissed"
    with live_server.app.app_context():  # the notice's days pass
        notice = db.session.scalar(select(Notice))
        notice.starts_on, notice.ends_on = today() - timedelta(days=9), today() - timedelta(days=1)
        commit()
        db.session.remove()

    # Back home: the proposed awards are ready to confirm; confirm each (asked: it cannot be undone).
    tool("活动首页")
    with page.expect_navigation():  # each click's page is loaded before the next look (no race with the POST)
        page.click('li[data-worklist="ready_to_confirm"] a')
    while page.locator("form.option-confirm_award button").count():
        with page.expect_navigation():
            page.locator("form.option-confirm_award button").first.click()
        tool("活动首页")
        if not page.locator('li[data-worklist="ready_to_confirm"] a').count():
            break
        with page.expect_navigation():
            page.click('li[data-worklist="ready_to_confirm"] a')
    assert sorted(state(Case, i, "state") for i in finalist_ids) == ["awarded", "awarded", "not_awarded"]

    # Certificates: issued after being asked; the batch reaches 100 %.
    tool("证书")
    page.click("#issue-certificates")
    page.wait_for_url(re.compile(r".*/admin/awards/certificates/batches/\d+$"))
    page.wait_for_function("() => document.getElementById('batch-bar').textContent.trim() === '100 %'", timeout=60_000)
    assert not answers
