"""The planner and the autoscaler agree: each pool's ceiling holds every HPA at its
`maxReplicas` with rolling-update surge (`slipway.program.autoscaling`).

With an autoscaler a ceiling that cannot hold the peak is an error (the pods it cannot
place would stay Pending at the first traffic peak); without one, a peak beyond the
fixed plan is a warning (the HPA would scale to replicas no node can take).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from slipway.program.guardrails import Finding, Site, guardrail

if TYPE_CHECKING:
    from slipway.program.capacity import ClusterPlan
    from slipway.program.config import StackConfig


@guardrail
def karpenter_needs_access_entries(cfg: StackConfig, plan: ClusterPlan, site: Site) -> list[Finding]:
    """Karpenter's nodes join through an EKS access entry of type EC2_LINUX, which a cluster
    in CONFIG_MAP mode refuses (EKS access entries need API or API_AND_CONFIG_MAP)."""
    if cfg.autoscaling.provider != "karpenter" or cfg.cluster.authentication_mode != "CONFIG_MAP":
        return []
    return [
        Finding(
            "error",
            "autoscaling.provider",
            "karpenter",
            "needs EKS access entries (its nodes join through one of type EC2_LINUX), but "
            "cluster.authenticationMode is CONFIG_MAP",
            "set cluster.authenticationMode: API_AND_CONFIG_MAP (or API), or provider: cluster-autoscaler",
        )
    ]


@guardrail
def karpenter_has_room(cfg: StackConfig, plan: ClusterPlan, site: Site) -> list[Finding]:
    """Karpenter extends AL2023 pools with room above their steady plan; say when it has none."""
    if cfg.autoscaling.provider != "karpenter":
        return []
    from slipway.program.autoscalers import extended

    out = []
    peaks = plan.peaks(cfg)
    for name in sorted(cfg.node_pools):
        if cfg.autoscaled(name) and not extended(cfg, name):
            out.append(Finding("warning", f"nodePools.{name}.amiType", cfg.node_pools[name].ami_type,
                               "is not AL2023, and slipway's Karpenter NodePools launch AL2023 nodes only, so "
                               "nothing adds nodes to this pool",
                               f"use an AL2023 amiType, or set nodePools.{name}.autoscaler: none"))  # fmt: skip
    if not any(extended(cfg, n) and peaks[n].ceiling > peaks[n].steady.nodes for n in peaks):
        out.append(Finding("error", "autoscaling.provider", "karpenter",
                           "has no pool to extend: every autoscaled pool's ceiling (maxSize) equals its steady "
                           "plan, so Karpenter could add no node",
                           "remove maxSize from the pools (slipway then sizes the ceiling for the peak) or raise "
                           "it, or use provider: none"))  # fmt: skip
    return out


@guardrail
def peak_fits(cfg: StackConfig, plan: ClusterPlan, site: Site) -> list[Finding]:
    from slipway.program.autoscaling import peaks, pending

    out = []
    for name, peak in peaks(cfg, plan).items():
        if not peak.growth or peak.holds:
            continue
        waiting = {app: n for app, n in pending(cfg, peak).items() if n > 0}
        apps = ", ".join(f"{n} of {app}'s {high}" for app, _, high in peak.growth if (n := waiting.get(app)))
        t = peak.steady.instance_type.name
        need = f"{peak.peak.nodes} × {t}" if peak.peak else f"more than {peak.ceiling} × {t}"
        first = next((app for app, _, _ in peak.growth if app in waiting), peak.growth[0][0])
        high = next(h for a, _, h in peak.growth if a == first)
        if peak.autoscaled:
            provider = cfg.autoscaling.provider
            out.append(Finding(
                "error", f"apps.{first}.autoscaling.maxReplicas", high,
                f"with every HPA of pool {name} at its maximum needs {need} (surge included), but the pool's "
                f"ceiling is {peak.ceiling} nodes ({provider}): {apps or 'some'} pods would stay Pending",
                f"raise nodePools.{name}.maxSize to {peak.peak.nodes if peak.peak else 'more'} (or remove it: "
                f"slipway then sizes the ceiling for the peak), or lower maxReplicas",
            ))  # fmt: skip
        else:
            why = ("slipway:autoscaling.provider is none" if cfg.autoscaling.provider == "none"
                   else f"nodePools.{name}.autoscaler is {cfg.node_pools[name].autoscaler}")  # fmt: skip
            out.append(Finding(
                "warning", f"apps.{first}.autoscaling.maxReplicas", high,
                f"with every HPA of pool {name} at its maximum needs {need}, but the pool is fixed at "
                f"{peak.ceiling} nodes ({why}): {apps or 'some'} pods would stay Pending at peak",
                "set slipway:autoscaling.provider: karpenter (or cluster-autoscaler), or lower maxReplicas",
            ))  # fmt: skip
    return out
