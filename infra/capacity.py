"""From a stack's config to node pool plans (the planner itself is components/capacity).

For each pool: the pods it must hold (`counting.py`: its declared workloads, the cluster
add-ons, the applications), the DaemonSets on every node, the AZ count and its
constraints become a `PoolDemand`; `auto` pools get the cheapest plan, named types
are checked to hold their pods. Problems are config errors, raised before any
resource is registered.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from slipway.components.capacity.catalog import Catalog, InstanceType, load_catalog
from slipway.components.capacity.planner import (
    DEFAULT_DAEMONSETS,
    PoolDemand,
    PoolPlan,
    PoolResult,
    Workload,
    per_node_room,
    plan_on,
    plan_pool,
)
from slipway.program.config import ConfigError, NodePoolConfig, StackConfig
from slipway.program.counting import (
    Counted,
    addon_counted,
    app_counted,
    app_pool,
    app_workloads,
    argo_pool,
    argo_workflow_pod,
    counted_workloads,
    pool_workloads,
    surge,
    system_pool,
)

if TYPE_CHECKING:
    from slipway.program.autoscaling import Peak

SEARCH_LIMIT = 200  # nodes; beyond this a pool is certainly misconfigured


def demand_for(cfg: StackConfig, name: str, workloads: list[Workload]) -> PoolDemand:
    pool = cfg.node_pools[name]
    survive = pool.survive_az_loss if pool.survive_az_loss is not None else cfg.is_production
    return PoolDemand(
        name=name,
        workloads=tuple(workloads),
        daemonsets=DEFAULT_DAEMONSETS,
        az_count=cfg.network.az_count,
        survive_az_loss=survive,
        min_nodes=pool.min_size or 1,
        max_nodes=pool.max_size or SEARCH_LIMIT,
        autoscale_max=pool.max_size,
        prefix_delegation=cfg.cluster.prefix_delegation,
    )


def architecture(pool: NodePoolConfig) -> str:
    return "arm64" if "ARM_64" in pool.ami_type else "x86_64"


def candidates(
    cfg: StackConfig, pool: NodePoolConfig, catalog: Catalog, region: str, zones: list[str] | None
) -> list[InstanceType]:
    """The instance types an `auto` pool may use."""
    burstable = pool.allow_burstable if pool.allow_burstable is not None else not cfg.is_production
    out = []
    for t in catalog.priced():
        if t.architecture != architecture(pool):
            continue
        if pool.families and t.family not in pool.families:
            continue
        if t.burstable and not burstable:
            continue
        # Offerings are per AZ of the catalog's region: a type must exist in every AZ used.
        if zones and catalog.region == region and t.zones and not set(zones) <= set(t.zones):
            continue
        out.append(t)
    return sorted(out, key=lambda t: t.name)


def _misfit(t: InstanceType, demand: PoolDemand, nodes: int) -> str:
    """Why `nodes` nodes of `t` cannot hold the pool, in the words a user needs."""
    cpu, mem, pod_room = per_node_room(t, demand)
    ds, pods = demand.daemonsets, demand.total_pods
    per_node = math.ceil(pods / nodes)
    if pod_room < per_node:
        names = ", ".join(d.name for d in ds)
        return (
            f"{t.name} allows {pod_room + len(ds)} pods per node; this pool needs {len(ds) + per_node} on every "
            f"node ({names}, and {per_node} of its {pods} pods on each of {nodes} nodes)"
        )
    if cpu * nodes < demand.total_cpu_m:
        return (
            f"{t.name} offers {cpu}m CPU per node after kube-reserved and DaemonSets; this pool requests "
            f"{demand.total_cpu_m}m over {nodes} nodes"
        )
    if mem * nodes < demand.total_memory_mib:
        return (
            f"{t.name} offers {mem} MiB memory per node after kube-reserved, eviction threshold and "
            f"DaemonSets; this pool requests {demand.total_memory_mib} MiB over {nodes} nodes"
        )
    reason = plan_on(t, replace(demand, min_nodes=nodes, max_nodes=nodes))
    return reason if isinstance(reason, str) else f"{nodes} × {t.name} fits"


def _smallest_fitting(t: InstanceType, demand: PoolDemand, catalog: Catalog) -> InstanceType | None:
    """The cheapest type that holds the pool, from `t`'s family first, then its architecture."""
    same_arch = [c for c in catalog.priced() if c.architecture == t.architecture]
    for pool in ([c for c in same_arch if c.family == t.family], same_arch):
        fitting = [c for c in pool if not isinstance(plan_on(c, demand, runs=0), str)]  # a hint: heuristics
        if fitting:
            return min(fitting, key=lambda c: (c.hourly_usd, c.name))
    return None


