"""Eligibility, assignment, scoring, normalization and shortlisting, through the operations."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from cases.eligibility import bulk_approve, prechecks, return_for_revision
from pingxuan.db import commit
from pingxuan.errors import Conflict as Refused
from pingxuan.errors import Forbidden, Invalid
from reviewers import assignment as assigning
from reviewers import scoring, shortlist
from reviewers.aggregation import case_results, normalize
from reviewers.assignment import declare_conflict
from reviewers.models import LIVE, Assignment, Conflict
from workflow.engine import fire
from workflow.models import WorkflowEvent


def test_prechecks_catch_a_case_in_operation_after_the_cutoff(app, make):
    late = make.case("eligibility_check", in_operation_since=date(2017, 4, 15))
    checks = {c.name: c for c in prechecks(late)}
    assert not checks["in_operation"].passed
    assert "2017" in checks["in_operation"].reason
    assert checks["complete"].passed and checks["taxonomy"].passed
    ok = make.case("eligibility_check")
    assert all(c.passed for c in prechecks(ok))
    approved, skipped = bulk_approve([late, ok], make.organizer())
    commit()
    assert approved == [ok] and late.id in skipped
    assert (late.state, ok.state) == ("eligibility_check", "expert_review")


def test_likely_duplicate_from_the_same_unit_is_flagged(app, make):
    owner = make.applicant()
    make.case("submitted", owner=owner, title="智慧社区养老服务平台")
    again = make.case("submitted", owner=owner, title="智慧社区养老服务平台（二期）")
    check = {c.name: c for c in prechecks(again)}["duplicates"]
    assert not check.passed and "智慧社区养老服务平台" in check.reason


def test_return_resubmit_approve_records_three_events(app, make):
    case = make.case("eligibility_check")
    organizer, owner = make.organizer(), case.created_by
    before = WorkflowEvent.query.filter_by(case_id=case.id).count()
    with pytest.raises(Invalid):
        return_for_revision(case, organizer, "请补充材料", None)
    return_for_revision(case, organizer, "请补充运营数据", date.today() + timedelta(days=7))
    commit()
    assert case.state == "returned" and case.revision_due is not None
    fire(case, "resubmit", owner)  # back to the office's eligibility check, where it left
    commit()
    assert case.state == "eligibility_check"
    fire(case, "approve", organizer)
    commit()
    names = [e.transition for e in WorkflowEvent.query.filter_by(case_id=case.id).order_by(WorkflowEvent.id)][before:]
    assert names == ["return_for_revision", "resubmit", "approve"]


def test_assignment_respects_conflicts_loads_and_expertise(app, make):
    campaign = make.campaign()
    campaign.reviewers_per_case = 2
    category = campaign.categories[0]
    cases = [make.case("expert_review") for _ in range(4)]
    cases[0].unit.name = "青岛市大数据局"
    commit()
    conflicted = make.pool_expert(organization="青岛市大数据局", domains=[category.domains[0]])
    specialists = [make.pool_expert(domains=[category.domains[0]], max_load=3) for _ in range(2)]
    generalist = make.pool_expert(organization="海尔集团", max_load=10)
    organizer = make.organizer()
    proposal = assigning.propose(campaign, organizer)
    commit()
    pairs = {(c, e) for c, e, _ in proposal.pairs}
    assert (cases[0].id, conflicted.id) not in pairs, "a conflicted pair is never proposed"
    assert Conflict.query.filter_by(case_id=cases[0].id, expert_id=conflicted.id, source="auto").count() == 1
    loads = {}
    for _c, e in pairs:
        loads[e] = loads.get(e, 0) + 1
    assert all(loads.get(s.id, 0) <= 3 for s in specialists), "load limits hold"
    assert len(pairs) == 8 and not proposal.uncovered
    assigning.apply_proposal(proposal, organizer)
    commit()
    assert Assignment.query.filter(Assignment.status.in_(LIVE)).count() == 8
    # top-up proposes nothing more once every case has its reviewers
    again = assigning.propose(campaign, organizer)
    assert again.pairs == []
    # an expert declares a conflict: the assignment is released and a new proposal replaces it
    victim = Assignment.query.filter_by(expert_id=generalist.id).first() or Assignment.query.first()
    expert = victim.expert
    declare_conflict(expert, victim.case, "我曾参与该项目的咨询")
    commit()
    assert victim.status == "released"
    replacement = assigning.pending_replacement(campaign)  # made by the system, waiting for an organizer
    assert replacement is not None and replacement.created_by_id is None
    assert [p[0] for p in replacement.pairs] == [victim.case_id]
    assert replacement.pairs[0][1] != expert.id
    assigning.apply_proposal(replacement, organizer)
    commit()
    assert assigning.pending_replacement(campaign) is None
    assert Assignment.query.filter(Assignment.case_id == victim.case_id, Assignment.status.in_(LIVE)).count() == 2


def test_only_the_assigned_expert_scores_and_the_range_is_checked(app, make):
    campaign = make.campaign()
    criteria = scoring.ensure_default_rubric(campaign)
    case = make.case("expert_review")
    expert, other = make.pool_expert(), make.pool_expert()
    a = assigning.assign(case, expert, make.organizer())
    commit()
    with pytest.raises(Refused):  # scoring starts once the expert has accepted the review
        scoring.save_review(a, expert, {c.id: c.max_score for c in criteria}, submit=True)
    assigning.respond(a, expert, accept=True)
    with pytest.raises(Forbidden):
        scoring.save_review(a, other, {})
    with pytest.raises(Invalid) as error:
        scoring.save_review(a, expert, {criteria[0].id: 99}, submit=True)
    assert len(error.value.field_errors) == len(criteria)  # one out of range, the rest missing
    review = scoring.save_review(a, expert, {c.id: c.max_score for c in criteria}, submit=True)
    commit()
    assert float(review.total) == 100.0 and a.status == "submitted"


def test_normalization_puts_a_harsh_and_a_lenient_expert_on_one_scale():
    harsh = {1: 50.0, 2: 60.0, 3: 70.0}
    lenient = {1: 70.0, 2: 80.0, 3: 90.0}
    result = normalize({10: harsh, 20: lenient})
    for case in (1, 2, 3):
        assert result[10][case] == pytest.approx(result[20][case])
    assert result[10][1] < result[10][2] < result[10][3]
    assert min(result[10].values()) >= 0 and max(result[10].values()) <= 100


def test_shortlisting_is_refused_while_a_review_is_missing(app, make):
    campaign = make.campaign()
    campaign.awards_per_category = 1  # shortlist = 2 per category
    criteria = scoring.ensure_default_rubric(campaign)
    organizer = make.organizer()
    cases = [make.case("expert_review") for _ in range(3)]
    experts = [make.pool_expert() for _ in range(2)]
    assignments = [assigning.respond(assigning.assign(c, e, organizer), e, accept=True) for c in cases for e in experts]
    commit()
    for i, a in enumerate(assignments[:-1]):
        scoring.save_review(a, a.expert, {c.id: (c.max_score * (i + 1)) // 6 for c in criteria}, submit=True)
    commit()
    category = cases[0].category
    with pytest.raises(Invalid) as error:
        shortlist.confirm(campaign, category, organizer)
    assert "1" in error.value.message and cases[2].state == "expert_review"
    scoring.waive_review(assignments[-1], organizer, "专家因病无法完成")
    commit()
    preview = shortlist.confirm(campaign, category, organizer)
    commit()
    states = sorted(c.state for c in cases)
    assert states == ["not_shortlisted", "public_vote", "public_vote"]
    assert [r.case.state for r in preview.finalists] == ["public_vote", "public_vote"]
    ranked = case_results(campaign, category.id)
    assert ranked[0].normalized_mean >= ranked[-1].normalized_mean


def test_reminders_go_to_experts_with_reviews_due_soon_or_overdue(app, make):
    from datetime import date as _date

    from notifications.models import OutboxMail

    case = make.case("expert_review")
    due, later = make.pool_expert(), make.pool_expert()
    organizer = make.organizer()
    soon = assigning.assign(case, due, organizer)
    far = assigning.assign(case, later, organizer)
    soon.due_date, far.due_date = _date.today() + timedelta(days=1), _date.today() + timedelta(days=20)
    commit()
    result = app.test_cli_runner().invoke(args=["pingxuan", "send-reminders"])
    assert result.exit_code == 0 and "1" in result.output
    mails = OutboxMail.query.filter(OutboxMail.recipient.in_([due.email, later.email])).all()
    assert [m.recipient for m in mails] == [due.email] and case.title in mails[0].body
