"""The expert pool, eligibility decisions and the organizers' review tools through the API."""

from __future__ import annotations

import io
from datetime import timedelta

from openpyxl import Workbook

from accounts.models import User
from notifications.models import OutboxMail
from pingxuan.clock import today
from pingxuan.db import commit
from pingxuan.extensions import db
from reviewers import pool
from reviewers.models import Assignment, Expert
from workflow.models import WorkflowEvent

HEADER = "email,name,organization,parent_org,title,max_load,categories,domains\n"


def _upload(client, headers, data: bytes, filename: str = "experts.csv"):
    return client.post(
        "/api/v1/experts/import",
        data={"file": (io.BytesIO(data), filename)},
        content_type="multipart/form-data",
        headers=headers,
    )


def test_import_with_a_bad_row_imports_nothing_and_reports_the_row(app, client, make, bearer, monkeypatch):
    campaign = make.campaign()
    category = campaign.categories[0]
    staff = bearer(make.organizer())
    invited: list[str] = []
    monkeypatch.setattr(pool, "send_welcome", lambda user: invited.append(user.email))
    users = User.query.count()
    sheet = (
        HEADER
        + f"good@example.org,张三,青岛大学,,教授,5,{category.code},\n"
        + "not-an-address,李四,,,,,,\n"
        + "other@example.org,王五,,,,0,没有这个类别,\n"
    )
    response = _upload(client, staff, sheet.encode())
    assert response.status_code == 422
    body = response.get_json()
    assert set(body["errors"]) == {"3", "4"}
    assert "max_load" not in body["errors"]["4"] and "没有这个类别" in body["errors"]["4"]
    assert len(body["reasons"]) == 2 and body["message"]
    db.session.expire_all()
    assert User.query.count() == users and Expert.query.count() == 0
    assert invited == [] and OutboxMail.query.count() == 0

    fixed = (
        sheet.replace("not-an-address", "li@example.org")
        .replace("没有这个类别", category.name_zh)
        .replace(",0,", ",3,")
    )
    imported = _upload(client, staff, fixed.encode("utf-8-sig"))
    assert imported.status_code == 200, imported.get_json()
    assert imported.get_json() == {"rows": 3, "created": ["good@example.org", "li@example.org", "other@example.org"]}
    assert invited == ["good@example.org", "li@example.org", "other@example.org"]
    listed = {e["email"]: e for e in client.get("/api/v1/experts", headers=staff).get_json()}
    assert set(listed) == set(invited)
    assert listed["good@example.org"]["max_load"] == 5 and listed["good@example.org"]["organization"] == "青岛大学"
    assert [c["id"] for c in listed["other@example.org"]["categories"]] == [category.id]

    book = Workbook()
    book.active.append(["email", "name", "domains"])
    book.active.append(["xlsx@example.org", "赵六", category.domains[0].name_zh])
    data = io.BytesIO()
    book.save(data)
    from_excel = _upload(client, staff, data.getvalue(), "专家.xlsx")
    assert from_excel.status_code == 200 and from_excel.get_json()["created"] == ["xlsx@example.org"]

    broken = _upload(client, staff, b"name\n\xff\xfe", "x.csv")
    assert broken.status_code == 422 and broken.get_json()["message"]
    assert _upload(client, bearer(make.expert()), fixed.encode()).status_code == 403
    assert client.get("/api/v1/experts", headers=bearer(make.applicant())).status_code == 403


def test_expert_profiles(app, client, make, bearer):
    campaign = make.campaign()
    category = campaign.categories[1]
    staff = bearer(make.organizer())
    expert = make.expert()
    assert client.get(f"/api/v1/experts/{expert.id}", headers=staff).status_code == 404  # no profile yet
    listed = client.get("/api/v1/experts", headers=staff).get_json()
    assert [(e["user_id"], e["has_profile"], e["max_load"]) for e in listed] == [(expert.id, False, None)]
    wrong = client.put(
        f"/api/v1/experts/{expert.id}", json={"max_load": 0, "domains": ["nowhere"], "title": "教授"}, headers=staff
    )
    assert wrong.status_code == 422 and set(wrong.get_json()["errors"]) == {"max_load", "domains"}
    saved = client.put(
        f"/api/v1/experts/{expert.id}",
        json={
            "organization": "海尔集团",
            "max_load": 8,
            "categories": [category.code],
            "domains": [category.domains[0].id],
        },
        headers=staff,
    )
    assert saved.status_code == 200, saved.get_json()
    profile = client.get(f"/api/v1/experts/{expert.id}", headers=staff).get_json()
    assert (profile["organization"], profile["max_load"], profile["active"], profile["load"]) == (
        "海尔集团",
        8,
        True,
        0,
    )
    assert [c["id"] for c in profile["categories"]] == [category.id]
    assert [d["id"] for d in profile["domains"]] == [category.domains[0].id]
    off = client.put(f"/api/v1/experts/{expert.id}", json={"active": False}, headers=staff).get_json()
    assert off["active"] is False and off["max_load"] == 8

    assert client.put(f"/api/v1/experts/{make.applicant().id}", json={}, headers=staff).status_code == 404
    assert client.put("/api/v1/experts/999999", json={}, headers=staff).status_code == 404
    assert client.put(f"/api/v1/experts/{expert.id}", json={"active": True}, headers=bearer(expert)).status_code == 403
    assert client.get(f"/api/v1/experts/{expert.id}", headers={}).status_code == 401


