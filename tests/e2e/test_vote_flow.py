"""End to end on a phone: open a finalist from its category, verify a number with the texted code, vote, see
the count change and the button turn into "Voted today" at once, and still so after a reload."""

from __future__ import annotations

import re
from io import BytesIO
from pathlib import Path

import pytest
from PIL import Image

from campaigns.models import VOTE_OPEN
from cases.operations import attach_file
from pingxuan.db import commit
from pingxuan.extensions import db
from tests.factories import Factory
from tests.phone import next_code, received
from workflow.definition import OWNER, path_to
from workflow.engine import fire

pytestmark = pytest.mark.browser

SCREENSHOT = Path("/tmp/e2e-vote.png")
PHONE = "13912345678"


def _photo() -> bytes:
    out = BytesIO()
    Image.new("RGB", (1600, 1000), (40, 120, 200)).save(out, "JPEG")
    return out.getvalue()


def _finalists(app) -> tuple[int, str, str]:
    with app.app_context():
        make = Factory()
        campaign = make.campaign()
        campaign.vote_status = VOTE_OPEN
        commit()
        owner = make.applicant()
        case = make.case("draft", owner=owner, title="城市运行一网统管平台")
        attach_file(case, owner, "photo", "大屏.jpg", _photo())
        commit()
        organizer = make.organizer()
        for transition in path_to("public_vote"):
            make.prepare(case, transition)
            fire(case, transition.name, owner if OWNER in transition.roles else organizer, comment="e2e")
            commit()
        make.case("public_vote", title="智慧停车诱导系统")
        result = case.id, case.title, campaign.categories[0].name_en
        db.session.remove()
        return result


def test_a_visitor_votes_from_a_phone(live_server, phone_page):
    case_id, title, category = _finalists(live_server.app)
    page, base = phone_page, live_server.url
    page.goto(f"{base}/showcase?lang=en")  # public pages carry their language in the URL (they are cached)
    page.get_by_role("link", name=category).click()
    page.get_by_role("link", name=re.compile(title)).click()
    page.wait_for_url(f"{base}/showcase/cases/{case_id}?lang=en")
    assert page.locator("#vote-count").inner_text() == "0 votes"
    assert page.locator(".photos img").first.evaluate("img => img.naturalWidth") == 1200  # the display copy

    page.click("a#vote-button")  # not verified yet (the voter's state came from /showcase/voter): verify first
    page.fill("#phone", PHONE)
    texts = received()
    page.click("#send-code")
    page.fill("#code", next_code(PHONE, texts))
    page.click("#check-code")
    page.wait_for_url(f"{base}/showcase/cases/{case_id}?lang=en")

    page.wait_for_selector("button#vote-button")  # the voter's own state, loaded separately, made it a button
    assert page.locator("#vote-message").inner_text().startswith("Your number is verified.")  # said here, once
    page.click("#vote-button")
    page.wait_for_function("() => parseInt(document.getElementById('vote-count').textContent, 10) === 1")
    assert "Votes left today in this category: 1" in page.locator("#vote-message").inner_text()  # 2 finalists
    # The button says so at once: no second tap to be refused.
    assert page.locator("#vote-button").inner_text() == "Voted today" and page.locator("#vote-button").is_disabled()
    assert page.locator("#vote-count").inner_text() == "1 vote"
    page.screenshot(path=str(SCREENSHOT), full_page=True)

    page.reload()
    assert page.locator("#vote-button").is_disabled() and page.locator("#vote-count").inner_text() == "1 vote"