def _on_every_type(plans: list[PoolPlan], demand: PoolDemand) -> list[PoolPlan]:
    """Plans of one node count that holds the pool on every type of a multi-type (spot) pool:
    the largest count any type needs, or more. Feasibility is not monotone in the count (spread
    caps tighten as nodes are added), so a type that needs fewer is checked at that count."""
    for n in range(max(p.nodes for p in plans), demand.max_nodes + 1):
        at_n = [plan_on(p.instance_type, replace(demand, min_nodes=n, max_nodes=n)) for p in plans]
        if all(not isinstance(p, str) for p in at_n):
            return [p for p in at_n if not isinstance(p, str)]
    return []


@dataclass
class ClusterPlan:
    """The plan of every pool, and the catalog it was made from."""

    pools: dict[str, PoolResult]
    catalog: Catalog
    _peaks: dict[str, Peak] | None = field(default=None, init=False, repr=False)

    def peaks(self, cfg: StackConfig) -> dict[str, Peak]:
        """Each pool at peak (every HPA at maxReplicas) and its ceiling (`slipway.program.autoscaling`)."""
        from slipway.program.autoscaling import peaks

        if self._peaks is None:
            self._peaks = peaks(cfg, self)
        return self._peaks

    def sizes(self, cfg: StackConfig) -> dict[str, tuple[list[str], int, int, int]]:
        """Per pool: (instance types, min, desired, max) for the node group.

        Under the Cluster Autoscaler the group is created at the steady plan (desired) and
        grows to the pool's ceiling (max), which holds every HPA at its maximum; it may shrink
        to one node per AZ (min) when pods fit on fewer. Under Karpenter
        the group stays at the steady plan; the peak is the NodePool's to add."""
        out = {}
        for name, result in self.pools.items():
            pool, plan = cfg.node_pools[name], result.plan
            types = pool.types or [plan.instance_type.name]
            desired = pool.desired_size if pool.desired_size is not None else plan.nodes
            low = pool.min_size if pool.min_size is not None else plan.nodes
            high = pool.max_size if pool.max_size is not None else max(plan.max_nodes, desired)
            if cfg.autoscaled(name) and cfg.autoscaling.provider == "cluster-autoscaler":
                high = max(self.peaks(cfg)[name].ceiling, desired)
                # The autoscaler owns the count between the bounds: a minSize that followed the
                # plan would, once raised above the group's live desiredSize, make EKS refuse the
                # update ("Minimum capacity can't be greater than desired size"). One node per AZ.
                if pool.min_size is None:
                    low = cfg.network.az_count
            out[name] = (types, min(low, desired), desired, high)
        return out