def test_return_for_revision_needs_a_comment_and_a_due_date(app, client, make, bearer):
    organizer = make.organizer()
    staff = bearer(organizer)
    case = make.case("eligibility_check")
    url = f"/api/v1/cases/{case.id}/return"
    assert client.get(f"/api/v1/cases/{case.id}/prechecks", headers=bearer(case.created_by)).status_code == 403
    assert client.get(f"/api/v1/cases/{case.id}/prechecks", headers=staff).get_json()["passed"] is True

    empty = client.post(url, json={}, headers=staff)
    assert empty.status_code == 422 and set(empty.get_json()["errors"]) == {"comment", "due_date"}
    past = client.post(
        url, json={"comment": "补充", "due_date": (today() - timedelta(days=1)).isoformat()}, headers=staff
    )
    assert past.status_code == 422 and set(past.get_json()["errors"]) == {"due_date"}
    due = today() + timedelta(days=7)
    stale = client.post(
        url, json={"comment": "补充运营数据", "due_date": due.isoformat(), "version": case.version - 1}, headers=staff
    )
    assert stale.status_code == 409
    outsider = client.post(url, json={"comment": "x", "due_date": due.isoformat()}, headers=bearer(make.expert()))
    assert outsider.status_code == 403
    done = client.post(
        url, json={"comment": "补充运营数据", "due_date": due.isoformat(), "version": case.version}, headers=staff
    )
    assert done.status_code == 200, done.get_json()
    body = done.get_json()
    assert body["state"]["name"] == "returned" and body["revision_due"] == due.isoformat()
    assert body["event"]["comment"] == "补充运营数据"
    assert WorkflowEvent.query.filter_by(case_id=case.id, transition="return_for_revision").count() == 1


def test_every_route_that_returns_a_case_asks_for_the_due_date(app, client, make, bearer):
    """The due date is a required field of the transition, checked by fire(): the generic API action, the page
    button, the back office's bulk action and the API's bulk return all refuse without it, and nothing moves."""
    from cases.models import Case
    from tests.backoffice.helpers import in_english, outcome_rows
    from tests.factories import login

    organizer = make.organizer()
    staff = bearer(organizer)
    cases = [make.case("submitted") for _ in range(4)]
    api = client.post(f"/api/v1/cases/{cases[0].id}/transitions/return_for_revision", json={"comment": "补充"},
                      headers=staff)  # fmt: skip
    assert api.status_code == 422 and set(api.get_json()["errors"]) == {"due_date"}, api.get_json()
    bulk_api = client.post("/api/v1/eligibility/bulk-return", json={"case_ids": [cases[1].id], "comment": "补充"},
                           headers=staff)  # fmt: skip
    assert bulk_api.status_code == 422 and "due_date" in bulk_api.get_json()["errors"], bulk_api.get_json()
    login(client, organizer)
    in_english(client)
    page = client.post(f"/cases/{cases[2].id}/transitions/return_for_revision", follow_redirects=True,
                       data={"comment": "补充", "expected_version": cases[2].version})  # fmt: skip
    assert "A due date is required." in page.get_data(as_text=True)
    ids = {"ids": [str(cases[3].id)], "comment": "补充"}
    bulk = client.post("/admin/cases/transition/return_for_revision/", data=ids).get_data(as_text=True)
    assert outcome_rows(bulk) == {cases[3].id: False} and "A due date is required." in bulk
    db.session.expire_all()
    assert [db.session.get(Case, c.id).state for c in cases] == ["submitted"] * 4

    due = (today() + timedelta(days=5)).isoformat()
    done = client.post("/admin/cases/transition/return_for_revision/", data={**ids, "due_date": due})
    assert outcome_rows(done.get_data(as_text=True)) == {cases[3].id: True}
    moved = client.post(f"/api/v1/cases/{cases[0].id}/transitions/return_for_revision",
                        json={"comment": "补充", "due_date": due}, headers=staff)  # fmt: skip
    assert moved.status_code == 200, moved.get_json()
    db.session.expire_all()
    assert [db.session.get(Case, c.id).revision_due.isoformat() for c in (cases[0], cases[3])] == [due, due]


