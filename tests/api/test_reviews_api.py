"""From submitted cases to a confirmed shortlist, through the API only, blind for experts and applicants."""

from __future__ import annotations

import json
from datetime import date

from cases.models import Case
from pingxuan.db import commit
from pingxuan.extensions import db
from reviewers.models import Assignment


def _scores(criteria: list[dict], share: float) -> dict[str, float]:
    return {str(c["id"]): round(c["max_score"] * share, 1) for c in criteria}


def test_the_whole_review_flow_through_the_api(app, client, make, bearer):
    campaign = make.campaign()
    campaign.reviewers_per_case = 2
    campaign.awards_per_category = 1  # a shortlist of two per category
    commit()
    category = campaign.categories[0]
    domain = category.domains[0]
    organizer = make.organizer()
    staff = bearer(organizer)
    cases = [make.case("submitted") for _ in range(3)]
    late = make.case("submitted", in_operation_since=date(2017, 4, 15))
    conflicted = make.pool_expert(organization=cases[0].unit.name, domains=[domain], max_load=3)
    specialists = [make.pool_expert(domains=[domain], max_load=2) for _ in range(2)]
    generalist = make.pool_expert(organization="海尔集团", max_load=2)
    experts = [conflicted, *specialists, generalist]
    limits = {conflicted.id: 3, specialists[0].id: 2, specialists[1].id: 2, generalist.id: 2}

    # Eligibility: the late case is skipped with the cut-off pre-check, the others approved.
    checks = client.get(f"/api/v1/cases/{late.id}/prechecks", headers=staff).get_json()
    assert checks["passed"] is False
    failed = {c["name"]: c for c in checks["checks"] if not c["passed"]}
    assert set(failed) == {"in_operation"} and "2017" in failed["in_operation"]["reason"]
    ids = [c.id for c in cases]
    refused = client.post("/api/v1/eligibility/bulk-approve", json={"case_ids": ids}, headers=bearer(generalist))
    assert refused.status_code == 403 and refused.get_json()["message"]
    bulk = client.post("/api/v1/eligibility/bulk-approve", json={"case_ids": [*ids, late.id]}, headers=staff)
    assert bulk.status_code == 200, bulk.get_json()
    assert sorted(bulk.get_json()["approved"]) == sorted(ids)
    assert list(bulk.get_json()["skipped"]) == [str(late.id)]
    assert bulk.get_json()["skipped"][str(late.id)] == failed["in_operation"]["reason"]
    db.session.expire_all()
    assert {c.state for c in cases} == {"expert_review"} and db.session.get(Case, late.id).state == "submitted"

    # Assignment: an optimal proposal without the conflicted pair, within every load limit.
    assert client.post("/api/v1/assignment/proposals", json={}, headers=bearer(conflicted)).status_code == 403
    created = client.post("/api/v1/assignment/proposals", json={"mode": "topup"}, headers=staff)
    assert created.status_code == 201, created.get_json()
    proposal = created.get_json()
    pairs = {(p["case"]["id"], p["expert"]["id"]) for p in proposal["pairs"]}
    assert len(pairs) == 6 and proposal["uncovered"] == []
    assert (cases[0].id, conflicted.id) not in pairs
    assert all(p["match"] == ("none" if p["expert"]["id"] == generalist.id else "domain") for p in proposal["pairs"])
    loads = {row["expert"]["id"]: row for row in proposal["loads"]}
    assert set(loads) >= {e.id for e in experts}
    for expert in experts:
        assert loads[expert.id]["proposed"] <= limits[expert.id] == loads[expert.id]["max_load"]
    assert client.get(f"/api/v1/assignment/proposals/{proposal['id']}", headers=staff).get_json() == proposal

    bad = client.patch(
        f"/api/v1/assignment/proposals/{proposal['id']}", json={"add": [[cases[0].id, conflicted.id]]}, headers=staff
    )
    assert bad.status_code == 422
    assert list(bad.get_json()["errors"]) == [f"{cases[0].id}-{conflicted.id}"]
    conflicts = client.get("/api/v1/conflicts", headers=staff).get_json()
    assert [(c["case"]["id"], c["expert"]["id"], c["source"]) for c in conflicts] == [
        (cases[0].id, conflicted.id, "auto")
    ]

    applied = client.post(f"/api/v1/assignment/proposals/{proposal['id']}/apply", headers=staff)
    assert applied.status_code == 200, applied.get_json()
    assert {(a["case"]["id"], a["expert"]["id"]) for a in applied.get_json()} == pairs
    again = client.post(f"/api/v1/assignment/proposals/{proposal['id']}/apply", headers=staff)
    assert again.status_code == 409

    # The expert's worklist; accept one case, declare a conflict on the other (released at once).
    expert = specialists[0]
    mine = client.get("/api/v1/me/assignments", headers=bearer(expert)).get_json()
    assert len(mine) == 2 and all(a["status"] == "pending" and a["review_status"] is None for a in mine)
    assert all(a["case"]["number"] and a["case"]["title"] and a["due_date"] for a in mine)
    kept, dropped = mine
    assert client.post(f"/api/v1/assignments/{kept['id']}/accept", headers=bearer(expert)).get_json()["status"] == (
        "accepted"
    )
    declared = client.post(
        f"/api/v1/cases/{dropped['case']['id']}/conflicts",
        json={"reason": "我曾为该项目提供咨询"},
        headers=bearer(expert),
    )
    assert declared.status_code == 201, declared.get_json()
    assert declared.get_json()["source"] == "declared"
    assert [a["id"] for a in client.get("/api/v1/me/assignments", headers=bearer(expert)).get_json()] == [kept["id"]]
    assert db.session.get(Assignment, dropped["id"]).status == "released"
    # a top-up proposal replaces the released reviewer, never with the same expert
    topup = client.post("/api/v1/assignment/proposals", json={"mode": "topup"}, headers=staff).get_json()
    assert [p["case"]["id"] for p in topup["pairs"]] == [dropped["case"]["id"]]
    assert topup["pairs"][0]["expert"]["id"] != expert.id
    assert client.post(f"/api/v1/assignment/proposals/{topup['id']}/apply", headers=staff).status_code == 200

    # Scoring: every range error reported per criterion, then a draft, then the submission.
    criteria = client.get("/api/v1/campaigns/current/rubric", headers=bearer(expert)).get_json()
    assert [c["weight"] for c in criteria] == [25, 30, 25, 20]
    first = str(criteria[0]["id"])
    url = f"/api/v1/assignments/{kept['id']}/review"
    wrong = client.put(
        url, json={"scores": {first: 999, str(criteria[1]["id"]): -1}, "submit": True}, headers=bearer(expert)
    )
    assert wrong.status_code == 422
    assert set(wrong.get_json()["errors"]) == {str(c["id"]) for c in criteria}
    assert str(criteria[0]["max_score"]) in wrong.get_json()["errors"][first]
    draft = client.put(url, json={"scores": {first: 20}, "comment": "初稿"}, headers=bearer(expert))
    assert draft.status_code == 200 and draft.get_json()["status"] == "draft"
    submitted = client.put(
        url, json={"scores": _scores(criteria, 0.8), "comment": "好", "submit": True}, headers=bearer(expert)
    )
    assert submitted.status_code == 200, submitted.get_json()
    assert submitted.get_json()["status"] == "submitted" and submitted.get_json()["total"] == 80.0
    closed = client.put(url, json={"scores": _scores(criteria, 0.5), "submit": True}, headers=bearer(expert))
    assert closed.status_code == 409

    # Blind: no other expert, nor the applicant, reaches that review; the organizer does.
    for outsider in (specialists[1], conflicted, db.session.get(Case, kept["case"]["id"]).created_by):
        assert client.get(url, headers=bearer(outsider)).status_code == 404
        assert client.put(url, json={"scores": {}}, headers=bearer(outsider)).status_code in (403, 404)
    seen = client.get(url, headers=staff).get_json()
    assert seen["scores"] == {k: float(v) for k, v in _scores(criteria, 0.8).items()}
    assert seen["assignment"]["expert"]["id"] == expert.id

    # Everyone else scores; one review stays missing.
    live = Assignment.query.filter(Assignment.status.in_(("pending", "accepted"))).order_by(Assignment.id).all()
    missing, rest = live[0], live[1:]
    for i, item in enumerate(rest):
        share = 0.5 + 0.1 * (i % 4) if item.expert_id != generalist.id else 0.3 + 0.1 * i
        if item.status == "pending":  # scoring starts once the expert has accepted
            client.post(f"/api/v1/assignments/{item.id}/accept", headers=bearer(item.expert))
        answer = client.put(
            f"/api/v1/assignments/{item.id}/review",
            json={"scores": _scores(criteria, share), "submit": True},
            headers=bearer(item.expert),
        )
        assert answer.status_code == 200, answer.get_json()

    # Ranking for organizers only: raw and normalized means, n of m reviews, every expert's totals.
    ranking_url = f"/api/v1/categories/{category.id}/ranking"
    assert client.get(ranking_url, headers=bearer(expert)).status_code == 403
    ranking = client.get(ranking_url, headers=staff).get_json()
    assert {row["case"]["id"] for row in ranking["items"]} == set(ids)
    assert [row["rank"] for row in ranking["items"]] == [1, 2, 3]
    means = [row["normalized_mean"] for row in ranking["items"]]
    assert all(m is not None and 0 <= m <= 100 for m in means) and means == sorted(means, reverse=True)
    for row in ranking["items"]:
        assert row["assigned"] == 2 and row["submitted"] == len(row["experts"])
        assert all({"raw", "normalized"} <= set(total) for total in row["experts"])
    incomplete = next(row for row in ranking["items"] if row["case"]["id"] == missing.case_id)
    assert (incomplete["submitted"], incomplete["complete"]) == (1, False)

    # Shortlisting is refused while a review is missing, and goes through once it is waived.
    preview = client.get(f"/api/v1/categories/{category.id}/shortlist", headers=staff).get_json()
    assert preview["ready"] is False and list(preview["blockers"]) == [str(missing.case_id)]
    assert preview["size"] == 2 and len(preview["finalists"]) == 2
    refused = client.post(f"/api/v1/categories/{category.id}/shortlist", json={}, headers=staff)
    assert refused.status_code == 422
    assert refused.get_json()["reasons"] and str(missing.case_id) in refused.get_json()["reasons"][0]
    assert {db.session.get(Case, i).state for i in ids} == {"expert_review"}
    assert client.post(f"/api/v1/assignments/{missing.id}/waive", json={}, headers=staff).status_code == 422
    waived = client.post(f"/api/v1/assignments/{missing.id}/waive", json={"reason": "专家因病无法完成"}, headers=staff)
    assert waived.status_code == 200 and waived.get_json()["status"] == "waived"
    confirmed = client.post(f"/api/v1/categories/{category.id}/shortlist", json={"size": 2}, headers=staff)
    assert confirmed.status_code == 200, confirmed.get_json()
    finalists = [row["case"]["id"] for row in confirmed.get_json()["finalists"]]
    db.session.expire_all()
    assert sorted(db.session.get(Case, i).state for i in ids) == ["not_shortlisted", "public_vote", "public_vote"]
    assert {db.session.get(Case, i).state for i in finalists} == {"public_vote"}
    english = {**staff, "Accept-Language": "en"}
    repeated = client.post(f"/api/v1/categories/{category.id}/shortlist", json={"size": 2}, headers=english)
    assert repeated.status_code == 409  # the API's rule for a repeated action: 409 with the reason
    assert repeated.get_json()["message"] == "The shortlist of this category is already confirmed."


