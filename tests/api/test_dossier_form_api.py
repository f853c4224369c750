"""Organizers edit the campaign's dossier form through the API: checked whole, audited, dry run; once a case is
submitted, changes that could invalidate submitted dossiers are refused with the reasons; the campaign file and a
clone carry the form."""

from __future__ import annotations

import copy

import yaml

from campaigns.models import Campaign, SettingChange
from pingxuan.extensions import db


def _url(campaign: Campaign) -> str:
    return f"/api/v1/campaigns/{campaign.id}/dossier-form/declaration"


def _field(declaration: dict, key: str) -> dict:
    return next(f for s in declaration["sections"] for f in s["fields"] if f["key"] == key)


def test_after_a_submission_removing_or_requiring_a_field_is_refused_and_relabelling_is_not(app, client, make, bearer):
    campaign, organizer = make.campaign(), make.organizer()
    auth = {**bearer(organizer), "Accept-Language": "en"}
    make.case("submitted")
    declared = client.get(_url(campaign), headers=auth).get_json()

    removed = copy.deepcopy(declared)
    removed["sections"][1]["fields"] = [f for f in removed["sections"][1]["fields"] if f["key"] != "app_name"]
    removed["one_of"] = []
    refused = client.put(_url(campaign), json=removed, headers=auth)
    assert refused.status_code == 409
    assert "“App name” would be removed" in refused.get_json()["reasons"]

    required = copy.deepcopy(declared)
    _field(required, "public_url")["required"] = True
    refused = client.put(_url(campaign), json=required, headers=auth)
    assert refused.status_code == 409 and "“Public URL” would become required" in refused.get_json()["reasons"]

    narrowed = copy.deepcopy(declared)
    _field(narrowed, "summary")["max_length"] = 100
    refused = client.put(_url(campaign), json=narrowed, headers=auth)
    assert refused.status_code == 409 and "“Summary” would accept fewer characters" in refused.get_json()["reasons"]
    db.session.expire_all()
    assert db.session.get(Campaign, campaign.id).dossier_form is None  # nothing changed

    relabelled = copy.deepcopy(declared)
    _field(relabelled, "title")["label_en"] = "Name of the case"
    _field(relabelled, "summary")["help_en"] = "Two sentences."
    relabelled["sections"][1]["fields"].reverse()  # order is free
    relabelled["sections"][1]["fields"].append({"key": "users", "type": "number", "label_zh": "使用人数",
                                                "label_en": "Number of users"})  # fmt: skip
    done = client.put(_url(campaign), json=relabelled, headers=auth)
    assert done.status_code == 200, done.get_json()
    assert _field(done.get_json(), "title")["label_en"] == "Name of the case"
    schema = client.get(f"/api/v1/campaigns/{campaign.id}/dossier-form?lang=en").get_json()
    assert schema["properties"]["title"]["title"] == "Name of the case" and "users" in schema["properties"]
    change = db.session.scalars(db.select(SettingChange).where(SettingChange.subject == "dossier_form")).one()
    assert (
        change.actor_id == organizer.id
        and "Name of the case" in change.after
        and "Name of the case" not in change.before
    )


def test_a_form_that_cannot_be_used_is_refused_with_every_fault_and_a_dry_run_changes_nothing(
    app, client, make, bearer
):
    campaign, organizer = make.campaign(), make.organizer()
    auth = bearer(organizer)
    declared = client.get(_url(campaign), headers=auth).get_json()
    broken = copy.deepcopy(declared)
    broken["sections"][0]["fields"] = [f for f in broken["sections"][0]["fields"] if f["key"] != "category_id"]
    broken["sections"][1]["fields"].append({"key": "stage", "type": "choice", "label_zh": "阶段"})  # no choices
    response = client.put(_url(campaign), json=broken, headers=auth)
    assert response.status_code == 422
    assert {"category_id", "sections.1.fields.7"} <= set(response.get_json()["errors"])

    fine = copy.deepcopy(declared)
    fine["sections"][1]["fields"] = [f for f in fine["sections"][1]["fields"] if f["key"] != "app_name"]
    fine["one_of"] = []
    checked = client.put(_url(campaign), json={**fine, "dry_run": True}, headers=auth)
    assert checked.status_code == 200
    db.session.expire_all()
    assert db.session.get(Campaign, campaign.id).dossier_form is None
    assert client.put(_url(campaign), json=fine, headers=auth).status_code == 200  # no case submitted: free
    assert "app_name" not in client.get(f"/api/v1/campaigns/{campaign.id}/dossier-form").get_json()["properties"]


def test_the_campaign_file_and_a_clone_carry_the_form(app, client, make, bearer):
    campaign, organizer = make.campaign(), make.organizer()
    auth = bearer(organizer)
    declared = client.get(_url(campaign), headers=auth).get_json()
    declared["sections"][1]["fields"].append({"key": "users", "type": "number", "label_zh": "使用人数",
                                              "label_en": "Number of users", "required": True})  # fmt: skip
    assert client.put(_url(campaign), json=declared, headers=auth).status_code == 200
    exported = yaml.safe_load(client.get(f"/api/v1/campaigns/{campaign.id}/export", headers=auth).get_data())
    assert _field(exported["dossier_form"], "users")["required"] is True

    clone = client.post(f"/api/v1/campaigns/{campaign.id}/clone", json={}, headers=auth).get_json()
    copied = client.get(f"/api/v1/campaigns/{clone['id']}/dossier-form/declaration", headers=auth).get_json()
    assert copied == client.get(_url(campaign), headers=auth).get_json()

    _field(exported["dossier_form"], "users")["label_en"] = "Users"
    dry = client.post("/api/v1/campaigns/import", headers={**auth, "Accept-Language": "en"},
                      json={"yaml": yaml.safe_dump(exported, allow_unicode=True), "dry_run": True})  # fmt: skip
    assert dry.status_code == 200 and any("dossier form" in line for line in dry.get_json()["changed"])
    assert _field(client.get(_url(campaign), headers=auth).get_json(), "users")["label_en"] == "Number of users"
