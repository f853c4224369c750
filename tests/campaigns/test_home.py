"""The staff's campaign home: where organizers land, what it shows of one campaign, and one navigation."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import urljoin, urlparse

import pytest

from campaigns.models import Campaign
from pingxuan.clock import today
from pingxuan.db import commit
from pingxuan.extensions import db
from tests.factories import login

STAFF_TOOLS = (
    "/staff", "/admin/cases/", "/review/eligibility", "/review/experts", "/review/assignment", "/review/progress",
    "/review/ranking", "/vote-admin/", "/notice/objections", "/admin/awards/ranking/", "/admin/awards/certificates/",
    "/admin/books/", "/admin/campaigns/", "/admin/users/", "/admin/messages/", "/admin/events/",
)  # fmt: skip


def _links(html: str) -> list[str]:
    return re.findall(r'<a\b[^>]*\bhref="([^"#]*)', html)


@pytest.mark.parametrize("role", ["organizer", "admin"])
def test_staff_land_on_the_campaign_home(client, make, role):
    make.campaign()
    login(client, getattr(make, role)())
    assert client.get("/dashboard").headers["Location"] == "/staff"
    assert client.get("/admin/").headers["Location"].startswith("/staff")
    page = client.get("/staff")
    assert page.status_code == 200
    assert "Campaign home" in page.text or "活动首页" in page.text


def test_the_home_shows_one_campaign_its_phases_counts_and_work(client, make):
    campaign = make.campaign()
    make.case("submitted")
    make.case("eligibility_check")
    make.case("draft")
    older = Campaign(year=campaign.year - 1, title_zh="上届", title_en="Last year", in_operation_before=today())
    db.session.add(older)
    moved = make.case("submitted")
    moved.campaign_id = older.id
    commit()
    login(client, make.organizer())
    html = client.get("/staff?lang=en").text
    counts = dict(re.findall(r'<tr data-state="(\w+)"><td>[^<]*</td><td class="n">(\d+)</td>', html))
    assert counts["submitted"] == "1" and counts["eligibility_check"] == "1" and counts["draft"] == "1"
    assert re.search(r'<tfoot><tr><th scope="row">[^<]*</th><td class="n">3</td>', html)
    # every phase, with where today falls: submission runs (it opened 10 days ago and closes in 30)
    phases = re.findall(r'<li class="(\w+)" data-phase="(\w+)"', html)
    assert [key for _status, key in phases] == [
        "submission", "eligibility", "review", "vote", "notice", "awards", "certificates",
    ]  # fmt: skip
    assert dict((k, s) for s, k in phases)["submission"] == "now"
    assert today().isoformat() in html
    # what needs doing: this campaign's eligibility worklist (2 cases, not the older one's), linked to its tool
    todo = re.search(r'<li data-worklist="to_check"><a href="([^"]+)">[^<]+</a> <span class="count">(\d+)', html)
    assert todo is not None and todo.group(1) == "/review/eligibility" and todo.group(2) == "2"
    # the switcher shows the other campaign's own counts
    html = client.get(f"/staff?campaign={older.id}&lang=en").text
    counts = dict(re.findall(r'<tr data-state="(\w+)"><td>[^<]*</td><td class="n">(\d+)</td>', html))
    assert counts["submitted"] == "1" and counts["eligibility_check"] == "0"


def test_deadlines_and_warnings(client, make):
    campaign = make.campaign()
    first = make.case("eligibility_check")
    second = make.case("submitted", owner=first.created_by)
    second.title = first.title
    commit()
    login(client, make.organizer())
    html = client.get("/staff?lang=en").text
    assert "1 likely duplicate pair is not decided yet" in html
    # no review is assigned yet, so no review deadline; the campaign's review_closes is in 40 days
    assert 'data-deadline="reviews"' not in html
    assert campaign.review_closes == today() + timedelta(days=40)


def test_every_tool_is_one_click_from_every_staff_page(client, make):
    make.case("submitted")
    login(client, make.organizer())
    for url in ("/staff", "/review/eligibility", "/vote-admin/", "/notice/objections", "/admin/cases/",
                "/admin/campaigns/", "/admin/awards/certificates/", "/worklists"):  # fmt: skip
        page = client.get(url)
        assert page.status_code == 200, url
        links = {urlparse(link).path for link in _links(page.text)}
        missing = [tool for tool in STAFF_TOOLS if tool not in links]
        assert not missing, f"{url} lacks {missing}"


def test_review_and_admin_case_do_not_answer_404(client, make):
    login(client, make.organizer())
    assert client.get("/review").headers["Location"] == "/review/eligibility"
    assert client.get("/admin/case/").headers["Location"] == "/admin/cases/"
    login(client, make.expert())
    assert client.get("/review").headers["Location"] == "/review/mine"


def test_experts_and_applicants_get_no_campaign_home(client, make):
    make.campaign()
    login(client, make.expert())
    assert client.get("/staff").status_code == 403
    assert "staff-nav" not in client.get("/worklists").text


SKIP = ("/logout", "/language/", "/static/", "/admin/static/", "/metrics")


def test_crawler_finds_no_broken_staff_link(client, make):
    """Follow every link of every staff page (same site, GET) from the campaign home: no 404 and no 500."""
    make.case("submitted")
    make.case("expert_review")
    make.case("public_vote")
    login(client, make.organizer())
    seen: set[str] = set()
    queue = ["/staff"]
    broken = []
    while queue and len(seen) < 400:
        url = queue.pop(0)
        if url in seen:
            continue
        seen.add(url)
        response = client.get(url)
        if response.status_code in (404, 500):
            broken.append(f"{url}: {response.status_code}")
            continue
        if response.status_code != 200 or "text/html" not in response.content_type:
            continue
        for link in _links(response.text):
            target = urljoin(url, link.replace("&amp;", "&"))
            parts = urlparse(target)
            if parts.netloc or parts.scheme or any(parts.path.startswith(s) for s in SKIP):
                continue
            path = parts.path + (f"?{parts.query}" if parts.query else "")
            if path not in seen:
                queue.append(path)
    assert not broken, "\n".join(broken)
    assert len(seen) > 40  # it did crawl the staff pages
