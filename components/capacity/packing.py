"""Packing pods onto nodes, and the search for the fewest nodes on which they fit.

`pack` places every pod largest-first under a few pod orders (dominant share, CPU,
memory) with spreading (kube-scheduler's LeastAllocated), first-fit or best-fit
placement; `surge_fits` checks that a rolling update finds room next to the running
pods; `smallest` finds the fewest nodes for which a packing succeeds.
"""

from __future__ import annotations

import itertools
import math
import random
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
    """The smallest n in [low, high] with a result from feasible(n), and that result, if
    more nodes never hurt — which a heuristic search may assume, not a proof: feasibility is
    not monotone in n (spread caps ⌈replicas / n⌉ tighten as nodes are added).

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


def pack_with_surge(
    workloads: Sequence[Workload], nodes: int, room: tuple[int, int, int], shakes: int = 0
) -> Bins | None:
    """Place every pod and, beside them, each workload's surge pods as reservations, so that
    every rollout finds room; None if no order and node choice manages it.

    A node keeps free the largest surge any workload reserves there: rollouts run one
    Deployment at a time, so the reservations of different workloads share that space,
    while those of one workload add up. Where `pack` keeps one hole for the largest
    surge, this also finds packings in which each workload's surge must land on a node
    without its own replicas (its spread cap ⌈(replicas + surge) / nodes⌉ is reached
    by the steady pods elsewhere). Largest first, as `pack`; surge pods after the
    steady pods of their size. With `shakes`, as many more rounds follow in which each pod's
    size in the order is shaken by up to ±15% (seeded: the same inputs give the same packing):
    the orders a fixed rule never tries."""
    cpu_room, mem_room, _ = room
    items: list[tuple[Workload, bool, int]] = []  # (workload, is a surge pod, per-node cap)
    for w in workloads:
        items += [(w, False, math.ceil(w.replicas / nodes) if w.spread else w.replicas)] * w.replicas
        cap = math.ceil((w.replicas + w.max_surge) / nodes) if w.spread else w.replicas + w.max_surge
        items += [(w, True, cap)] * w.max_surge
    for shake, order, choice in itertools.product(range(shakes + 1), _ORDERS, _CHOICES):
        key = _order_key(order, cpu_room, mem_room)
        rng = random.Random(shake * 9 + len(_CHOICES) * _ORDERS.index(order) + _CHOICES.index(choice))
        noise = [rng.uniform(0.85, 1.15) if shake else 1.0 for _ in items]
        ordered = [
            item
            for _, _, item in sorted(
                (
                    (key((item[0], item[2]))[0] * f, i, item)
                    for i, (item, f) in enumerate(zip(items, noise, strict=True))
                ),
                key=lambda e: (e[0], e[2][0].name, e[2][1], e[1]),
            )
        ]
        bins = Bins.empty(nodes, room)
        surges: list[dict[str, int]] = [{} for _ in range(nodes)]
        reserve = [(0, 0, 0)] * nodes  # the largest surge reserved on each node
        for w, is_surge, cap in ordered:
            chosen, chosen_key = -1, (0.0, 0.0)
            for i in range(nodes):
                k = surges[i].get(w.name, 0)
                if bins.placed[i].get(w.name, 0) + k >= cap:
                    continue
                r = reserve[i]
                if is_surge:
                    need = (max(r[0], (k + 1) * w.cpu_m), max(r[1], (k + 1) * w.memory_mib), max(r[2], k + 1))
                else:
                    need = (r[0] + w.cpu_m, r[1] + w.memory_mib, r[2] + 1)
                left = (bins.cpu[i] - need[0], bins.mem[i] - need[1], bins.pods[i] - need[2])
                if min(left) < 0:
                    continue
                # A surge pod goes where the reservation grows least (it shares the hole
                # another workload keeps there), then by the node choice; a pod by the choice.
                grow = max((need[0] - r[0]) / cpu_room, (need[1] - r[1]) / mem_room) if is_surge else 0.0
                if choice == "first":
                    node_key = (grow, float(i))
                elif choice == "spread":  # most free first
                    node_key = (grow, -min(left[0] / cpu_room, left[1] / mem_room))
                else:  # best fit: least left
                    node_key = (grow, max(left[0] / cpu_room, left[1] / mem_room))
                if chosen < 0 or node_key < chosen_key:
                    chosen, chosen_key = i, node_key
                if choice == "first" and not is_surge:
                    break
            if chosen < 0:
                break
            if is_surge:
                k = surges[chosen].get(w.name, 0) + 1
                surges[chosen][w.name] = k
                r = reserve[chosen]
                reserve[chosen] = (max(r[0], k * w.cpu_m), max(r[1], k * w.memory_mib), max(r[2], k))
            else:
                bins.put(chosen, w)
        else:
            if all(surge_fits(bins, w, nodes) for w in workloads if w.max_surge > 0):
                return bins
    return None


def holds(
    workloads: Sequence[Workload],
    rooms: Sequence[tuple[int, int, int]],
    placement: list[dict[str, int]],
    surge: bool = True,
) -> bool:
    """Does `placement` (pods per workload on each node) place every pod within each node's
    room (`rooms[i]`) and spread cap, with room for each workload's surge in turn? The check
    the solver's answers pass before they are believed."""
    nodes = len(placement)
    if nodes < 1 or len(rooms) != nodes:
        return False
    bins = Bins([r[0] for r in rooms], [r[1] for r in rooms], [r[2] for r in rooms], [{} for _ in rooms])
    for i, node in enumerate(placement):
        for w in workloads:
            for _ in range(node.get(w.name, 0)):
                bins.put(i, w)
    if min(*bins.cpu, *bins.mem, *bins.pods) < 0:
        return False
    for w in workloads:
        cap = math.ceil(w.replicas / nodes) if w.spread else w.replicas
        if sum(n.get(w.name, 0) for n in placement) != w.replicas or any(n.get(w.name, 0) > cap for n in placement):
            return False
    return not surge or all(surge_fits(bins, w, nodes) for w in workloads if w.max_surge > 0)
