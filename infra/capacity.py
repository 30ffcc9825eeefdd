"""From a stack's config to node pool plans (the planner itself is components/capacity).

For each pool: the pods it must hold (its declared workloads, plus the cluster
add-ons on the system pool), the DaemonSets on every node, the AZ count and its
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
    COREDNS,
    DEFAULT_DAEMONSETS,
    PoolDemand,
    PoolResult,
    Workload,
    per_node_room,
    plan_on,
    plan_pool,
)
from slipway.components.capacity.quantity import cpu_millicores, memory_mib
from slipway.program.config import AppConfig, ConfigError, NodePoolConfig, StackConfig

if TYPE_CHECKING:
    from slipway.program.autoscaling import Peak

SEARCH_LIMIT = 200  # nodes; beyond this a pool is certainly misconfigured


def system_pool(cfg: StackConfig) -> str:
    """Where cluster add-ons run: the pool marked `system`, else `system`, `general`, the first."""
    marked = [n for n, p in cfg.node_pools.items() if p.system]
    if marked:
        return marked[0]
    for name in ("system", "general"):
        if name in cfg.node_pools:
            return name
    return sorted(cfg.node_pools)[0]


def argo_pool(cfg: StackConfig) -> str:
    """Where Argo's controller, server and workflows run."""
    return cfg.argo.node_pool or system_pool(cfg)


@dataclass(frozen=True)
class Counted:
    """One workload a pool's plan counts, what it is, and what puts it on that pool."""

    workload: Workload
    source: str
    """What it is: `app`, `CronJob`, `migration Job`, `add-on`, `declared pods:`, or
    `argo workflows × parallelism N`."""
    placed_by: str
    """The config that puts it there, e.g. `apps.web.nodePool`, `argo.nodePool`, `nodePools.argo.pods`."""


def _system_reason(cfg: StackConfig) -> str:
    name = system_pool(cfg)
    return "system pool" if cfg.node_pools[name].system or name == "system" else "default system pool"


def argo_workflow_pod(cfg: StackConfig) -> tuple[int, int]:
    """Requests (millicores, MiB) of the largest workflow pod: the largest `main` container
    (a WorkflowTemplate's requests, or Argo's default for one without) plus the `wait`
    executor beside it (the `init` executor runs alone, before them, and asks for less)."""
    from slipway.components import argo

    mains = [(argo.MAIN_REQUESTS["cpu"], argo.MAIN_REQUESTS["memory"])]
    mains += [(t.cpu, t.memory) for t in cfg.argo.workflow_templates]
    cpu = max(cpu_millicores(c) for c, _ in mains) + cpu_millicores(argo.EXECUTOR_REQUESTS["cpu"])
    return cpu, max(memory_mib(m) for _, m in mains) + memory_mib(argo.EXECUTOR_REQUESTS["memory"])


def addon_counted(cfg: StackConfig) -> dict[str, list[Counted]]:
    """Cluster add-on pods per pool, with the requests slipway gives them.

    CoreDNS (EKS default add-on), the Load Balancer Controller and metrics-server on the
    system pool; Argo's controller and server on its pool, and its workflow pods: as many
    as `argo.parallelism` lets run at once, each the size of the largest (with executor).
    """
    from slipway.components import argo
    from slipway.components import load_balancer_controller as lbc
    from slipway.components import metrics_server as metrics

    system, why = system_pool(cfg), _system_reason(cfg)
    out: dict[str, list[Counted]] = {system: [Counted(COREDNS, "add-on", why)]}
    if cfg.load_balancer_controller.enabled:
        out[system].append(Counted(
            Workload("aws-load-balancer-controller", cfg.load_balancer_controller.replicas,
                     cpu_millicores(lbc.REQUESTS["cpu"]), memory_mib(lbc.REQUESTS["memory"]), max_surge=1),
            "add-on", why))  # fmt: skip
    if cfg.autoscaling.provider == "cluster-autoscaler":
        from slipway.components import cluster_autoscaler as ca

        out[system].append(Counted(
            Workload("cluster-autoscaler", 1, cpu_millicores(ca.REQUESTS["cpu"]), memory_mib(ca.REQUESTS["memory"]),
                     max_surge=1, spread=False),
            "add-on", why))  # fmt: skip
    if cfg.autoscaling.provider == "karpenter":
        from slipway.components import karpenter_manifests as karpenter

        out[system].append(Counted(
            Workload("karpenter", 2, cpu_millicores(karpenter.REQUESTS["cpu"]),
                     memory_mib(karpenter.REQUESTS["memory"]), max_surge=1),
            "add-on", why))  # fmt: skip
    if cfg.wants_argo_rollouts:
        from slipway.components import argo_rollouts as rollouts

        out[system].append(Counted(
            Workload("argo-rollouts", 2, cpu_millicores(rollouts.REQUESTS["cpu"]),
                     memory_mib(rollouts.REQUESTS["memory"]), max_surge=1),
            "add-on", why))  # fmt: skip
    if cfg.wants_metrics_server:
        out[system].append(Counted(
            Workload("metrics-server", metrics.REPLICAS, cpu_millicores(metrics.REQUESTS["cpu"]),
                     memory_mib(metrics.REQUESTS["memory"]), max_surge=1),
            "add-on", why))  # fmt: skip
    if cfg.argo.enabled:
        placed = "argo.nodePool" if cfg.argo.node_pool else f"{why}, argo.nodePool unset"
        cpu, mem = argo_workflow_pod(cfg)
        n = cfg.argo.parallelism
        out.setdefault(argo_pool(cfg), []).extend([
            Counted(Workload("argo-workflows-controller", 1, cpu_millicores(argo.CONTROLLER_REQUESTS["cpu"]),
                             memory_mib(argo.CONTROLLER_REQUESTS["memory"]), max_surge=1, spread=False),
                    "add-on", placed),
            Counted(Workload("argo-workflows-server", 1, cpu_millicores(argo.SERVER_REQUESTS["cpu"]),
                             memory_mib(argo.SERVER_REQUESTS["memory"]), max_surge=1, spread=False),
                    "add-on", placed),
            Counted(Workload("workflow-pods", n, cpu, mem, spread=False), f"argo workflows × parallelism {n}", placed),
        ])  # fmt: skip
    return out


