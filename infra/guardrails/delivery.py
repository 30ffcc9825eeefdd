"""Progressive delivery advice (warnings): what a canary or blue/green release rests on."""

from __future__ import annotations

from typing import TYPE_CHECKING

from slipway.program.guardrails import Finding, Site, guardrail

if TYPE_CHECKING:
    from slipway.program.capacity import ClusterPlan
    from slipway.program.config import StackConfig


@guardrail
def progressive_with_one_pod(cfg: StackConfig, plan: ClusterPlan, site: Site) -> list[Finding]:
    """A canary or blue/green of one pod: each version runs one pod, so the release rests on it."""
    return [
        Finding(
            "warning",
            f"apps.{name}.strategy.type",
            app.strategy.type,
            "with 1 replica: each version runs one pod, so the release rests on a single pod",
            "set replicas (or autoscaling.minReplicas) to 2 or more",
        )  # fmt: skip
        for name, app in sorted(cfg.apps.items())
        if app.strategy.progressive and app.steady_replicas == 1
    ]


@guardrail
def blue_green_behind_an_alb(cfg: StackConfig, plan: ClusterPlan, site: Site) -> list[Finding]:
    """Upstream warns that switching a blue/green Service behind an ALB can briefly leave the
    target group without healthy targets (argoproj/argo-rollouts@v1.9.0 docs/features/bluegreen.md)."""
    return [
        Finding(
            "warning",
            f"apps.{name}.strategy.type",
            "blueGreen",
            "behind an ALB Ingress: at the switch the target group can briefly have no healthy targets "
            "(Argo Rollouts' blue/green docs)",
            "use type: canary for ALB-routed apps (traffic shifts by weight), or accept a short 5xx window",
        )  # fmt: skip
        for name, app in sorted(cfg.apps.items())
        if app.strategy.type == "blueGreen" and app.ingress.enabled
    ]
