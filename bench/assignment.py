"""Benchmark: optimal reviewer assignment for 1,000 cases, 200 experts, 5 reviewers per case, ~5 % conflicts.

Prints ratios measured in this one run: the optimal total cost against a greedy baseline and against a lower
bound, the solver's time against the greedy baseline's, and how evenly the loads come out.
Run: ./dev.sh bench (or .venv/bin/python bench/assignment.py).
"""

from __future__ import annotations

import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from reviewers.solver import CATEGORY_MATCH, DOMAIN_MATCH, NO_MATCH, Problem, greedy, lower_bound, solve, total_cost

CASES, EXPERTS, PER_CASE, CONFLICT_RATE, MAX_LOAD = 1000, 200, 5, 0.05, 40
CATEGORIES, DOMAINS_PER_CATEGORY = 7, 5


def instance(seed: int = 2017) -> Problem:
    rng = random.Random(seed)
    # Cases crowd into some categories, as in the article (city operation and citizen services lead).
    weights = [76, 40, 36, 56, 36, 46, 14]
    case_topic = {
        c: (cat := rng.choices(range(CATEGORIES), weights)[0], rng.randrange(DOMAINS_PER_CATEGORY))
        for c in range(CASES)
    }
    expert_domains = {}
    expert_categories = {}
    for e in range(EXPERTS):
        home = rng.choices(range(CATEGORIES), weights)[0]
        expert_categories[e] = {home} | ({rng.randrange(CATEGORIES)} if rng.random() < 0.3 else set())
        expert_domains[e] = {(home, rng.randrange(DOMAINS_PER_CATEGORY)) for _ in range(rng.randint(1, 3))}
    costs = {}
    for c, (cat, dom) in case_topic.items():
        for e in range(EXPERTS):
            if rng.random() < CONFLICT_RATE:
                continue
            if (cat, dom) in expert_domains[e]:
                costs[c, e] = DOMAIN_MATCH
            elif cat in expert_categories[e]:
                costs[c, e] = CATEGORY_MATCH
            else:
                costs[c, e] = NO_MATCH
    return Problem({c: PER_CASE for c in range(CASES)}, {e: (0, MAX_LOAD) for e in range(EXPERTS)}, costs)


def main() -> None:
    t0 = time.perf_counter()
    problem = instance()
    t1 = time.perf_counter()
    solution = solve(problem)
    t2 = time.perf_counter()
    baseline = greedy(problem)
    t3 = time.perf_counter()
    bound = lower_bound(problem)
    optimal_cost = solution.total_cost
    greedy_cost = total_cost(problem, baseline)
    loads = [solution.loads.get(e, 0) for e in range(EXPERTS)]
    greedy_loads = [sum(1 for _c, x in baseline if x == e) for e in range(EXPERTS)]
    kinds = (("domain", DOMAIN_MATCH), ("category", CATEGORY_MATCH), ("none", NO_MATCH))
    matches = {name: sum(1 for _c, _e, cost in solution.pairs if cost == value) for name, value in kinds}
    greedy_matches = {name: sum(1 for c, e in baseline if problem.costs[c, e] == value) for name, value in kinds}
    print(f"instance: {CASES} cases, {EXPERTS} experts, {PER_CASE} per case, {len(problem.costs)} allowed pairs "
          f"({1 - len(problem.costs) / (CASES * EXPERTS):.1%} conflicted), built in {t1 - t0:.2f} s")  # fmt: skip
    print(f"coverage: optimal {len(solution.pairs)}/{CASES * PER_CASE}, greedy {len(baseline)}/{CASES * PER_CASE}")
    print(f"cost: optimal {optimal_cost}, greedy {greedy_cost}, lower bound {bound}")
    print(f"ratio greedy cost / optimal cost      = {greedy_cost / optimal_cost:.3f}")
    print(f"ratio optimal cost / lower bound      = {optimal_cost / bound:.3f}")
    print(f"ratio solver time / greedy time       = {(t2 - t1) / (t3 - t2):.1f}  (solver {t2 - t1:.2f} s)")
    print(f"matches optimal: {matches}; greedy: {greedy_matches}")
    for name, values in (("optimal", loads), ("greedy ", greedy_loads)):
        print(f"loads {name}: min {min(values)}, max {max(values)}, stdev {statistics.pstdev(values):.2f}, "
              f"max/mean {max(values) / statistics.fmean(values):.2f}")  # fmt: skip


if __name__ == "__main__":
    main()
