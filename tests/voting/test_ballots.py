"""The vote's rules hold in the database: no double votes, daily limits, invalidation, recount."""

from __future__ import annotations

import threading

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from campaigns.models import VOTE_OPEN
from cases.models import Case
from pingxuan.db import commit, rollback
from pingxuan.errors import Conflict, NotFound
from pingxuan.extensions import db
from tests.phone import last_code
from tests.races import parallel
from voting.ballots import cast_vote, counts, invalidate, recount
from voting.models import Ballot, BallotAudit, Voter
from voting.voters import request_code, verify_code


def open_campaign(make):
    campaign = make.campaign()
    campaign.vote_status = VOTE_OPEN
    commit()
    return campaign


def voter(n: int = 0) -> Voter:
    v = Voter(phone_hash=f"{n:064d}")
    db.session.add(v)
    commit()
    return v


def test_a_voter_verified_by_code(app, make):
    request_code("138 0013 8000", "10.0.0.1")
    commit()
    from voting.models import SmsMessage

    body = SmsMessage.query.one().body
    code = last_code("13800138000")
    assert code not in body  # the outbox keeps the code redacted; the phone got it
    assert verify_code("13800138000", "000000" if code != "000000" else "111111").voter is None
    commit()
    result = verify_code("13800138000", code)
    commit()
    assert result.voter is not None and "13800138000" not in result.voter.phone_hash
    with pytest.raises(Conflict):
        request_code("13800138000", "10.0.0.1")  # resend delay


def test_daily_limit_per_category_and_one_vote_per_case(app, make):
    open_campaign(make)
    finalists = [make.case("public_vote") for _ in range(4)]
    v = voter()
    for case in finalists[:3]:
        cast_vote(v.id, case.id, "10.0.0.1")
        commit()
    with pytest.raises(Conflict) as error:
        cast_vote(v.id, finalists[3].id, "10.0.0.1")
    assert "3" in error.value.message
    rollback()
    with pytest.raises(Conflict):
        cast_vote(v.id, finalists[0].id, "10.0.0.1")
    rollback()
    assert Ballot.query.count() == 3 and counts([c.id for c in finalists]) == {
        finalists[0].id: 1, finalists[1].id: 1, finalists[2].id: 1, finalists[3].id: 0}  # fmt: skip


def test_cases_outside_the_vote_cannot_receive_votes(app, make):
    open_campaign(make)
    in_review = make.case("expert_review")
    with pytest.raises(NotFound):
        cast_vote(voter().id, in_review.id, "10.0.0.1")


def test_invalidated_ballot_leaves_the_count_and_stays_in_the_audit(app, make):
    open_campaign(make)
    case = make.case("public_vote")
    result = cast_vote(voter(1).id, case.id, "10.0.0.1")
    cast_vote(voter(2).id, case.id, "10.0.0.2")
    commit()
    assert counts([case.id])[case.id] == 2
    invalidate([result.ballot_id], make.organizer(), "批量注册的号码")
    commit()
    assert counts([case.id])[case.id] == 1
    ballot = db.session.get(Ballot, result.ballot_id)
    assert ballot.invalid_reason == "批量注册的号码" and BallotAudit.query.count() == 1
    assert recount() == []


def test_parallel_invalidations_of_one_ballot_decrement_its_count_once(app, make):
    """Issue 14: six organizers invalidating the same ballot at once took the count to -2."""
    open_campaign(make)
    case = make.case("public_vote")
    ballot_id = cast_vote(voter(1).id, case.id, "10.0.0.1").ballot_id
    commit()
    organizer_id, case_id = make.organizer().id, case.id
    barrier = threading.Barrier(6)
    changed: list[int] = []

    def attempt() -> None:
        with app.app_context():
            from accounts.models import User

            actor = db.session.get(User, organizer_id)
            barrier.wait()
            try:
                changed.append(invalidate([ballot_id], actor, "刷票"))
                commit()
            finally:
                db.session.remove()

    threads = [threading.Thread(target=attempt) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(changed) == [0, 0, 0, 0, 0, 1]
    assert counts([case_id])[case_id] == 0 and recount() == []
    assert BallotAudit.query.filter_by(ballot_id=ballot_id).count() == 1


@pytest.mark.postgresql_only
def test_fifty_concurrent_votes_of_one_voter_for_one_case_make_one_ballot(app, make):
    open_campaign(make)
    case = make.case("public_vote")
    voter_id, case_id = voter().id, case.id
    barrier = threading.Barrier(50)
    outcomes: list[str] = []

    def attempt() -> None:
        with app.app_context():
            barrier.wait()
            try:
                cast_vote(voter_id, case_id, "10.0.0.9")
                commit()
                outcomes.append("ok")
            except Conflict:
                rollback()
                outcomes.append("refused")
            finally:
                db.session.remove()

    threads = [threading.Thread(target=attempt) for _ in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes.count("ok") == 1 and outcomes.count("refused") == 49
    assert Ballot.query.filter_by(case_id=case_id).count() == 1
    assert counts([case_id])[case_id] == 1


@pytest.mark.postgresql_only
def test_concurrent_votes_of_one_voter_across_a_category_stop_at_the_daily_limit(app, make):
    """Twelve votes of one voter for twelve finalists of one category at once: three ballots (the daily limit,
    slots 1-3), nine refused with the limit's message; the counts equal the ballots."""
    campaign = open_campaign(make)
    cases = [make.case("public_vote", category_index=0) for _ in range(12)]
    limit = campaign.votes_per_category_per_day
    voter_id, case_ids = voter().id, [case.id for case in cases]

    def attempt(i: int) -> str:
        with app.app_context():
            try:
                cast_vote(voter_id, case_ids[i], "10.0.0.9")
                commit()
                return "ok"
            except Conflict as error:
                rollback()
                return error.message
            finally:
                db.session.remove()

    outcomes = parallel(12, attempt)
    assert outcomes.count("ok") == limit
    refusals = {o for o in outcomes if o != "ok"}  # one message, the limit's (not "already voted", no error)
    assert len(refusals) == 1 and all(isinstance(o, str) and str(limit) in o for o in refusals)
    ballots = Ballot.query.filter_by(voter_id=voter_id).all()
    assert sorted(b.slot for b in ballots) == list(range(1, limit + 1))
    assert sum(counts(case_ids).values()) == limit and recount() == []


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.sampled_from(["vote", "invalidate"]), st.integers(0, 5), st.integers(0, 2)), max_size=25))
def test_recount_equals_live_counts(app, make, steps):
    open_campaign(make)
    cases = Case.query.filter_by(state="public_vote").all()
    while len(cases) < 3:
        cases.append(make.case("public_vote"))
    organizer = make.organizer()
    voters = {}
    for action, who, which in steps:
        if who not in voters:
            voters[who] = db.session.query(Voter).filter_by(phone_hash=f"{who + 100:064d}").first() or voter(who + 100)
        if action == "vote":
            try:
                cast_vote(voters[who].id, cases[which].id, f"10.0.{who}.1")
                commit()
            except Conflict:
                rollback()
        else:
            ids = [b.id for b in Ballot.query.filter_by(voter_id=voters[who].id).all()]
            if ids:
                invalidate(ids[:1], organizer, "test")
                commit()
    assert recount() == []
    valid = {c.id: Ballot.query.filter_by(case_id=c.id, invalidated_at=None).count() for c in cases}
    assert counts([c.id for c in cases]) == valid
