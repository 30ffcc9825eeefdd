"""Advice on mixed pools: would a second instance type cut a pool's cost by 10% or more?

An EKS managed node group has one instance type (several only for spot), so the plan is
single-type; but a second node group beside it, a spot pool or a Karpenter NodePool can
mix sizes. Where a single type wastes whole nodes (two AZs need two nodes, the second of
which is mostly empty), n − 1 large nodes plus a small one can hold the same pods for less.

Under the same rules as the plan (room after reservations and DaemonSets, spread caps,
each rollout's surge, AZ spread and, for prod, the loss of an AZ: here the lost AZ takes
its share of each type at once), the search tries a type of the plan or its runners-up
with fewer nodes plus nodes of one other type, cheapest mix first, each decided by the
solver within a run budget. Before any run, the cheapest fractional fleet of any mix of
types (an LP bound, `room.usable_capacity_bound`) may already prove that no mix saves 10%.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from slipway.components.capacity import exact
from slipway.components.capacity.catalog import InstanceType
from slipway.components.capacity.demand import PoolDemand
from slipway.components.capacity.planner import PoolResult
from slipway.components.capacity.room import per_node_room, usable_capacity_bound

SAVING = 0.10
"""A mix is advised when it costs at least this share less than the single-type plan."""
MIX_RUNS = 8
"""Solver runs the search may spend (each limited in work, not time: deterministic)."""
MIX_PLACEMENTS = 400
"""Largest mix the search asks the solver about, in (workload, node) pairs."""


@dataclass(frozen=True)
class MixedPlan:
    """Nodes of two instance types that hold the pool under the plan's rules."""

    parts: tuple[tuple[InstanceType, int], ...]
    placement: list[dict[str, int]] = field(repr=False)
    """Pods per workload on each node, the first type's nodes first."""

    @property
    def monthly_usd(self) -> float:
        return sum(n * t.monthly_usd for t, n in self.parts)

    def describe(self) -> str:
        return " + ".join(f"{n} × {t.name}" for t, n in self.parts)


Outcome = Literal["mix", "proved-none", "none-found"]


@dataclass(frozen=True)
class MixAdvice:
    """What the mixed-pool search found for one pool."""

    outcome: Outcome
    """`mix`: `plan` saves at least 10%; `proved-none`: the LP bound shows no mix can;
    `none-found`: no two-type mix built on the plan's type or a runner-up's was found to hold
    the pool (with `unchecked` > 0, the runs ran out first)."""
    single_usd: float
    single_plan: str
    """The single-type plan compared with, e.g. `3 × m6a.2xlarge`."""
    floor_usd: float
    """No mix of the candidate types costs less (LP bound: fractional nodes, no surge; with an
    AZ loss to survive, scaled by azs / (azs − 1))."""
    plan: MixedPlan | None = None
    runs: int = 0
    unchecked: int = 0
    """Candidate mixes (cheap enough, enough capacity in sum) left unchecked when the runs ran out."""

    @property
    def saving(self) -> float:
        return 1 - self.plan.monthly_usd / self.single_usd if self.plan and self.single_usd else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "outcome": self.outcome,
            "comparedWith": {"plan": self.single_plan, "monthlyUsd": round(self.single_usd, 2)},
            "lpFloorMonthlyUsd": round(self.floor_usd, 2),
            "mix": (
                {
                    "nodes": [{"instanceType": t.name, "count": n} for t, n in self.plan.parts],
                    "monthlyUsd": round(self.plan.monthly_usd, 2),
                    "saving": round(self.saving, 3),
                }
                if self.plan
                else None
            ),
            "solverRuns": self.runs,
            "unchecked": self.unchecked,
        }


def _fewest_beside(demand: PoolDemand, big: tuple[int, int, int], n1: int, small: tuple[int, int, int]) -> int:
    """Fewest nodes of room `small` that, beside n1 of room `big`, cover the requests (and the
    largest surge) in CPU, memory and pod slots: a necessary condition, no packing."""
    surge_cpu = max((w.cpu_m * w.max_surge for w in demand.workloads), default=0)
    surge_mem = max((w.memory_mib * w.max_surge for w in demand.workloads), default=0)
    surge_pods = max((w.max_surge for w in demand.workloads), default=0)
    need = (
        demand.total_cpu_m + surge_cpu - n1 * big[0],
        demand.total_memory_mib + surge_mem - n1 * big[1],
        demand.total_pods + surge_pods - n1 * big[2],
    )
    return max(1, *(math.ceil(need[d] / small[d]) for d in range(3)))


def advise_mix(
    demand: PoolDemand,
    candidates: Sequence[InstanceType],
    result: PoolResult,
    runs: int = MIX_RUNS,
    work: int = exact.WORK_LIMIT,
) -> MixAdvice | None:
    """Search for a two-type mix at least `SAVING` cheaper than `result`'s plan; None when
    there is no plan to compare with."""
    best = result.plan
    if best is None:
        return None
    single = best.monthly_usd
    named = f"{best.nodes} × {best.instance_type.name}"
    target = single * (1 - SAVING)
    floor = usable_capacity_bound(demand, candidates)
    if demand.survive_az_loss and demand.az_count >= 2:
        # The nodes left after an AZ loss (at most (azs − 1) / azs of the fleet's cost, each type
        # losing its share) must hold every pod on their own.
        floor *= demand.az_count / (demand.az_count - 1)
    if floor >= target:
        return MixAdvice("proved-none", single, named, floor)
    sized = [(t, per_node_room(t, demand)) for t in sorted(candidates, key=lambda t: t.name) if t.hourly_usd]
    sized = [
        (t, room)
        for t, room in sized
        if min(room) > 0 and all(w.cpu_m <= room[0] and w.memory_mib <= room[1] for w in demand.workloads)
    ]
    combos: list[tuple[float, str, int, str, int, InstanceType, InstanceType]] = []
    for plan in [best, *result.alternatives]:
        t1, room1 = plan.instance_type, per_node_room(plan.instance_type, demand)
        for n1 in range(1, plan.nodes):
            for t2, room2 in sized:
                if t2.name == t1.name:
                    continue
                n2 = max(_fewest_beside(demand, room1, n1, room2), demand.az_count - n1, demand.min_nodes - n1)
                cost = n1 * t1.monthly_usd + n2 * t2.monthly_usd
                if cost < target - 0.005 and n1 + n2 <= demand.max_nodes:
                    combos.append((cost, t1.name, n1, t2.name, n2, t1, t2))
    combos.sort(key=lambda c: c[:5])
    # Small enough to decide in well under a second each (see exact.MAX_PLACEMENTS): pools of
    # many nodes lose little to whole nodes, which is what a mix recovers.
    combos = [c for c in combos if (c[2] + c[4]) * len(demand.workloads) <= MIX_PLACEMENTS]
    for spent, (_, _, n1, _, n2, t1, t2) in enumerate(combos[:runs], start=1):
        parts = [(per_node_room(t1, demand), n1), (per_node_room(t2, demand), n2)]
        answer = exact.fit_parts(demand.workloads, parts, demand.az_count, demand.survive_az_loss, work)
        if answer.answer == "fits" and answer.placement is not None:
            return MixAdvice("mix", single, named, floor, MixedPlan(((t1, n1), (t2, n2)), answer.placement), spent)
    return MixAdvice(
        "none-found", single, named, floor, None, min(runs, len(combos)), unchecked=max(0, len(combos) - runs)
    )
