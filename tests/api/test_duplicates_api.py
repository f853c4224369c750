"""Likely duplicates followed through: each flag acknowledged (different projects, with a reason) or confirmed;
bulk approval only takes open flags on an explicit choice; bulk reject and return with one comment; an open flag
shows in the API's case until someone decides it."""

from __future__ import annotations

from datetime import timedelta

from pingxuan.clock import today
from pingxuan.extensions import db
from workflow.models import WorkflowEvent

EN = {"Accept-Language": "en"}


def _pair(make, owner=None):
    owner = owner or make.applicant()
    first = make.case("submitted", owner=owner, title="智慧社区养老服务平台")
    second = make.case("submitted", owner=owner, title="智慧社区养老服务平台（二期）")
    return first, second


def test_a_flag_is_open_until_decided_and_bulk_approval_needs_the_explicit_choice(app, client, make, bearer):
    first, second = _pair(make)
    plain = make.case("submitted", title="城市交通大脑")
    staff = {**bearer(make.organizer()), **EN}
    shown = client.get(f"/api/v1/cases/{second.id}", headers=staff).get_json()
    assert [d["id"] for d in shown["open_duplicates"]] == [first.id]
    owner_view = client.get(f"/api/v1/cases/{second.id}", headers=bearer(second.created_by)).get_json()
    assert owner_view["open_duplicates"] == []  # the unit never learns of the suspicion

    bulk = client.post("/api/v1/eligibility/bulk-approve", json={"case_ids": [first.id, second.id, plain.id]},
                       headers=staff).get_json()  # fmt: skip
    assert bulk["approved"] == [plain.id] and set(bulk["skipped"]) == {str(first.id), str(second.id)}
    chosen = client.post("/api/v1/eligibility/bulk-approve", headers=staff,
                         json={"case_ids": [second.id], "include_possible_duplicates": True}).get_json()  # fmt: skip
    assert chosen["approved"] == [second.id]
    # Approving did not decide the flag: it stays visible until someone does.
    assert [d["id"] for d in client.get(f"/api/v1/cases/{second.id}", headers=staff).get_json()["open_duplicates"]]

    no_reason = client.put(f"/api/v1/cases/{first.id}/duplicates/{second.id}", headers=staff,
                           json={"decision": "different", "reason": " "})  # fmt: skip
    assert no_reason.status_code == 422 and "reason" in no_reason.get_json()["errors"]
    decided = client.put(f"/api/v1/cases/{first.id}/duplicates/{second.id}", headers=staff,
                         json={"decision": "different", "reason": "一期养老院，二期居家养老"})  # fmt: skip
    assert decided.status_code == 200
    check = {c["name"]: c for c in decided.get_json()["checks"]}["duplicates"]
    assert check["passed"] and "acknowledged as different projects" in check["reason"]
    # One decision per pair, seen from both cases.
    assert client.get(f"/api/v1/cases/{second.id}", headers=staff).get_json()["open_duplicates"] == []
    assert client.get(f"/api/v1/cases/{first.id}", headers=staff).get_json()["open_duplicates"] == []
    approved = client.post("/api/v1/eligibility/bulk-approve", json={"case_ids": [first.id]}, headers=staff)
    assert approved.get_json()["approved"] == [first.id]


def test_a_confirmed_duplicate_is_never_bulk_approved_and_bulk_reject_return(app, client, make, bearer):
    first, second = _pair(make)
    staff = {**bearer(make.organizer()), **EN}
    client.put(f"/api/v1/cases/{second.id}/duplicates/{first.id}", headers=staff,
               json={"decision": "duplicate", "reason": "同一项目重复申报"})  # fmt: skip
    chosen = client.post("/api/v1/eligibility/bulk-approve", headers=staff,
                         json={"case_ids": [second.id], "include_possible_duplicates": True}).get_json()  # fmt: skip
    assert chosen["approved"] == [] and "同一项目重复申报" in chosen["skipped"][str(second.id)]

    refused = client.post("/api/v1/eligibility/bulk-reject", json={"case_ids": [second.id], "comment": ""},
                          headers=staff)  # fmt: skip
    assert refused.status_code == 422 and "comment" in refused.get_json()["errors"]
    rejected = client.post("/api/v1/eligibility/bulk-reject", headers=staff,
                           json={"case_ids": [second.id], "comment": "重复申报"}).get_json()  # fmt: skip
    assert rejected == {"done": [second.id], "skipped": {}}
    assert WorkflowEvent.query.filter_by(case_id=second.id, transition="reject").one().comment == "重复申报"

    others = [make.case("submitted", title=f"项目{i}") for i in range(2)]
    due = (today() + timedelta(days=7)).isoformat()
    returned = client.post("/api/v1/eligibility/bulk-return", headers=staff,
                           json={"case_ids": [o.id for o in others] + [second.id], "comment": "请补充运营数据",
                                 "due_date": due}).get_json()  # fmt: skip
    assert returned["done"] == [o.id for o in others] and str(second.id) in returned["skipped"]
    db.session.expire_all()
    assert {o.revision_due.isoformat() for o in others} == {due}
    no_date = client.post("/api/v1/eligibility/bulk-return", headers=staff,
                          json={"case_ids": [first.id], "comment": "x"})  # fmt: skip
    assert no_date.status_code == 422 and "due_date" in no_date.get_json()["errors"]
