"""Set-up → Dossier form: organizers see the fields, edit the declaration, check it with a preview as a unit sees
the form, and save it; after a submission, a removal is refused with the reason."""

from __future__ import annotations

import html
import re

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


def _rows(page: str) -> dict:
    """What the per-field editor posts as the page shows it (inputs, checked boxes, selected types)."""
    posted: dict = {"key": re.findall(r'name="key" value="([^"]+)"', page)}
    for name, value in re.findall(
        r'<input class="form-control form-control-sm" name="([a-z_]+\.[a-z_]+)" value="([^"]*)"', page
    ):
        posted[name] = html.unescape(value)
    for name in re.findall(r'<input type="checkbox" name="([a-z_]+\.(?:required|public))" checked', page):
        posted[name] = "on"
    for name, value in re.findall(
        r'<select [^>]*name="([a-z_]+\.type)"[^>]*>.*?<option value="([a-z_]+)" selected', page
    ):
        posted[name] = value
    return posted


def test_organizers_edit_fields_row_by_row(client, make):
    """Issue 23: Set-up → Dossier form edits each field in its row (labels, help, required, public, limits, order,
    removal) and adds one, checked by the same rules as the YAML; the rules' fields have no removal box."""
    campaign = make.campaign()
    login(client, make.organizer())
    in_english(client)
    url = f"/admin/dossier-form/?campaign={campaign.id}"
    page = client.get(url).get_data(as_text=True)
    assert 'name="app_name.remove"' in page and 'name="title.remove"' not in page and 'name="title.type"' not in page

    posted = _rows(page) | {"campaign": str(campaign.id), "action": "rows"}
    posted |= {"innovation.label_en": "What is new", "innovation.help_zh": "与同类项目相比的新做法。",
               "summary.max_length": "300", "app_name.remove": "on", "new.key": "users", "new.type": "number",
               "new.label_zh": "使用人数", "new.label_en": "Number of users", "new.section": "content"}  # fmt: skip
    posted.pop("effects.public", None)
    assert client.post(url, data=posted).status_code == 302
    db.session.expire_all()
    form = dossier.form_of(db.session.get(Campaign, campaign.id))
    assert form.get("app_name") is None and form.get("innovation").label_en == "What is new"
    assert form.get("innovation").help_zh == "与同类项目相比的新做法。" and form.get("summary").max_length == 300
    assert not form.get("effects").public and form.get("users").type == "number"
    assert [s.fields[-1].key for s in form.sections if s.key == "content"] == ["users"]

    page = client.get(url).get_data(as_text=True)
    moved = _rows(page) | {"campaign": str(campaign.id), "move": "users:up"}
    assert client.post(url, data=moved).status_code == 302
    db.session.expire_all()
    content = [s for s in dossier.form_of(db.session.get(Campaign, campaign.id)).sections if s.key == "content"][0]
    assert [f.key for f in content.fields][-2:] == ["users", "public_url"]


def test_after_a_submission_the_rows_refuse_a_removal_and_take_a_relabel(client, make):
    campaign = make.campaign()
    make.case("submitted")
    login(client, make.organizer())
    in_english(client)
    url = f"/admin/dossier-form/?campaign={campaign.id}"
    rows = _rows(client.get(url).get_data(as_text=True)) | {"campaign": str(campaign.id), "action": "rows"}
    refused = text(client.post(url, data=rows | {"innovation.remove": "on", "description.required": ""}))
    assert "“Innovation” would be removed" in refused
    db.session.expire_all()
    assert db.session.get(Campaign, campaign.id).dossier_form is None
    assert client.post(url, data=rows | {"innovation.label_en": "What is new"}).status_code == 302
    db.session.expire_all()
    assert dossier.form_of(db.session.get(Campaign, campaign.id)).get("innovation").label_en == "What is new"
