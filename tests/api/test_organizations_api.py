"""Recommending organizations (推荐单位) made and edited through the API: one operation with the back office,
audited with the campaign's set-up changes, a name used already refused at its field (issue 20)."""

from __future__ import annotations

import yaml

from campaigns.models import Organization, SettingChange
from pingxuan.extensions import db


def test_staff_create_and_edit_organizations_audited(app, client, make, bearer):
    campaign, organizer = make.campaign(), make.organizer()
    staff = bearer(organizer)
    new = {"name_zh": "西海岸新区", "name_en": "West Coast", "kind": "district"}
    made = client.post("/api/v1/organizations", json=new, headers=staff)
    assert made.status_code == 201, made.get_json()
    org = made.get_json()
    assert (org["name_zh"], org["kind"], org["active"]) == ("西海岸新区", "district", True)
    listed = client.get("/api/v1/organizations").get_json()
    assert any(o["id"] == org["id"] for o in listed)  # cases can name it now

    changed = client.patch(f"/api/v1/organizations/{org['id']}", json={"kind": "department", "active": False},
                           headers=staff)  # fmt: skip
    assert changed.status_code == 200 and changed.get_json()["kind"] == "department"
    assert all(o["id"] != org["id"] for o in client.get("/api/v1/organizations").get_json())  # retired
    changes = client.get(f"/api/v1/campaigns/{campaign.id}/changes", headers=staff).get_json()
    mine = {(c["subject"], c["field"]): c for c in changes if c["subject"] == "organization"}
    kind = mine["organization", "kind"]
    assert (kind["before"], kind["after"]) == ("district", "department")
    assert "西海岸新区" in mine["organization", "created"]["after"]
    assert mine["organization", "created"]["actor_id"] == organizer.id


def test_a_duplicate_name_is_refused_at_its_field_and_nothing_changes(app, client, make, bearer):
    make.campaign()
    staff = bearer(make.organizer())
    taken = db.session.query(Organization).first()
    count = db.session.query(Organization).count()
    again = client.post("/api/v1/organizations", json={"name_zh": taken.name_zh}, headers=staff)
    assert again.status_code == 422 and "name_zh" in again.get_json()["errors"]
    other = client.post("/api/v1/organizations", json={"name_zh": "新推荐单位", "kind": "county"}, headers=staff)
    assert other.status_code == 422 and "kind" in other.get_json()["errors"]
    made = client.post("/api/v1/organizations", json={"name_zh": "新推荐单位"}, headers=staff).get_json()
    rename = client.patch(f"/api/v1/organizations/{made['id']}", json={"name_zh": taken.name_zh}, headers=staff)
    assert rename.status_code == 422 and "name_zh" in rename.get_json()["errors"]
    db.session.expire_all()
    assert db.session.get(Organization, made["id"]).name_zh == "新推荐单位"
    assert db.session.query(Organization).count() == count + 1
    assert db.session.query(SettingChange).filter_by(subject="organization", field="name_zh").count() == 0


def test_applicants_cannot_make_organizations(app, client, make, bearer):
    make.campaign()
    assert client.post("/api/v1/organizations", json={"name_zh": "某区"}).status_code == 401
    refused = client.post("/api/v1/organizations", json={"name_zh": "某区"}, headers=bearer(make.applicant()))
    assert refused.status_code == 403
    assert client.patch("/api/v1/organizations/999999", json={"name_zh": "某区"},
                        headers=bearer(make.organizer())).status_code == 404  # fmt: skip


def test_the_campaign_file_makes_organizations_through_the_same_checks(app, client, make, bearer):
    campaign = make.campaign()
    staff = bearer(make.organizer())
    data = yaml.safe_load(client.get(f"/api/v1/campaigns/{campaign.id}/export", headers=staff).get_data(as_text=True))
    data["organizations"].append({"zh": "测试推荐单位甲", "en": "Test recommender A", "kind": "county"})
    refused = client.post("/api/v1/campaigns/import", json={"yaml": yaml.safe_dump(data, allow_unicode=True)},
                          headers=staff)  # fmt: skip
    index = len(data["organizations"]) - 1
    assert refused.status_code == 422 and set(refused.get_json()["errors"]) == {f"organizations.{index}.kind"}
    assert db.session.query(Organization).filter_by(name_zh="测试推荐单位甲").count() == 0
    data["organizations"][index]["kind"] = "district"
    done = client.post("/api/v1/campaigns/import", json={"yaml": yaml.safe_dump(data, allow_unicode=True)},
                       headers=staff)  # fmt: skip
    assert done.status_code == 200, done.get_json()
    made = db.session.query(Organization).filter_by(name_zh="测试推荐单位甲").one()
    audit = db.session.query(SettingChange).filter_by(subject="organization", subject_id=made.id).one()
    assert (audit.field, audit.campaign_id) == ("created", campaign.id)