def test_an_applicant_never_learns_who_reviewed(app, client, make, bearer):
    organizer = make.organizer()
    owner = make.applicant()
    case = make.case("expert_review", owner=owner)
    expert = make.pool_expert(name="评审专家甲", email="reviewer-a@example.org")
    auth = bearer(expert)
    assigned = client.post(
        "/api/v1/assignments", json={"case_id": case.id, "expert_id": expert.id}, headers=bearer(organizer)
    )
    assert assigned.status_code == 201, assigned.get_json()
    criteria = client.get("/api/v1/campaigns/current/rubric", headers=auth).get_json()
    review_url = f"/api/v1/assignments/{assigned.get_json()['id']}/review"
    refused = client.put(review_url, json={"scores": _scores(criteria, 0.9), "submit": True}, headers=auth)
    assert refused.status_code == 409  # not accepted yet: nothing is scored
    client.post(f"/api/v1/assignments/{assigned.get_json()['id']}/accept", headers=auth)
    scored = client.put(
        review_url, json={"scores": _scores(criteria, 0.9), "comment": "十分出色", "submit": True}, headers=auth
    )
    assert scored.status_code == 200

    seen = []
    for url in (f"/api/v1/cases/{case.id}", f"/api/v1/cases/{case.id}/events", "/api/v1/notifications"):
        response = client.get(url, headers=bearer(owner))
        assert response.status_code == 200
        seen.append(json.dumps(response.get_json(), ensure_ascii=False))
    for secret in ("评审专家甲", "reviewer-a@example.org", "十分出色", '"scores"', '"total"'):
        assert all(secret not in text for text in seen), secret
    assert client.get(review_url, headers=bearer(owner)).status_code == 404
    for url in ("/api/v1/me/assignments", f"/api/v1/categories/{case.category_id}/ranking", "/api/v1/progress"):
        assert client.get(url, headers=bearer(owner)).status_code == 403


