"""`slipway:apps.<name>.strategy` — how a new version rolls out: the Deployment's
RollingUpdate/Recreate, or an Argo Rollouts canary/blueGreen (the library's
slipway.components.app_rollout_spec), camelCase like the upstream Rollout:

    strategy:
      type: canary
      canary: {steps: [{setWeight: 10}, {pause: {duration: 5m}}, {setWeight: 50}, {pause: {}},
                       {setWeight: 100}]}
      analysis: {provider: cloudwatch, successRate: 0.99}

`strategy_checks` reports every mistake on the raw input with the stack file's paths;
the bounds are the library's (app_validation_progressive.py). `strategy_spec` builds the
library's `Strategy`.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from slipway.components.app_rollout_spec import (
    AnalysisSpec,
    BlueGreenSpec,
    CanarySpec,
    CanaryStep,
    Pause,
    RunAnalysis,
    SetWeight,
)
from slipway.components.app_rules import HOSTNAME, count_or_percent
from slipway.components.app_spec import Strategy
from slipway.components.app_validation_progressive import MAX_STEPS, duration_seconds, pause_issues, weight_issues
from slipway.program.config.errors import Issue
from slipway.program.config.model import Model
from slipway.program.config.schema import _dict


class PauseConfig(Model):
    duration: str | None = None
    """`30s`, `10m`, `1h` (≤ 24h); none: wait for `kubectl argo rollouts promote`."""


class AnalysisStepConfig(Model):
    """`{analysis: {}}`: run the app's analysis here; its failure aborts the rollout."""


class CanaryStepConfig(Model):
    """One step: exactly one of setWeight, pause, analysis."""

    set_weight: int | None = None
    pause: PauseConfig | None = None
    analysis: AnalysisStepConfig | None = None


class CanaryConfig(Model):
    steps: list[CanaryStepConfig] | None = None
    """The steps, in order; none: the library's (10% for 5m, 50% for 5m, 100%)."""
    switch_from_deployment: bool = False
    """Set for the update that makes an app already serving through its Ingress a canary:
    `pulumi up` waits for the Rollout's pods before the Ingress moves (no 503s). Never on a new
    app (the wait would time out: Argo refuses a canary until its Ingress exists)."""


class BlueGreenConfig(Model):
    auto_promotion_enabled: bool = BlueGreenSpec.auto_promotion_enabled
    auto_promotion_seconds: int | None = Field(BlueGreenSpec.auto_promotion_seconds, ge=1, le=86400)
    scale_down_delay_seconds: int = Field(BlueGreenSpec.scale_down_delay_seconds, ge=30, le=3600)
    preview_hosts: list[str] = []
    """Hosts of an Ingress to the preview Service (needs ingress.enabled)."""


class AnalysisConfig(Model):
    provider: Literal["cloudwatch", "prometheus"]
    success_rate: float = Field(AnalysisSpec.success_rate, gt=0, le=1)
    interval: str = AnalysisSpec.interval
    count: int = Field(AnalysisSpec.count, ge=1, le=100)
    failure_limit: int = Field(AnalysisSpec.failure_limit, ge=0, le=99)
    prometheus_address: str | None = None
    prometheus_query: str | None = None


class StrategyConfig(Model):
    type: Literal["RollingUpdate", "Recreate", "canary", "blueGreen"] = Strategy.type
    max_surge: str | int = Strategy.max_surge
    """Extra pods during a rollout (number or percentage)."""
    max_unavailable: str | int = Strategy.max_unavailable
    """Pods that may be missing during a rollout; 0 keeps full capacity."""
    min_ready_seconds: int = Field(Strategy.min_ready_seconds, ge=0, le=3600)
    progress_deadline_seconds: int = Field(Strategy.progress_deadline_seconds, ge=1, le=86400)
    canary: CanaryConfig | None = None
    blue_green: BlueGreenConfig | None = None
    analysis: AnalysisConfig | None = None

    @property
    def progressive(self) -> bool:
        """Rolled out by Argo Rollouts (a Rollout), not a Deployment."""
        return self.type in ("canary", "blueGreen")


