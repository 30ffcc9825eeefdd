"""Steady state and peak: what each pool holds with every HPA at `minReplicas` (the plan the
node groups are created with) and at `maxReplicas` with rolling-update surge (what the
autoscaler must be able to add).

Both are planned on the pool's own instance type, by the same planner, so "the ceiling
holds the peak" means: the node count the planner needs at peak is within the pool's
ceiling — its node group's `maxSize` (Cluster Autoscaler), or the node group plus its
Karpenter NodePool's limits, which are derived from the same ceiling (Karpenter may
launch other types; the limits cap it at the same CPU and memory).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from slipway.components.capacity.planner import PoolPlan, plan_on
from slipway.program.capacity import SEARCH_LIMIT, ClusterPlan, demand_for, pool_workloads
from slipway.program.config import StackConfig


@dataclass(frozen=True)
class Peak:
    """One pool at peak."""

    pool: str
    steady: PoolPlan
    peak: PoolPlan | None
    """None: even SEARCH_LIMIT nodes of the pool's type cannot hold the peak."""
    ceiling: int
    """Most nodes the pool may have (node group maxSize; Karpenter: the equivalent limits)."""
    autoscaled: bool
    growth: tuple[tuple[str, int, int], ...]
    """(app, minReplicas, maxReplicas) of each HPA on the pool."""

    @property
    def holds(self) -> bool:
        return self.peak is not None and self.peak.nodes <= self.ceiling

    @property
    def peak_usd(self) -> float:
        """$/month with every HPA at its maximum (the ceiling's cost when the peak cannot be planned)."""
        nodes = self.peak.nodes if self.peak is not None else self.ceiling
        return nodes * self.steady.instance_type.monthly_usd


def at_peak(cfg: StackConfig, fraction: float = 1.0) -> StackConfig:
    """`cfg` with every HPA's app at `minReplicas + fraction × (maxReplicas − minReplicas)` replicas."""
    apps = {}
    for name, app in cfg.apps.items():
        if app.autoscaling is None:
            apps[name] = app
            continue
        low, high = app.steady_replicas, app.autoscaling.max_replicas
        apps[name] = app.model_copy(update={"replicas": low + math.floor(fraction * max(high - low, 0))})
    return cfg.model_copy(update={"apps": apps})


def _plan(cfg: StackConfig, name: str, steady: PoolPlan, nodes: tuple[int, int]) -> PoolPlan | None:
    demand = demand_for(cfg, name, pool_workloads(cfg)[name])
    demand = replace(demand, min_nodes=nodes[0], max_nodes=nodes[1], autoscale_max=None)
    plan = plan_on(steady.instance_type, demand)
    return None if isinstance(plan, str) else plan


def ceiling(cfg: StackConfig, name: str, steady_nodes: int, peak_nodes: int | None) -> int:
    """The most nodes `name` may have: its maxSize when set; with an autoscaler the peak and
    at least `headroom` × the steady count; without one, the steady plan (a fixed pool)."""
    pool = cfg.node_pools[name]
    if pool.max_size is not None:
        return pool.max_size if cfg.autoscaled(name) else max(steady_nodes, pool.desired_size or steady_nodes)
    if not cfg.autoscaled(name):
        return pool.desired_size or steady_nodes
    room = math.ceil(cfg.autoscaling.headroom * steady_nodes)
    return min(max(peak_nodes or 0, room, steady_nodes), SEARCH_LIMIT)


def peaks(cfg: StackConfig, plan: ClusterPlan) -> dict[str, Peak]:
    """Every pool's steady plan, peak plan and ceiling."""
    high = at_peak(cfg)
    out = {}
    for name, result in sorted(plan.pools.items()):
        steady = result.plan
        growth = tuple(
            (app_name, app.steady_replicas, app.autoscaling.max_replicas)
            for app_name, app in sorted(cfg.apps.items())
            if app.autoscaling is not None and _pool_of(cfg, app_name) == name
        )
        peak = _plan(high, name, steady, (steady.nodes, SEARCH_LIMIT)) if growth else steady
        out[name] = Peak(name, steady, peak, ceiling(cfg, name, steady.nodes, peak.nodes if peak else None),
                         cfg.autoscaled(name), growth)  # fmt: skip
    return out


def _pool_of(cfg: StackConfig, app: str) -> str:
    from slipway.program.capacity import app_pool

    return app_pool(cfg, cfg.apps[app])


def pending(cfg: StackConfig, peak: Peak) -> dict[str, int]:
    """At the ceiling, how many pods of each HPA's app would stay Pending when every HPA
    scales up together (the largest equal share of each one's growth that still fits)."""
    lo, hi = 0.0, 1.0
    for _ in range(12):  # bisection to 1/4096 of the growth
        mid = (lo + hi) / 2
        fits = _plan(at_peak(cfg, mid), peak.pool, peak.steady, (peak.steady.nodes, peak.ceiling)) is not None
        lo, hi = (mid, hi) if fits else (lo, mid)
    return {app: high - (low + math.floor(lo * (high - low))) for app, low, high in peak.growth}
