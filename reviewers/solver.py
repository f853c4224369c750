"""Optimal reviewer assignment as a minimum-cost flow (HotCRP's autoassigner is the model).

source → case (capacity: reviewers still needed) → expert (capacity 1 per pair, cost: expertise match;
conflicted pairs are simply absent) → sink through one arc per additional unit of load, each with a higher
cost than the last: a convex load cost, so among equally suited experts the work spreads evenly, and no
expert ever exceeds their limit. The solver maximises coverage first, then minimises the total cost.

A national campaign has millions of allowed pairs (10,000 cases × 2,000 experts), almost all of them
irrelevant: the flow is solved on each case's few best candidates only, and the result is then *proven*
optimal for the whole instance. The proof is the classic one of linear programming: node potentials from the
residual graph of the sparse solution, under which no left-out pair has a negative reduced cost (so no
cheaper assignment exists that uses it). A left-out pair that would pay is added to the candidates and the
flow is solved again; in practice the first round is already optimal.

Pure data in, pure data out: no database here, so the benchmark and the tests can drive it directly.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np
from ortools.graph.python import min_cost_flow

# Costs, in whole points. A domain match is free; a category match costs a little; no match costs a lot.
DOMAIN_MATCH, CATEGORY_MATCH, NO_MATCH = 0, 10, 40
FORBIDDEN = -1  # in a cost matrix: a conflicted pair, or one assigned before

BEYOND_FAIR_SHARE = 15  # extra cost per review beyond an expert's fair share of the work
CANDIDATES_PER_CASE = 24  # each case's best experts the first round of the flow sees (more are added if they pay)


def load_cost(k: int, fair_share: int | None = None) -> int:
    """Marginal cost of an expert's k-th review (k ≥ 1): increasing, hence convex in the load.

    Gently rising up to the fair share (total reviews / experts), steeply beyond it: an expert then takes
    more than the fair share only where expertise clearly pays for it.
    """
    cost = k - 1
    if fair_share is not None and k > fair_share:
        cost += BEYOND_FAIR_SHARE * (k - fair_share)
    return cost


def _load_costs(k: np.ndarray, fair_share: int | None) -> np.ndarray:
    """load_cost over an array of k."""
    cost = k - 1
    if fair_share is not None:
        cost = cost + BEYOND_FAIR_SHARE * np.maximum(k - fair_share, 0)
    return cost


@dataclass(frozen=True)
class Problem:
    """The problem as mappings (tests and small callers)."""

    needs: Mapping[int, int]  # case id → reviewers still needed
    capacity: Mapping[int, tuple[int, int]]  # expert id → (current load, maximum load)
    costs: Mapping[tuple[int, int], int]  # (case id, expert id) → match cost, only for allowed pairs


@dataclass(frozen=True)
class Instance:
    """The problem as arrays: one row per case, one column per expert (what the database gives)."""

    case_ids: np.ndarray  # (n,) case ids, increasing
    needs: np.ndarray  # (n,) reviewers still needed
    expert_ids: np.ndarray  # (m,) expert ids, increasing
    current: np.ndarray  # (m,) current load
    maximum: np.ndarray  # (m,) maximum load (≥ current)
    costs: np.ndarray  # (n, m) match cost, FORBIDDEN where the pair is not allowed

    @property
    def allowed_pairs(self) -> int:
        return int(np.count_nonzero(self.costs >= 0))

    def candidates_of(self, row: int) -> np.ndarray:
        """Column indices of the experts allowed for the case in this row."""
        return np.flatnonzero(self.costs[row] >= 0)


def as_instance(problem: Problem | Instance) -> Instance:
    if isinstance(problem, Instance):
        return problem
    case_ids = np.array(sorted(problem.needs), dtype=np.int64)
    expert_ids = np.array(sorted(problem.capacity), dtype=np.int64)
    row = {int(c): i for i, c in enumerate(case_ids)}
    col = {int(e): j for j, e in enumerate(expert_ids)}
    costs = np.full((len(case_ids), len(expert_ids)), FORBIDDEN, dtype=np.int16)
    for (case, expert), cost in problem.costs.items():
        if case in row and expert in col:
            costs[row[case], col[expert]] = cost
    capacity = [problem.capacity[int(e)] for e in expert_ids]
    return Instance(
        case_ids=case_ids,
        needs=np.array([problem.needs[int(c)] for c in case_ids], dtype=np.int64),
        expert_ids=expert_ids,
        current=np.array([c for c, _m in capacity], dtype=np.int64).reshape(-1),
        maximum=np.array([m for _c, m in capacity], dtype=np.int64).reshape(-1),
        costs=costs,
    )


@dataclass
class Solution:
    pairs: list[tuple[int, int, int]] = field(default_factory=list)  # (case, expert, match cost)
    missing: dict[int, int] = field(default_factory=dict)  # case → reviewers it could not get
    total_cost: int = 0  # match costs plus load costs of the new assignments
    candidates: int = 0  # case-expert pairs the flow saw in its last round
    rounds: int = 0  # times the flow was solved until no left-out pair paid

    @property
    def loads(self) -> dict[int, int]:
        result: dict[int, int] = {}
        for _case, expert, _cost in self.pairs:
            result[expert] = result.get(expert, 0) + 1
        return result


def fair_share(problem: Problem | Instance) -> int | None:
    """Reviews per expert if all the work, old and new, were spread evenly."""
    if isinstance(problem, Instance):
        if not len(problem.expert_ids):
            return None
        work = int(problem.needs.sum()) + int(problem.current.sum())
        return -(-work // len(problem.expert_ids))
    if not problem.capacity:
        return None
    work = sum(problem.needs.values()) + sum(current for current, _max in problem.capacity.values())
    return -(-work // len(problem.capacity))


def _initial_candidates(costs: np.ndarray, per_case: int) -> np.ndarray:
    """About ``per_case`` of each case's cheapest allowed experts, and a third as many of the next dearer kind
    of match (where the cheapest experts are in demand, the optimum takes some of those). Among equally suited
    experts the choice is spread by a fixed pseudo-random draw, so that similar cases do not all pile onto
    the same few; exactness does not matter here, the reduced-cost check below makes up for any choice."""
    allowed = costs >= 0
    n, m = costs.shape
    if per_case >= m:
        return allowed
    levels = np.flatnonzero(np.bincount(costs.ravel().astype(np.int64) + 1)[1:]) if allowed.any() else []
    draw = np.random.default_rng(2017).integers(0, 1 << 16, size=(n, m), dtype=np.uint16)
    chosen = np.zeros((n, m), dtype=bool)
    wanted = np.full(n, per_case, dtype=np.int64)  # still to take at the cheapest levels
    reserve = np.zeros(n, dtype=np.int64)  # to take at the level after the one that filled the wish
    for level in levels:
        at = costs == level
        count = at.sum(axis=1)
        take = np.where(wanted > 0, wanted, reserve)
        share = np.where(count > 0, np.minimum(take / np.maximum(count, 1), 1.0), 0.0)
        chosen |= at & (draw < (share * 65536)[:, None])
        filled = (wanted > 0) & (count >= wanted)
        reserve = np.where(filled, -(-per_case // 3), 0)
        wanted = np.maximum(wanted - count, 0)
        if not wanted.any() and not reserve.any():
            break
    return chosen


def _slots(inst: Instance, share: int | None) -> tuple[np.ndarray, np.ndarray]:
    """Every expert's free load slots: (expert column, marginal load cost), in order of load."""
    free = np.maximum(inst.maximum - inst.current, 0).astype(np.int64)
    expert = np.repeat(np.arange(len(free), dtype=np.int64), free)
    within = np.arange(free.sum(), dtype=np.int64) - np.repeat(np.cumsum(free) - free, free)
    return expert, _load_costs(inst.current[expert] + 1 + within, share).astype(np.int64)


