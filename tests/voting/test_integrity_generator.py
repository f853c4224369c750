"""The integrity benchmark's generator at a small, fixed-seed scale, with the issue's goals as assertions:
every attack found with precision and recall of at least 0.95, at most 0.5 % of honest ballots struck."""

from __future__ import annotations

import importlib.util
import sys

from campaigns.models import VOTE_OPEN
from pingxuan.db import commit
from pingxuan.paths import PROJECT_ROOT as ROOT

spec = importlib.util.spec_from_file_location("bench_vote_integrity", ROOT / "bench" / "vote_integrity.py")
bench = sys.modules.setdefault(spec.name, importlib.util.module_from_spec(spec))
spec.loader.exec_module(bench)


def test_fixed_seed_run_meets_the_goals(app, make):
    campaign = make.campaign()
    campaign.vote_status = VOTE_OPEN
    commit()
    finalists = [[make.case("public_vote", category_index=c).id for _ in range(5)] for c in range(4)]
    outcome = bench.run(campaign, make.organizer(), finalists, seed=7, honest=250, attack=50)
    print(bench.report(outcome))
    for name, (precision, recall, n) in outcome.per_attack.items():
        assert n == 50
        assert precision >= 0.95 and recall >= 0.95, (name, precision, recall)
    assert outcome.honest > 500 and outcome.honest_struck_share <= 0.005
