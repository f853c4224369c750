"""The back office's set-up forms: campaign settings, categories, rubric, the campaign file and the next edition,
each valid, invalid (field errors, nothing kept) and locked (read-only, the reason shown)."""

from __future__ import annotations

import io

import yaml

from campaigns.models import Campaign, Category, SettingChange
from pingxuan.extensions import db
from reviewers.models import Criterion
from tests.backoffice.helpers import in_english, text
from tests.factories import login


def _settings_form(campaign: Campaign, **changes) -> dict[str, str]:
    data = {
        "year": str(campaign.year), "title_zh": campaign.title_zh, "title_en": campaign.title_en,
        "organizer_zh": campaign.organizer_zh, "organizer_en": campaign.organizer_en,
        "in_operation_before": campaign.in_operation_before.isoformat(),
        **{f"{w}_{e}": getattr(campaign, f"{w}_{e}").isoformat() for w in ("submission", "review", "vote")
           for e in ("opens", "closes")},
        "awards_per_category": "10", "shortlist_per_category": "", "reviewers_per_case": "5", "expert_weight": "70",
        "public_weight": "30", "votes_per_category_per_day": "3", "show_live_counts": "y",
        "organization_awards": "6", "is_current": "y",
    }  # fmt: skip
    return {**data, **changes}


def test_every_setting_is_saved_and_audited(client, make):
    campaign, organizer = make.campaign(), make.organizer()
    login(client, organizer)
    form = _settings_form(campaign, votes_per_category_per_day="5", expert_weight="60", public_weight="40",
                          organization_awards="4", shortlist_per_category="12")  # fmt: skip
    del form["show_live_counts"]  # unticked
    assert client.post(f"/admin/campaigns/edit/?id={campaign.id}", data=form).status_code == 302
    db.session.expire_all()
    saved = db.session.get(Campaign, campaign.id)
    assert (saved.votes_per_category_per_day, saved.expert_weight, saved.public_weight) == (5, 60, 40)
    assert (saved.organization_awards, saved.shortlist_per_category, saved.show_live_counts) == (4, 12, False)
    audit = {c.field: (c.before, c.after) for c in db.session.query(SettingChange).filter_by(actor_id=organizer.id)}
    assert audit["expert_weight"] == ("70", "60") and audit["show_live_counts"] == ("True", "False")
    in_english(client)
    page = text(client.get("/admin/setup-changes/"))
    assert "votes_per_category_per_day" in page and organizer.name in page


def test_invalid_settings_show_every_field_error_and_keep_nothing(client, make):
    campaign = make.campaign()
    login(client, make.organizer())
    in_english(client)
    form = _settings_form(campaign, votes_per_category_per_day="0", expert_weight="80", shortlist_per_category="3",
                          in_operation_before="2099-01-01")  # fmt: skip
    page = text(client.post(f"/admin/campaigns/edit/?id={campaign.id}", data=form))
    for message in ("At least 1.", "add up to 100", "at least as many cases as are awarded",
                    "cut-off date comes before submission opens"):  # fmt: skip
        assert message in page
    db.session.expire_all()
    assert db.session.get(Campaign, campaign.id).votes_per_category_per_day == 3
    assert db.session.query(SettingChange).count() == 0


def test_locked_settings_are_read_only_with_the_reason(client, make):
    campaign = make.campaign()
    make.case("submitted")
    login(client, make.organizer())
    in_english(client)
    page = client.get(f"/admin/campaigns/edit/?id={campaign.id}").get_data(as_text=True)
    assert "Locked: cases have been submitted under this setting." in page
    form = _settings_form(campaign, votes_per_category_per_day="4")
    del form["in_operation_before"]  # a disabled field is not posted
    assert client.post(f"/admin/campaigns/edit/?id={campaign.id}", data=form).status_code == 302
    forced = _settings_form(campaign, in_operation_before="2016-12-31")
    page = text(client.post(f"/admin/campaigns/edit/?id={campaign.id}", data=forced))
    assert "Locked: cases have been submitted under this setting." in page
    db.session.expire_all()
    saved = db.session.get(Campaign, campaign.id)
    assert saved.votes_per_category_per_day == 4 and saved.in_operation_before == campaign.in_operation_before


def test_category_form_valid_invalid_and_locked(client, make):
    campaign = make.campaign()
    login(client, make.organizer())
    in_english(client)
    new = {"campaign": str(campaign.id), "code": "extra", "abbr": "EX", "name_zh": "新类", "name_en": "Extra",
           "award_zh": "", "award_en": ""}  # fmt: skip
    assert client.post("/admin/categories/new/", data=new).status_code == 302
    bad = text(client.post("/admin/categories/new/", data={**new, "code": "x2", "abbr": "e1"}))
    assert "One to four capital letters" in bad
    make.case("submitted")
    locked = text(client.post("/admin/categories/new/", data={**new, "code": "x3", "abbr": "XC"}))
    assert "Locked: cases have been submitted in these categories." in locked
    assert db.session.query(Category).filter_by(campaign_id=campaign.id).count() == 8


