"""Two people act on one case at the same moment: exactly one wins, the other is told someone acted first."""

from __future__ import annotations

import hashlib
import threading
from datetime import timedelta

import pytest
from flask_babel import force_locale

from accounts.models import Invitation, Unit, User
from awards.models import ISSUED, SUPERSEDED, Certificate, ResultSnapshot
from cases.models import Case
from pingxuan.clock import today
from pingxuan.db import commit, rollback, utcnow
from pingxuan.errors import Conflict
from pingxuan.extensions import db
from reviewers.models import Assignment
from tests.awards.test_certificates import awarded_case
from tests.factories import value as field_value
from workflow.engine import fire
from workflow.models import WorkflowEvent


@pytest.mark.postgresql_only  # row locks and concurrent transactions are what this test is about
def test_concurrent_fire_one_wins(app, make):
    case = make.case("submitted")
    first, second = make.organizer(), make.admin()
    case_id, version, first_id, second_id = case.id, case.version, first.id, second.id
    events_before = WorkflowEvent.query.filter_by(case_id=case_id).count()
    db.session.remove()

    barrier = threading.Barrier(2, timeout=30)
    results: dict[str, object] = {}

    def act(actor_id: int, transition: str) -> None:
        with app.app_context(), force_locale("en"):
            try:
                loaded = db.session.get(Case, case_id)
                actor = db.session.get(User, actor_id)
                assert loaded.version == version
                barrier.wait()  # both have read the same version before either acts
                due = {"due_date": today() + timedelta(days=7)}
                event = fire(loaded, transition, actor, comment="race", expected_version=version, fields=due)
                commit()
                results[transition] = event.to_state
            except Conflict as exc:
                rollback()
                results[transition] = exc
            except Exception as exc:  # surfaced by the assertions below
                rollback()
                results[transition] = exc
            finally:
                db.session.remove()

    threads = [
        threading.Thread(target=act, args=(first_id, "start_check")),
        threading.Thread(target=act, args=(second_id, "return_for_revision")),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    conflicts = [r for r in results.values() if isinstance(r, Conflict)]
    winners = [r for r in results.values() if isinstance(r, str)]
    assert len(results) == 2, results
    assert len(winners) == 1 and len(conflicts) == 1, results
    assert conflicts[0].status == 409
    assert "someone else acted" in conflicts[0].message.lower()

    db.session.expire_all()
    final = db.session.get(Case, case_id)
    assert final.state == winners[0]
    assert final.version == version + 1
    assert WorkflowEvent.query.filter_by(case_id=case_id).count() == events_before + 1


def _parallel(count: int, work) -> list:
    """Run ``work(i)`` in ``count`` threads released together; their results in order."""
    barrier = threading.Barrier(count, timeout=30)
    results: list = [None] * count

    def run(i: int) -> None:
        barrier.wait()
        try:
            results[i] = work(i)
        except Exception as exc:  # surfaced by the assertions
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(90)
    return results


def test_parallel_edits_of_one_version_exactly_one_lands(app, make, bearer):
    """Ten PATCHes carrying the same version: one 200, nine 409, and the case holds the winner's text."""
    owner = make.applicant()
    case = make.case("draft", owner=owner)
    case_id, version, auth = case.id, case.version, bearer(owner)
    db.session.remove()

    def edit(i: int):
        with app.app_context():  # a thread of its own, like a server's worker
            response = app.test_client().patch(
                f"/api/v1/cases/{case_id}", json={"summary": f"edit {i}", "version": version}, headers=auth
            )
            db.session.remove()
            return response.status_code, response.get_json()

    results = _parallel(10, edit)
    assert all(isinstance(r, tuple) for r in results), results
    statuses = sorted(r[0] for r in results)
    assert statuses == [200] + [409] * 9, results
    winner = next(body for status, body in results if status == 200)
    db.session.expire_all()
    final = db.session.get(Case, case_id)
    assert final.version == version + 1 and field_value(final, "summary") == winner["summary"]


def test_an_edit_racing_a_resubmission_never_lands_on_the_submitted_case(app, make, bearer):
    owner = make.applicant()
    case = make.case("returned", owner=owner)
    case_id, version, owner_id, auth = case.id, case.version, owner.id, bearer(owner)
    title = case.title
    db.session.remove()

    def act(i: int):
        with app.app_context():
            try:
                if i == 0:
                    return (
                        app.test_client()
                        .patch(
                            f"/api/v1/cases/{case_id}", json={"title": "改过的标题", "version": version}, headers=auth
                        )
                        .status_code
                    )
                loaded, owner_row = db.session.get(Case, case_id), db.session.get(User, owner_id)
                fire(loaded, "resubmit", owner_row, expected_version=version)
                commit()
                return 200
            except Conflict:
                rollback()
                return 409
            finally:
                db.session.remove()

    results = _parallel(2, act)
    assert all(isinstance(r, int) for r in results), results
    assert results.count(200) == 1 and results.count(200) + results.count(409) + results.count(403) == 2, results
    db.session.expire_all()
    final = db.session.get(Case, case_id)
    assert final.version == version + 1
    if final.state == "returned":  # the edit won, the resubmission was refused
        assert final.title == "改过的标题"
    else:  # the resubmission won: the submitted case keeps the dossier it was submitted with
        assert final.title == title


def _post_in_parallel(app, count: int, request) -> list[tuple[int, object]]:
    """``request(client, i)`` from ``count`` threads at once, each with its own client and session."""

    def work(i: int):
        with app.app_context():
            response = request(app.test_client(), i)
            db.session.remove()
            return response.status_code, response.get_json() if response.is_json else response.get_data(as_text=True)

    results = _parallel(count, work)
    assert all(isinstance(r, tuple) for r in results), results
    return results


def test_parallel_registrations_of_one_unit_and_acceptances_of_one_invitation(app, make, caplog):
    """The database's unique constraints decide; the losers get the field errors or 409, never a 500."""
    from tests.accounts.test_pages import register

    make.campaign()
    links = [register(app.test_client(), caplog, email=f"wang{i}@example.org") for i in range(4)]
    registered = _post_in_parallel(app, 4, lambda client, i: client.post(links[i]))  # four confirmed at once
    assert sorted(status for status, _ in registered) == [302, 422, 422, 422], registered
    assert all("统一社会信用代码的单位已注册" in page for status, page in registered if status == 422)  # its code taken
    assert Unit.query.count() == 1 and User.query.filter(User.email.like("wang%")).count() == 1

    member = make.applicant()
    token = "parallel-acceptance"
    db.session.add(Invitation(email="colleague@example.org", role=member.role, unit_id=member.unit_id,
                              token_hash=hashlib.sha256(token.encode()).hexdigest(), invited_by_id=member.id,
                              expires_at=utcnow() + timedelta(days=1)))  # fmt: skip
    commit()
    form = {"name": "同事", "password": "correct horse 42", "confirm": "correct horse 42"}
    accepted = _post_in_parallel(app, 4, lambda client, i: client.post(f"/invitations/{token}", data=form))
    statuses = sorted(status for status, _ in accepted)
    assert statuses[0] == 302 and set(statuses[1:]) <= {409} and len(statuses) == 4, accepted
    assert User.query.filter_by(email="colleague@example.org").count() == 1


def test_parallel_assignments_of_one_pair_and_corrections_of_certificates(app, make, bearer):
    case = make.case("expert_review")
    expert = make.pool_expert()
    staff = bearer(make.organizer())
    pair = {"case_id": case.id, "expert_id": expert.id}
    assigned = _post_in_parallel(app, 4, lambda client, i: client.post("/api/v1/assignments", json=pair, headers=staff))
    assert sorted(status for status, _ in assigned) == [201, 409, 409, 409], assigned
    assert Assignment.query.filter_by(case_id=case.id, expert_id=expert.id).count() == 1

    # Two issued certificates, each corrected twice at the same moment: one correction of each lands, and the two
    # new certificates get distinct numbers (they were counted from the rows, and collided).
    campaign = case.campaign
    issued = []
    for n in (1, 2):
        certificate = Certificate(number=f"PX{campaign.year}-C-{n:04d}", kind="case_award", campaign_id=campaign.id,
                                  content={"recipient": f"单位{n}"}, issued_on=today(), signature="x",
                                  status=ISSUED)  # fmt: skip
        db.session.add(certificate)
        issued.append(certificate)
    commit()
    ids = [c.id for c in issued]
    corrected = _post_in_parallel(app, 4, lambda client, i: client.post(
        f"/api/v1/certificates/{ids[i % 2]}/reissue", json={"title": f"更正{i}"}, headers=staff))  # fmt: skip
    assert sorted(status for status, _ in corrected) == [201, 201, 409, 409], corrected
    numbers = [body["number"] for status, body in corrected if status == 201]
    assert len(set(numbers)) == 2 and not set(numbers) & {c.number for c in issued}
    versions = [s.version for s in ResultSnapshot.query.filter_by(campaign_id=campaign.id)]
    assert sorted(versions) == [1, 2]


def test_parallel_certificate_batches_make_one_certificate_per_award(app, make, bearer):
    """Three organizers press "issue certificates" at once: the campaign's lock lets one create the certificates;
    the others find them made (a 422 saying so, or a batch that only re-queues a pending one), never a second
    certificate or number, never a 500; and every certificate is rendered (eager tasks: in the requests' threads,
    which take turns at WeasyPrint)."""
    cases = [awarded_case(make, title=f"智慧案例{n}") for n in range(3)]
    campaign_id = cases[0].campaign_id
    staff = bearer(make.organizer())
    started = _post_in_parallel(app, 3, lambda client, i: client.post(
        f"/api/v1/campaigns/{campaign_id}/certificate-batches", headers=staff))  # fmt: skip
    statuses = sorted(status for status, _ in started)
    assert statuses[0] == 201 and set(statuses) <= {201, 422}, started
    db.session.expire_all()
    live = Certificate.query.filter(Certificate.campaign_id == campaign_id, Certificate.status != SUPERSEDED).all()
    assert sorted(c.case_id for c in live) == sorted(c.id for c in cases)
    assert len({c.number for c in live}) == 3
    assert {c.status for c in live} == {ISSUED}, [(c.number, c.status, c.error) for c in live]