def strategy_checks(data: dict) -> list[Issue]:
    """Surge and deadlines; a canary's steps and what it needs (an ALB Ingress), blue/green's
    (a Service), the analysis's provider settings."""
    strategy = _dict(data.get("strategy"))
    issues = []
    deadline = strategy.get("progressDeadlineSeconds", Strategy.progress_deadline_seconds)
    ready = strategy.get("minReadySeconds", Strategy.min_ready_seconds)
    if isinstance(deadline, int) and isinstance(ready, int) and deadline <= ready:
        issues.append(Issue("strategy.progressDeadlineSeconds", deadline,
                            f"is not above minReadySeconds {ready} (Kubernetes rejects it)",
                            f"raise progressDeadlineSeconds above {ready}, or lower minReadySeconds"))  # fmt: skip
    kind = strategy.get("type", "RollingUpdate")
    for key, owner in (("canary", "canary"), ("blueGreen", "blueGreen")):
        if strategy.get(key) is not None and kind != owner:
            issues.append(Issue(f"strategy.{key}", "{…}", f"is set but type is {kind}",
                                f"set type: {owner}, or remove strategy.{key}"))  # fmt: skip
    if strategy.get("analysis") is not None and kind not in ("canary", "blueGreen"):
        issues.append(Issue("strategy.analysis", "{…}", f"needs type canary or blueGreen, not {kind}",
                            "remove it, or use a progressive strategy"))  # fmt: skip
    if kind in ("RollingUpdate", "canary"):
        issues += _surge_checks(strategy)
    if kind == "canary":
        issues += _canary_checks(data, _dict(strategy.get("canary")), strategy.get("analysis") is not None)
    elif kind == "blueGreen":
        issues += _blue_green_checks(data, _dict(strategy.get("blueGreen")))
    if kind in ("canary", "blueGreen") and strategy.get("analysis") is not None:
        issues += _analysis_checks(kind, _dict(strategy.get("analysis")))
    return issues  # fmt: skip


def _surge_checks(strategy: dict) -> list[Issue]:
    issues, values = [], {}
    for key, default in (("maxSurge", Strategy.max_surge), ("maxUnavailable", Strategy.max_unavailable)):
        value = strategy.get(key, default)
        values[key] = count_or_percent(value)
        if values[key] is None:
            issues.append(Issue(f"strategy.{key}", value, "is not a pod count or a percentage",
                                "write a whole number (1) or a percentage ('25%')"))  # fmt: skip
    if values.get("maxSurge") == 0 and values.get("maxUnavailable") == 0:
        issues.append(Issue("strategy.maxUnavailable", 0,
                            "is 0 while maxSurge is 0, so a rollout can never start (Kubernetes rejects it)",
                            "allow maxSurge: 1 (or maxUnavailable: 1)"))  # fmt: skip
    return issues


def _canary_checks(data: dict, canary: dict, has_analysis: bool) -> list[Issue]:
    issues = []
    if _dict(data.get("ingress")).get("enabled") is not True:
        issues.append(Issue("strategy.type", "canary", "needs an Ingress on the ALB (ingress.enabled: true): the "
                            "canary's weights are the ALB's traffic split",
                            "enable the ingress, or use type: blueGreen"))  # fmt: skip
    steps = canary.get("steps")
    if "steps" not in canary:
        return issues  # the library's default steps
    if not isinstance(steps, list) or not 1 <= len(steps) <= MAX_STEPS:
        n = len(steps) if isinstance(steps, list) else steps
        example = "[{setWeight: 20}, {pause: {duration: 5m}}, {setWeight: 100}]"
        return [*issues, Issue("strategy.canary.steps", n, f"is not a list of 1 to {MAX_STEPS} steps",
                               f"list the steps, e.g. {example}")]  # fmt: skip
    weights = []
    for i, step in enumerate(steps):
        step, where = _dict(step), f"strategy.canary.steps[{i}]"
        kinds = [k for k in ("setWeight", "pause", "analysis") if k in step]
        if len(kinds) != 1:
            forms = "{setWeight: 20}, {pause: {duration: 5m}}, {pause: {}} or {analysis: {}}"
            issues.append(Issue(where, sorted(step), "needs exactly one of setWeight, pause, analysis",
                                f"write {forms}"))  # fmt: skip
        elif kinds == ["setWeight"]:
            weights.append((i, step["setWeight"]))
        elif kinds == ["pause"]:
            issues += _config(pause_issues(f"{where}.pause.duration", _dict(step["pause"]).get("duration")))
        elif not has_analysis:
            issues.append(Issue(f"{where}.analysis", "{}", "needs strategy.analysis (the template it runs)",
                                "add strategy.analysis, or remove the step"))  # fmt: skip
    return issues + _config(weight_issues("strategy.canary.steps", "setWeight", weights))


def _config(issues: list[Any]) -> list[Issue]:
    """The library's issues (shared rules) as config issues."""
    return [Issue(i.field, i.value, i.problem, i.fix) for i in issues]


