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
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import TypeVar

from slipway.components.capacity.catalog import HOURS_PER_MONTH, InstanceType


@dataclass(frozen=True)
class Workload:
    """Pods of one Deployment/StatefulSet (or add-on) that run on a pool."""

    name: str
    replicas: int
    cpu_m: int
    """CPU request per pod, millicores."""
    memory_mib: int
    """Memory request per pod, MiB."""
    max_surge: int = 0
    """Extra pods during a rolling update (RollingUpdate maxSurge, absolute)."""
    spread: bool = True
    """Spread replicas over nodes (topology spread / anti-affinity)."""


@dataclass(frozen=True)
class DaemonSet:
    """A DaemonSet: one pod on every node."""

    name: str
    cpu_m: int
    memory_mib: int


# DaemonSets on every EKS node slipway builds, with their requests.
# aws-node (VPC CNI) requests 25m; kube-proxy 100m (EKS add-on manifests); neither
# requests memory.
AWS_NODE = DaemonSet("aws-node", 25, 0)
KUBE_PROXY = DaemonSet("kube-proxy", 100, 0)
DEFAULT_DAEMONSETS = (AWS_NODE, KUBE_PROXY)

# Cluster add-on pods and the requests slipway gives them.
COREDNS = Workload("coredns", 2, 100, 70, max_surge=1)
"""EKS CoreDNS add-on: 2 replicas, requests 100m / 70Mi."""


@dataclass(frozen=True)
class PoolDemand:
    """What one pool must run, and the constraints it is planned under."""

    name: str
    workloads: tuple[Workload, ...]
    daemonsets: tuple[DaemonSet, ...] = DEFAULT_DAEMONSETS
    az_count: int = 2
    survive_az_loss: bool = False
    min_nodes: int = 1
    """Fewest nodes (the pool's minSize)."""
    max_nodes: int = 100
    """Most nodes a plan may use (the pool's maxSize, else a search limit)."""
    autoscale_max: int | None = None
    """maxSize to give the node group; default: 1.5 × the planned nodes (room for an autoscaler)."""
    prefix_delegation: bool = False

    @cached_property
    def total_cpu_m(self) -> int:
        """CPU requested by every pod of every workload, millicores."""
        return sum(w.replicas * w.cpu_m for w in self.workloads)

    @cached_property
    def total_memory_mib(self) -> int:
        """Memory requested by every pod of every workload, MiB."""
        return sum(w.replicas * w.memory_mib for w in self.workloads)

    @cached_property
    def total_pods(self) -> int:
        return sum(w.replicas for w in self.workloads)

    @cached_property
    def daemonset_cpu_m(self) -> int:
        """CPU the DaemonSets request on every node, millicores."""
        return sum(d.cpu_m for d in self.daemonsets)

    @cached_property
    def daemonset_memory_mib(self) -> int:
        """Memory the DaemonSets request on every node, MiB."""
        return sum(d.memory_mib for d in self.daemonsets)


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

    def as_dict(self) -> dict:
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


def per_node_room(t: InstanceType, demand: PoolDemand) -> tuple[int, int, int]:
    """(CPU millicores, memory MiB, pods) a node of `t` leaves for the pool's pods after the DaemonSets."""
    cpu, mem, pods = t.allocatable(demand.prefix_delegation)
    return cpu - demand.daemonset_cpu_m, mem - demand.daemonset_memory_mib, pods - len(demand.daemonsets)


def _min_nodes(demand: PoolDemand, room: tuple[int, int, int]) -> int:
    """Fewest nodes whose summed room covers the requested CPU, memory and pods (no packing)."""
    return max(
        math.ceil(demand.total_cpu_m / room[0]),
        math.ceil(demand.total_memory_mib / room[1]),
        math.ceil(demand.total_pods / room[2]),
    )


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


def _pods(workloads: Iterable[Workload], nodes: int) -> list[tuple[Workload, int]]:
    """Pods to place (one entry per replica) with the per-node cap of their workload."""
    out: list[tuple[Workload, int]] = []
    for w in workloads:
        cap = math.ceil(w.replicas / nodes) if w.spread else w.replicas
        out.extend([(w, cap)] * w.replicas)
    return out


@dataclass
class _Bins:
    """Nodes being filled: free resources and pods per workload on each."""

    cpu: list[int]
    mem: list[int]
    pods: list[int]
    placed: list[dict[str, int]]

    @classmethod
    def empty(cls, nodes: int, room: tuple[int, int, int]) -> _Bins:
        return cls([room[0]] * nodes, [room[1]] * nodes, [room[2]] * nodes, [{} for _ in range(nodes)])

    def copy(self) -> _Bins:
        return _Bins(list(self.cpu), list(self.mem), list(self.pods), [dict(p) for p in self.placed])

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


def _order_key(order: str, cpu_room: int, mem_room: int):
    def key(p: tuple[Workload, int]) -> tuple[float, str]:
        w = p[0]
        c, m = w.cpu_m / cpu_room, w.memory_mib / mem_room
        share = {"dominant": max(c, m), "cpu": c + m / 1000, "memory": m + c / 1000}[order]
        return (-share, w.name)

    return key


