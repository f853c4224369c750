"""Public pages are the same bytes for every visitor and say so: ETag, Cache-Control public, 304 on a matching
If-None-Match, no Set-Cookie (even for a verified voter or a logged-in organizer); the voter's own state comes
from an uncached JSON endpoint; a vote, a workflow event and a publication show on the next request."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from awards import certificates, publication
from awards.decisions import confirm_awards
from awards.models import ResultSnapshot
from campaigns.models import VOTE_CLOSED, VOTE_OPEN
from pingxuan.db import commit
from pingxuan.extensions import db
from tests.awards.test_pages import finalists
from tests.factories import login
from tests.voting.test_pages import as_voter, new_voter, vote
from workflow.definition import TRANSITION_BY_NAME
from workflow.engine import fire

LIVE, PUBLISHED = "public, max-age=10", "public, max-age=300"


@pytest.fixture
def published(app, make):
    """A campaign with three finalists, its vote closed, one category awarded, certificates issued."""
    cases = finalists(make)
    campaign = cases["A"].campaign
    campaign.vote_status = VOTE_CLOSED
    commit()
    organizer = make.organizer()
    confirm_awards(campaign, cases["A"].category, organizer, size=2)
    commit()
    make.end_notice(campaign)
    certificates.issue_batch(campaign, organizer)
    commit()
    return cases, organizer


def public_urls(cases) -> dict[str, str]:
    case = cases["B"]
    certificate = certificates.Certificate.query.filter_by(case_id=case.id).one()
    return {
        "/showcase": LIVE, f"/showcase?category={case.category_id}": LIVE, f"/showcase/cases/{case.id}": LIVE,
        f"/showcase/cases/{case.id}?lang=en": LIVE, "/results": PUBLISHED, "/results?lang=en": PUBLISHED,
        "/results.csv": PUBLISHED, "/results.xlsx": PUBLISHED, "/api/v1/results": PUBLISHED,
        f"/verify/{certificate.number}": PUBLISHED, f"/api/v1/verify/{certificate.number}": PUBLISHED,
    }  # fmt: skip


def test_every_public_page_is_cacheable_by_anything_in_front(app, make, published):
    cases, organizer = published
    voter = app.test_client()
    as_voter(voter, new_voter())  # a verified voter carries a session cookie
    staff = app.test_client()
    login(staff, organizer)
    for url, cache_control in public_urls(cases).items():
        for client in (app.test_client(), voter, staff):
            first = client.get(url)
            assert first.status_code == 200, url
            assert first.headers["Cache-Control"] == cache_control, url
            assert "Set-Cookie" not in first.headers, url
            assert "Cookie" not in first.headers.get("Vary", ""), url
            etag = first.headers["ETag"]
            again = client.get(url, headers={"If-None-Match": etag})
            assert again.status_code == 304 and again.data == b"", url
        bodies = {app.test_client().get(url).data, voter.get(url).data, staff.get(url).data}
        assert len(bodies) == 1, f"{url} differs between visitors"


def test_the_voters_own_state_comes_separately_and_is_never_stored(app, make):
    cases = finalists(make)
    campaign = cases["A"].campaign
    campaign.vote_status = VOTE_OPEN
    commit()
    client = app.test_client()
    as_voter(client, new_voter())
    state = client.get(f"/showcase/voter?case={cases['A'].id}&lang=en")
    assert state.headers["Cache-Control"] == "private, no-store"
    body = state.get_json()
    assert body["verified"] and body["remaining_in_category"] == 3 and body["csrf_token"]
    assert app.test_client().get(f"/showcase/voter?case={cases['A'].id}").get_json()["verified"] is False


def test_a_vote_a_workflow_event_and_a_publication_show_on_the_next_request(app, make):
    cases = finalists(make)
    campaign = cases["A"].campaign
    campaign.vote_status = VOTE_OPEN
    commit()
    client = app.test_client()
    case = cases["A"]
    page = client.get(f"/showcase/cases/{case.id}").get_data(as_text=True)
    assert 'id="vote-count">200 票<' in page
    as_voter(client, new_voter())
    assert vote(client, case.id).status_code == 200
    assert 'id="vote-count">201 票<' in client.get(f"/showcase/cases/{case.id}").get_data(as_text=True)
    assert "201" in client.get("/showcase").get_data(as_text=True)

    gallery = client.get("/showcase").get_data(as_text=True)
    assert cases["C"].title in gallery
    organizer = make.organizer()
    campaign.vote_status = VOTE_CLOSED
    commit()
    fire(cases["C"], TRANSITION_BY_NAME["not_award"].name, organizer)  # a workflow event: C leaves the vote
    commit()
    assert client.get(f"/showcase/cases/{cases['C'].id}").status_code in (200, 404)
    assert client.get("/results").get_data(as_text=True).count("data-case=") == 0

    confirm_awards(campaign, case.category, organizer, size=1)
    commit()
    make.end_notice(campaign)  # confirming after the public notice publishes version 1
    assert 'data-version="1"' in client.get("/results").get_data(as_text=True)


def test_a_publication_is_frozen_and_republishing_makes_version_2(app, make, published):
    cases, organizer = published
    campaign = cases["A"].campaign
    first = publication.latest(campaign.id)
    frozen = dict(first.data)
    assert [e["case_id"] for e in first.data["categories"][0]["entries"]] == [cases["B"].id, cases["A"].id]
    # the ballots' counts change after publication (a recount): the publication does not move
    from voting.models import VoteCount

    db.session.get(VoteCount, cases["A"].id).valid += 1000
    commit()
    assert publication.latest(campaign.id).data == frozen
    assert "案例A" in app.test_client().get("/results").get_data(as_text=True)
    # republishing: the next version, with the new figures; the old one kept as it was
    second = publication.publish(campaign, organizer, "重新计票")
    commit()
    assert second.version == first.version + 1 and second.reason == "重新计票"
    assert [e["case_id"] for e in second.data["categories"][0]["entries"]] == [cases["A"].id, cases["B"].id]
    assert publication.publish(campaign, organizer).version == second.version, "nothing changed since"
    kept = db.session.scalar(select(ResultSnapshot).where(ResultSnapshot.version == first.version))
    assert kept.data == frozen and kept.content_hash == first.content_hash
    assert [v.version for v in publication.versions(campaign)] == list(range(second.version, 0, -1))
    html = app.test_client().get("/results").get_data(as_text=True)
    assert f'data-version="{second.version}"' in html
    # reissuing a certificate is a public change too; the replaced number no longer verifies
    certificate = certificates.Certificate.query.filter_by(case_id=cases["B"].id).one()
    certificates.reissue(certificate, organizer, {"recipient": "更正后的单位"})
    commit()
    assert publication.latest(campaign.id).version == second.version + 1
    page = app.test_client().get(f"/verify/{certificate.number}?lang=en").get_data(as_text=True)
    assert "replaced by a corrected one" in page
