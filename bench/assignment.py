"""Benchmark: optimal reviewer assignment, by default 1,000 cases, 200 experts, 5 reviewers per case, ~5 % conflicts.

Prints ratios measured in this one run: the optimal total cost against a greedy baseline and against a lower
bound, the solver's time against the greedy baseline's, and how evenly the loads come out. With ``--database``
the same instance is first stored as rows (SQLite file, or PINGXUAN_BENCH_DATABASE_URL) and the time is measured
from those rows to the stored proposal, as an organizer's "propose" does it.
Run: ./dev.sh bench (or .venv/bin/python bench/assignment.py --cases 10000 --experts 2000 --database).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from reviewers.solver import (
    CATEGORY_MATCH,
    DOMAIN_MATCH,
    FORBIDDEN,
    NO_MATCH,
    Instance,
    greedy,
    lower_bound,
    solve,
    total_cost,
)

PER_CASE, CONFLICT_RATE, MAX_LOAD = 5, 0.05, 40
CATEGORIES, DOMAINS_PER_CATEGORY = 7, 5
# Cases crowd into some categories, as in the article (city operation and citizen services lead).
WEIGHTS = np.array([76, 40, 36, 56, 36, 46, 14]) / 304


def topics(cases: int, experts: int, seed: int = 2017):
    """Each case's (category, domain); each expert's categories and domains (as boolean matrices); conflicts."""
    rng = np.random.default_rng(seed)
    case_category = rng.choice(CATEGORIES, cases, p=WEIGHTS)
    case_domain = case_category * DOMAINS_PER_CATEGORY + rng.integers(0, DOMAINS_PER_CATEGORY, cases)
    home = rng.choice(CATEGORIES, experts, p=WEIGHTS)
    expert_categories = np.zeros((experts, CATEGORIES), dtype=bool)
    expert_categories[np.arange(experts), home] = True
    second = rng.random(experts) < 0.3
    expert_categories[np.flatnonzero(second), rng.integers(0, CATEGORIES, int(second.sum()))] = True
    expert_domains = np.zeros((experts, CATEGORIES * DOMAINS_PER_CATEGORY), dtype=bool)
    for _ in range(3):
        pick = rng.random(experts) < 2 / 3
        rows = np.flatnonzero(pick)
        expert_domains[rows, home[rows] * DOMAINS_PER_CATEGORY + rng.integers(0, DOMAINS_PER_CATEGORY, len(rows))] = (
            True
        )
    none = ~expert_domains.any(axis=1)
    expert_domains[np.flatnonzero(none), home[none] * DOMAINS_PER_CATEGORY] = True
    conflicted = rng.random((cases, experts)) < CONFLICT_RATE
    return case_category, case_domain, expert_categories, expert_domains, conflicted


def instance(cases: int, experts: int) -> Instance:
    case_category, case_domain, expert_categories, expert_domains, conflicted = topics(cases, experts)
    costs = np.where(
        expert_domains[:, case_domain].T,
        DOMAIN_MATCH,
        np.where(expert_categories[:, case_category].T, CATEGORY_MATCH, NO_MATCH),
    ).astype(np.int16)
    costs[conflicted] = FORBIDDEN
    return Instance(
        case_ids=np.arange(cases, dtype=np.int64),
        needs=np.full(cases, PER_CASE, dtype=np.int64),
        expert_ids=np.arange(experts, dtype=np.int64),
        current=np.zeros(experts, dtype=np.int64),
        maximum=np.full(experts, MAX_LOAD, dtype=np.int64),
        costs=costs,
    )


def from_the_database(cases: int, experts: int) -> None:
    """The same instance as rows (cases in expert review, experts with their expertise, the conflicts declared
    before), then the organizer's "propose": rows read, automatic conflicts found and stored, flow solved,
    proposal stored and committed. A few experts work for an applicant unit: their conflicts are found then."""
    import os
    import tempfile

    from sqlalchemy import insert

    from accounts.models import Unit, User
    from campaigns.operations import load_campaign
    from cases.models import Case
    from pingxuan.extensions import db
    from reviewers import assignment
    from reviewers.models import DECLARED, Conflict, Expert, expert_categories, expert_domains
    from shell import create_app
    from workflow.definition import EXPERT, ORGANIZER

    folder = tempfile.mkdtemp(prefix="pingxuan-bench-")
    url = os.environ.get("PINGXUAN_BENCH_DATABASE_URL") or f"sqlite:///{folder}/bench.sqlite3"
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "STORAGE_DIR": folder, "SECRET_KEY": "bench",
                      "RATELIMIT_STORAGE_URI": "memory://"})  # fmt: skip
    case_category, case_domain, expert_cats, expert_doms, conflicted = topics(cases, experts)
    rng = np.random.default_rng(7)
    with app.app_context():
        db.drop_all()
        db.create_all()
        t0 = time.perf_counter()
        campaign = load_campaign()
        db.session.commit()
        categories = [c.id for c in campaign.categories[:CATEGORIES]]
        domains = [[d.id for d in c.domains] for c in campaign.categories[:CATEGORIES]]

        def domain_id(index: int) -> int:
            category, within = divmod(int(index), DOMAINS_PER_CATEGORY)
            return domains[category][within % len(domains[category])]

        units = 200
        ex = db.session.execute
        ex(insert(Unit), [{"name": f"申报单位{u}", "kind": "government", "district": "市南区",
                           "credit_code": f"{u:018d}", "contact_name": "联系人", "contact_phone": "13800000000"}
                          for u in range(units)])  # fmt: skip
        ex(insert(User), [{"email": f"{ORGANIZER}@bench.example", "name": "Organizer", "password_hash": "-",
                           "role": ORGANIZER}])  # fmt: skip
        ex(insert(User), [{"email": f"expert{e}@bench.example", "name": f"Expert {e}", "password_hash": "-",
                           "role": EXPERT} for e in range(experts)])  # fmt: skip
        organizer = db.session.scalar(db.select(User).where(User.role == ORGANIZER))
        expert_ids = db.session.scalars(db.select(User.id).where(User.role == EXPERT).order_by(User.id)).all()
        unit_ids = db.session.scalars(db.select(Unit.id).order_by(Unit.id)).all()
        insiders = set(rng.choice(experts, max(1, experts // 100), replace=False).tolist())  # work for a unit
        ex(insert(Expert), [{"user_id": expert_ids[e], "max_load": MAX_LOAD, "parent_org": "",
                             "organization": f"申报单位{rng.integers(units)}" if e in insiders else f"大学{e % 50}"}
                            for e in range(experts)])  # fmt: skip
        rows, cols = np.nonzero(expert_doms)
        pairs = {(expert_ids[e], domain_id(d)) for e, d in zip(rows.tolist(), cols.tolist(), strict=True)}
        ex(insert(expert_domains), [{"expert_id": e, "domain_id": d} for e, d in sorted(pairs)])
        rows, cols = np.nonzero(expert_cats)
        ex(insert(expert_categories), [{"expert_id": expert_ids[e], "category_id": categories[c]}
                                       for e, c in zip(rows.tolist(), cols.tolist(), strict=True)])  # fmt: skip
        ex(insert(Case), [{"campaign_id": campaign.id, "unit_id": unit_ids[int(rng.integers(units))],
                           "created_by_id": organizer.id, "state": "expert_review", "title": f"案例 {c}",
                           "category_id": categories[case_category[c]], "domain_id": domain_id(case_domain[c])}
                          for c in range(cases)])  # fmt: skip
        case_ids = db.session.scalars(db.select(Case.id).order_by(Case.id)).all()
        rows, cols = np.nonzero(conflicted)
        for start in range(0, len(rows), 100_000):
            part = slice(start, start + 100_000)
            ex(insert(Conflict), [{"case_id": case_ids[c], "expert_id": expert_ids[e], "source": DECLARED,
                                   "reason": "declared"}
                                  for c, e in zip(rows[part].tolist(), cols[part].tolist(), strict=True)])  # fmt: skip
        db.session.commit()
        t1 = time.perf_counter()
        print(f"database {url.split(':')[0]}: {cases} cases, {experts} experts, {len(rows)} declared conflicts "
              f"stored in {t1 - t0:.1f} s")  # fmt: skip
        db.session.expire_all()
        t1, c1 = time.perf_counter(), time.process_time()
        proposal = assignment.propose(db.session.get(type(campaign), campaign.id), organizer)
        db.session.commit()
        t2, c2 = time.perf_counter(), time.process_time()
        auto = db.session.scalar(db.select(db.func.count()).select_from(Conflict).where(Conflict.source == "auto"))
        problem = assignment.build_problem(campaign)
        bound = lower_bound(problem)
        loads = np.bincount([e for _c, e, _cost in proposal.pairs], minlength=max(expert_ids) + 1)[expert_ids]
        print(f"rows → stored proposal in {t2 - t1:.2f} s ({c2 - c1:.2f} s of CPU): "
              f"{len(proposal.pairs)}/{cases * PER_CASE} pairs, "
              f"{auto} automatic conflicts found and stored, cost {proposal.total_cost}, lower bound {bound}, "
              f"ratio {proposal.total_cost / bound:.3f}; loads {loads.min()}–{loads.max()} "
              f"(limit {MAX_LOAD})")  # fmt: skip
        db.session.remove()
        db.drop_all()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=1000)
    parser.add_argument("--experts", type=int, default=200)
    parser.add_argument("--database", action="store_true", help="also time it from database rows")
    args = parser.parse_args()
    cases, experts = args.cases, args.experts
    t0 = time.perf_counter()
    problem = instance(cases, experts)
    t1 = time.perf_counter()
    solution = solve(problem)
    t2 = time.perf_counter()
    baseline = greedy(problem)
    t3 = time.perf_counter()
    bound = lower_bound(problem)
    optimal_cost = solution.total_cost
    greedy_cost = total_cost(problem, baseline)
    loads = [solution.loads.get(e, 0) for e in range(experts)]
    greedy_loads = np.bincount([e for _c, e in baseline], minlength=experts).tolist()
    kinds = (("domain", DOMAIN_MATCH), ("category", CATEGORY_MATCH), ("none", NO_MATCH))
    matches = {name: sum(1 for _c, _e, cost in solution.pairs if cost == value) for name, value in kinds}
    greedy_costs = [int(problem.costs[c, e]) for c, e in baseline]
    greedy_matches = {name: greedy_costs.count(value) for name, value in kinds}
    allowed = problem.allowed_pairs
    print(f"instance: {cases} cases, {experts} experts, {PER_CASE} per case, {allowed} allowed pairs "
          f"({1 - allowed / (cases * experts):.1%} conflicted), built in {t1 - t0:.2f} s")  # fmt: skip
    print(f"flow: {solution.candidates} candidate pairs ({solution.candidates / allowed:.1%} of the allowed), "
          f"{solution.rounds} round(s) until no left-out pair pays "
          f"(reduced costs ≥ 0: optimal for all pairs)")  # fmt: skip
    print(f"coverage: optimal {len(solution.pairs)}/{cases * PER_CASE}, greedy {len(baseline)}/{cases * PER_CASE}")
    print(f"cost: optimal {optimal_cost}, greedy {greedy_cost}, lower bound {bound}")
    print(f"ratio greedy cost / optimal cost      = {greedy_cost / optimal_cost:.3f}")
    print(f"ratio optimal cost / lower bound      = {optimal_cost / bound:.3f}")
    print(f"ratio solver time / greedy time       = {(t2 - t1) / (t3 - t2):.1f}  (solver {t2 - t1:.2f} s)")
    print(f"matches optimal: {matches}; greedy: {greedy_matches}")
    for name, values in (("optimal", loads), ("greedy ", greedy_loads)):
        print(f"loads {name}: min {min(values)}, max {max(values)} (limit {MAX_LOAD}), "
              f"stdev {statistics.pstdev(values):.2f}, "
              f"max/mean {max(values) / statistics.fmean(values):.2f}")  # fmt: skip
    if args.database:
        from_the_database(cases, experts)


if __name__ == "__main__":
    main()
