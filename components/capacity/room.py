"""Node capacity math: what a node of one instance type leaves for a pool's pods, and what follows from it.

From an instance type's allocatable CPU, memory and pod slots (catalog.py: after
kube-reserved, the eviction threshold and VM overhead) minus the pool's DaemonSets:
why a type cannot hold a pod at all, and the monthly cost floor no fleet of any mix of
types can beat (the LP bound the mixed-pool advice starts from). The node-count bounds
are in bounds.py.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from slipway.components.capacity.catalog import HOURS_PER_MONTH, InstanceType
from slipway.components.capacity.demand import PoolDemand


def per_node_room(t: InstanceType, demand: PoolDemand) -> tuple[int, int, int]:
    """(CPU millicores, memory MiB, pods) a node of `t` leaves for the pool's pods after the DaemonSets."""
    cpu, mem, pods = t.allocatable(demand.prefix_delegation)
    return cpu - demand.daemonset_cpu_m, mem - demand.daemonset_memory_mib, pods - len(demand.daemonsets)


def why_too_small(t: InstanceType, demand: PoolDemand) -> str | None:
    """Why a single node of `t` cannot hold even one pod of every workload, if so."""
    cpu, mem, pods = per_node_room(t, demand)
    max_pods = t.max_pods(demand.prefix_delegation)
    if pods < 1:
        return (
            f"{t.name} allows {max_pods} pods per node; the DaemonSets alone need {len(demand.daemonsets)} "
            f"({', '.join(d.name for d in demand.daemonsets)})"
        )
    for w in demand.workloads:
        if w.cpu_m > cpu:
            return f"{t.name} has {cpu}m CPU left per node after reservations; {w.name} requests {w.cpu_m}m per pod"
        if w.memory_mib > mem:
            return (
                f"{t.name} has {mem} MiB memory left per node after reservations; "
                f"{w.name} requests {w.memory_mib} MiB per pod"
            )
    return None


def usable_capacity_bound(demand: PoolDemand, candidates: Sequence[InstanceType]) -> float:
    """Monthly cost of the cheapest *fractional* fleet whose usable capacity covers the requests.

    Usable = allocatable after kube-reserved, eviction threshold, VM overhead and the
    DaemonSets, so this bound counts every per-node overhead but no packing
    granularity, spread or surge: plan ÷ this bound is the packing's own price. It is
    the optimum of a 2-constraint linear program, which an optimal vertex reaches with
    at most two instance types, so every single type and every pair is tried.
    """
    cpu, mem = demand.total_cpu_m, demand.total_memory_mib
    if not cpu and not mem:
        return 0.0
    rooms: list[tuple[int, int, float]] = []
    for t in candidates:
        c, m, p = per_node_room(t, demand)
        if t.hourly_usd and c > 0 and m > 0 and p > 0:
            rooms.append((c, m, t.hourly_usd))
    best = math.inf
    for c, m, price in rooms:
        best = min(best, price * max(cpu / c, mem / m))
    for i, (c1, m1, p1) in enumerate(rooms):
        for c2, m2, p2 in rooms[i + 1 :]:
            det = c1 * m2 - c2 * m1
            if det == 0:
                continue
            x1 = (cpu * m2 - c2 * mem) / det  # both constraints tight
            x2 = (c1 * mem - cpu * m1) / det
            if x1 >= 0 and x2 >= 0:
                best = min(best, p1 * x1 + p2 * x2)
    return 0.0 if best == math.inf else best * HOURS_PER_MONTH
