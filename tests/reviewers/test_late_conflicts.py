"""After an expert submitted their review it counts in the ranking (issue 18): a conflict is then reported and an
organizer decides; a reopened review cannot lose its score once the case left expert review; and an expert's
declaration answers only about a case they may see."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from pingxuan.clock import today
from pingxuan.db import commit
from pingxuan.extensions import db
from reviewers import assignment as assigning
from reviewers import scoring
from reviewers.aggregation import case_results
from reviewers.models import Assignment, Conflict, ReviewAudit
from tests.api.conftest import bearer  # noqa: F401  (fixture)
from tests.factories import login
from workflow.definition import DUE_DATE, OWNER, path_to
from workflow.engine import fire

EN = {"Accept-Language": "en"}


def move_on(make, case, state: str) -> None:
    """Fire the declared transitions from the case's state on to ``state``, as the factory does from a draft."""
    path = path_to(state)
    start = next(i for i, t in enumerate(path) if t.dest == case.state)
    organizer = make.organizer()
    for transition in path[start + 1 :]:
        make.prepare(case, transition)
        actor = case.created_by if OWNER in transition.roles else organizer
        due = {DUE_DATE: today() + timedelta(days=14)} if DUE_DATE in transition.required_fields else None
        fire(case, transition.name, actor, comment="test", fields=due)
        commit()


def reviewed_case(make, state: str):
    """A case whose two experts submitted different scores, moved on to ``state``."""
    campaign = make.campaign()
    criteria = scoring.ensure_default_rubric(campaign)
    case = make.case("expert_review")
    organizer = make.organizer()
    harsh, kind = make.pool_expert(), make.pool_expert()
    for expert, share in ((harsh, 0.5), (kind, 1.0)):
        a = assigning.respond(assigning.assign(case, expert, organizer), expert, accept=True)
        commit()
        scoring.save_review(a, expert, {c.id: c.max_score * share for c in criteria}, submit=True)
        commit()
    move_on(make, case, state)
    return campaign, case, harsh, kind, organizer


def raw_scores(campaign, case) -> list[float]:
    return sorted(next(r for r in case_results(campaign) if r.case.id == case.id).raw)


def test_a_conflict_after_submission_is_reported_and_only_an_organizer_moves_the_ranking(app, client, make, bearer):  # noqa: F811
    campaign, case, harsh, kind, organizer = reviewed_case(make, "public_vote")
    before = raw_scores(campaign, case)
    assert before == [50.0, 100.0]
    url = f"/api/v1/cases/{case.id}/conflicts"
    reported = client.post(url, json={"reason": "我曾为该项目提供咨询"}, headers=bearer(harsh))
    assert reported.status_code == 201 and reported.get_json()["source"] == "reported"
    assert raw_scores(campaign, case) == before  # the expert alone changes nothing
    harsh_assignment = db.session.scalar(sa.select(Assignment).filter_by(case_id=case.id, expert_id=harsh.id))
    assert harsh_assignment.status == "submitted"

    conflict_id = reported.get_json()["id"]
    decide = f"/api/v1/conflicts/{conflict_id}/decision"
    assert client.post(decide, json={"decision": "uphold", "reason": "x"}, headers=bearer(harsh)).status_code == 403
    waiting = client.get("/api/v1/conflicts", headers=bearer(organizer)).get_json()
    assert [(c["id"], c["source"]) for c in waiting] == [(conflict_id, "reported")]
    dismissed = client.post(decide, json={"decision": "dismiss", "reason": "咨询早于申报"}, headers=bearer(organizer))
    assert dismissed.status_code == 200 and dismissed.get_json()["source"] == "dismissed"
    assert raw_scores(campaign, case) == before
    again = client.post(decide, json={"decision": "uphold", "reason": "x"}, headers=bearer(organizer))
    assert again.status_code == 409

    # reported again, with more to say; an organizer upholds it: the review is released, the ranking changes
    assert (
        client.post(url, json={"reason": "我是该单位的顾问"}, headers=bearer(harsh)).get_json()["source"] == "reported"
    )
    upheld = client.post(decide, json={"decision": "uphold", "reason": "顾问关系属实"}, headers=bearer(organizer))
    assert upheld.status_code == 200 and upheld.get_json()["source"] == "declared"
    assert raw_scores(campaign, case) == [100.0]
    db.session.expire_all()
    assert db.session.get(Assignment, harsh_assignment.id).status == "released"
    actions = db.session.execute(
        sa.select(ReviewAudit.action, ReviewAudit.actor_id).where(ReviewAudit.assignment_id == harsh_assignment.id)
        .order_by(ReviewAudit.id)
    ).all()  # fmt: skip
    expected = [("conflict_reported", harsh.id), ("conflict_dismissed", organizer.id)] * 2
    expected[-1] = ("conflict_upheld", organizer.id)
    assert [tuple(a) for a in actions] == expected


