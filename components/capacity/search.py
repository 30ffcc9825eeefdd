"""The node-count search on one instance type: heuristics first, the solver where they stop.

For a count n the pool "fits" when every pod and each workload's surge fit on n nodes
(and, when the pool must survive an AZ loss, every pod fits on the nodes left); the
heuristic packers answer quickly when they find a packing, the MILP (`exact.py`)
answers "fits", "does not fit" or, at its work limit, "unknown". The lower bounds
(`bounds.py`) answer "does not fit" for every count below them.

`heuristic_count` gives the heuristics' count from the proven bound up; `improve` settles
the counts in between with the solver while a `Budget` of runs lasts. A `Count` holds the
fewest nodes found and the proven bound (no count below it fits); it is proven optimal
when the two meet.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from slipway.components.capacity import exact
from slipway.components.capacity.bounds import after_az_loss, fewest_surviving, nodes_bound
from slipway.components.capacity.demand import PoolDemand, Workload
from slipway.components.capacity.packing import pack, pack_with_surge, pods_to_place, smallest, surge_fits

SHAKES = 12
"""Rounds of shaken orders the surge packer tries before the solver is asked."""


@dataclass
class Budget:
    """How many solver runs a plan may still spend (shared by every type of one pool).

    Counted in runs, each limited in branch-and-bound nodes (`exact.WORK_LIMIT`), never in
    seconds: the same inputs get the same plan on any machine."""

    runs: int
    work: int = exact.WORK_LIMIT
    """Branch-and-bound nodes per run."""
    total_work: int | None = None
    """Branch-and-bound nodes for all runs together (None: runs × work)."""
    spent: int = 0
    worked: int = 0
    """Branch-and-bound nodes explored so far."""
    timed_out: bool = False
    """A run hit the wall-clock guard: this plan may differ on a slower machine."""
    stops: set[str] = field(default_factory=set[str])
    """Why a question went unanswered: "budget" (runs spent), "work" (a run reached its work
    limit), "size" (a model too large to ask), "clock" (a run hit the wall-clock guard)."""
    answers: dict[tuple[tuple[int, int, int], int, bool], exact.Fit] = field(
        default_factory=dict[tuple[tuple[int, int, int], int, bool], exact.Fit]
    )
    """Answers so far by (room, nodes, surge): types of one size in different families leave
    the same room, and are decided once."""

    def fit(self, workloads: Sequence[Workload], room: tuple[int, int, int], nodes: int, surge: bool) -> exact.Fit:
        """The solver's answer, once per question, while runs remain ("unknown" after)."""
        key = (room, nodes, surge)
        if key not in self.answers:
            left = self.work if self.total_work is None else min(self.work, self.total_work - self.worked)
            if self.spent >= self.runs or left < 1:
                self.stops.add("budget")
                return exact.Fit("unknown")
            answer = exact.fit(workloads, room, nodes, surge=surge, work_limit=left)
            self.spent += 0 if answer.too_large else 1
            self.worked += answer.work
            self.timed_out |= answer.timed_out
            if answer.answer == "unknown":
                self.stops.add("size" if answer.too_large else "clock" if answer.timed_out else "work")
            self.answers[key] = answer
        return self.answers[key]


def heuristic_steady(
    workloads: Sequence[Workload], room: tuple[int, int, int], nodes: int, shakes: int = 0
) -> list[dict[str, int]] | None:
    """A placement of every pod with room for each rollout, by the heuristics (the surge packer
    with `shakes` rounds of shaken orders); None if they fail."""
    surging = [w for w in workloads if w.max_surge > 0]
    big = max(surging, key=lambda w: max(w.cpu_m / room[0], w.memory_mib / room[1]), default=None)
    hole = (big.cpu_m * big.max_surge, big.memory_mib * big.max_surge) if big else None
    bins = pack(
        pods_to_place(workloads, nodes),
        nodes,
        room,
        lambda b: all(surge_fits(b, w, nodes) for w in surging),
        holes=[(0, 0)] + ([hole] if hole else []),
    )
    if bins is None and surging:
        bins = pack_with_surge(workloads, nodes, room, shakes=shakes)
    return bins.placed if bins is not None else None


