"""/metrics counts what happens: a vote accepted, a vote refused with its reason, a transition, a request."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

from campaigns.models import VOTE_OPEN
from pingxuan.db import commit
from pingxuan.extensions import db
from voting.ballots import votable_states
from voting.models import Voter
from voting.operations import voter_token


def samples(client) -> dict[tuple, float]:
    response = client.get("/metrics")
    assert response.status_code == 200 and response.mimetype == "text/plain"
    found = {}
    for family in text_string_to_metric_families(response.get_data(as_text=True)):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def test_metrics_count_a_vote_a_refusal_and_a_transition(app, client, make):
    finalist = make.case(votable_states()[0], title="智慧路灯")
    finalist.campaign.vote_status = VOTE_OPEN
    voter = Voter(phone_hash="d" * 64)
    db.session.add(voter)
    commit()
    before = samples(client)
    make.case("submitted")  # fires the submission through workflow.engine.fire
    headers = {"X-Voter-Token": voter_token(voter.id)}
    assert client.post(f"/api/v1/showcase/cases/{finalist.id}/vote", headers=headers).status_code == 200
    assert client.post(f"/api/v1/showcase/cases/{finalist.id}/vote", headers=headers).status_code == 409
    after = samples(client)

    def grew(name: str, **labels) -> float:
        key = (name, tuple(sorted(labels.items())))
        return after.get(key, 0) - before.get(key, 0)

    assert grew("pingxuan_votes_total", outcome="accepted", reason="") == 1
    assert grew("pingxuan_votes_total", outcome="refused", reason="conflict") == 1
    assert grew("pingxuan_transitions_total", transition="submit") == 1
    assert grew("pingxuan_request_seconds_count", endpoint="prometheus_metrics", method="GET") == 1
    assert ("pingxuan_celery_queue_depth", (("queue", "celery"),)) not in after  # no Redis broker: no gauge
