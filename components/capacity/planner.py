"""Plan each node pool: the cheapest instance type and node count that holds its pods.

For one pool the planner is given the pods that will run there (replicas × requests
of each workload), the DaemonSets on every node, the AZ count and constraints, and
for every candidate instance type it finds the fewest nodes on which:

* every pod fits in a node's allocatable CPU, memory and pod slots, after
  kube-reserved, the eviction threshold, VM overhead and the DaemonSets;
* a rolling update of any deployment (one at a time) has room for its surge pods
  next to the running ones;
* replicas of one workload are spread: at most ⌈replicas / nodes⌉ per node;
* there is a node in every AZ in use; and, when asked (prod), all pods still fit
  after the AZ holding the most nodes is lost.

The node count on a type is found in three steps (`search.py`): proven lower bounds
(`bounds.py`: per-resource bin-packing bounds, each rollout's surge, the AZ rules); the
heuristic packers (`packing.py`: largest first under a few orders and node choices, with
a hole or shared reservations for surge pods), the fast first answer; and, for the counts
between the two that could change the answer, an exact MILP (`exact.py`, HiGHS) within a
run budget counted in work, not seconds. The cheapest type wins; ties go to more (smaller)
nodes, then to the name. A plan says whether it is proven optimal, else how far it may be
from it (`PoolResult.bound_usd`, `PoolPlan.bound_nodes`). Same inputs, same plan.

This module holds the plans and the search over instance types. What a pool must run is
in `demand.py`, a node's room and the LP floor over mixes in `room.py`, mixed-type advice
in `mixing.py`; their public names are re-exported here.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from slipway.components.capacity.catalog import InstanceType
from slipway.components.capacity.demand import (
    AWS_NODE,
    COREDNS,
    DEFAULT_DAEMONSETS,
    KUBE_PROXY,
    DaemonSet,
    PoolDemand,
    Workload,
)
from slipway.components.capacity.room import per_node_room, usable_capacity_bound, why_too_small
from slipway.components.capacity.search import Budget, Count, heuristic_count, improve, lowest_count

__all__ = [
    "AWS_NODE",
    "COREDNS",
    "DEFAULT_DAEMONSETS",
    "KUBE_PROXY",
    "DaemonSet",
    "PoolDemand",
    "PoolPlan",
    "PoolResult",
    "Workload",
    "per_node_room",
    "plan_on",
    "plan_pool",
    "usable_capacity_bound",
    "why_too_small",
]


@dataclass
class PoolPlan:
    """A feasible plan for one pool on one instance type."""

    pool: str
    instance_type: InstanceType
    nodes: int
    max_nodes: int
    placement: list[dict[str, int]] = field(repr=False)
    """Pods per workload on each node, in the steady state (no surge)."""
    cpu_used_m: int
    cpu_alloc_m: int
    mem_used_mib: int
    mem_alloc_mib: int
    pods_used: int
    pods_max: int
    daemonset_pods_per_node: int
    bound_nodes: int = 0
    """No fewer nodes of this type can hold the pool (proved); equal to `nodes` when the
    count is proven optimal for the type."""
    timed_out: bool = False
    """A solver run for this count hit its wall-clock guard: it may differ on a slower machine."""
    stops: tuple[str, ...] = ()
    """Why the search left a gap (`search.Budget.stops`), when it did."""

    @property
    def proven(self) -> bool:
        """The node count is the fewest this type allows (proved by bounds or the solver)."""
        return self.bound_nodes >= self.nodes

    @property
    def monthly_usd(self) -> float:
        return self.nodes * self.instance_type.monthly_usd

    @property
    def cpu_utilization(self) -> float:
        return self.cpu_used_m / self.cpu_alloc_m if self.cpu_alloc_m else 0.0

    @property
    def memory_utilization(self) -> float:
        return self.mem_used_mib / self.mem_alloc_mib if self.mem_alloc_mib else 0.0

    @property
    def pod_utilization(self) -> float:
        return self.pods_used / self.pods_max if self.pods_max else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "pool": self.pool,
            "instanceType": self.instance_type.name,
            "nodes": self.nodes,
            "minSize": self.nodes,
            "desiredSize": self.nodes,
            "maxSize": self.max_nodes,
            "pods": self.pods_used,
            "maxPods": self.pods_max,
            "cpu": {"requestedMillicores": self.cpu_used_m, "allocatableMillicores": self.cpu_alloc_m},
            "memory": {"requestedMiB": self.mem_used_mib, "allocatableMiB": self.mem_alloc_mib},
            "utilization": {
                "cpu": round(self.cpu_utilization, 3),
                "memory": round(self.memory_utilization, 3),
                "pods": round(self.pod_utilization, 3),
            },
            "monthlyUsd": round(self.monthly_usd, 2),
            "provenFewestNodes": self.proven,
            "nodesLowerBound": self.bound_nodes,
        }


@dataclass
class PoolResult:
    """The chosen plan, the runners-up, the proven bound, and why other types failed."""

    demand: PoolDemand
    plan: PoolPlan | None
    alternatives: list[PoolPlan]
    bound_usd: float
    """No plan on the candidate types costs less per month (proved: per type, the fewest
    nodes the bounds and the solver leave possible); equal to the plan's cost when the plan
    is proven optimal."""
    rejected: dict[str, str]
    """Instance type → why it cannot hold this pool (with these constraints)."""
    solver_runs: int = 0
    timed_out: bool = False
    """A solver run hit its wall-clock guard: the plan may differ on a slower machine."""
    stops: tuple[str, ...] = ()
    """Why the search left a gap (`search.Budget.stops`), when it did."""
    candidates: int = 0
    """Instance types considered (priced)."""

    @property
    def proven(self) -> bool:
        """The plan is the cheapest single-type plan on these candidates (proved)."""
        return self.plan is not None and self.bound_usd >= self.plan.monthly_usd - 0.005

    @property
    def gap(self) -> float:
        """How much cheaper a plan could still be, as a share of this plan's cost (0 when proven)."""
        if not self.plan or not self.plan.monthly_usd:
            return 0.0
        return max(0.0, 1 - self.bound_usd / self.plan.monthly_usd)


