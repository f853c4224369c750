"""The gallery as a voter uses it (issue 21): a vote button on each finalist's tile, the tiles voted for today
marked from the server's side, votes left never more than the finalists left to vote for, the rules with the
close in the campaign's zone, and tabs only for categories with finalists, each with its count."""

from __future__ import annotations

import html
import re
from datetime import timedelta
from urllib.parse import parse_qs, quote, urlsplit

from pingxuan.clock import today
from pingxuan.db import commit
from tests.cases.browsing import english_client
from tests.factories import login
from tests.voting.test_pages import FINALIST, IN_REVIEW, as_voter, new_voter, open_campaign, vote
from voting.window import close_vote


def test_votes_left_never_promise_more_than_the_finalists_not_voted_for(app, make):
    campaign = open_campaign(make)  # 3 votes a day per category
    single = make.case(FINALIST, category_index=1)
    pair = [make.case(FINALIST), make.case(FINALIST)]
    client = english_client(app)
    as_voter(client, new_voter())

    state = client.get(f"/showcase/voter?case={single.id}&lang=en").get_json()
    assert state["remaining_in_category"] == 1 and state["message"] == "Votes left today in this category: 1."
    answer = vote(client, single.id).get_json()
    assert answer["remaining_today"] == 0
    assert answer["message"] == "Thank you for your vote. Votes left today in this category: 0."

    assert vote(client, pair[0].id).get_json()["remaining_today"] == 1  # one finalist left, not two votes
    day = client.get("/showcase/voter").get_json()
    assert day["verified"] and day["voted"] == sorted([single.id, pair[0].id]) and day["voter_token"]
    assert day["remaining"] == {
        str(campaign.categories[0].id): 1, str(campaign.categories[1].id): 0
    }  # fmt: skip
    assert vote(client, pair[1].id).get_json()["remaining_today"] == 0


def test_each_finalist_tile_has_a_vote_button_that_comes_back_to_the_tile_after_verifying(app, make):
    campaign = open_campaign(make)
    finalist = make.case(FINALIST, title="社区食堂")
    client = english_client(app)
    category = campaign.categories[0].id
    page = client.get(f"/showcase?category={category}&lang=en").get_data(as_text=True)
    back = f"/showcase?category={category}&lang=en#case-{finalist.id}"
    tile = page[page.index(f'id="case-{finalist.id}"') :]
    link = urlsplit(html.unescape(re.search(r'class="button vote-button" href="([^"]+)"', tile).group(1)))
    assert link.path == f"/showcase/cases/{finalist.id}/vote" and parse_qs(link.query)["next"] == [back]

    to_verify = client.get(f"/showcase/cases/{finalist.id}/vote?next={quote(back)}")
    assert to_verify.status_code == 302 and to_verify.headers["Location"].startswith("/showcase/verify?next=")
    form = client.get(to_verify.headers["Location"]).get_data(as_text=True)
    assert f'value="{back.replace("&", "&amp;")}"' in form  # the verify form brings the visitor back to the tile
    assert client.get("/showcase/voter").get_json() == {"verified": False, "closed": None}

    as_voter(client, new_voter())  # without JavaScript: the confirmation page votes and leads back to the tile
    done = client.post(f"/showcase/cases/{finalist.id}/vote?next={quote(back)}", follow_redirects=True)
    assert "Voted today" in done.get_data(as_text=True) and f'href="{back.replace("&", "&amp;")}"' in done.get_data(
        as_text=True
    )


def test_the_gallery_states_the_rules_and_the_close_in_the_campaigns_zone(app, make):
    campaign = open_campaign(make, votes_per_category_per_day=2)
    make.case(FINALIST)
    page = english_client(app).get("/showcase?lang=en").get_data(as_text=True)
    closes = campaign.vote_closes + timedelta(days=1)  # open all through the closing day
    assert f"to {closes.isoformat()} 00:00 UTC+8." in page
    assert f"Voting runs from {campaign.vote_opens.isoformat()} 00:00 UTC+8" in page
    assert f'data-closes="{campaign.vote_closes.isoformat()}T16:00:00Z"' in page  # the countdown's end, in UTC
    assert "up to 2 cases of a category per day" in page
    assert "mainland mobile number, verified once by a text message" in page


def test_after_the_close_the_gallery_says_when_it_closed_and_offers_no_vote(app, make):
    campaign = open_campaign(make)
    make.case(FINALIST)
    close_vote(campaign, make.organizer())
    commit()
    page = english_client(app).get("/showcase?lang=en").get_data(as_text=True)
    assert re.search(r"The public vote closed at \d{4}-\d\d-\d\d \d\d:\d\d UTC\+8\.", page)
    assert campaign.vote_opens.isoformat() not in page and "vote-button" not in page

    window_over = open_campaign(make, vote_opens=today() - timedelta(days=9), vote_closes=today() - timedelta(days=2))
    page = english_client(app).get("/showcase?lang=en").get_data(as_text=True)
    assert f"The public vote closed at {window_over.vote_closes + timedelta(days=1)} 00:00 UTC+8." in page
    assert "vote-button" not in page and "The public vote is closed" in page


def test_only_categories_with_finalists_get_a_tab_and_each_tab_its_count(app, make):
    campaign = open_campaign(make)
    for _ in range(2):
        make.case(FINALIST)
    make.case(FINALIST, category_index=2)
    make.case(IN_REVIEW, category_index=3)  # not public: its category stays hidden
    page = english_client(app).get("/showcase?lang=en").get_data(as_text=True)
    start = page.index('aria-label="Categories"')
    tabs = page[start : page.index("</nav>", start)]
    first, third = campaign.categories[0], campaign.categories[2]
    assert re.findall(r'category=(\d+)[^>]*>[^<]+<span class="n">(\d+)</span>', tabs) == [
        (str(first.id), "2"), (str(third.id), "1")
    ]  # fmt: skip
    assert '>All <span class="n">3</span>' in tabs
    for hidden in (campaign.categories[1], campaign.categories[3]):
        assert f"category={hidden.id}" not in tabs
    chips = english_client(app).get(f"/showcase?category={first.id}&lang=en").get_data(as_text=True)
    shown_domains = re.findall(r"domain=(\d+)", chips)
    assert shown_domains and set(shown_domains) <= {str(d.id) for d in first.domains}
    assert len(set(shown_domains)) < len(first.domains)  # the domains without finalists get no chip


def test_public_pages_offer_the_public_no_staff_link(app, make):
    open_campaign(make)
    case = make.case(FINALIST)
    client = english_client(app)
    for url in ("/showcase", f"/showcase/cases/{case.id}", "/results", "/showcase/verify", "/login", "/"):
        page = client.get(f"{url}{'&' if '?' in url else '?'}lang=en").get_data(as_text=True)
        nav = page[page.index('<nav class="main-nav">') : page.index("</nav>")]
        assert "My work" not in nav and "/dashboard" not in nav, url
        assert "Log in" in nav, url
    applicant = make.applicant()
    login(client, applicant)  # someone logged in follows "Log in" to their own home
    assert client.get("/login").headers["Location"] == "/dashboard"
