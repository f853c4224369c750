"""What /results shows of the public notice, the API's /results carries too (its dates, the objections lodged,
upheld, dismissed and open); an objection names the dossier version it was lodged against (issue 20)."""

from __future__ import annotations

from datetime import timedelta

from awards.decisions import confirm_awards
from cases.versions import current_number
from pingxuan.clock import today
from pingxuan.db import commit
from tests.api.conftest import bearer  # noqa: F401  (fixture)
from tests.awards.test_notice_api import notices_of, objection, set_dates, voter_token
from tests.awards.test_pages import close_vote, finalists

PHONE = "13800138000"


def test_results_carry_the_notice_and_objections_name_their_dossier_version(app, client, make, bearer):  # noqa: F811
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    cases = finalists(make)
    a, b = cases["A"], cases["B"]
    campaign, category = a.campaign, a.category
    close_vote(campaign)
    organizer = make.organizer()
    staff = bearer(organizer)
    confirm_awards(campaign, category, organizer, size=2)  # A and B proposed
    commit()
    assert client.post(f"/api/v1/campaigns/{campaign.id}/notices", json={"category_id": category.id},
                       headers=staff).status_code == 201  # fmt: skip
    notice = notices_of(campaign)[0]
    set_dates(notice, today(), today() + timedelta(days=7))
    token = {"X-Voter-Token": voter_token(client, PHONE)}
    lodged = client.post(f"/api/v1/cases/{a.id}/objections", headers=token,
                         data=objection(PHONE, "该系统上线时间晚于截止日期。"))  # fmt: skip
    assert lodged.status_code == 201, lodged.get_json()
    assert lodged.get_json()["dossier_version"] == current_number(a) is not None
    assert (
        client.post(
            f"/api/v1/cases/{b.id}/objections",
            headers=token,
            data=objection(PHONE, "申报材料与另一城市的案例雷同。", ground="copied"),
        ).status_code
        == 201
    )
    listed = client.get(f"/api/v1/campaigns/{campaign.id}/objections", headers=staff).get_json()["items"]
    assert {o["case_id"]: o["dossier_version"] for o in listed} == {a.id: current_number(a), b.id: current_number(b)}

    oid = next(o["id"] for o in listed if o["case_id"] == a.id)
    set_dates(notice, today() - timedelta(days=9), today() - timedelta(days=1))
    decided = client.post(f"/api/v1/objections/{oid}/decision", headers=staff,
                          json={"outcome": "dismissed", "reason": "上线时间早于截止日期。"})  # fmt: skip
    assert decided.status_code == 200
    confirmed = client.post(f"/api/v1/campaigns/{campaign.id}/proposed-awards/confirm", json={}, headers=staff)
    assert confirmed.get_json()["confirmed"] == [a.id]  # B waits for its objection; A's results are published
    shown = client.get("/api/v1/results").get_json()["notice"]
    assert shown["starts_on"] == notice.starts_on.isoformat() and shown["ends_on"] == notice.ends_on.isoformat()
    assert shown["objections"] == {"lodged": 2, "upheld": 0, "dismissed": 1, "open": 1}
    page = client.get("/results?lang=en").get_data(as_text=True)
    assert "Objections: 2 (upheld 0, dismissed 1)" in page  # the same figures as the page
