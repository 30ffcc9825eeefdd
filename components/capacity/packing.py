"""Packing pods onto nodes, and the search for the fewest nodes on which they fit.

`pack` places every pod largest-first under a few pod orders (dominant share, CPU,
memory) with spreading (kube-scheduler's LeastAllocated), first-fit or best-fit
placement; `surge_fits` checks that a rolling update finds room next to the running
pods; `smallest` finds the fewest nodes for which a packing succeeds.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from slipway.components.capacity.demand import Workload


def pods_to_place(workloads: Iterable[Workload], nodes: int) -> list[tuple[Workload, int]]:
    """Pods to place (one entry per replica) with the per-node cap of their workload."""
    out: list[tuple[Workload, int]] = []
    for w in workloads:
        cap = math.ceil(w.replicas / nodes) if w.spread else w.replicas
        out.extend([(w, cap)] * w.replicas)
    return out


@dataclass
class Bins:
    """Nodes being filled: free resources and pods per workload on each."""

    cpu: list[int]
    mem: list[int]
    pods: list[int]
    placed: list[dict[str, int]]

    @classmethod
    def empty(cls, nodes: int, room: tuple[int, int, int]) -> Bins:
        return cls([room[0]] * nodes, [room[1]] * nodes, [room[2]] * nodes, [{} for _ in range(nodes)])

    def copy(self) -> Bins:
        return Bins(list(self.cpu), list(self.mem), list(self.pods), [dict(p) for p in self.placed])

    def fits(self, i: int, w: Workload, cap: int) -> bool:
        return (
            self.pods[i] >= 1
            and self.cpu[i] >= w.cpu_m
            and self.mem[i] >= w.memory_mib
            and self.placed[i].get(w.name, 0) < cap
        )

    def put(self, i: int, w: Workload) -> None:
        self.cpu[i] -= w.cpu_m
        self.mem[i] -= w.memory_mib
        self.pods[i] -= 1
        self.placed[i][w.name] = self.placed[i].get(w.name, 0) + 1


# Orders to try pods in (largest first by some measure) and how to pick a node.
# One heuristic can fail where another succeeds when both resources are nearly full.
# "spread" is worst fit, what kube-scheduler's default LeastAllocated score does; it
# keeps room on every node for the last replicas of spread workloads.
_ORDERS = ("dominant", "cpu", "memory")
_CHOICES = ("spread", "first", "best")


def _order_key(order: str, cpu_room: int, mem_room: int) -> Callable[[tuple[Workload, int]], tuple[float, str]]:
    def key(p: tuple[Workload, int]) -> tuple[float, str]:
        w = p[0]
        c, m = w.cpu_m / cpu_room, w.memory_mib / mem_room
        share = {"dominant": max(c, m), "cpu": c + m / 1000, "memory": m + c / 1000}[order]
        return (-share, w.name)

    return key


def pack(
    pods: list[tuple[Workload, int]],
    nodes: int,
    room: tuple[int, int, int],
    accept: Callable[[Bins], bool] = lambda _: True,
    holes: Sequence[tuple[int, int]] = ((0, 0),),
) -> Bins | None:
    """Place every pod (first-/best-fit decreasing under several orders) so that `accept`
    holds for the result; None if no heuristic manages it."""
    cpu_room, mem_room, _ = room
    for (hole_cpu, hole_mem), order, choice in itertools.product(holes, _ORDERS, _CHOICES):
        ordered = sorted(pods, key=_order_key(order, cpu_room, mem_room))
        bins = Bins.empty(nodes, room)
        # Keep a hole on the last node (room for a surge pod during rollouts).
        bins.cpu[-1] -= hole_cpu
        bins.mem[-1] -= hole_mem
        free_cpu, free_mem, free_pods, placed = bins.cpu, bins.mem, bins.pods, bins.placed
        for w, cap in ordered:
            # One pass over the nodes (the hot loop of the planner: kept to plain locals).
            wc, wm, name = w.cpu_m, w.memory_mib, w.name
            chosen, chosen_key = -1, 0.0
            for i in range(nodes):
                if free_pods[i] < 1 or free_cpu[i] < wc or free_mem[i] < wm or placed[i].get(name, 0) >= cap:
                    continue
                if choice == "first":
                    chosen = i
                    break
                if choice == "spread":  # most free (dominant share) first, as LeastAllocated scores
                    key = -min(free_cpu[i] / cpu_room, free_mem[i] / mem_room)
                else:  # best fit: least dominant free share left afterwards
                    key = max((free_cpu[i] - wc) / cpu_room, (free_mem[i] - wm) / mem_room)
                if chosen < 0 or key < chosen_key:
                    chosen, chosen_key = i, key
            if chosen < 0:
                break
            bins.put(chosen, w)
        else:
            bins.cpu[-1] += hole_cpu
            bins.mem[-1] += hole_mem
            if accept(bins):
                return bins
    return None


def surge_fits(steady: Bins, w: Workload, nodes: int) -> bool:
    """Do `w`'s surge pods fit in what the steady state leaves free?

    During a rolling update the running pods stay where they are; the new ones
    must find room next to them (spread: ⌈(replicas + surge) / nodes⌉ per node).
    """
    cap = math.ceil((w.replicas + w.max_surge) / nodes) if w.spread else w.replicas + w.max_surge
    bins = steady.copy()
    for _ in range(w.max_surge):
        fitting = [i for i in range(nodes) if bins.fits(i, w, cap)]
        if not fitting:
            return False
        bins.put(fitting[0], w)
    return True


_T = TypeVar("_T")


def smallest(feasible: Callable[[int], _T | None], low: int, high: int) -> tuple[int, _T] | None:
    """The smallest n in [low, high] with a result from feasible(n), and that result,
    assuming more nodes never hurt.

    Tries low, then doubles the step until feasible, then bisects: O(log n) packings.
    """
    if low > high:
        return None
    found = feasible(low)
    if found is not None:
        return low, found
    step, bad = 1, low
    while True:
        probe = min(low + step, high)
        found = feasible(probe)
        if found is not None:
            good, best = probe, found
            break
        if probe == high:
            return None
        bad, step = probe, step * 2
    while good - bad > 1:
        mid = (bad + good) // 2
        found = feasible(mid)
        if found is not None:
            good, best = mid, found
        else:
            bad = mid
    return good, best
