"""Final ranking with hand-computed values, and the award decision through fire()."""

from __future__ import annotations

from datetime import datetime

import pytest
from flask_babel import force_locale

from awards.decisions import confirm_awards
from awards.ranking import rank
from campaigns.models import VOTE_CLOSED, VOTE_OPEN
from pingxuan.db import commit
from pingxuan.errors import Invalid
from workflow.models import WorkflowEvent


class FakeCase:
    def __init__(self, id: int, submitted: str):
        self.id, self.submitted_at = id, datetime.fromisoformat(submitted)


def test_ranking_by_hand_with_ties():
    a, b, c, d = (FakeCase(1, "2017-04-20"), FakeCase(2, "2017-04-18"), FakeCase(3, "2017-04-15"),
                  FakeCase(4, "2017-04-16"))  # fmt: skip
    # votes: leader b has 400 → vote scores a 50, b 100, c 50, d 50
    ranked = rank([(a, 80.0, 200), (b, 60.0, 400), (c, 80.0, 200), (d, 70.0, 200)], 70, 30)
    finals = {r.case.id: r.final for r in ranked}
    assert finals == {1: 71.0, 2: 72.0, 3: 71.0, 4: 64.0}  # 0.7*80+0.3*50, 0.7*60+0.3*100, ..., 0.7*70+0.3*50
    # b first; a and c tie on final and expert score → the earlier submission (c) first; d last
    assert [r.case.id for r in ranked] == [2, 3, 1, 4]
    assert [r.rank for r in ranked] == [1, 2, 3, 4]
    assert [r.vote_score for r in ranked] == [100.0, 50.0, 50.0, 50.0]


def test_without_votes_the_expert_score_decides():
    a, b = FakeCase(1, "2017-04-20"), FakeCase(2, "2017-04-18")
    ranked = rank([(a, 90.0, 0), (b, 95.0, 0)], 70, 30)
    assert [r.case.id for r in ranked] == [2, 1] and ranked[0].final == 66.5


def test_confirming_awards_is_refused_while_the_vote_is_open(app, make):
    campaign = make.campaign()
    finalists = [make.case("public_vote") for _ in range(3)]
    campaign.vote_status = VOTE_OPEN
    commit()
    organizer = make.organizer()
    category = finalists[0].category
    with force_locale("en"), pytest.raises(Invalid) as error:
        confirm_awards(campaign, category, organizer, size=2)
    assert "vote is not closed" in error.value.message
    assert {c.state for c in finalists} == {"public_vote"}
    campaign.vote_status = VOTE_CLOSED
    commit()
    ranking = confirm_awards(campaign, category, organizer, size=2)
    commit()
    assert sorted(c.state for c in finalists) == ["not_awarded", "proposed", "proposed"]
    assert {r.case.state for r in ranking if r.rank <= 2} == {"proposed"}
    assert WorkflowEvent.query.filter(WorkflowEvent.transition.in_(["propose", "not_award"])).count() == 3
