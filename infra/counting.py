"""What each node pool must hold: the workloads its plan counts, and what put them there.

Declared `pods:`, the cluster add-ons (on the system pool, Argo's on its pool, with its
workflow pods), the applications (replicas, rolling-update surge, CronJob and migration
pods). `slipway.program.capacity` turns these into each pool's demand and plan.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from slipway.components.capacity.planner import COREDNS, Workload
from slipway.components.capacity.quantity import cpu_millicores, memory_mib
from slipway.program.config import AppConfig, StackConfig


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
