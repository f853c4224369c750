"""Recommending organizations in the back office (Set-up): made and edited through the same operation as the
API, audited, a name used already refused at its field with nothing kept (issue 20)."""

from __future__ import annotations

import re

from campaigns.models import Organization, SettingChange
from pingxuan.extensions import db
from tests.backoffice.helpers import in_english, text
from tests.factories import login


def test_organizations_are_one_click_from_set_up_and_saved_audited(client, make):
    campaign, organizer = make.campaign(), make.organizer()
    login(client, organizer)
    in_english(client)
    setup = text(client.get("/", follow_redirects=True))  # the staff navigation's Set-up leads to the set-up views
    href = re.search(r'href="([^"]+)"[^>]*>Set-up<', setup) or re.search(r'href="([^"]+)"[^>]*>\s*Set-up', setup)
    assert href, "the staff navigation links Set-up"
    assert "/admin/organizations/" in text(client.get(href.group(1)))
    form = {"name_zh": "测试新区", "name_en": "Test New District", "kind": "district", "active": "y"}
    made = client.post("/admin/organizations/new/", data=form)
    assert made.status_code == 302
    org = db.session.query(Organization).filter_by(name_zh="测试新区").one()
    form["name_en"] = "Test New District, renamed"
    edited = client.post(f"/admin/organizations/edit/?id={org.id}", data=form)
    assert edited.status_code == 302
    db.session.expire_all()
    assert db.session.get(Organization, org.id).name_en == "Test New District, renamed"
    audit = {c.field: c for c in db.session.query(SettingChange).filter_by(subject="organization", subject_id=org.id)}
    assert set(audit) == {"created", "name_en"} and audit["name_en"].actor_id == organizer.id
    assert audit["name_en"].campaign_id == campaign.id


def test_a_duplicate_name_shows_at_its_field_and_nothing_is_kept(client, make):
    make.campaign()
    login(client, make.organizer())
    in_english(client)
    count = db.session.query(Organization).count()
    taken = db.session.query(Organization).first()
    page = client.post("/admin/organizations/new/", data={"name_zh": taken.name_zh, "kind": "district", "active": "y"})
    assert page.status_code == 200
    assert db.session.query(Organization).count() == count
    assert re.search(r"name_zh[\s\S]{0,800}(invalid-feedback|help-block)", text(page)), "an error at the name field"
