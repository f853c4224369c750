"""Optimal reviewer assignment as a minimum-cost flow (HotCRP's autoassigner is the model).

source → case (capacity: reviewers still needed) → expert (capacity 1 per pair, cost: expertise match;
conflicted pairs are simply absent) → sink through one arc per additional unit of load, each with a higher
cost than the last: a convex load cost, so among equally suited experts the work spreads evenly, and no
expert ever exceeds their limit. The solver maximises coverage first, then minimises the total cost.

Pure data in, pure data out: no database here, so the benchmark and the tests can drive it directly.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from ortools.graph.python import min_cost_flow

# Costs, in whole points. A domain match is free; a category match costs a little; no match costs a lot.
DOMAIN_MATCH, CATEGORY_MATCH, NO_MATCH = 0, 10, 40


BEYOND_FAIR_SHARE = 15  # extra cost per review beyond an expert's fair share of the work


def load_cost(k: int, fair_share: int | None = None) -> int:
    """Marginal cost of an expert's k-th review (k ≥ 1): increasing, hence convex in the load.

    Gently rising up to the fair share (total reviews / experts), steeply beyond it: an expert then takes
    more than the fair share only where expertise clearly pays for it.
    """
    cost = k - 1
    if fair_share is not None and k > fair_share:
        cost += BEYOND_FAIR_SHARE * (k - fair_share)
    return cost


@dataclass(frozen=True)
class Problem:
    needs: Mapping[int, int]  # case id → reviewers still needed
    capacity: Mapping[int, tuple[int, int]]  # expert id → (current load, maximum load)
    costs: Mapping[tuple[int, int], int]  # (case id, expert id) → match cost, only for allowed pairs


@dataclass
class Solution:
    pairs: list[tuple[int, int, int]] = field(default_factory=list)  # (case, expert, match cost)
    missing: dict[int, int] = field(default_factory=dict)  # case → reviewers it could not get
    total_cost: int = 0  # match costs plus load costs of the new assignments

    @property
    def loads(self) -> dict[int, int]:
        result: dict[int, int] = {}
        for _case, expert, _cost in self.pairs:
            result[expert] = result.get(expert, 0) + 1
        return result


def solve(problem: Problem) -> Solution:
    cases = sorted(c for c, n in problem.needs.items() if n > 0)
    experts = sorted(problem.capacity)
    node = {("case", c): i + 2 for i, c in enumerate(cases)}
    node.update({("expert", e): len(cases) + i + 2 for i, e in enumerate(experts)})
    source, sink = 0, 1
    flow = min_cost_flow.SimpleMinCostFlow()
    pair_arcs: list[tuple[int, int, int, int]] = []
    for case in cases:
        flow.add_arc_with_capacity_and_unit_cost(source, node["case", case], problem.needs[case], 0)
    for (case, expert), cost in problem.costs.items():
        if ("case", case) in node and ("expert", expert) in node:
            arc = flow.add_arc_with_capacity_and_unit_cost(node["case", case], node["expert", expert], 1, cost)
            pair_arcs.append((arc, case, expert, cost))
    share = fair_share(problem)
    for expert in experts:
        current, maximum = problem.capacity[expert]
        for k in range(current + 1, maximum + 1):
            flow.add_arc_with_capacity_and_unit_cost(node["expert", expert], sink, 1, load_cost(k, share))
    demand = sum(problem.needs[c] for c in cases)
    flow.set_node_supply(source, demand)
    flow.set_node_supply(sink, -demand)
    solution = Solution()
    if not pair_arcs:
        solution.missing = {c: problem.needs[c] for c in cases}
        return solution
    status = flow.solve_max_flow_with_min_cost()
    if status != flow.OPTIMAL:
        raise RuntimeError(f"min-cost flow failed with status {status}")
    got: dict[int, int] = {}
    for arc, case, expert, cost in pair_arcs:
        if flow.flow(arc):
            solution.pairs.append((case, expert, cost))
            got[case] = got.get(case, 0) + 1
    solution.missing = {c: problem.needs[c] - got.get(c, 0) for c in cases if got.get(c, 0) < problem.needs[c]}
    solution.total_cost = flow.optimal_cost()
    return solution


def fair_share(problem: Problem) -> int | None:
    """Reviews per expert if all the work, old and new, were spread evenly."""
    if not problem.capacity:
        return None
    work = sum(problem.needs.values()) + sum(current for current, _max in problem.capacity.values())
    return -(-work // len(problem.capacity))


def total_cost(problem: Problem, pairs: Iterable[tuple[int, int]]) -> int:
    """The objective of any assignment (for comparing with baselines): match costs plus convex load costs."""
    loads = {e: current for e, (current, _max) in problem.capacity.items()}
    share = fair_share(problem)
    total = 0
    for case, expert in pairs:
        total += problem.costs[case, expert]
        loads[expert] += 1
        total += load_cost(loads[expert], share)
    return total


def greedy(problem: Problem) -> list[tuple[int, int]]:
    """The obvious baseline: each case in turn takes its cheapest available experts right now."""
    loads = {e: current for e, (current, _max) in problem.capacity.items()}
    share = fair_share(problem)
    by_case: dict[int, list[tuple[int, int]]] = {}
    for (case, expert), cost in problem.costs.items():
        by_case.setdefault(case, []).append((cost, expert))
    pairs: list[tuple[int, int]] = []
    for case in sorted(problem.needs):
        options = sorted(
            (cost + load_cost(loads[e] + 1, share), e)
            for cost, e in by_case.get(case, [])
            if loads[e] < problem.capacity[e][1]
        )
        for _cost, expert in options[: problem.needs[case]]:
            pairs.append((case, expert))
            loads[expert] += 1
    return pairs


def lower_bound(problem: Problem) -> int:
    """A bound no assignment of the same size can beat: each case's cheapest matches, plus the load cost of
    spreading the work perfectly evenly (ignoring which experts may review which case)."""
    by_case: dict[int, list[int]] = {}
    for (case, _expert), cost in problem.costs.items():
        by_case.setdefault(case, []).append(cost)
    match = sum(sum(sorted(by_case.get(c, []))[:n]) for c, n in problem.needs.items())
    units = sum(min(n, len(by_case.get(c, []))) for c, n in problem.needs.items())
    # Cheapest marginal load slots over all experts, taken in order: convexity makes this a valid bound.
    share = fair_share(problem)
    slots = sorted(
        load_cost(k, share) for current, maximum in problem.capacity.values() for k in range(current + 1, maximum + 1)
    )
    return match + sum(slots[:units])