def test_pages_let_the_expert_report_and_an_organizer_decide(app, client, make):
    campaign, case, harsh, kind, organizer = reviewed_case(make, "expert_review")
    assignment = db.session.scalar(sa.select(Assignment).filter_by(case_id=case.id, expert_id=harsh.id))
    login(client, harsh)
    client.get("/language/en")
    mine = client.get("/review/mine").get_data(as_text=True)
    assert "Report a conflict of interest" in mine
    form = {"reason": "我曾为该项目提供咨询", "confirmed": "1"}
    answer = client.post(f"/review/mine/{assignment.id}/conflict", data=form, follow_redirects=True).get_data(
        as_text=True
    )
    assert "Your report is recorded. The organizers decide" in answer
    assert raw_scores(campaign, case) == [50.0, 100.0]
    conflict = db.session.scalar(sa.select(Conflict).filter_by(case_id=case.id, expert_id=harsh.id))

    login(client, organizer)
    client.get("/language/en")
    page = client.get("/review/assignment").get_data(as_text=True)
    assert "1 conflict reported after a submitted review waits for your decision." in page
    assert f"/review/assignment/conflicts/{conflict.id}/decide" in page
    done = client.post(f"/review/assignment/conflicts/{conflict.id}/decide",
                       data={"reason": "顾问关系属实", "decision": "uphold"}, follow_redirects=True)  # fmt: skip
    assert "The conflict is upheld" in done.get_data(as_text=True)
    assert raw_scores(campaign, case) == [100.0]


def test_a_probe_learns_nothing_of_a_case_the_expert_may_not_see(app, client, make, bearer):  # noqa: F811
    make.campaign()
    secret = make.case("expert_review", title="未分配给你的案例")
    prober = make.pool_expert()
    assert client.get(f"/api/v1/cases/{secret.id}", headers=bearer(prober)).status_code == 404
    probe = client.post(f"/api/v1/cases/{secret.id}/conflicts", json={"reason": "试探"}, headers=bearer(prober))
    assert probe.status_code == 404
    assert "未分配给你的案例" not in probe.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Conflict)) == 0


def test_a_review_is_not_reopened_once_the_case_left_expert_review(app, client, make, bearer):  # noqa: F811
    campaign, case, harsh, kind, organizer = reviewed_case(make, "public_vote")
    assignment = db.session.scalar(sa.select(Assignment).filter_by(case_id=case.id, expert_id=harsh.id))
    refused = client.post(f"/api/v1/assignments/{assignment.id}/reopen", json={"comment": "再看看"},
                          headers={**bearer(organizer), **EN})  # fmt: skip
    assert refused.status_code == 409 and "no longer under expert review" in refused.get_json()["message"]
    assert raw_scores(campaign, case) == [50.0, 100.0]  # the score still counts
    login(client, organizer)
    client.get("/language/en")
    page = client.post(f"/review/reviews/{assignment.id}/reopen", data={"comment": "再看看"}, follow_redirects=True)
    assert "The case is no longer under expert review" in page.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Assignment, assignment.id).status == "submitted"
    assert raw_scores(campaign, case) == [50.0, 100.0]

    # under expert review it is reopened as before
    open_case = reviewed_case(make, "expert_review")[1]
    open_assignment = db.session.scalar(sa.select(Assignment).filter_by(case_id=open_case.id).limit(1))
    reopened = client.post(f"/api/v1/assignments/{open_assignment.id}/reopen", json={"comment": "再看看"},
                           headers=bearer(organizer))  # fmt: skip
    assert reopened.status_code == 200
