"""Campaign set-up through the API: settings, categories, rubric, YAML export/import with dry run, clone."""

from __future__ import annotations

import yaml

from campaigns.models import Campaign, SettingChange
from pingxuan.extensions import db
from reviewers.models import Expert

RUBRIC = [
    {"name_zh": "创新性", "name_en": "Innovation", "weight": 40, "max_score": 10},
    {"name_zh": "成效", "name_en": "Results", "weight": 60, "max_score": 10},
]


def test_every_setting_is_editable_and_audited(app, client, make, bearer):
    campaign, organizer = make.campaign(), make.organizer()
    url = f"/api/v1/campaigns/{campaign.id}/settings"
    change = {
        "votes_per_category_per_day": 5,
        "show_live_counts": False,
        "organization_awards": 4,
        "shortlist_per_category": 15,
        "expert_weight": 60,
        "public_weight": 40,
        "reviewers_per_case": 3,
    }
    response = client.patch(url, json=change, headers=bearer(organizer))
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert {name: body[name] for name in change} == change
    changes = client.get(f"/api/v1/campaigns/{campaign.id}/changes", headers=bearer(organizer)).get_json()
    weight = next(c for c in changes if c["field"] == "expert_weight")
    assert (weight["before"], weight["after"], weight["actor_id"]) == ("70", "60", organizer.id)
    assert weight["created_at"].endswith("+00:00")


def test_settings_that_do_not_fit_get_field_errors_and_nothing_changes(app, client, make, bearer):
    campaign, organizer = make.campaign(), make.organizer()
    bad = {"expert_weight": 80, "vote_closes": "2000-01-01", "votes_per_category_per_day": 0}
    response = client.patch(f"/api/v1/campaigns/{campaign.id}/settings", json=bad, headers=bearer(organizer))
    assert response.status_code == 422
    assert {"public_weight", "vote_closes", "votes_per_category_per_day"} <= set(response.get_json()["errors"])
    db.session.expire_all()
    assert campaign.expert_weight == 70 and campaign.votes_per_category_per_day == 3
    assert db.session.query(SettingChange).count() == 0


def test_applicants_and_anonymous_cannot_change_settings(app, client, make, bearer):
    campaign = make.campaign()
    url = f"/api/v1/campaigns/{campaign.id}/settings"
    assert client.patch(url, json={"expert_weight": 60}).status_code == 401
    assert client.patch(url, json={"expert_weight": 60}, headers=bearer(make.applicant())).status_code == 403


def test_categories_lock_with_the_first_submission(app, client, make, bearer):
    campaign, organizer = make.campaign(), make.organizer()
    new = {"code": "extra", "abbr": "EX", "name_zh": "新类", "name_en": "Extra"}
    response = client.post(f"/api/v1/campaigns/{campaign.id}/categories", json=new, headers=bearer(organizer))
    assert response.status_code == 201 and response.get_json()["categories"][-1]["code"] == "extra"
    make.case("submitted")
    blocked = client.post(
        f"/api/v1/campaigns/{campaign.id}/categories",
        json={**new, "code": "x2", "abbr": "XB"},
        headers=bearer(organizer),
    )
    assert blocked.status_code == 409 and "已有案例" in blocked.get_json()["message"]  # says why
    category = campaign.categories[0]
    locked = client.patch(f"/api/v1/categories/{category.id}", json={"abbr": "ZZ"}, headers=bearer(organizer))
    assert locked.status_code == 422 and "已有案例" in locked.get_json()["errors"]["abbr"]
    renamed = client.patch(f"/api/v1/categories/{category.id}", json={"award_zh": "十佳"}, headers=bearer(organizer))
    assert renamed.status_code == 200


def test_rubric_per_campaign_and_per_category(app, client, make, bearer):
    campaign, organizer = make.campaign(), make.organizer()
    url = f"/api/v1/campaigns/{campaign.id}/rubric"
    assert client.put(url, json={"criteria": RUBRIC}, headers=bearer(organizer)).status_code == 200
    category = campaign.categories[1]
    own = [{**RUBRIC[0], "weight": 100}]
    response = client.put(url, json={"category_id": category.id, "criteria": own}, headers=bearer(organizer))
    assert response.status_code == 200
    got = client.get(url, query_string={"category_id": category.id}, headers=bearer(organizer)).get_json()
    assert [c["weight"] for c in got["criteria"]] == [100]
    assert [c["weight"] for c in client.get(url, headers=bearer(organizer)).get_json()["criteria"]] == [40, 60]
    bad = client.put(url, json={"criteria": [{**RUBRIC[0], "weight": 30}]}, headers=bearer(organizer))
    assert bad.status_code == 422 and "criteria" in bad.get_json()["errors"]


