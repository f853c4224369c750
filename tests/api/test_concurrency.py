"""Two people act on one case at the same moment: exactly one wins, the other is told someone acted first."""

from __future__ import annotations

import threading

import pytest
from flask_babel import force_locale

from accounts.models import User
from cases.models import Case
from pingxuan.db import commit, rollback
from pingxuan.errors import Conflict
from pingxuan.extensions import db
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
                event = fire(loaded, transition, actor, comment="race", expected_version=version)
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