def check(
    demand: PoolDemand, room: tuple[int, int, int], nodes: int, budget: Budget | None, bound: int = 0
) -> exact.Fit:
    """Does the pool fit on `nodes` nodes of this room ("fits" with a steady placement, "no",
    "unknown")? With a `budget`, the heuristics also try shaken orders and the solver runs
    where they fail, while the budget allows (None: the plain heuristics only)."""
    if nodes < max(bound, 1):
        return exact.Fit("no")
    ws = demand.workloads
    placement = heuristic_steady(ws, room, nodes, shakes=SHAKES if budget is not None else 0)
    answer: exact.Answer = "fits" if placement is not None else "unknown"
    if placement is None and budget is not None:
        result = budget.fit(ws, room, nodes, surge=True)
        answer, placement = result.answer, result.placement
    if answer == "no" or not demand.survive_az_loss:
        return exact.Fit(answer, placement)
    left = after_az_loss(nodes, demand.az_count)
    if left < 1 or left < nodes_bound(ws, room, surge=False):
        return exact.Fit("no")
    if pack(pods_to_place(ws, left), left, room) is None:
        after = budget.fit(ws, room, left, surge=False) if budget is not None else exact.Fit("unknown")
        if after.answer != "fits":
            return exact.Fit(after.answer)
    return exact.Fit(answer, placement)


def lowest_count(demand: PoolDemand, room: tuple[int, int, int]) -> int:
    """The proven lower bound on the node count: resources (with surge), AZs, minSize, AZ loss."""
    steady = nodes_bound(demand.workloads, room, surge=False)
    low = max(nodes_bound(demand.workloads, room), demand.min_nodes, demand.az_count, 1)
    if demand.survive_az_loss and demand.az_count >= 2:
        low = max(low, fewest_surviving(max(steady, 1), demand.az_count))
    return low


@dataclass(frozen=True)
class Count:
    """The node count on one type: the fewest found that hold the pool, and the proven floor."""

    nodes: int | None
    """Fewest nodes found that hold the pool (None: none up to max_nodes)."""
    placement: list[dict[str, int]] | None = field(repr=False)
    bound: int
    """No fewer nodes can hold the pool (proved by the bounds or the solver)."""

    @property
    def proven(self) -> bool:
        return self.nodes is not None and self.nodes == self.bound


def heuristic_count(demand: PoolDemand, room: tuple[int, int, int], low: int) -> Count:
    """The fewest nodes the heuristics find, from the proven bound `low` up to maxSize
    (`packing.smallest`: doubling, then bisecting); `improve` settles the counts below it."""

    def found(n: int) -> list[dict[str, int]] | None:
        verdict = check(demand, room, n, None, low)
        return verdict.placement if verdict.answer == "fits" else None

    result = smallest(found, low, demand.max_nodes)
    return Count(result[0], result[1], low) if result else Count(None, None, low)


def improve(demand: PoolDemand, room: tuple[int, int, int], count: Count, budget: Budget, below: int) -> Count:
    """Settle the counts under both the heuristics' count and `below` while the budget lasts:
    first downward from the heuristics' count (each count that fits is a cheaper plan), then
    upward from the proven bound (each count that does not fit raises it; the first that fits
    is the answer). Feasibility is not monotone in the count — a spread cap ⌈replicas / n⌉
    tightens as n grows, so 5 nodes may hold a pool that 6 cannot — hence a count that fails on
    the way down proves nothing about those below it, and only the upward pass moves the bound.
    An "unknown" ends a pass: the gap stays."""
    nodes, placement, bound = count.nodes, count.placement, count.bound
    if nodes is not None:
        n = min(below, nodes) - 1
        while n >= bound:
            verdict = check(demand, room, n, budget, bound)
            if verdict.answer != "fits":
                break
            nodes, placement, n = n, verdict.placement, n - 1
    top = min(below, nodes if nodes is not None else demand.max_nodes + 1)
    n = bound
    while n < top:
        verdict = check(demand, room, n, budget, bound)
        if verdict.answer == "fits":
            nodes, placement = n, verdict.placement
            break
        if verdict.answer == "unknown":
            break
        bound = n = n + 1
    if nodes is not None:
        bound = min(bound, nodes)
    return Count(nodes, placement, bound)