TYPE_RUNS = 3
"""Solver runs `plan_on` may spend closing the gap on one type (each limited in work, not time)."""
TYPE_WORK = 2_000
"""Branch-and-bound nodes those runs may explore together (a few seconds at most)."""
POOL_RUNS = 6
"""Solver runs `plan_pool` may spend on the types that could beat the heuristics' best plan."""
POOL_WORK = 3_000
"""Branch-and-bound nodes those runs may explore together."""


def plan_on(t: InstanceType, demand: PoolDemand, runs: int = TYPE_RUNS) -> PoolPlan | str:
    """The smallest feasible plan on instance type `t`, or why there is none: the heuristics'
    count, then the counts below it down to the proven bound decided by the solver."""
    too_small = why_too_small(t, demand)
    if too_small:
        return too_small
    if demand.survive_az_loss and demand.az_count < 2:
        return "surviving an AZ loss needs at least 2 AZs"
    room = per_node_room(t, demand)
    low = lowest_count(demand, room)
    if low > demand.max_nodes:
        return _too_few(t, demand, low)
    count = heuristic_count(demand, room, low)
    budget = Budget(runs, total_work=TYPE_WORK * runs // TYPE_RUNS)
    if runs:
        count = improve(demand, room, count, budget, below=count.nodes or demand.max_nodes + 1)
    return _plan(t, demand, count, budget) or _none_found(t, demand)


def _too_few(t: InstanceType, demand: PoolDemand, low: int) -> str:
    return (
        f"{t.name} needs at least {low} nodes, above maxSize {demand.max_nodes} "
        f"({demand.total_pods} pods, {demand.total_cpu_m}m CPU, {demand.total_memory_mib} MiB requested)"
    )


def _none_found(t: InstanceType, demand: PoolDemand) -> str:
    return (
        f"{t.name}: no packing found on up to maxSize {demand.max_nodes} nodes "
        f"({demand.total_pods} pods, {demand.total_cpu_m}m CPU, {demand.total_memory_mib} MiB requested)"
    )


def _plan(t: InstanceType, demand: PoolDemand, count: Count, budget: Budget | None = None) -> PoolPlan | None:
    if count.nodes is None or count.placement is None:
        return None
    nodes = count.nodes
    cpu, mem, max_pods = t.allocatable(demand.prefix_delegation)
    ds = len(demand.daemonsets)
    return PoolPlan(
        pool=demand.name,
        instance_type=t,
        nodes=nodes,
        max_nodes=demand.autoscale_max or max(math.ceil(nodes * 1.5), nodes + 1),
        placement=count.placement,
        cpu_used_m=demand.total_cpu_m + nodes * demand.daemonset_cpu_m,
        cpu_alloc_m=nodes * cpu,
        mem_used_mib=demand.total_memory_mib + nodes * demand.daemonset_memory_mib,
        mem_alloc_mib=nodes * mem,
        pods_used=demand.total_pods + nodes * ds,
        pods_max=nodes * max_pods,
        daemonset_pods_per_node=ds,
        bound_nodes=count.bound,
        timed_out=budget.timed_out if budget else False,
        stops=tuple(sorted(budget.stops)) if budget and count.bound < count.nodes else (),
    )


def plan_pool(
    demand: PoolDemand, candidates: Sequence[InstanceType], alternatives: int = 3, runs: int = POOL_RUNS
) -> PoolResult:
    """The cheapest plan for `demand` among `candidates` (priced types only), the runners-up,
    and the proven bound.

    Every type gets a proven lower bound on its node count (`search.lowest_count`), hence a
    cost floor. The heuristics plan the types cheapest floor first until the floors pass the
    runners-up; then the solver decides, cheapest first, the counts that would beat the best
    plan found, while its run budget lasts. What it could not decide is the remaining gap:
    the bound is the cheapest floor left open. Deterministic: same inputs, same plan.
    """
    priced = sorted((t for t in candidates if t.hourly_usd), key=lambda t: t.name)
    rejected: dict[str, str] = {}
    floors: list[tuple[float, InstanceType, int]] = []
    for t in priced:
        reason = why_too_small(t, demand) or (
            "surviving an AZ loss needs at least 2 AZs" if demand.survive_az_loss and demand.az_count < 2 else None
        )
        if reason:
            rejected[t.name] = reason
            continue
        low = lowest_count(demand, per_node_room(t, demand))
        if low > demand.max_nodes:
            rejected[t.name] = _too_few(t, demand, low)
            continue
        floors.append((low * t.monthly_usd, t, low))
    floors.sort(key=lambda f: (f[0], f[1].name))
    counts: dict[str, Count] = {}
    open_floor = math.inf  # cheapest floor among the types never planned
    for floor, t, low in floors:
        costs = sorted(_cost(c, u) for u, c in _counted(counts, floors))
        if len(costs) > alternatives and floor > costs[alternatives]:
            open_floor = min(open_floor, floor)
            continue
        counts[t.name] = heuristic_count(demand, per_node_room(t, demand), low)
        if counts[t.name].nodes is None:
            rejected[t.name] = _none_found(t, demand)
    budget = Budget(runs, total_work=POOL_WORK * runs // POOL_RUNS)
    for _, t, _ in floors:
        count = counts.get(t.name)
        best = min((_cost(c, u) for u, c in _counted(counts, floors)), default=math.inf)
        if count is None or count.bound > demand.max_nodes or count.bound * t.monthly_usd >= best - 0.005:
            continue
        # Only counts cheaper than the best plan so far can change the answer.
        below = math.ceil((best - 0.005) / t.monthly_usd)
        counts[t.name] = improve(demand, per_node_room(t, demand), count, budget, below)
        if counts[t.name].nodes is not None:
            rejected.pop(t.name, None)
    plans = [p for _, t, _ in floors if t.name in counts and (p := _plan(t, demand, counts[t.name]))]
    # Equal cost: prefer more, smaller nodes (a lost node takes less with it).
    plans.sort(key=lambda p: (round(p.monthly_usd, 6), -p.nodes, p.instance_type.name))
    # A type the heuristics found no packing for is not proven unable (feasibility is not
    # monotone in the count): its floor stays in the bound, unless that floor is above maxSize.
    bounds = [
        c.bound * t.monthly_usd for _, t, _ in floors if (c := counts.get(t.name)) and c.bound <= demand.max_nodes
    ]
    bound = min([*bounds, open_floor, plans[0].monthly_usd if plans else math.inf])
    return PoolResult(
        demand=demand,
        plan=plans[0] if plans else None,
        alternatives=plans[1 : 1 + alternatives],
        bound_usd=0.0 if bound == math.inf else bound,
        rejected=rejected,
        solver_runs=budget.spent,
        timed_out=budget.timed_out,
        stops=tuple(sorted(budget.stops)) if plans and bound < plans[0].monthly_usd - 0.005 else (),
        candidates=len(priced),
    )


def _counted(
    counts: dict[str, Count], floors: list[tuple[float, InstanceType, int]]
) -> list[tuple[InstanceType, Count]]:
    return [(t, counts[t.name]) for _, t, _ in floors if t.name in counts and counts[t.name].nodes is not None]


def _cost(count: Count, t: InstanceType) -> float:
    return (count.nodes or 0) * t.monthly_usd