def _pack(
    pods: list[tuple[Workload, int]],
    nodes: int,
    room: tuple[int, int, int],
    accept: Callable[[_Bins], bool] = lambda _: True,
    holes: Sequence[tuple[int, int]] = ((0, 0),),
) -> _Bins | None:
    """Place every pod (first-/best-fit decreasing under several orders) so that `accept`
    holds for the result; None if no heuristic manages it."""
    cpu_room, mem_room, _ = room
    for (hole_cpu, hole_mem), order, choice in itertools.product(holes, _ORDERS, _CHOICES):
        ordered = sorted(pods, key=_order_key(order, cpu_room, mem_room))
        bins = _Bins.empty(nodes, room)
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


def _surge_fits(steady: _Bins, w: Workload, nodes: int) -> bool:
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


def _smallest(feasible: Callable[[int], _T | None], low: int, high: int) -> tuple[int, _T] | None:
    """The smallest n in [low, high] with a result from feasible(n), and that result,
    assuming more nodes never hurt.

    Tries low, then doubles the step until feasible, then bisects: O(log n) packings.
    """
    if low > high:
        return None
    found = feasible(low)
    if found is not None:
        return low, found
    step, bad, good = 1, low, None
    while good is None:
        probe = min(low + step, high)
        found = feasible(probe)
        if found is not None:
            good, best = probe, found
        elif probe == high:
            return None
        else:
            bad, step = probe, step * 2
    while good - bad > 1:
        mid = (bad + good) // 2
        found = feasible(mid)
        if found is not None:
            good, best = mid, found
        else:
            bad = mid
    return good, best


def _nodes_after_az_loss(nodes: int, azs: int) -> int:
    return nodes - math.ceil(nodes / azs)


def plan_on(t: InstanceType, demand: PoolDemand) -> PoolPlan | str:
    """The smallest feasible plan on instance type `t`, or why there is none."""
    too_small = why_too_small(t, demand)
    if too_small:
        return too_small
    room = per_node_room(t, demand)
    cpu_room, mem_room, _ = room
    need = max(_min_nodes(demand, room), 1)
    start = max(need, demand.min_nodes, demand.az_count)
    if demand.survive_az_loss and demand.az_count < 2:
        return "surviving an AZ loss needs at least 2 AZs"
    if demand.survive_az_loss:
        while _nodes_after_az_loss(start, demand.az_count) < need:
            start += 1
    surging = [w for w in demand.workloads if w.max_surge > 0]
    largest = max(surging, key=lambda w: max(w.cpu_m / cpu_room, w.memory_mib / mem_room), default=None)
    hole = (largest.cpu_m * largest.max_surge, largest.memory_mib * largest.max_surge) if largest else None

    def feasible(nodes: int) -> _Bins | None:
        # Rolling updates run one Deployment at a time: each must find room for its
        # surge pods next to the running ones.
        steady = _pack(
            _pods(demand.workloads, nodes),
            nodes,
            room,
            lambda b: all(_surge_fits(b, w, nodes) for w in surging),
            holes=[(0, 0)] + ([hole] if hole else []),
        )
        if steady is None:
            return None
        if demand.survive_az_loss:
            left = _nodes_after_az_loss(nodes, demand.az_count)
            if left < 1 or _pack(_pods(demand.workloads, left), left, room) is None:
                return None
        return steady

    found = _smallest(feasible, start, demand.max_nodes)
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


def lower_bound(demand: PoolDemand, candidates: Sequence[InstanceType]) -> float:
    """Monthly cost no plan can beat: the pool's requests priced at the cheapest $/vCPU and $/GiB.

    Any plan buys at least the requested vCPUs and the requested memory, so its cost is
    at least the larger of (vCPUs × cheapest $/vCPU) and (GiB × cheapest $/GiB).
    """
    priced = [t for t in candidates if t.hourly_usd]
    if not priced:
        return 0.0
    vcpus = demand.total_cpu_m / 1000
    gib = demand.total_memory_mib / 1024
    per_vcpu = min(t.hourly_usd / t.vcpu for t in priced)
    per_gib = min(t.hourly_usd / (t.memory_mib / 1024) for t in priced)
    return max(vcpus * per_vcpu, gib * per_gib) * HOURS_PER_MONTH


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
    rooms = []
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


def plan_pool(demand: PoolDemand, candidates: Sequence[InstanceType], alternatives: int = 3) -> PoolResult:
    """The cheapest plan for `demand` among `candidates` (priced types only), and runners-up."""
    priced = sorted((t for t in candidates if t.hourly_usd), key=lambda t: t.name)
    plans: list[PoolPlan] = []
    rejected: dict[str, str] = {}
    # Cheapest-first by a per-type cost floor, so most types are never packed.
    floors = []
    for t in priced:
        room = per_node_room(t, demand)
        if min(room) <= 0:
            floors.append((0.0, t))
            continue
        floors.append((max(_min_nodes(demand, room), demand.az_count) * t.monthly_usd, t))
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