def test_yaml_round_trip_with_dry_run(app, client, make, bearer):
    campaign, organizer = make.campaign(), make.organizer()
    client.put(f"/api/v1/campaigns/{campaign.id}/rubric", json={"criteria": RUBRIC}, headers=bearer(organizer))
    text = client.get(f"/api/v1/campaigns/{campaign.id}/export", headers=bearer(organizer)).get_data(as_text=True)
    data = yaml.safe_load(text)
    assert data["campaign"]["year"] == campaign.year and len(data["categories"]) == 7
    assert [c["weight"] for c in data["rubric"]] == [40, 60]

    data["campaign"].update(year=2030, title_zh="2030评选", title_en="2030 selection")
    for name in ("submission_opens", "submission_closes", "review_opens", "review_closes", "vote_opens", "vote_closes"):
        data["campaign"][name] = None
    new_file = yaml.safe_dump(data, allow_unicode=True)
    dry = client.post("/api/v1/campaigns/import", json={"yaml": new_file, "dry_run": True}, headers=bearer(organizer))
    assert dry.status_code == 200, dry.get_json()
    assert dry.get_json()["created"][0].startswith("campaign 2030") or "2030" in dry.get_json()["created"][0]
    assert db.session.query(Campaign).filter_by(year=2030).count() == 0

    done = client.post("/api/v1/campaigns/import", json={"yaml": new_file}, headers=bearer(organizer)).get_json()
    clone = db.session.get(Campaign, done["campaign_id"])
    again = yaml.safe_load(
        client.get(f"/api/v1/campaigns/{clone.id}/export", headers=bearer(organizer)).get_data(as_text=True)
    )
    assert again == data

    data["campaign"]["votes_per_category_per_day"] = 7
    changed = client.post(
        "/api/v1/campaigns/import",
        json={"yaml": yaml.safe_dump(data, allow_unicode=True), "dry_run": True},
        headers=bearer(organizer),
    ).get_json()
    assert changed["created"] == [] and changed["changed"] == ["campaign.votes_per_category_per_day: 3 → 7"]


def test_bad_yaml_is_a_clear_422(app, client, make, bearer):
    organizer = make.organizer()
    response = client.post("/api/v1/campaigns/import", json={"yaml": "- just\n- a list"}, headers=bearer(organizer))
    assert response.status_code == 422 and "file" in response.get_json()["errors"]


def test_clone_into_next_year_has_the_set_up_and_nothing_else(app, client, make, bearer):
    campaign, organizer = make.campaign(), make.organizer()
    client.put(f"/api/v1/campaigns/{campaign.id}/rubric", json={"criteria": RUBRIC}, headers=bearer(organizer))
    expert = make.pool_expert(categories=[campaign.categories[0]], domains=[campaign.categories[0].domains[0]])
    make.case("public_vote")

    response = client.post(f"/api/v1/campaigns/{campaign.id}/clone", json={}, headers=bearer(organizer))
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["year"] == campaign.year + 1 and not body["is_current"]
    assert (
        body["submission_opens"]
        == campaign.submission_opens.replace(year=campaign.submission_opens.year + 1).isoformat()
    )
    assert [c["code"] for c in body["categories"]] == [c.code for c in campaign.categories]
    rubric = client.get(f"/api/v1/campaigns/{body['id']}/rubric", headers=bearer(organizer)).get_json()
    assert [c["weight"] for c in rubric["criteria"]] == [40, 60]
    clone = db.session.get(Campaign, body["id"])
    assert str(campaign.year) in campaign.categories[0].award_zh
    assert clone.categories[0].award_zh == campaign.categories[0].award_zh.replace(str(campaign.year), str(clone.year))
    db.session.expire_all()
    assert {c.campaign_id for c in db.session.get(Expert, expert.id).categories} == {campaign.id, clone.id}
    assert {d.category.campaign_id for d in db.session.get(Expert, expert.id).domains} == {campaign.id, clone.id}
    from cases.models import Case
    from voting.models import Ballot

    assert db.session.query(Case).filter_by(campaign_id=clone.id).count() == 0
    assert db.session.query(Ballot).join(Case).filter(Case.campaign_id == clone.id).count() == 0
    assert client.post(f"/api/v1/campaigns/{campaign.id}/clone", json={}, headers=bearer(organizer)).status_code == 422


