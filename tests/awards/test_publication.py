"""Organizers publish the results by hand (back office and API) and see every version: publishing again after
a recount makes the next version, the old one kept unchanged; a repeat with nothing changed is refused (409), and
so is a publication before any category is decided (nothing written)."""

from __future__ import annotations

import pytest
from flask_babel import gettext

from awards import publication
from awards.models import ResultSnapshot
from pingxuan.db import commit
from pingxuan.extensions import db
from tests.api.conftest import bearer  # noqa: F401  (fixture)
from tests.awards.test_pages import awarded, english, finalists
from tests.factories import login
from voting.models import VoteCount


def recount(case, votes: int) -> None:
    """A recount after publication moves a public figure (the test stands in for ``recount --fix``)."""
    db.session.get(VoteCount, case.id).valid = votes
    commit()


@pytest.fixture(autouse=True)
def _english(client):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"


def test_the_api_publishes_by_hand_and_lists_the_versions(app, client, make, bearer):  # noqa: F811
    cases, organizer = awarded(make)  # confirming the awards published version 1
    campaign = cases["A"].campaign
    staff = bearer(organizer)
    url = f"/api/v1/campaigns/{campaign.id}/result-publications"
    listed = client.get(url, headers=staff)
    assert listed.status_code == 200
    assert [(v["version"], v["published_by"], v["current"]) for v in listed.get_json()] == [(1, organizer.name, True)]

    repeated = client.post(url, json={"reason": "again"}, headers=staff)
    assert repeated.status_code == 409
    assert repeated.get_json()["message"] == "Nothing public has changed since version 1."
    assert db.session.query(ResultSnapshot).count() == 1

    first = publication.latest(campaign.id)
    frozen, digest = dict(first.data), first.content_hash
    recount(cases["A"], 900)
    assert client.get("/api/v1/results").get_json()["version"] == 1, "the public still reads version 1"
    done = client.post(url, json={"reason": "Recount of 2017-06-30"}, headers=staff)
    assert done.status_code == 201, done.get_json()
    body = done.get_json()
    assert (body["version"], body["reason"], body["published_by"], body["current"]) == (
        2, "Recount of 2017-06-30", organizer.name, True)  # fmt: skip
    assert len(body["sha256"]) == 64 and body["sha256"] != digest
    versions = client.get(url, headers=staff).get_json()
    assert [(v["version"], v["current"]) for v in versions] == [(2, True), (1, False)]
    kept = db.session.query(ResultSnapshot).filter_by(campaign_id=campaign.id, version=1).one()
    assert kept.data == frozen and kept.content_hash == digest
    results = client.get("/api/v1/results").get_json()
    assert (results["version"], results["sha256"]) == (2, body["sha256"])
    assert [c["case_id"] for c in results["categories"][0]["cases"]] == [cases["A"].id, cases["B"].id]

    applicant = bearer(cases["A"].created_by)
    assert client.post(url, json={}, headers=applicant).status_code == 403
    assert client.get(url, headers=applicant).status_code == 403
    assert client.post("/api/v1/campaigns/999999/result-publications", json={}, headers=staff).status_code == 404


def test_nothing_to_publish_before_a_category_is_decided(app, client, make, bearer):  # noqa: F811
    cases = finalists(make)
    staff = bearer(make.organizer())
    refused = client.post(f"/api/v1/campaigns/{cases['A'].campaign.id}/result-publications", json={}, headers=staff)
    assert refused.status_code == 422
    assert refused.get_json()["message"] == "No category's awards are decided yet: there is nothing to publish."
    assert db.session.query(ResultSnapshot).count() == 0


def test_the_back_office_publishes_and_shows_every_version(app, client, make):
    cases, organizer = awarded(make)
    campaign = cases["A"].campaign
    english(client)
    login(client, organizer)
    page = client.get(f"/admin/awards/publications/?campaign={campaign.id}").get_data(as_text=True)
    assert 'data-version="1"' in page and "Publish results" in page

    again = client.post("/admin/awards/publications/publish", data={"campaign": campaign.id, "reason": "again"},
                        follow_redirects=True)  # fmt: skip
    assert "Nothing public has changed since version 1." in again.get_data(as_text=True)

    recount(cases["A"], 900)
    done = client.post("/admin/awards/publications/publish", data={"campaign": campaign.id, "reason": "复核计票"},
                       follow_redirects=True)  # fmt: skip
    html = done.get_data(as_text=True)
    assert "The results are published as version 2." in html
    assert 'data-version="2"' in html and 'data-version="1"' in html and "复核计票" in html
    assert 'data-version="2"' in client.get("/results").get_data(as_text=True)


def test_a_recount_that_corrects_the_counts_publishes_the_next_version(app, make):
    cases, _organizer = awarded(make)  # version 1; the live counts were set without ballots behind them
    campaign = cases["A"].campaign
    first = publication.latest(campaign.id)
    frozen = dict(first.data)
    output = app.test_cli_runner().invoke(args=["pingxuan", "recount", "--year", str(campaign.year), "--fix"]).output
    assert f"Results of campaign {campaign.id} published again as version 2." in output
    db.session.expire_all()
    second = publication.latest(campaign.id)
    assert second.version == 2 and second.reason == gettext("Live vote counts corrected by a recount.")
    assert {e["votes"] for e in second.data["categories"][0]["entries"]} == {0}
    kept = db.session.query(ResultSnapshot).filter_by(campaign_id=campaign.id, version=1).one()
    assert kept.data == frozen
    again = app.test_cli_runner().invoke(args=["pingxuan", "recount", "--year", str(campaign.year), "--fix"]).output
    assert "no differences" in again and publication.latest(campaign.id).version == 2


def test_only_staff_publish_in_the_back_office(app, client, make):
    cases, _organizer = awarded(make)
    campaign = cases["A"].campaign
    recount(cases["A"], 900)
    login(client, cases["A"].created_by)
    assert client.get("/admin/awards/publications/").status_code == 403
    assert client.post("/admin/awards/publications/publish", data={"campaign": campaign.id}).status_code == 403
    assert publication.latest(campaign.id).version == 1
    ranking = app.test_client()
    login(ranking, _organizer)
    assert "/admin/awards/publications/" in ranking.get("/admin/awards/ranking/").get_data(as_text=True)
