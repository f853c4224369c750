"""The assignment solver against an independent solver (networkx's network simplex) on random instances."""

from __future__ import annotations

import networkx as nx
from hypothesis import given, settings
from hypothesis import strategies as st

from reviewers.solver import Problem, fair_share, greedy, load_cost, lower_bound, solve, total_cost


@st.composite
def problems(draw) -> Problem:
    n_cases = draw(st.integers(1, 7))
    n_experts = draw(st.integers(1, 6))
    needs = {c: draw(st.integers(0, 3)) for c in range(n_cases)}
    capacity = {}
    for e in range(100, 100 + n_experts):
        current = draw(st.integers(0, 2))
        capacity[e] = (current, current + draw(st.integers(0, 4)))
    costs = {}
    for c in range(n_cases):
        for e in capacity:
            if draw(st.booleans()) or draw(st.booleans()):  # about a quarter of the pairs are conflicted
                costs[c, e] = draw(st.sampled_from([0, 10, 40]))
    return Problem(needs, capacity, costs)


def reference(problem: Problem) -> tuple[int, int]:
    """Max flow and its min cost, computed by networkx from the same graph description."""
    g = nx.DiGraph()
    for c, n in problem.needs.items():
        g.add_edge("s", ("c", c), capacity=n, weight=0)
    for (c, e), cost in problem.costs.items():
        g.add_edge(("c", c), ("e", e), capacity=1, weight=cost)
    share = fair_share(problem)
    for e, (current, maximum) in problem.capacity.items():
        # parallel arcs are not allowed in a DiGraph: one intermediate node per load slot
        for k in range(current + 1, maximum + 1):
            g.add_edge(("e", e), ("slot", e, k), capacity=1, weight=load_cost(k, share))
            g.add_edge(("slot", e, k), "t", capacity=1, weight=0)
    if "t" not in g:
        return 0, 0
    flow = nx.max_flow_min_cost(g, "s", "t")
    value = sum(flow["s"].values())
    return value, nx.cost_of_flow(g, flow)


@settings(max_examples=150, deadline=None)
@given(problems())
def test_solver_is_optimal_and_feasible(problem):
    solution = solve(problem)
    flow, cost = reference(problem)
    pairs = [(c, e) for c, e, _cost in solution.pairs]
    assert len(pairs) == flow, "covers as many reviews as possible"
    assert solution.total_cost == cost == total_cost(problem, pairs), "at the minimum cost"
    assert all(pair in problem.costs for pair in pairs), "never a conflicted pair"
    assert len(set(pairs)) == len(pairs), "never the same expert twice on a case"
    for expert, load in solution.loads.items():
        current, maximum = problem.capacity[expert]
        assert current + load <= maximum, "never beyond an expert's load limit"
    for case, n in problem.needs.items():
        assert sum(1 for c, _e in pairs if c == case) == n - solution.missing.get(case, 0)
    if len(pairs) == len(greedy(problem)):
        assert solution.total_cost <= total_cost(problem, greedy(problem))
    assert lower_bound(problem) <= solution.total_cost or len(pairs) < sum(problem.needs.values())


@settings(max_examples=150, deadline=None)
@given(problems())
def test_few_candidates_per_case_still_give_the_optimum_of_all_pairs(problem):
    """The flow first sees only each case's best expert; the pairs left out that would pay are found by the
    reduced-cost check and added, until the sparse optimum is the optimum of the whole instance."""
    solution = solve(problem, per_case=1)
    flow, cost = reference(problem)
    pairs = [(c, e) for c, e, _cost in solution.pairs]
    assert (len(pairs), solution.total_cost) == (flow, cost)
    assert solution.total_cost == total_cost(problem, pairs)
    for expert, load in solution.loads.items():
        current, maximum = problem.capacity[expert]
        assert current + load <= maximum


def test_equally_suited_experts_share_the_work_evenly():
    problem = Problem({c: 2 for c in range(10)}, {e: (0, 20) for e in range(4)}, {(c, e): 0 for c in range(10)
                                                                                for e in range(4)})  # fmt: skip
    loads = solve(problem).loads
    assert sorted(loads.values()) == [5, 5, 5, 5]