def test_rubric_form_valid_invalid_and_locked(client, make):
    campaign = make.campaign()
    login(client, make.organizer())
    in_english(client)
    rows = {"name_zh": ["创新", "成效", ""], "name_en": ["Innovation", "Results", ""], "weight": ["40", "60", ""],
            "max_score": ["10", "10", ""], "guidance_zh": ["", "", ""], "guidance_en": ["", "", ""]}  # fmt: skip
    url = f"/admin/rubric/?campaign={campaign.id}"
    bad = text(client.post(url, data={**rows, "weight": ["40", "50", ""]}))
    assert "must add up to 100" in bad
    assert client.post(url, data=rows).status_code == 302
    assert [c.weight for c in db.session.query(Criterion).filter_by(campaign_id=campaign.id)] == [40, 60]
    category = campaign.categories[2]
    own = {**{k: v[:1] for k, v in rows.items()}, "weight": ["100"], "category": str(category.id)}
    assert client.post(url, data=own).status_code == 302
    assert db.session.query(Criterion).filter_by(category_id=category.id).count() == 1
    make.reviewed_case() if hasattr(make, "reviewed_case") else _score_one(make, campaign)
    page = text(client.get(url))
    assert "The rubric is locked" in page
    assert "locked" in text(client.post(url, data={**rows, "name_en": ["New", "Results", ""]}))


def _score_one(make, campaign) -> None:
    from decimal import Decimal

    from pingxuan.db import commit
    from reviewers.models import ACCEPTED, Assignment, Review, Score

    case = make.case("expert_review")
    expert = make.expert()
    assignment = Assignment(case_id=case.id, expert_id=expert.id, status=ACCEPTED)
    db.session.add(assignment)
    db.session.flush()
    review = Review(assignment_id=assignment.id)
    db.session.add(review)
    db.session.flush()
    criterion = db.session.query(Criterion).filter_by(campaign_id=campaign.id, category_id=None).first()
    db.session.add(Score(review_id=review.id, criterion_id=criterion.id, value=Decimal(5)))
    commit()


def test_campaign_file_dry_run_import_and_next_edition(client, make):
    campaign = make.campaign()
    login(client, make.organizer())
    in_english(client)
    exported = client.get(f"/admin/campaign-file/export?campaign={campaign.id}").get_data(as_text=True)
    data = yaml.safe_load(exported)
    data["campaign"]["public_weight"], data["campaign"]["expert_weight"] = 50, 50
    upload = yaml.safe_dump(data, allow_unicode=True).encode()
    page = text(client.post(f"/admin/campaign-file/import?campaign={campaign.id}",
                            data={"file": (io.BytesIO(upload), "c.yaml"), "dry_run": "y"}))  # fmt: skip
    assert "dry run" in page and "campaign.expert_weight: 70 → 50" in page
    db.session.expire_all()
    assert db.session.get(Campaign, campaign.id).expert_weight == 70
    client.post(f"/admin/campaign-file/import?campaign={campaign.id}", data={"file": (io.BytesIO(upload), "c.yaml")})
    db.session.expire_all()
    assert db.session.get(Campaign, campaign.id).expert_weight == 50
    bad = text(client.post(f"/admin/campaign-file/import?campaign={campaign.id}",
                           data={"file": (io.BytesIO(b"::: not yaml"), "c.yaml")}))  # fmt: skip
    assert "not a valid YAML file" in bad or "not a campaign file" in bad

    response = client.post(f"/admin/campaign-file/clone?campaign={campaign.id}", data={"year": str(campaign.year + 1)})
    assert response.status_code == 302
    clone = db.session.query(Campaign).filter_by(year=campaign.year + 1).one()
    assert len(clone.categories) == 7 and clone.expert_weight == 50


def test_public_notice_settings_in_the_form_with_field_errors(client, make):
    campaign = make.campaign()
    login(client, make.organizer())
    in_english(client)
    url = f"/admin/campaigns/edit/?id={campaign.id}"
    bad = _settings_form(campaign, notice_working_days="0", notice_holidays="2017-10-01\n2017-13-40",
                         notice_contact="0532-12345")  # fmt: skip
    page = text(client.post(url, data=bad))
    assert "Enter dates as YYYY-MM-DD: 2017-13-40 is not one." in page
    page = text(client.post(url, data={**bad, "notice_holidays": "2017-10-01"}))
    assert "Between 1 and 60 working days." in page
    db.session.expire_all()
    assert (campaign.notice_working_days, campaign.notice_holidays, campaign.notice_contact) == (5, [], "")
    good = _settings_form(campaign, notice_working_days="7", notice_holidays="2017-10-02, 2017-10-01",
                          notice_contact="0532-12345")  # fmt: skip
    assert client.post(url, data=good).status_code == 302
    db.session.expire_all()
    saved = db.session.get(Campaign, campaign.id)
    assert (saved.notice_working_days, saved.notice_holidays, saved.notice_contact) == (
        7, ["2017-10-01", "2017-10-02"], "0532-12345")  # fmt: skip
    audit = {c.field: c.after for c in db.session.query(SettingChange)}
    assert audit["notice_working_days"] == "7" and audit["notice_holidays"] == '["2017-10-01", "2017-10-02"]'
    assert "2017-10-01\n2017-10-02" in client.get(url).get_data(as_text=True)
    assert "0532-12345" in text(client.get("/notice"))
