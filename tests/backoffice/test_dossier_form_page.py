"""Set-up → Dossier form: organizers see the fields, edit the declaration, check it with a preview as a unit sees
the form, and save it; after a submission, a removal is refused with the reason."""

from __future__ import annotations

import yaml

from campaigns.models import Campaign
from cases import dossier
from pingxuan.extensions import db
from tests.backoffice.helpers import in_english, text
from tests.factories import login


def _declaration(campaign: Campaign) -> dict:
    return dossier.to_data(dossier.form_of(campaign))


def test_organizers_add_a_field_preview_it_and_save(client, make):
    campaign = make.campaign()
    login(client, make.organizer())
    in_english(client)
    page = client.get(f"/admin/dossier-form/?campaign={campaign.id}").get_data(as_text=True)
    assert 'data-field="app_name"' in page and 'id="dossier-preview"' in page

    data = _declaration(campaign)
    users = {"key": "users", "type": "number", "label_zh": "使用人数", "label_en": "Number of users",
             "unit_en": "people", "required": True}  # fmt: skip
    data["sections"][1]["fields"].insert(0, users)
    posted = {"campaign": str(campaign.id), "declaration": yaml.safe_dump(data, allow_unicode=True)}
    checked = client.post(f"/admin/dossier-form/?campaign={campaign.id}", data={**posted, "action": "check"})
    preview = checked.get_data(as_text=True).split('id="dossier-preview"', 1)[1]
    assert 'data-field="users"' in preview and "Number of users" in preview and "required-mark" in preview
    db.session.expire_all()
    assert db.session.get(Campaign, campaign.id).dossier_form is None  # a check saves nothing

    saved = client.post(f"/admin/dossier-form/?campaign={campaign.id}", data={**posted, "action": "save"})
    assert saved.status_code == 302
    db.session.expire_all()
    assert dossier.form_of(db.session.get(Campaign, campaign.id)).get("users").required
    assert "dossier_form" in text(client.get("/admin/setup-changes/"))


def test_after_a_submission_a_removal_is_refused_with_the_reason(client, make):
    campaign = make.campaign()
    make.case("submitted")
    login(client, make.organizer())
    in_english(client)
    data = _declaration(campaign)
    data["sections"][1]["fields"] = [f for f in data["sections"][1]["fields"] if f["key"] != "innovation"]
    posted = {"campaign": str(campaign.id), "declaration": yaml.safe_dump(data, allow_unicode=True), "action": "save"}
    page = text(client.post(f"/admin/dossier-form/?campaign={campaign.id}", data=posted))
    assert "“Innovation” would be removed" in page
    db.session.expire_all()
    assert db.session.get(Campaign, campaign.id).dossier_form is None
