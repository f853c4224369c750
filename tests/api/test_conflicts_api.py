"""Automatic conflicts of interest (same unit, parent organization) show in GET /api/v1/conflicts as soon as the
experts and the cases exist, before any assignment ran; a draft, whose names may still change, has none yet
(issue 20)."""

from __future__ import annotations

from pingxuan.extensions import db
from reviewers.models import AUTO, Conflict


def test_automatic_conflicts_show_before_any_assignment(app, client, make, bearer):
    campaign = make.campaign()
    unit = make.unit(name="青岛市智慧交通中心", parent_org="青岛市交通运输局")
    same_unit = make.pool_expert(organization="青岛市智慧交通中心")
    same_parent = make.pool_expert(organization="青岛市交通运输局")
    make.pool_expert(organization="青岛大学")
    owner = make.applicant(unit=unit)
    submitted = make.case("submitted", owner=owner)
    draft = make.case("draft", owner=owner)
    staff = bearer(make.organizer())

    listed = client.get("/api/v1/conflicts", headers=staff)
    assert listed.status_code == 200
    found = {(c["case"]["id"], c["expert"]["id"]): c for c in listed.get_json()}
    assert set(found) == {(submitted.id, same_unit.id), (submitted.id, same_parent.id)}
    assert {c["source"] for c in found.values()} == {AUTO}
    assert "青岛市交通运输局" in found[submitted.id, same_parent.id]["reason"]
    assert all(case_id != draft.id for case_id, _expert in found)
    again = client.get("/api/v1/conflicts", headers=staff).get_json()
    assert sorted(c["id"] for c in again) == sorted(c["id"] for c in found.values())  # recorded once, kept
    assert db.session.query(Conflict).count() == 2
    assert campaign.id == submitted.campaign_id
