"""The public vote through the JSON API: showcase, codes, voter tokens, votes, organizers' controls."""

from __future__ import annotations

from campaigns.models import VOTE_CLOSED, VOTE_OPEN
from pingxuan.db import commit
from pingxuan.extensions import db
from tests.api.conftest import bearer  # noqa: F401  (fixture)
from tests.voting.test_pages import FINALIST, IN_REVIEW, code_from_phone, open_campaign
from voting.ballots import counts
from voting.models import Ballot, BallotAudit

EN = {"Accept-Language": "en"}


def voter_token(client, phone: str = "13700137000") -> str:
    assert client.post("/api/v1/voters/code", json={"phone": phone}, headers=EN).status_code == 202
    wrong = client.post("/api/v1/voters/verify", json={"phone": phone, "code": "x"}, headers=EN)
    assert wrong.status_code == 422 and "code" in wrong.get_json()["errors"]
    answer = client.post("/api/v1/voters/verify", json={"phone": phone, "code": code_from_phone()}, headers=EN)
    assert answer.status_code == 200
    return answer.get_json()["voter_token"]


def vote(client, case_id: int, token: str | None):
    headers = {**EN, **({"X-Voter-Token": token} if token else {})}
    return client.post(f"/api/v1/showcase/cases/{case_id}/vote", headers=headers)


def test_showcase_list_and_case_without_a_token(app, client, make):
    campaign = open_campaign(make)
    finalist = make.case(FINALIST, title="智慧停车诱导")
    hidden = make.case(IN_REVIEW)
    page = client.get(f"/api/v1/showcase?category={campaign.categories[0].id}&q=停车").get_json()
    assert [item["id"] for item in page["items"]] == [finalist.id] and page["counts_visible"] is True
    one = client.get(f"/api/v1/showcase/cases/{finalist.id}").get_json()
    assert one["title"] == "智慧停车诱导" and one["votes"] == 0 and one["vote_open"] is True
    assert one["url"].endswith(f"/showcase/cases/{finalist.id}")
    missing = client.get(f"/api/v1/showcase/cases/{hidden.id}", headers=EN)
    assert missing.status_code == 404 and missing.get_json() == {"message": "No such case."}


def test_verify_vote_and_every_refusal_has_its_message(app, client, make):
    open_campaign(make)
    finalists = [make.case(FINALIST) for _ in range(4)]
    token = voter_token(client)
    assert vote(client, finalists[0].id, None).status_code == 401
    assert vote(client, finalists[0].id, "forged").status_code == 401
    first = vote(client, finalists[0].id, token).get_json()
    assert first["count"] == 1 and first["remaining_today"] == 2
    again = vote(client, finalists[0].id, token)
    assert again.status_code == 409
    assert again.get_json()["message"] == "You have already voted for this case today. Come back tomorrow."
    for case in finalists[1:3]:
        assert vote(client, case.id, token).status_code == 200
    fourth = vote(client, finalists[3].id, token)
    assert fourth.status_code == 409
    assert fourth.get_json() == {"message": "You have used today's 3 votes in this category."}
    assert Ballot.query.count() == 3


def test_code_resend_delay_and_bad_number(app, client, make):
    bad = client.post("/api/v1/voters/code", json={"phone": "12345"}, headers=EN)
    assert bad.status_code == 422 and "phone" in bad.get_json()["errors"]
    assert client.post("/api/v1/voters/code", json={"phone": "13600136000"}).status_code == 202
    again = client.post("/api/v1/voters/code", json={"phone": "13600136000"}, headers=EN)
    assert again.status_code == 409 and "seconds" in again.get_json()["message"]


def test_vote_refused_after_close_and_per_address_limit_asks_for_captcha(app, client, make):
    campaign = open_campaign(make)
    finalists = [make.case(FINALIST) for _ in range(3)]
    token = voter_token(client)
    app.config.update(VOTE_LIMIT_IP="1 per minute")
    assert vote(client, finalists[0].id, token).status_code == 200
    limited = vote(client, finalists[1].id, token)
    assert limited.status_code == 429 and limited.get_json()["captcha"] == "/api/v1/captcha"
    assert "keyPrefix" in client.get("/api/v1/captcha").get_json()["parameters"]
    assert client.post("/api/v1/captcha", json={"payload": "-1"}).status_code == 422
    app.config.update(VOTE_LIMIT_IP="100 per minute")
    campaign.vote_status = VOTE_CLOSED
    commit()
    closed = vote(client, finalists[2].id, token)
    assert closed.status_code == 409 and closed.get_json()["message"] == "The public vote is closed."