def plan_cluster(
    cfg: StackConfig,
    region: str,
    zones: list[str] | None = None,
    extra: dict[str, list[Workload]] | None = None,
    catalog: Catalog | None = None,
    stack: str | None = None,
    ignore_pins: bool = False,
) -> ClusterPlan:
    """Plan every pool; ConfigError lists every pool that cannot hold its pods.

    An `auto` pool with a `pinnedInstanceType` is planned on that type (only its node
    count follows the workloads); `ignore_pins` plans it afresh, which is what
    `slipway size` proposes and `slipway pin --replan` writes.
    """
    catalog = catalog or load_catalog()
    errors: list[str] = []
    results: dict[str, PoolResult] = {}
    for name, workloads in sorted(pool_workloads(cfg, extra).items()):
        pool = cfg.node_pools[name]
        demand = demand_for(cfg, name, workloads)
        pinned = pool.pinned_instance_type if pool.is_auto and not ignore_pins else None
        if pool.is_auto and pinned is None:
            pool_candidates = candidates(cfg, pool, catalog, region, zones)
            if not pool_candidates and (anywhere := candidates(cfg, pool, catalog, region, None)):
                missing = sorted({z for t in anywhere for z in zones or [] if z not in t.zones})
                errors.append(
                    f"nodePools.{name}: no candidate instance type is offered in every AZ used "
                    f"({', '.join(zones or [])}; missing in {', '.join(missing)}) — choose other "
                    "network.availabilityZones"
                )
                continue
            result = plan_pool(demand, pool_candidates)
            if result.plan is None:
                why = sorted(result.rejected.items())[:1]
                detail = f" ({why[0][1]})" if why else ""
                errors.append(
                    f"nodePools.{name}: no instance type among {len(pool_candidates)} candidates holds this pool"
                    f"{detail} — widen families, allow more nodes (maxSize), or lower the pods' requests"
                )
                continue
            results[name] = result
            continue
        # A pool of several types (spot) may get any of them: the plan must hold on each,
        # and the node count is the one the weakest type needs.
        plans = []
        types = [pinned] if pinned else pool.types
        fixed = demand
        if pool.desired_size is not None:
            fixed = replace(demand, min_nodes=pool.desired_size, max_nodes=pool.desired_size)
        for i, named in enumerate(types):
            if pinned:
                key = "pinnedInstanceType"
            else:
                key = f"instanceTypes[{i}]" if pool.instance_types is not None else "instanceType"
            t = catalog.get(named)
            if t is None:
                errors.append(
                    f"nodePools.{name}.{key}: {named!r} is not in slipway's instance catalog — "
                    f"use instanceType: auto, or add it with `slipway catalog refresh --region {region}`"
                )
                continue
            plan = plan_on(t, fixed)
            if isinstance(plan, str):
                nodes = pool.desired_size or demand.max_nodes
                best = _smallest_fitting(t, fixed, catalog)
                hint = f"smallest type that fits: {best.name}" if best else "use instanceType: auto or allow more nodes"
                if pinned:
                    hint = (f"re-plan with `slipway pin {stack or '<stack>'} --replan` (it replaces the node group; "
                            "nodes roll onto the new type)")  # fmt: skip
                where = f"nodePools.{name}" if key == "instanceType" else f"nodePools.{name}.{key}"
                errors.append(f"{where}: {_misfit(t, demand, nodes)} — {hint}")
                continue
            plans.append(plan)
        if len(plans) != len(types):
            continue
        if len(plans) > 1:
            plans = _on_every_type(plans, fixed)
            if not plans:
                errors.append(
                    f"nodePools.{name}.instanceTypes: no node count up to maxSize {fixed.max_nodes} holds the pool "
                    f"on every listed type ({', '.join(types)}) — list types of one size, or set instanceType"
                )
                continue
        plan = max(plans, key=lambda p: p.nodes)  # first of the types needing the most nodes
        # The type is the user's (or the pin's): the bound is on its node count.
        results[name] = PoolResult(fixed, plan, [], plan.bound_nodes * plan.instance_type.monthly_usd, {})
    if errors:
        raise ConfigError(errors, stack)
    return ClusterPlan(results, catalog)


__all__ = [
    "ClusterPlan",
    "Counted",
    "addon_counted",
    "app_counted",
    "app_pool",
    "app_workloads",
    "argo_pool",
    "argo_workflow_pod",
    "counted_workloads",
    "plan_cluster",
    "pool_workloads",
    "surge",
    "system_pool",
]