def test_decline_reopen_progress_and_reminders(app, client, make, bearer):
    campaign = make.campaign()
    organizer = make.organizer()
    staff = bearer(organizer)
    case = make.case("expert_review")
    first, second = make.pool_expert(), make.pool_expert()

    def assign(expert) -> dict:
        response = client.post("/api/v1/assignments", json={"case_id": case.id, "expert_id": expert.id}, headers=staff)
        assert response.status_code == 201, response.get_json()
        return response.get_json()

    a, b = assign(first), assign(second)
    twice = client.post("/api/v1/assignments", json={"case_id": case.id, "expert_id": first.id}, headers=staff)
    assert twice.status_code == 409
    assert (
        client.post(
            "/api/v1/assignments", json={"case_id": case.id, "expert_id": first.id}, headers=bearer(first)
        ).status_code
        == 403
    )

    assert client.post(f"/api/v1/assignments/{a['id']}/decline", json={}, headers=bearer(first)).status_code == 422
    assert client.post(f"/api/v1/assignments/{a['id']}/accept", headers=bearer(second)).status_code == 404
    declined = client.post(f"/api/v1/assignments/{a['id']}/decline", json={"reason": "时间冲突"}, headers=bearer(first))
    assert declined.status_code == 200 and declined.get_json()["status"] == "declined"
    assert client.get("/api/v1/me/assignments", headers=bearer(first)).get_json() == []

    criteria = client.get("/api/v1/campaigns/current/rubric", headers=bearer(second)).get_json()
    url = f"/api/v1/assignments/{b['id']}/review"
    scores = {str(c["id"]): c["max_score"] for c in criteria}
    client.post(f"/api/v1/assignments/{b['id']}/accept", headers=bearer(second))
    assert client.put(url, json={"scores": scores, "submit": True}, headers=bearer(second)).status_code == 200
    reopen = f"/api/v1/assignments/{b['id']}/reopen"
    assert client.post(reopen, json={"comment": "请复核"}, headers=bearer(second)).status_code == 403
    assert client.post(reopen, json={}, headers=staff).status_code == 422
    reopened = client.post(reopen, json={"comment": "请复核应用成效"}, headers=staff)
    assert reopened.status_code == 200
    assert (reopened.get_json()["status"], reopened.get_json()["review_status"]) == ("accepted", "draft")

    progress = client.get("/api/v1/progress", headers=staff).get_json()
    row = next(r for r in progress["categories"] if r["id"] == case.category_id)
    assert (row["assigned"], row["submitted"], row["outstanding"]) == (1, 0, 1)
    assert [(r["id"], r["outstanding"]) for r in progress["experts"]] == [(second.id, 1)]
    assert client.get("/api/v1/progress", headers=bearer(second)).status_code == 403

    assert client.post("/api/v1/reminders", headers=staff).get_json() == {"sent": 0}
    db.session.get(Assignment, b["id"]).due_date = today() + timedelta(days=1)
    commit()
    assert client.post("/api/v1/reminders", headers=bearer(second)).status_code == 403
    assert client.post("/api/v1/reminders", headers=staff).get_json() == {"sent": 1}
    assert OutboxMail.query.filter_by(recipient=second.email).count() == 1
    assert campaign.id == case.campaign_id


def test_imported_experts_get_a_welcome_link_never_a_password(app, client, make, bearer):
    """No password is made, hashed or mailed for an imported expert: the welcome link lets them choose one."""
    make.campaign()
    staff = bearer(make.organizer())
    imported = _upload(client, staff, (HEADER + "new-expert@example.org,钱七,,,,,,\n").encode())
    assert imported.status_code == 200, imported.get_json()
    user = User.query.filter_by(email="new-expert@example.org").one()
    assert not user.password_hash.startswith(("scrypt:", "pbkdf2:"))  # no hash was computed
    assert client.post("/login", data={"email": user.email, "password": user.password_hash}).status_code != 302
    [welcome] = OutboxMail.query.filter_by(recipient=user.email).all()  # the welcome mail with its link
    assert "[link]" in welcome.body and "/reset/" not in welcome.body  # the outbox never holds the link