def test_an_organizer_enters_and_corrects_scores_for_an_expert(app, client, make, bearer):
    """Paper score sheets from a meeting: entered by the organizer, recorded "entered by X for Y" in the review's
    history, which the expert sees too; a note saying where the scores come from is required."""
    organizer = make.organizer(name="组织者乙")
    case = make.case("expert_review")
    expert = make.pool_expert(name="评审专家丙")
    staff = {**bearer(organizer), "Accept-Language": "en"}
    assigned = client.post("/api/v1/assignments", json={"case_id": case.id, "expert_id": expert.id}, headers=staff)
    criteria = client.get("/api/v1/campaigns/current/rubric", headers=staff).get_json()
    url = f"/api/v1/assignments/{assigned.get_json()['id']}/review"

    no_note = client.put(url, json={"scores": _scores(criteria, 0.8), "submit": True}, headers=staff)
    assert no_note.status_code == 422 and "note" in no_note.get_json()["errors"]
    entered = client.put(
        url, json={"scores": _scores(criteria, 0.8), "submit": True, "note": "5月12日评审会纸质评分表"}, headers=staff
    )
    assert entered.status_code == 200, entered.get_json()
    body = entered.get_json()
    assert body["status"] == "submitted" and body["total"] == 80.0
    [event] = body["history"]
    assert event["text"] == "Entered by 组织者乙 for 评审专家丙" and event["note"].startswith("5月12日评审会纸质评分表")
    assert event["created_at"].endswith("+00:00")

    first = str(criteria[0]["id"])
    corrected_scores = {**_scores(criteria, 0.8), first: criteria[0]["max_score"]}
    corrected = client.put(url, json={"scores": corrected_scores, "note": "更正笔误"}, headers=staff).get_json()
    assert corrected["status"] == "submitted" and corrected["total"] > 80.0  # a correction stays submitted
    assert [e["note"].split(";")[0] for e in corrected["history"]] == ["5月12日评审会纸质评分表", "更正笔误"]
    assert f"→ {criteria[0]['max_score']}" in corrected["history"][1]["note"]
    seen_by_expert = client.get(url, headers={**bearer(expert), "Accept-Language": "en"}).get_json()
    assert [e["text"] for e in seen_by_expert["history"]] == ["Entered by 组织者乙 for 评审专家丙"] * 2
    assert client.put(
        url, json={"scores": corrected_scores, "note": "x"}, headers=bearer(make.expert())
    ).status_code in (
        403,
        404,
    )
