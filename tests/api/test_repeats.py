"""One rule for repeated actions through the API: the same action again answers 409 with the reason, and
changes nothing (documented in the OpenAPI document's description and on each endpoint)."""

from __future__ import annotations

from campaigns.models import VOTE_OPEN
from pingxuan.db import commit
from workflow.models import WorkflowEvent

EN = {"Accept-Language": "en"}


def test_a_repeated_transition_and_vote_switch_answer_409(app, client, make, bearer):
    owner, organizer = make.applicant(), make.organizer()
    case = make.case("draft", owner=owner)
    auth = {**bearer(owner), **EN}
    assert client.post(f"/api/v1/cases/{case.id}/transitions/submit", headers=auth).status_code == 200
    events = WorkflowEvent.query.filter_by(case_id=case.id).count()
    again = client.post(f"/api/v1/cases/{case.id}/transitions/submit", headers=auth)
    assert again.status_code == 409 and again.get_json()["message"]
    assert WorkflowEvent.query.filter_by(case_id=case.id).count() == events

    campaign = make.campaign()
    staff = {**bearer(organizer), **EN}
    if campaign.vote_status != VOTE_OPEN:
        assert client.post(f"/api/v1/campaigns/{campaign.id}/vote/open", headers=staff).status_code == 200
    commit()
    assert client.post(f"/api/v1/campaigns/{campaign.id}/vote/open", headers=staff).status_code == 409
    assert client.post(f"/api/v1/campaigns/{campaign.id}/vote/close", headers=staff).status_code == 200
    closed_again = client.post(f"/api/v1/campaigns/{campaign.id}/vote/close", headers=staff)
    assert closed_again.status_code == 409 and closed_again.get_json()["message"]


def test_the_rule_is_documented(app, client):
    spec = client.get("/api/v1/openapi.json").get_json()
    assert "Repeating an action answers 409" in spec["info"]["description"]
    for path in ("/api/v1/categories/{category_id}/shortlist", "/api/v1/categories/{category_id}/awards",
                 "/api/v1/cases/{case_id}/transitions/{name}"):  # fmt: skip
        assert "409" in spec["paths"][path]["post"]["responses"], path


def test_a_repeated_accept_answers_409(app, client, make, bearer):
    case = make.case("expert_review")
    expert = make.pool_expert()
    assigned = client.post("/api/v1/assignments", json={"case_id": case.id, "expert_id": expert.id},
                           headers=bearer(make.organizer()))  # fmt: skip
    url = f"/api/v1/assignments/{assigned.get_json()['id']}/accept"
    assert client.post(url, headers={**bearer(expert), **EN}).status_code == 200
    again = client.post(url, headers={**bearer(expert), **EN})
    assert again.status_code == 409 and again.get_json()["message"] == "You have accepted this assignment already."
