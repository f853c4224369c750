"""Worklists, notifications, the unit and its invitations, the campaign and organizations through the API."""

from __future__ import annotations

from accounts.models import Invitation
from notifications.models import OutboxMail
from pingxuan.db import commit
from pingxuan.extensions import db
from reviewers.models import ACCEPTED, Assignment
from workflow.definition import ORGANIZER, OWNER, WORKLISTS


def test_campaign_and_organizations_are_public(app, client, make):
    campaign = make.campaign()
    body = client.get("/api/v1/campaigns/current").get_json()
    assert body["id"] == campaign.id and body["year"] == campaign.year
    assert len(body["categories"]) == 7
    assert all(category["domains"] for category in body["categories"])
    assert body["submission_opens"] and body["in_operation_before"]
    organizations = client.get("/api/v1/organizations").get_json()
    assert organizations and {"id", "name", "kind"} <= set(organizations[0])


def test_worklists_follow_the_declaration(app, client, make, bearer):
    owner, organizer, expert = make.applicant(), make.organizer(), make.expert()
    draft = make.case("draft", owner=owner)
    submitted = make.case("submitted")
    review = make.case("expert_review")
    db.session.add(Assignment(case_id=review.id, expert_id=expert.id, status=ACCEPTED))
    commit()

    mine = {w["name"]: w for w in client.get("/api/v1/worklists", headers=bearer(owner)).get_json()}
    assert set(mine) == {w.name for w in WORKLISTS if OWNER in w.roles} and mine["my_drafts"]["count"] == 1
    assert sum(w["count"] for w in mine.values()) == 1, "only the draft is waiting for its unit"
    staff = {w["name"]: w["count"] for w in client.get("/api/v1/worklists", headers=bearer(organizer)).get_json()}
    assert set(staff) == {w.name for w in WORKLISTS if ORGANIZER in w.roles}
    assert {name: n for name, n in staff.items() if n} == {"to_check": 1, "to_shortlist": 1}
    reviews = client.get("/api/v1/worklists/my_reviews", headers=bearer(expert)).get_json()
    assert [c["id"] for c in reviews["items"]] == [review.id]
    checks = client.get("/api/v1/worklists/to_check", headers=bearer(organizer)).get_json()
    assert [c["id"] for c in checks["items"]] == [submitted.id]
    drafts = client.get("/api/v1/worklists/my_drafts", headers=bearer(owner)).get_json()
    assert [c["id"] for c in drafts["items"]] == [draft.id]

    assert client.get("/api/v1/worklists/to_check", headers=bearer(owner)).status_code == 404
    assert client.get("/api/v1/worklists", headers={}).status_code == 401


def test_notifications_after_a_transition(app, client, make, bearer):
    owner = make.applicant()
    case = make.case("draft", owner=owner)
    auth = bearer(owner)
    fired = client.post(f"/api/v1/cases/{case.id}/transitions/submit", headers=auth)
    assert fired.status_code == 200
    listed = client.get("/api/v1/notifications", headers=auth).get_json()
    assert listed["unread"] == 1
    assert listed["items"][0]["case_id"] == case.id and listed["items"][0]["read_at"] is None
    assert listed["items"][0]["link"] == f"/cases/{case.id}"  # where it leads (an objection's page for one forwarded)
    assert client.post("/api/v1/notifications/read", headers=auth).status_code == 204
    assert client.get("/api/v1/notifications", headers=auth).get_json()["unread"] == 0
    assert client.get("/api/v1/notifications", headers=bearer(make.expert())).get_json() == {"unread": 0, "items": []}


def test_unit_members_and_invitations(app, client, make, bearer):
    owner = make.applicant()
    colleague = make.applicant(unit=owner.unit)
    unit = client.get("/api/v1/unit", headers=bearer(owner)).get_json()
    assert unit["id"] == owner.unit_id
    assert {m["email"] for m in unit["members"]} == {owner.email, colleague.email}

    invited = client.post("/api/v1/unit/invitations", json={"email": "New@Example.org"}, headers=bearer(owner))
    assert invited.status_code == 201, invited.get_json()
    assert invited.get_json()["email"] == "new@example.org"
    assert Invitation.query.filter_by(email="new@example.org", unit_id=owner.unit_id).count() == 1
    assert OutboxMail.query.filter_by(recipient="new@example.org").count() == 1

    bad = client.post("/api/v1/unit/invitations", json={"email": colleague.email}, headers=bearer(owner))
    assert bad.status_code == 422 and "email" in bad.get_json()["errors"]
    expert = make.expert()
    assert client.get("/api/v1/unit", headers=bearer(expert)).status_code == 404
    assert (
        client.post("/api/v1/unit/invitations", json={"email": "x@example.org"}, headers=bearer(expert)).status_code
        == 403
    )
