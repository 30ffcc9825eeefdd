"""Lower bounds on the node count: no packing, however clever, uses fewer nodes.

A bound that equals the planner's count proves that count optimal for its type without
calling the solver; a bound below it is where the exact search (`search.py`) looks.

* Per resource (CPU, memory, pod slots), Martello and Toth's L2 bound for bin packing
  ("Lower bounds and reduction procedures for the bin packing problem", Discrete Applied
  Mathematics 28, 1990): pods larger than half a node never share one, and pods larger
  than `room − K` cannot share with any pod of size ≥ K. Bins are nodes' room after the
  DaemonSets; a vector packing needs at least the largest of the per-resource bounds.
* Surge: while one workload rolls out, its surge pods run beside every steady pod, so
  the bound is taken for the steady pods plus each workload's surge in turn.
* An AZ loss: the nodes left after the largest AZ is lost must hold every pod.
"""

from __future__ import annotations

import bisect
import itertools
import math
from collections import Counter
from collections.abc import Iterable, Sequence
from functools import cache

from slipway.components.capacity.demand import Workload


def bin_bound(sizes: Counter[int], capacity: int) -> int:
    """Fewest bins of `capacity` for items of these sizes (size → count): the larger of
    Martello and Toth's L2 and Fekete and Schepers' dual-feasible-function bounds."""
    if capacity <= 0:
        raise ValueError(f"capacity {capacity}: check that one pod fits a node first")
    return _bin_bound(tuple(sorted((s, c) for s, c in sizes.items() if s > 0 and c > 0)), capacity)


@cache
def _bin_bound(items: tuple[tuple[int, int], ...], capacity: int) -> int:
    if not items:
        return 0
    sizes = [s for s, _ in items]
    counts = list(itertools.accumulate((c for _, c in items), initial=0))
    sums = list(itertools.accumulate((s * c for s, c in items), initial=0))

    def span(low: float, high: float, strict_low: bool) -> tuple[int, int]:
        """Count and total size of the items with low < size ≤ high (low ≤ size with not strict_low)."""
        i = bisect.bisect_right(sizes, low) if strict_low else bisect.bisect_left(sizes, low)
        j = bisect.bisect_right(sizes, high)
        return (counts[j] - counts[i], sums[j] - sums[i]) if j > i else (0, 0)

    half = capacity / 2
    best = 0
    # L2 (Martello and Toth, "Lower bounds and reduction procedures for the bin packing problem",
    # Discrete Applied Mathematics 28, 1990): items above half a bin never share one; items
    # above capacity − K share none with items of size K or more.
    for k in [0] + [s for s in sizes if s <= half]:
        big, _ = span(capacity - k, math.inf, strict_low=True)
        mid_n, mid_sum = span(half, capacity - k, strict_low=True)
        _, small_sum = span(k, half, strict_low=False)
        spill = max(0, math.ceil((small_sum - (mid_n * capacity - mid_sum)) / capacity))
        best = max(best, big + mid_n + spill)
    # Dual feasible functions u_k (Fekete and Schepers, "New classes of fast lower bounds for
    # bin packing problems", Mathematical Programming 91, 2001): an item of size x counts as
    # ⌊(k+1)·x / C⌋ · C/k (or x when (k+1)·x / C is whole), so that, e.g., at most three
    # 2-vCPU pods fit a 7.8-vCPU node.
    for k in range(1, DFF_DEPTH + 1):
        total = 0.0
        for s, c in items:
            scaled = (k + 1) * s
            total += c * (s if scaled % capacity == 0 else (scaled // capacity) * capacity / k)
        best = max(best, math.ceil(total / capacity - 1e-9))
    return best


DFF_DEPTH = 12
"""Dual feasible functions u_1 … u_12 are tried (pods of more than 1/13 of a node)."""


def _scenarios(workloads: Sequence[Workload]) -> Iterable[tuple[Counter[int], Counter[int], int]]:
    """(CPU sizes, memory sizes, pod count) of the steady state and of each distinct surge."""
    cpu: Counter[int] = Counter()
    mem: Counter[int] = Counter()
    for w in workloads:
        cpu[w.cpu_m] += w.replicas
        mem[w.memory_mib] += w.replicas
    pods = sum(w.replicas for w in workloads)
    yield cpu, mem, pods
    for c, m, s in sorted({(w.cpu_m, w.memory_mib, w.max_surge) for w in workloads if w.max_surge > 0}):
        yield cpu + Counter({c: s}), mem + Counter({m: s}), pods + s


def nodes_bound(workloads: Sequence[Workload], room: tuple[int, int, int], surge: bool = True) -> int:
    """Fewest nodes leaving `room` (CPU millicores, memory MiB, pods) each that could hold the pods,
    and with `surge` each workload's rollout in turn."""
    cpu_room, mem_room, pod_room = room
    best = 0
    for cpu, mem, pods in _scenarios(workloads) if surge else [next(iter(_scenarios(workloads)))]:
        best = max(best, bin_bound(cpu, cpu_room), bin_bound(mem, mem_room), math.ceil(pods / pod_room))
    return best


def after_az_loss(nodes: int, azs: int) -> int:
    """Nodes left when the AZ holding the most of them (nodes spread evenly) is lost."""
    return nodes - math.ceil(nodes / azs)


def fewest_surviving(left_needed: int, azs: int) -> int:
    """Fewest nodes whose loss of one AZ leaves at least `left_needed`."""
    n = left_needed
    while after_az_loss(n, azs) < left_needed:
        n += 1
    return n


def clear_caches() -> None:
    """Forget the bounds computed so far (benchmarks time the planner from cold)."""
    _bin_bound.cache_clear()