def _blue_green_checks(data: dict, green: dict) -> list[Issue]:
    issues = []
    if not data.get("ports"):
        issues.append(Issue("strategy.type", "blueGreen", "needs a Service (the switch is the active Service's "
                            "selector), so ports", "add ports: [{name: http, containerPort: 8080}]"))  # fmt: skip
    if green.get("autoPromotionSeconds") is not None and green.get("autoPromotionEnabled") is False:
        issues.append(Issue("strategy.blueGreen.autoPromotionSeconds", green["autoPromotionSeconds"],
                            "is ignored while autoPromotionEnabled is false (Argo waits for a promote)",
                            "remove it, or set autoPromotionEnabled: true"))  # fmt: skip
    hosts = green.get("previewHosts") or []
    for i, host in enumerate(hosts if isinstance(hosts, list) else []):
        if not isinstance(host, str) or not HOSTNAME.fullmatch(host) or len(host) > 253:
            issues.append(Issue(f"strategy.blueGreen.previewHosts[{i}]", host, "is not a valid host name",
                                "write a DNS name such as preview.example.com"))  # fmt: skip
    if hosts and _dict(data.get("ingress")).get("enabled") is not True:
        issues.append(Issue("strategy.blueGreen.previewHosts", hosts, "needs ingress.enabled (the preview Ingress "
                            "joins the app's ALB group)", "enable the ingress, or remove previewHosts"))  # fmt: skip
    return issues


def _analysis_checks(kind: str, analysis: dict) -> list[Issue]:
    issues = []
    provider = analysis.get("provider")
    if provider == "cloudwatch" and kind != "canary":
        issues.append(Issue("strategy.analysis.provider", provider, "reads the canary's ALB target group, which "
                            "blue/green has not", "use provider: prometheus"))  # fmt: skip
    if provider == "prometheus":
        for key in ("prometheusAddress", "prometheusQuery"):
            if not analysis.get(key):
                issues.append(Issue(f"strategy.analysis.{key}", None, "is needed with provider prometheus",
                                    "set it (the query returns the new version's success rate, 0–1)"))  # fmt: skip
        address = analysis.get("prometheusAddress")
        if isinstance(address, str) and address and not address.startswith(("http://", "https://")):
            issues.append(Issue("strategy.analysis.prometheusAddress", address, "is not an http(s) URL",
                                "write e.g. http://prometheus.monitoring:9090"))  # fmt: skip
    interval = analysis.get("interval", AnalysisSpec.interval)
    seconds = duration_seconds(interval)
    if seconds is None or not 30 <= seconds <= 3600:
        issues.append(Issue("strategy.analysis.interval", interval, "is not a duration from 30s to 1h",
                            "write e.g. 1m"))  # fmt: skip
    count = analysis.get("count", AnalysisSpec.count)
    limit = analysis.get("failureLimit", AnalysisSpec.failure_limit)
    if isinstance(count, int) and isinstance(limit, int) and limit >= count:
        issues.append(Issue("strategy.analysis.failureLimit", limit, f"is not below count {count}, so the "
                            "analysis could never fail", f"lower it below {count}"))  # fmt: skip
    return issues


def strategy_warnings(name: str, app: Any) -> list[str]:
    """Advice, not errors: a progressive strategy with one pod (the canary step's traffic
    all lands on one new pod, and blue/green doubles nothing worth the switch)."""
    s: StrategyConfig = app.strategy
    if s.progressive and app.steady_replicas == 1:
        return [
            f"apps.{name}.strategy.type: {s.type} with 1 replica — each version runs one pod, so the release "
            "rests on a single pod; set replicas (or autoscaling.minReplicas) to 2 or more"
        ]
    return []


def strategy_spec(s: StrategyConfig) -> Strategy:
    """The library's `Strategy` from the parsed stack file."""
    canary = None
    if s.canary is not None and s.canary.steps is not None:
        canary = CanarySpec(steps=tuple(_step(step) for step in s.canary.steps),
                            switch_from_deployment=s.canary.switch_from_deployment)  # fmt: skip
    elif s.canary is not None and s.canary.switch_from_deployment:
        canary = CanarySpec(switch_from_deployment=True)
    green = None
    if s.blue_green is not None:
        b = s.blue_green
        green = BlueGreenSpec(
            auto_promotion_enabled=b.auto_promotion_enabled,
            auto_promotion_seconds=b.auto_promotion_seconds,
            scale_down_delay_seconds=b.scale_down_delay_seconds,
            preview_hosts=tuple(b.preview_hosts),
        )
    a = s.analysis
    return Strategy(
        type=s.type,
        max_surge=s.max_surge,
        max_unavailable=s.max_unavailable,
        min_ready_seconds=s.min_ready_seconds,
        progress_deadline_seconds=s.progress_deadline_seconds,
        canary=canary,
        blue_green=green,
        analysis=None
        if a is None
        else AnalysisSpec(
            provider=a.provider,
            success_rate=a.success_rate,
            interval=a.interval,
            count=a.count,
            failure_limit=a.failure_limit,
            prometheus_address=a.prometheus_address,
            prometheus_query=a.prometheus_query,
        ),
    )


def _step(step: CanaryStepConfig) -> CanaryStep:
    if step.set_weight is not None:
        return SetWeight(weight=step.set_weight)
    if step.pause is not None:
        return Pause(duration=step.pause.duration)
    if step.analysis is not None:
        return RunAnalysis()
    raise ValueError("a canary step without a kind passed the stack-config checks")


__all__ = ["StrategyConfig", "strategy_checks", "strategy_spec", "strategy_warnings"]