def _potentials(n_nodes: int, tails: np.ndarray, heads: np.ndarray, costs: np.ndarray) -> np.ndarray:
    """Shortest distances from a virtual root joined to every node (Bellman-Ford, vectorised): node potentials
    under which every residual arc has a non-negative reduced cost. Exists because the flow is optimal on the
    graph it was solved on (no negative cycle)."""
    order = np.argsort(heads, kind="stable")
    tails, heads, costs = tails[order], heads[order], costs[order]
    targets, starts = np.unique(heads, return_index=True)
    distance = np.zeros(n_nodes, dtype=np.int64)
    for _ in range(n_nodes + 1):
        best = np.minimum.reduceat(distance[tails] + costs, starts)
        improved = best < distance[targets]
        if not improved.any():
            return distance
        distance[targets[improved]] = best[improved]
    raise RuntimeError("negative cycle in the residual graph: the flow was not optimal")


def solve(problem: Problem | Instance, per_case: int = CANDIDATES_PER_CASE) -> Solution:
    inst = as_instance(problem)
    solution = Solution()
    rows = np.flatnonzero(inst.needs > 0)
    n, m = len(rows), len(inst.expert_ids)
    if n == 0:
        return solution
    costs = inst.costs[rows]
    needs = inst.needs[rows].astype(np.int64)
    allowed = costs >= 0
    if m == 0 or not allowed.any():
        solution.missing = {int(inst.case_ids[r]): int(inst.needs[r]) for r in rows}
        return solution
    chosen = _initial_candidates(costs, max(per_case, int(needs.max())))
    share = fair_share(inst)
    source, sink = 0, 1
    case_node = 2 + np.arange(n, dtype=np.int64)
    expert_node = 2 + n + np.arange(m, dtype=np.int64)
    slot_expert, slot_cost = _slots(inst, share)
    demand = int(needs.sum())
    n_nodes = 2 + n + m
    # Maximum coverage first, then minimum cost: as if a unit that cannot be placed went source → sink at a
    # price above any path through the graph (how the left-out pairs are checked, below).
    top = max(int(costs.max()), int(slot_cost.max()) if len(slot_cost) else 0, 1)
    bypass_cost = n_nodes * top + 1
    while True:
        solution.rounds += 1
        pair_case, pair_expert = np.nonzero(chosen)
        pair_cost = costs[pair_case, pair_expert].astype(np.int64)
        tails = np.concatenate([np.full(n, source), case_node[pair_case], expert_node[slot_expert]])
        heads = np.concatenate([case_node, expert_node[pair_expert], np.full(len(slot_expert), sink)])
        capacities = np.concatenate([needs, np.ones(len(pair_case) + len(slot_expert), dtype=np.int64)])
        unit_costs = np.concatenate([np.zeros(n, dtype=np.int64), pair_cost, slot_cost])
        flow = min_cost_flow.SimpleMinCostFlow()
        arcs = flow.add_arcs_with_capacity_and_unit_cost(tails, heads, capacities, unit_costs)
        flow.set_node_supply(source, demand)
        flow.set_node_supply(sink, -demand)
        status = flow.solve_max_flow_with_min_cost()
        if status != flow.OPTIMAL:
            raise RuntimeError(f"min-cost flow failed with status {status}")
        flows = flow.flows(arcs)
        unplaced = demand - int(flows[:n].sum())
        # Residual graph: an arc with room left forward, an arc carrying flow backward at the opposite cost;
        # the units left unplaced are seen as sent along a source → sink arc priced above any path.
        forward, backward = flows < capacities, flows > 0
        res_tails = np.concatenate([tails[forward], heads[backward], [source], [sink] if unplaced else []])
        res_heads = np.concatenate([heads[forward], tails[backward], [sink], [source] if unplaced else []])
        res_costs = np.concatenate([unit_costs[forward], -unit_costs[backward], [bypass_cost],
                                    [-bypass_cost] if unplaced else []])  # fmt: skip
        potential = _potentials(
            n_nodes, res_tails.astype(np.int64), res_heads.astype(np.int64), res_costs.astype(np.int64)
        )
        # A left-out allowed pair pays iff its reduced cost is negative; checked a block of cases at a time.
        # Each case takes its most paying ones (a few: most of the others stop paying once these are in).
        paying = False
        for start in range(0, n, 2048):
            block = slice(start, start + 2048)
            reduced = costs[block] + potential[case_node[block]][:, None] - potential[expert_node][None, :]
            reduced[~allowed[block] | chosen[block]] = 0
            if (reduced < 0).any():
                paying = True
                best = np.argpartition(reduced, per_case - 1, axis=1)[:, :per_case] if per_case < m else None
                add = np.zeros_like(reduced, dtype=bool)
                if best is None:
                    add[:] = True
                else:
                    add[np.arange(reduced.shape[0])[:, None], best] = True
                chosen[block] |= add & (reduced < 0)
        if not paying:
            break
    used = flows[n : n + len(pair_case)] > 0
    solution.total_cost = int(flow.optimal_cost())
    solution.candidates = len(pair_case)
    case_ids, expert_ids = inst.case_ids[rows][pair_case[used]], inst.expert_ids[pair_expert[used]]
    solution.pairs = list(zip(case_ids.tolist(), expert_ids.tolist(), pair_cost[used].tolist(), strict=True))
    got = flows[:n]
    short = np.flatnonzero(got < needs)
    solution.missing = dict(zip(inst.case_ids[rows][short].tolist(), (needs - got)[short].tolist(), strict=True))
    return solution


