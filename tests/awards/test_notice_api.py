"""The public notice through the API, end to end: publish, object (verified, rate-limited, late refused), forward,
the unit answers, uphold (revoked, the next case proposed with its own notice) and dismiss (the objector told),
confirmation refused before the period ends and while an objection is open, then confirmed; and the refusals."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from sqlalchemy import select

from awards.decisions import confirm_awards
from awards.models import Notice
from pingxuan.clock import today
from pingxuan.db import commit
from pingxuan.extensions import db
from tests.api.conftest import bearer  # noqa: F401  (fixture)
from tests.awards.test_notice import NOT_AWARDED, PROPOSED
from tests.awards.test_pages import close_vote, finalists
from tests.factories import PDF, PNG
from tests.phone import last_code
from voting.models import SmsMessage
from voting.privacy import phone_hash

PHONE, OTHER = "13800138000", "13912345678"


@pytest.fixture(autouse=True)
def _english(client):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"  # the API answers in the caller's language


def voter_token(client, phone: str) -> str:
    """A member of the public verifies a number through the API, as for a vote: the code comes by SMS."""
    assert client.post("/api/v1/voters/code", json={"phone": phone}).status_code == 202
    verified = client.post("/api/v1/voters/verify", json={"phone": phone, "code": last_code(phone)})
    return verified.get_json()["voter_token"]


def objection(phone: str, text: str, **extra) -> dict:
    return {"phone": phone, "ground": "cutoff", "text": text, **extra}


def notices_of(campaign) -> list[Notice]:
    return list(db.session.scalars(select(Notice).where(Notice.campaign_id == campaign.id).order_by(Notice.id)))


def set_dates(notice: Notice, start, end) -> None:
    notice.starts_on, notice.ends_on = start, end
    commit()


def test_the_whole_notice_through_the_api(app, client, make, bearer):  # noqa: F811
    cases = finalists(make)
    a, b, c = cases["A"], cases["B"], cases["C"]
    campaign, category = a.campaign, a.category
    close_vote(campaign)
    organizer = make.organizer()
    staff, unit = bearer(organizer), bearer(a.created_by)
    confirm_awards(campaign, category, organizer, size=2)  # B and A proposed, C not awarded
    commit()

    published = client.post(f"/api/v1/campaigns/{campaign.id}/notices", json={"category_id": category.id},
                            headers=staff)  # fmt: skip
    assert published.status_code == 201, published.get_json()
    assert sorted(published.get_json()["case_ids"]) == sorted([a.id, b.id])
    first = notices_of(campaign)[0]
    set_dates(first, today(), today() + timedelta(days=7))  # running today, whatever the weekday
    listing = client.get("/api/v1/notice").get_json()
    [shown] = listing["categories"]
    assert {(x["case_id"], x["accepting_objections"]) for x in shown["cases"]} == {(a.id, True), (b.id, True)}
    assert "cutoff" in [g["key"] for g in listing["grounds"]]

    early = client.post(f"/api/v1/campaigns/{campaign.id}/proposed-awards/confirm", json={}, headers=staff)
    assert early.status_code == 422 and "public notice runs until" in " ".join(early.get_json()["reasons"])

    # The public objects, verified by the voters' one-time code; a few a minute per address.
    app.config["OBJECTION_LIMIT_IP"] = "3 per minute"
    url = f"/api/v1/cases/{a.id}/objections"
    unverified = client.post(url, data=objection(PHONE, "没有验证手机号就提出的异议。"))
    assert unverified.status_code == 401 and "X-Voter-Token" in unverified.get_json()["message"]
    token = {"X-Voter-Token": voter_token(client, PHONE)}
    photo = [(io.BytesIO(PNG), "现场.png")]
    lodged = client.post(url, headers=token, content_type="multipart/form-data", data=objection(
        PHONE, "该系统2017年5月才上线，晚于截止日期，附现场照片。", anonymous="true", files=photo,
    ))  # fmt: skip
    assert lodged.status_code == 201, lodged.get_json()
    assert lodged.get_json()["reference"] == f"{a.campaign.year % 100:02d}-{lodged.get_json()['id']:04d}"
    against_b = client.post(f"/api/v1/cases/{b.id}/objections", headers=token,
                            data=objection(PHONE, "申报材料与另一城市的案例雷同。", ground="copied"))  # fmt: skip
    assert against_b.status_code == 201
    throttled = client.post(url, headers=token, data=objection(PHONE, "一分钟内的第四次提交。"))
    assert throttled.status_code == 429 and throttled.get_json()["message"]
    app.config["OBJECTION_LIMIT_IP"] = "10 per minute"

    listed = client.get(f"/api/v1/campaigns/{campaign.id}/objections?status=open", headers=staff).get_json()
    assert listed["pagination"]["total"] == 2
    mine = next(o for o in listed["items"] if o["case_id"] == a.id)
    assert mine["objector"] == "138****8000" and mine["files"][0]["content_type"] == "image/png"
    assert client.get(mine["files"][0]["url"], headers=staff).data == PNG
    oid, other_id = mine["id"], against_b.get_json()["id"]

    # The office forwards A's objection; the unit reads it (not who objected) and answers with a file.
    no_due = client.post(f"/api/v1/objections/{oid}/forward", json={"note": "请说明上线时间。"}, headers=staff)
    assert no_due.status_code == 422 and "due" in no_due.get_json()["errors"]
    due = (today() + timedelta(days=3)).isoformat()
    forwarded = client.post(f"/api/v1/objections/{oid}/forward", json={"note": "请说明上线时间。", "due": due},
                            headers=staff)  # fmt: skip
    assert forwarded.status_code == 200 and forwarded.get_json()["status"] == "forwarded"
    [seen] = client.get(f"/api/v1/cases/{a.id}/objections", headers=unit).get_json()
    assert seen["id"] == oid and seen["objector"] is None and seen["response_due"] == due
    answered = client.post(
        f"/api/v1/objections/{oid}/answer",
        headers=unit,
        content_type="multipart/form-data",
        data={"response": "系统于2016年6月上线，附运行报告。", "files": [(io.BytesIO(PDF), "运行报告.pdf")]},
    )
    assert answered.status_code == 200 and answered.get_json()["status"] == "answered"

    # The period ends: confirmation still waits for both objections.
    set_dates(first, today() - timedelta(days=9), today() - timedelta(days=1))
    waiting = client.post(f"/api/v1/campaigns/{campaign.id}/proposed-awards/confirm", json={}, headers=staff)
    assert waiting.status_code == 422 and "not decided yet" in " ".join(waiting.get_json()["reasons"])
    late = client.post(url, headers=token, data=objection(PHONE, "公示期结束后才提出的异议。"))
    assert late.status_code == 409 and "no longer accepted" in late.get_json()["message"]

    # Dismiss A's (the objector is told by SMS); uphold B's: revoked, C moves up with a notice of its own.
    reason = "上线时间早于截止日期，证明材料齐全。"
    dismissed = client.post(f"/api/v1/objections/{oid}/decision", headers=staff,
                            json={"outcome": "dismissed", "reason": reason})  # fmt: skip
    assert dismissed.status_code == 200 and dismissed.get_json()["status"] == "dismissed"
    told = db.session.scalars(select(SmsMessage.body).where(SmsMessage.phone_hash == phone_hash(PHONE))
                              .order_by(SmsMessage.id.desc())).first()  # fmt: skip
    assert a.title in told and "证明材料齐全" in told
    again = client.post(f"/api/v1/objections/{oid}/decision", headers=staff, json={"outcome": "upheld", "reason": "x"})
    assert again.status_code == 409
    upheld = client.post(
        f"/api/v1/objections/{other_id}/decision",
        headers=staff,
        json={"outcome": "upheld", "reason": "经核查，申报材料与他市案例雷同。", "move_up": True},
    )
    assert upheld.status_code == 200 and upheld.get_json()["moved_up_case_id"] == c.id
    db.session.expire_all()
    assert (b.state, c.state) == (NOT_AWARDED, PROPOSED)
    own = client.get(f"/api/v1/campaigns/{campaign.id}/notices", headers=staff).get_json()[0]
    assert own["case_ids"] == [c.id] and own["ends_on"] >= today().isoformat() and own["published_by"] is None

    confirmed = client.post(f"/api/v1/campaigns/{campaign.id}/proposed-awards/confirm", json={}, headers=staff)
    body = confirmed.get_json()
    assert confirmed.status_code == 200 and body["confirmed"] == [a.id] and body["results_version"] is not None
    assert [r["case_id"] for r in body["refused"]] == [c.id]  # its own notice runs on
    results = client.get("/api/v1/results").get_json()
    assert [e["case_id"] for e in results["categories"][0]["cases"]] == [a.id]


def test_the_notice_api_refuses_what_the_caller_may_not_do(app, client, make, bearer):  # noqa: F811
    cases = finalists(make)
    a = cases["A"]
    close_vote(a.campaign)
    organizer = make.organizer()
    confirm_awards(a.campaign, a.category, organizer, size=2)
    commit()
    staff, applicant, unit = bearer(organizer), bearer(make.applicant()), bearer(a.created_by)
    notices = f"/api/v1/campaigns/{a.campaign_id}/notices"
    assert client.post(notices, json={}, headers=applicant).status_code == 403
    assert client.post(notices, json={}).status_code == 401
    assert client.post(notices, json={"category_id": 999999}, headers=staff).status_code == 422
    assert client.post(notices, json={}, headers=staff).status_code == 201
    repeated = client.post(notices, json={}, headers=staff)
    assert repeated.status_code == 409 and repeated.get_json()["message"]
    set_dates(notices_of(a.campaign)[0], today(), today() + timedelta(days=7))

    token = {"X-Voter-Token": voter_token(client, PHONE)}
    bad = client.post(f"/api/v1/cases/{a.id}/objections", headers=token, data=objection(OTHER, "短"))
    assert bad.status_code == 422 and set(bad.get_json()["errors"]) == {"phone", "text"}
    draft = make.case("draft")
    assert client.post(f"/api/v1/cases/{draft.id}/objections", headers=token,
                       data=objection(PHONE, "对草稿案例的异议，理由充分。")).status_code == 404  # fmt: skip
    lodged = client.post(
        f"/api/v1/cases/{a.id}/objections", headers=token, data=objection(PHONE, "理由充分的异议内容。")
    )
    oid = lodged.get_json()["id"]

    assert client.get(f"/api/v1/campaigns/{a.campaign_id}/objections", headers=applicant).status_code == 403
    assert client.get(f"/api/v1/objections/{oid}", headers=unit).status_code == 404, "not forwarded yet"
    assert client.get(f"/api/v1/cases/{a.id}/objections", headers=unit).get_json() == []
    assert client.get(f"/api/v1/cases/{a.id}/objections", headers=applicant).status_code == 403
    for action, body in (
        ("forward", {"due": today().isoformat()}),
        ("decision", {"outcome": "dismissed", "reason": "理由"}),
    ):
        assert client.post(f"/api/v1/objections/{oid}/{action}", json=body, headers=unit).status_code == 404
    client.post(f"/api/v1/objections/{oid}/forward", json={"due": today().isoformat()}, headers=staff)
    assert (
        client.post(f"/api/v1/objections/{oid}/decision", json={"outcome": "dismissed"}, headers=unit).status_code
        == 403
    )
    assert client.post(f"/api/v1/objections/{oid}/answer", data={"response": "x"}, headers=applicant).status_code == 404
    no_reason = client.post(f"/api/v1/objections/{oid}/decision", json={"outcome": "dismissed"}, headers=staff)
    assert no_reason.status_code == 422 and "reason" in no_reason.get_json()["errors"]