def test_a_case_whose_vote_ended_answers_409_with_the_reason(app, client, make):
    """An awarded case is still public, so "no such case" would be wrong: its vote is over, say so."""
    open_campaign(make)
    awarded = make.case("awarded")
    token = voter_token(client)
    ended = vote(client, awarded.id, token)
    assert ended.status_code == 409 and ended.get_json() == {"message": "The vote on this case has ended."}
    assert client.get(f"/api/v1/showcase/cases/{awarded.id}").status_code == 200
    assert Ballot.query.count() == 0


def test_organizer_endpoints(app, client, make, bearer):  # noqa: F811
    campaign = make.campaign()
    case = make.case(FINALIST)
    organizer, applicant = bearer(make.organizer()), bearer(make.applicant())
    assert client.post(f"/api/v1/campaigns/{campaign.id}/vote/open", headers=applicant).status_code == 403
    assert client.post(f"/api/v1/campaigns/{campaign.id}/vote/open").status_code == 401
    opened = client.post(f"/api/v1/campaigns/{campaign.id}/vote/open", headers=organizer)
    assert opened.get_json() == {"campaign_id": campaign.id, "vote_status": VOTE_OPEN}
    token = voter_token(client)
    assert vote(client, case.id, token).status_code == 200
    report = client.get(f"/api/v1/cases/{case.id}/vote/anomalies", headers=organizer).get_json()
    assert report["total"] == 1 and report["case_id"] == case.id
    assert [r["case_id"] for r in client.get(f"/api/v1/campaigns/{campaign.id}/vote/anomalies", headers=organizer)
            .get_json()] == [case.id]  # fmt: skip
    ballot_id = Ballot.query.one().id
    no_reason = client.post("/api/v1/ballots/invalidate", json={"ballot_ids": [ballot_id], "reason": " "},
                            headers={**organizer, **EN})  # fmt: skip
    assert no_reason.status_code == 422 and no_reason.get_json()["errors"]["reason"] == "A reason is required."
    body = {"ballot_ids": [ballot_id], "reason": "刷票"}
    done = client.post("/api/v1/ballots/invalidate", json=body, headers=organizer)
    assert done.get_json() == {"invalidated": 1}
    assert counts([case.id])[case.id] == 0 and Ballot.query.count() == 1 and BallotAudit.query.count() == 1
    assert client.post(f"/api/v1/campaigns/{campaign.id}/vote/recount", headers=organizer).get_json() == []
    closed = client.post(f"/api/v1/campaigns/{campaign.id}/vote/close", headers=organizer)
    assert closed.get_json()["vote_status"] == VOTE_CLOSED
    db.session.refresh(campaign)
    assert campaign.vote_status == VOTE_CLOSED


def test_openapi_documents_the_vote(app, client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    for path in (
        "/api/v1/showcase", "/api/v1/showcase/cases/{case_id}", "/api/v1/showcase/cases/{case_id}/vote",
        "/api/v1/voters/code", "/api/v1/voters/verify", "/api/v1/showcase/counts", "/api/v1/captcha",
        "/api/v1/campaigns/{campaign_id}/vote/open", "/api/v1/campaigns/{campaign_id}/vote/close",
        "/api/v1/cases/{case_id}/vote/anomalies", "/api/v1/ballots/invalidate",
        "/api/v1/campaigns/{campaign_id}/vote/recount",
    ):  # fmt: skip
        assert path in paths, path
    vote_doc = paths["/api/v1/showcase/cases/{case_id}/vote"]["post"]
    assert "429" in vote_doc["responses"] and any(p["name"] == "X-Voter-Token" for p in vote_doc["parameters"])
