"""Progressive delivery in an `AppSpec`: a canary through the ALB or a blue/green switch,
run by Argo Rollouts (chart argo-rollouts 2.41.0, appVersion v1.9.0). `Strategy.type`
"canary" or "blueGreen" makes the App render a `Rollout` instead of a Deployment
(components/app_rollout.py); these are its settings.

Durations are Argo's own strings, `<n>s`, `<n>m` or `<n>h` (argoproj/argo-rollouts@v1.9.0
docs/features/canary/index.md "Pause Duration"), so a stack file reads like the upstream docs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal


@dataclass(frozen=True, kw_only=True)
class SetWeight:
    """Send `weight`% of the ALB's traffic to the new version (a canary step)."""

    weight: int
    """1–100; the steps' weights only go up, and the last one is 100."""


@dataclass(frozen=True, kw_only=True)
class Pause:
    """Wait (a canary step): for `duration`, or until promoted
    (`kubectl argo rollouts promote <app> -n <namespace>`) when None."""

    duration: str | None = None
    """`30s`, `10m`, `1h` (at most 24h); None: until promoted by hand."""


@dataclass(frozen=True, kw_only=True)
class RunAnalysis:
    """Run the app's analysis here and wait for its verdict (a canary step): a failure
    aborts the rollout. Needs `Strategy.analysis`."""


CanaryStep = SetWeight | Pause | RunAnalysis
"""One step of a canary."""


def _default_steps() -> tuple[CanaryStep, ...]:
    return (
        SetWeight(weight=10),
        Pause(duration="5m"),
        SetWeight(weight=50),
        Pause(duration="5m"),
        SetWeight(weight=100),
    )


@dataclass(frozen=True, kw_only=True)
class CanarySpec:
    """A canary: the steps shift real ALB traffic (weighted target groups) from the stable
    Service to the canary Service. Needs an ingress. `Strategy.max_surge` and
    `max_unavailable` apply to how the canary's pods come up."""

    steps: Sequence[CanaryStep] = field(default_factory=_default_steps)
    """The steps, in order (at most 20). Default: 10% for 5 minutes, 50% for 5 minutes, then 100%."""
    switch_from_deployment: bool = False
    """For the `pulumi up` that turns an app already serving through its Ingress into a canary:
    `pulumi up` waits until the Rollout's pods are available before the Ingress moves to the
    ALB action, so requests keep reaching the Deployment's pods (without it, the ALB answers
    503 until then). Never on a new app: Argo refuses a canary whose Ingress does not exist
    yet, so the wait would time out. Harmless once switched (a release does not change the
    Rollout)."""


@dataclass(frozen=True, kw_only=True)
class BlueGreenSpec:
    """Blue/green: the new version comes up in full behind the preview Service
    `<app>-preview`, then the active Service `<app>` switches to it."""

    auto_promotion_enabled: bool = True
    """Switch as soon as the new pods are ready (and the analysis passed). Default true,
    Argo's own; false: wait for `kubectl argo rollouts promote`."""
    auto_promotion_seconds: int | None = None
    """With auto-promotion: wait this long (1–86400 s) before switching; None: at once."""
    scale_down_delay_seconds: int = 30
    """Seconds the old pods stay up after the switch (30–3600), while the nodes and the
    ALB's targets catch up. Default 30, Argo's own."""
    preview_hosts: Sequence[str] = ()
    """Host names of an Ingress to the preview Service (same ALB group, paths and TLS as
    the app's ingress, which it needs); empty (the default): no preview Ingress."""


@dataclass(frozen=True, kw_only=True)
class AnalysisSpec:
    """An `AnalysisTemplate` `<app>` that measures the new version's success rate: a
    canary runs it in the background from its first step after the first weight (or at
    its `RunAnalysis` steps), blue/green before the switch. A failed analysis aborts the
    rollout: traffic goes back to the stable version (argoproj/argo-rollouts@v1.9.0
    docs/features/analysis.md, "Background Analysis" and "BlueGreen Pre Promotion Analysis")."""

    provider: Literal["cloudwatch", "prometheus"]
    """`cloudwatch`: the ALB's own metrics for the canary's target group (a canary only;
    the Argo Rollouts controller must run with `--aws-verify-target-group`, which fills in
    the Rollout's `status.alb`, and may call `cloudwatch:GetMetricData`). `prometheus`:
    `prometheus_query` against `prometheus_address`. A CloudWatch measurement checks
    each minute of the last five (the ALB's metrics arrive late)."""
    success_rate: float = 0.99
    """The lowest acceptable share of good responses, 0 < rate ≤ 1. Default 0.99."""
    interval: str = "1m"
    """Time between measurements (`30s`–`1h`). Default 1m, the ALB's metric period."""
    count: int = 5
    """Measurements in one run (1–100). Default 5: five minutes at the default interval."""
    failure_limit: int = 1
    """Failed measurements tolerated before the analysis fails (0 – count-1). Default 1:
    one bad minute is noise, two fail the release."""
    prometheus_address: str | None = None
    """For `prometheus`: the server's URL, e.g. http://prometheus.monitoring:9090."""
    prometheus_query: str | None = None
    """For `prometheus`: PromQL returning the success rate (0–1) of the new version. It may
    use `{{args.namespace}}`, `{{args.app}}`, `{{args.canary-hash}}` and
    `{{args.stable-hash}}` (the pods' `rollouts-pod-template-hash` label)."""


__all__ = ["AnalysisSpec", "BlueGreenSpec", "CanarySpec", "CanaryStep", "Pause", "RunAnalysis", "SetWeight"]