def app_pool(cfg: StackConfig, app: AppConfig) -> str:
    """Where an application runs: its nodePool, else `general`, else the first pool."""
    if app.node_pool:
        return app.node_pool
    return "general" if "general" in cfg.node_pools else sorted(cfg.node_pools)[0]


def surge(app: AppConfig, replicas: int) -> int:
    """Extra pods a rollout adds: maxSurge for a rolling update (a number or a percentage,
    rounded up); a whole second set for canary and blueGreen. Blue/green brings the new
    version up in full before the switch; a canary through the ALB keeps the stable pods at
    100% while the canary's grow to ceil(weight × replicas), and the last weight is 100
    (argoproj/argo-rollouts@v1.9.0 docs/features/canary/index.md "Dynamic Stable Scale")."""
    if app.strategy.type == "Recreate":
        return 0
    if app.strategy.progressive:
        return replicas
    value = app.strategy.max_surge
    if isinstance(value, str) and value.endswith("%"):
        return math.ceil(replicas * int(value[:-1]) / 100)
    return int(value)


def app_counted(cfg: StackConfig) -> dict[str, list[Counted]]:
    """Each application's pods on its pool (at least the autoscaler's minimum), plus the
    pods of its CronJobs and migration Job: they run the app's container with its
    requests, next to the running replicas (one pod each: Forbid/Replace never overlap,
    and a migration runs once per rollout)."""
    out: dict[str, list[Counted]] = {}
    for name, app in sorted(cfg.apps.items()):
        replicas, why = app.steady_replicas, f"apps.{name}.nodePool" if app.node_pool else "default pool"
        cpu, mem = cpu_millicores(app.resources.requests["cpu"]), memory_mib(app.resources.requests["memory"])
        pods = out.setdefault(app_pool(cfg, app), [])
        if replicas:
            pods.append(Counted(Workload(name, replicas, cpu, mem, max_surge=surge(app, replicas)), "app", why))
        pods += [
            Counted(Workload(f"{name}-{c.name}", 1, cpu, mem, spread=False), "CronJob", why) for c in app.cron_jobs
        ]
        if app.migration is not None:
            pods.append(Counted(Workload(f"{name}-migrate", 1, cpu, mem, spread=False), "migration Job", why))
    return out


def app_workloads(cfg: StackConfig) -> dict[str, list[Workload]]:
    """The applications' workloads per pool (see `app_counted`)."""
    return {pool: [c.workload for c in cs] for pool, cs in app_counted(cfg).items()}


def counted_workloads(cfg: StackConfig, extra: dict[str, list[Workload]] | None = None) -> dict[str, list[Counted]]:
    """Every workload every pool's plan counts: declared pods, add-ons (Argo's workflows
    included), applications, and `extra` — each with what placed it there."""
    out: dict[str, list[Counted]] = {name: [] for name in cfg.node_pools}
    for name, pool in cfg.node_pools.items():
        out[name] += [
            Counted(Workload(p.name, p.replicas, p.cpu_m, p.memory_mib, max_surge=p.max_surge), "declared pods:",
                    f"nodePools.{name}.pods")
            for p in pool.pods
        ]  # fmt: skip
    extras = {pool: [Counted(w, "extra", "") for w in ws] for pool, ws in (extra or {}).items()}
    for source in (addon_counted(cfg), app_counted(cfg), extras):
        for name, counted in source.items():
            out.setdefault(name, []).extend(counted)
    return out


def pool_workloads(cfg: StackConfig, extra: dict[str, list[Workload]] | None = None) -> dict[str, list[Workload]]:
    """Every workload on every pool: declared pods, add-ons, applications, and `extra`."""
    return {pool: [c.workload for c in cs] for pool, cs in counted_workloads(cfg, extra).items()}


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
            fixed = replace(demand, min_nodes=pool.desired_size) if pool.desired_size is not None else demand
            if pool.desired_size is not None:
                fixed = replace(fixed, max_nodes=pool.desired_size)
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
        plan = max(plans, key=lambda p: p.nodes)  # first of the types needing the most nodes
        # The type is the user's (or the pin's): the bound is on its node count.
        results[name] = PoolResult(demand, plan, [], plan.bound_nodes * plan.instance_type.monthly_usd, {})
    if errors:
        raise ConfigError(errors, stack)
    return ClusterPlan(results, catalog)


__all__ = ["ClusterPlan", "Counted", "counted_workloads", "plan_cluster", "pool_workloads", "system_pool"]