def test_weights_lock_once_awards_are_confirmed(app, client, make, bearer):
    from tests.awards.test_pages import awarded

    cases, organizer = awarded(make)
    campaign = cases["A"].campaign
    url = f"/api/v1/campaigns/{campaign.id}/settings"
    assert set(client.get(url, headers=bearer(organizer)).get_json()["locked"]) >= {"expert_weight", "public_weight"}
    response = client.patch(url, json={"expert_weight": 60, "public_weight": 40}, headers=bearer(organizer))
    assert response.status_code == 422
    assert "已锁定" in response.get_json()["errors"]["expert_weight"]  # says why: awards were confirmed
    assert client.patch(url, json={"organizer_en": "The office"}, headers=bearer(organizer)).status_code == 200


def test_clone_takes_the_dates_it_is_given(app, client, make, bearer):
    campaign, organizer = make.campaign(), make.organizer()
    dates = {"submission_opens": "2030-04-01", "submission_closes": "2030-05-31", "in_operation_before": "2030-03-31"}
    response = client.post(
        f"/api/v1/campaigns/{campaign.id}/clone", json={"year": 2030, "dates": dates}, headers=bearer(organizer)
    )
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert (body["year"], body["submission_opens"], body["in_operation_before"]) == (2030, "2030-04-01", "2030-03-31")


NOTICE = {"notice_working_days": 7, "notice_holidays": ["2017-10-02", "2017-10-01"], "notice_contact": "0532-12345"}


def test_public_notice_settings_through_the_api_audited_and_on_the_notice_page(app, client, make, bearer):
    campaign, organizer = make.campaign(), make.organizer()
    url = f"/api/v1/campaigns/{campaign.id}/settings"
    response = client.patch(url, json=NOTICE, headers=bearer(organizer))
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert (body["notice_working_days"], body["notice_holidays"]) == (7, ["2017-10-01", "2017-10-02"])
    changes = {c["field"]: c for c in client.get(f"/api/v1/campaigns/{campaign.id}/changes", headers=bearer(organizer))
               .get_json()}  # fmt: skip
    assert (changes["notice_working_days"]["before"], changes["notice_working_days"]["after"]) == ("5", "7")
    assert changes["notice_contact"]["after"] == "0532-12345"
    assert "0532-12345" in client.get(f"/notice?year={campaign.year}").get_data(as_text=True)


def test_bad_public_notice_settings_are_refused_per_field(app, client, make, bearer):
    campaign, organizer = make.campaign(), make.organizer()
    url = f"/api/v1/campaigns/{campaign.id}/settings"
    for bad, field in (({"notice_working_days": 0}, "notice_working_days"),
                       ({"notice_working_days": 400}, "notice_working_days"),
                       ({"notice_holidays": ["2017-13-40"]}, "notice_holidays")):  # fmt: skip
        response = client.patch(url, json={**bad, "notice_contact": "x"}, headers=bearer(organizer))
        assert response.status_code == 422 and set(response.get_json()["errors"]) == {field}, response.get_json()
    db.session.expire_all()
    assert (campaign.notice_working_days, campaign.notice_holidays, campaign.notice_contact) == (5, [], "")
    assert db.session.query(SettingChange).count() == 0


def test_public_notice_settings_travel_in_the_campaign_file(app, client, make, bearer):
    campaign, organizer = make.campaign(), make.organizer()
    data = yaml.safe_load(
        client.get(f"/api/v1/campaigns/{campaign.id}/export", headers=bearer(organizer)).get_data(as_text=True)
    )
    data["campaign"].update(NOTICE)
    for bad in ({"notice_working_days": 0}, {"notice_holidays": ["2017-13-40"]}):
        file = yaml.safe_dump({**data, "campaign": {**data["campaign"], **bad}}, allow_unicode=True)
        refused = client.post("/api/v1/campaigns/import", json={"yaml": file}, headers=bearer(organizer))
        assert refused.status_code == 422
        assert set(refused.get_json()["errors"]) == {f"campaign.{name}" for name in bad}, refused.get_json()
    db.session.expire_all()
    assert (campaign.notice_working_days, campaign.notice_contact) == (5, "")
    done = client.post("/api/v1/campaigns/import", json={"yaml": yaml.safe_dump(data, allow_unicode=True)},
                       headers=bearer(organizer))  # fmt: skip
    assert done.status_code == 200, done.get_json()
    db.session.expire_all()
    saved = db.session.get(Campaign, campaign.id)
    assert (saved.notice_working_days, saved.notice_holidays, saved.notice_contact) == (
        7, ["2017-10-01", "2017-10-02"], "0532-12345")  # fmt: skip
    assert "0532-12345" in client.get(f"/notice?year={saved.year}").get_data(as_text=True)
