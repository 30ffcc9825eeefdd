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

Packing is largest-first under a few pod orders (dominant share, CPU, memory) with
spreading (kube-scheduler's LeastAllocated), first-fit or best-fit placement; the
first that places every pod, with room for surges, is kept. The cheapest feasible type wins;
ties go to more (smaller) nodes, then to the name, so plans are deterministic.

This module holds the plans and the search over instance types. What a pool must
run is in `demand.py`, a node's room and the cost bounds in `room.py`, the packing
and the node-count search in `packing.py`; their public names are re-exported here.
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
from slipway.components.capacity.packing import Bins, pack, pods_to_place, smallest, surge_fits
from slipway.components.capacity.room import (
    fewest_nodes,
    lower_bound,
    per_node_room,
    usable_capacity_bound,
    why_too_small,
)

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
    "lower_bound",
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
        }


@dataclass
class PoolResult:
    """The chosen plan, the runners-up, the lower bound, and why other types failed."""

    demand: PoolDemand
    plan: PoolPlan | None
    alternatives: list[PoolPlan]
    lower_bound_usd: float
    rejected: dict[str, str]
    """Instance type → why it cannot hold this pool (with these constraints)."""

    @property
    def efficiency(self) -> float:
        """Plan cost ÷ lower bound (1.0 is perfect)."""
        if not self.plan or not self.lower_bound_usd:
            return float("inf")
        return self.plan.monthly_usd / self.lower_bound_usd


def _nodes_after_az_loss(nodes: int, azs: int) -> int:
    return nodes - math.ceil(nodes / azs)


def plan_on(t: InstanceType, demand: PoolDemand) -> PoolPlan | str:
    """The smallest feasible plan on instance type `t`, or why there is none."""
    too_small = why_too_small(t, demand)
    if too_small:
        return too_small
    room = per_node_room(t, demand)
    cpu_room, mem_room, _ = room
    need = max(fewest_nodes(demand, room), 1)
    start = max(need, demand.min_nodes, demand.az_count)
    if demand.survive_az_loss and demand.az_count < 2:
        return "surviving an AZ loss needs at least 2 AZs"
    if demand.survive_az_loss:
        while _nodes_after_az_loss(start, demand.az_count) < need:
            start += 1
    surging = [w for w in demand.workloads if w.max_surge > 0]
    largest = max(surging, key=lambda w: max(w.cpu_m / cpu_room, w.memory_mib / mem_room), default=None)
    hole = (largest.cpu_m * largest.max_surge, largest.memory_mib * largest.max_surge) if largest else None

    def feasible(nodes: int) -> Bins | None:
        # Rolling updates run one Deployment at a time: each must find room for its
        # surge pods next to the running ones.
        steady = pack(
            pods_to_place(demand.workloads, nodes),
            nodes,
            room,
            lambda b: all(surge_fits(b, w, nodes) for w in surging),
            holes=[(0, 0)] + ([hole] if hole else []),
        )
        if steady is None:
            return None
        if demand.survive_az_loss:
            left = _nodes_after_az_loss(nodes, demand.az_count)
            if left < 1 or pack(pods_to_place(demand.workloads, left), left, room) is None:
                return None
        return steady

    found = smallest(feasible, start, demand.max_nodes)
    if found is None:
        return (
            f"{t.name} would need more than maxSize {demand.max_nodes} nodes "
            f"({demand.total_pods} pods, {demand.total_cpu_m}m CPU, {demand.total_memory_mib} MiB requested)"
        )
    nodes, steady = found
    cpu, mem, max_pods = t.allocatable(demand.prefix_delegation)
    ds = len(demand.daemonsets)
    return PoolPlan(
        pool=demand.name,
        instance_type=t,
        nodes=nodes,
        max_nodes=demand.autoscale_max or max(math.ceil(nodes * 1.5), nodes + 1),
        placement=steady.placed,
        cpu_used_m=demand.total_cpu_m + nodes * demand.daemonset_cpu_m,
        cpu_alloc_m=nodes * cpu,
        mem_used_mib=demand.total_memory_mib + nodes * demand.daemonset_memory_mib,
        mem_alloc_mib=nodes * mem,
        pods_used=demand.total_pods + nodes * ds,
        pods_max=nodes * max_pods,
        daemonset_pods_per_node=ds,
    )


def plan_pool(demand: PoolDemand, candidates: Sequence[InstanceType], alternatives: int = 3) -> PoolResult:
    """The cheapest plan for `demand` among `candidates` (priced types only), and runners-up."""
    priced = sorted((t for t in candidates if t.hourly_usd), key=lambda t: t.name)
    plans: list[PoolPlan] = []
    rejected: dict[str, str] = {}
    # Cheapest-first by a per-type cost floor, so most types are never packed.
    floors: list[tuple[float, InstanceType]] = []
    for t in priced:
        room = per_node_room(t, demand)
        if min(room) <= 0:
            floors.append((0.0, t))
            continue
        floors.append((max(fewest_nodes(demand, room), demand.az_count) * t.monthly_usd, t))
    floors.sort(key=lambda f: (f[0], f[1].name))
    for floor, t in floors:
        if len(plans) > alternatives and floor > sorted(p.monthly_usd for p in plans)[alternatives]:
            break
        result = plan_on(t, demand)
        if isinstance(result, str):
            rejected[t.name] = result
        else:
            plans.append(result)
    # Equal cost: prefer more, smaller nodes (a lost node takes less with it).
    plans.sort(key=lambda p: (round(p.monthly_usd, 6), -p.nodes, p.instance_type.name))
    return PoolResult(
        demand=demand,
        plan=plans[0] if plans else None,
        alternatives=plans[1 : 1 + alternatives],
        lower_bound_usd=lower_bound(demand, priced),
        rejected=rejected,
    )