def total_cost(problem: Problem | Instance, pairs: Iterable[tuple[int, int]]) -> int:
    """The objective of any assignment (for comparing with baselines): match costs plus convex load costs."""
    inst = as_instance(problem)
    row = {int(c): i for i, c in enumerate(inst.case_ids)}
    col = {int(e): j for j, e in enumerate(inst.expert_ids)}
    loads = inst.current.astype(np.int64).tolist()
    share = fair_share(inst)
    total = 0
    for case, expert in pairs:
        j = col[expert]
        cost = int(inst.costs[row[case], j])
        if cost < 0:
            raise KeyError((case, expert))
        loads[j] += 1
        total += cost + load_cost(loads[j], share)
    return total


def greedy(problem: Problem | Instance) -> list[tuple[int, int]]:
    """The obvious baseline: each case in turn takes its cheapest available experts right now."""
    inst = as_instance(problem)
    loads = inst.current.astype(np.int64).copy()
    share = fair_share(inst)
    m = len(inst.expert_ids)
    order = np.arange(m, dtype=np.int64)
    pairs: list[tuple[int, int]] = []
    for i in np.flatnonzero(inst.needs > 0):
        costs = inst.costs[i].astype(np.int64)
        open_ = (costs >= 0) & (loads < inst.maximum)
        key = np.where(open_, (costs + _load_costs(loads + 1, share)) * m + order, np.iinfo(np.int64).max)
        need = int(inst.needs[i])
        best = np.argsort(key, kind="stable")[:need] if need < m else np.argsort(key, kind="stable")
        best = best[open_[best]]
        loads[best] += 1
        case = int(inst.case_ids[i])
        pairs.extend((case, int(inst.expert_ids[j])) for j in best)
    return pairs


def lower_bound(problem: Problem | Instance) -> int:
    """A bound no assignment of the same size can beat: each case's cheapest matches, plus the load cost of
    spreading the work perfectly evenly (ignoring which experts may review which case)."""
    inst = as_instance(problem)
    if not len(inst.case_ids):
        return 0
    costs = np.where(inst.costs >= 0, inst.costs.astype(np.int64), np.iinfo(np.int64).max)
    allowed = (inst.costs >= 0).sum(axis=1)
    ordered = np.sort(costs, axis=1)
    take = np.minimum(inst.needs, allowed)
    within = np.arange(costs.shape[1])[None, :] < take[:, None]
    match = int(np.where(within, ordered, 0).sum())
    units = int(take.sum())
    # Cheapest marginal load slots over all experts, taken in order: convexity makes this a valid bound.
    _expert, slot_cost = _slots(inst, fair_share(inst))
    return match + int(np.sort(slot_cost)[:units].sum())
