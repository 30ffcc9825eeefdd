"""App's checks on a progressive strategy (canary, blueGreen; components/app_rollout_spec.py):
steps and weights, pauses, blue/green timings, the analysis, and what each needs of the
rest of the spec (a canary an Ingress on the ALB, blue/green a Service). See app_validation.py.

The stack-config schema (slipway.program.config.app_strategy) applies the same rules with
the stack file's paths; the bounds are here, shared.
"""

from __future__ import annotations

import re
from typing import Any

from slipway.components.app_rollout_spec import (
    AnalysisSpec,
    BlueGreenSpec,
    CanarySpec,
    Pause,
    RunAnalysis,
    SetWeight,
)
from slipway.components.app_rules import HOSTNAME, seq
from slipway.components.app_spec import AppSpec, Strategy
from slipway.components.validation import Issue, choice_issues, int_issues, is_int, str_list_issues, type_issues

# Argo's duration strings (docs/features/canary/index.md "Pause Duration"), always with a unit.
DURATION = re.compile(r"([1-9][0-9]*)([smh])")
MAX_STEPS = 20
MAX_PAUSE_SECONDS = 86400  # a day: longer is a release nobody is watching
INTERVAL_SECONDS = (30, 3600)


def duration_seconds(value: Any) -> int | None:
    """Seconds in an Argo duration (`30s`, `5m`, `1h`); None when it is not one."""
    m = DURATION.fullmatch(value) if isinstance(value, str) else None
    return None if m is None else int(m.group(1)) * {"s": 1, "m": 60, "h": 3600}[m.group(2)]


def weight_issues(where: str, key: str, weights: list[tuple[int, Any]]) -> list[Issue]:
    """(step index, weight) pairs: each 1–100, strictly rising, the last 100. `where` is
    the steps' path, `key` the weight's name in a step (paths `<where>[i].<key>`)."""
    issues: list[Issue] = []
    previous = 0
    for i, w in weights:
        if not (is_int(w) and 1 <= w <= 100):
            issues.append(Issue(f"{where}[{i}].{key}", w, "is not a weight from 1 to 100 (% of traffic)",
                                "write e.g. 10"))  # fmt: skip
        elif w <= previous:
            issues.append(Issue(f"{where}[{i}].{key}", w, f"is not above the previous weight {previous}",
                                "make the weights rise"))  # fmt: skip
        if is_int(w):
            previous = max(previous, w)
    if not weights:
        issues.append(Issue(where, [], "has no weight step", "add steps that rise to a weight of 100"))
    elif is_int(weights[-1][1]) and weights[-1][1] != 100:
        issues.append(
            Issue(
                f"{where}[{weights[-1][0]}].{key}",
                weights[-1][1],
                "is the last weight but not 100 (the release would end at a split)",
                "end the steps with a weight of 100",
            )
        )
    return issues


def pause_issues(where: str, duration: Any) -> list[Issue]:
    """A pause's duration: None (until promoted), or an Argo duration up to a day."""
    if duration is None:
        return []
    seconds = duration_seconds(duration)
    if seconds is None or seconds > MAX_PAUSE_SECONDS:
        return [
            Issue(
                where,
                duration,
                "is not a duration from 1s to 24h",
                "write e.g. 30s, 10m or 1h (none: wait until promoted)",
            )
        ]
    return []


def progressive_issues(spec: AppSpec) -> list[Issue]:
    """A canary or blueGreen strategy and what it needs of the rest of the spec."""
    s = spec.strategy
    if not isinstance(s, Strategy):
        return []  # strategy_issues reports it
    issues: list[Issue] = []
    for attr, kind, cls in (("canary", "canary", CanarySpec), ("blue_green", "blueGreen", BlueGreenSpec)):
        value = getattr(s, attr)
        if value is None:
            continue
        if not isinstance(value, cls):
            issues += type_issues(f"strategy.{attr}", value, cls, f"pass {cls.__name__}(...) or None")
        elif s.type != kind:
            issues.append(
                Issue(f"strategy.{attr}", value, f"is set but type is {s.type!r}", f"set type={kind!r} or remove it")
            )
    if s.analysis is not None and not s.progressive:
        issues.append(
            Issue("strategy.analysis", s.analysis, f"needs type canary or blueGreen, not {s.type!r}", "remove it")
        )
    if not s.progressive or issues:
        return issues
    if s.type == "canary":
        issues += _canary_issues(spec, s.canary or CanarySpec(), s.analysis)
    else:
        issues += _blue_green_issues(spec, s.blue_green or BlueGreenSpec())
    if s.analysis is not None:
        issues += _analysis_issues(s.type, s.analysis)
    return issues


def _canary_issues(spec: AppSpec, c: CanarySpec, analysis: AnalysisSpec | None) -> list[Issue]:
    issues: list[Issue] = []
    if spec.ingress is None:
        issues.append(
            Issue(
                "strategy.type",
                "canary",
                "needs an ingress (the canary's weights are the ALB's traffic split)",
                "add ingress=IngressSpec(...), or use blueGreen",
            )
        )
    steps = seq(c.steps)
    if not 1 <= len(steps) <= MAX_STEPS:
        issues.append(Issue("strategy.canary.steps", len(steps), f"steps is not 1 to {MAX_STEPS}", "list the steps"))
    weights: list[tuple[int, Any]] = []
    for i, step in enumerate(steps):
        where = f"strategy.canary.steps[{i}]"
        if isinstance(step, SetWeight):
            weights.append((i, step.weight))
        elif isinstance(step, Pause):
            issues += pause_issues(f"{where}.duration", step.duration)
        elif isinstance(step, RunAnalysis):
            if analysis is None:
                issues.append(
                    Issue(where, "RunAnalysis()", "needs strategy.analysis", "set analysis=AnalysisSpec(...)")
                )
        else:
            issues.append(Issue(where, step, "is not a step", "pass SetWeight(weight=…), Pause(…) or RunAnalysis()"))
    return issues + weight_issues("strategy.canary.steps", "weight", weights)


def _blue_green_issues(spec: AppSpec, b: BlueGreenSpec) -> list[Issue]:
    issues: list[Issue] = []
    if not seq(spec.ports):
        issues.append(
            Issue(
                "strategy.type",
                "blueGreen",
                "needs a Service (the switch is the active Service's selector), so ports",
                "add ports=[Port(container_port=8080)]",
            )
        )
    if not isinstance(b.auto_promotion_enabled, bool):
        issues.append(Issue("strategy.blue_green.auto_promotion_enabled", b.auto_promotion_enabled,
                            "is not a boolean", "write True or False"))  # fmt: skip
    if b.auto_promotion_seconds is not None:
        issues += int_issues("strategy.blue_green.auto_promotion_seconds", b.auto_promotion_seconds,
                             minimum=1, maximum=MAX_PAUSE_SECONDS)  # fmt: skip
        if b.auto_promotion_enabled is False:
            issues.append(
                Issue(
                    "strategy.blue_green.auto_promotion_seconds",
                    b.auto_promotion_seconds,
                    "is ignored while auto_promotion_enabled is False (Argo waits for a promote)",
                    "remove it, or enable auto-promotion",
                )
            )
    issues += int_issues("strategy.blue_green.scale_down_delay_seconds", b.scale_down_delay_seconds,
                         minimum=30, maximum=3600)  # fmt: skip
    issues += str_list_issues("strategy.blue_green.preview_hosts", b.preview_hosts, example="preview.example.com",
                              allow_empty=True)  # fmt: skip
    for n, host in enumerate(seq(b.preview_hosts)):
        if isinstance(host, str) and host and not (HOSTNAME.fullmatch(host) and len(host) <= 253):
            issues.append(Issue(f"strategy.blue_green.preview_hosts[{n}]", host, "is not a valid host name",
                                "write a DNS name such as preview.example.com"))  # fmt: skip
    if seq(b.preview_hosts) and spec.ingress is None:
        issues.append(
            Issue(
                "strategy.blue_green.preview_hosts",
                list(seq(b.preview_hosts)),
                "needs an ingress (the preview Ingress joins its ALB group)",
                "add ingress=IngressSpec(...), or remove preview_hosts",
            )
        )
    return issues


def _analysis_issues(kind: str, a: Any) -> list[Issue]:
    if not isinstance(a, AnalysisSpec):
        return type_issues("strategy.analysis", a, AnalysisSpec, "pass AnalysisSpec(provider=...) or None")
    issues = choice_issues("strategy.analysis.provider", a.provider, ("cloudwatch", "prometheus"), "a metrics provider")
    if a.provider == "cloudwatch" and kind != "canary":
        issues.append(
            Issue(
                "strategy.analysis.provider",
                a.provider,
                "reads the canary's ALB target group, which blue/green has not",
                "use prometheus for blueGreen",
            )
        )
    if a.provider == "prometheus":
        for attr in ("prometheus_address", "prometheus_query"):
            value = getattr(a, attr)
            if not (isinstance(value, str) and value.strip()):
                issues.append(Issue(f"strategy.analysis.{attr}", value, "is needed with provider prometheus",
                                    "set it (see AnalysisSpec)"))  # fmt: skip
        address = a.prometheus_address
        if isinstance(address, str) and address and not re.fullmatch(r"https?://\S+", address):
            issues.append(Issue("strategy.analysis.prometheus_address", address, "is not an http(s) URL",
                                "write e.g. http://prometheus.monitoring:9090"))  # fmt: skip
    rate = a.success_rate
    if not (isinstance(rate, int | float) and not isinstance(rate, bool) and 0 < rate <= 1):
        issues.append(Issue("strategy.analysis.success_rate", rate, "is not a share above 0 and at most 1",
                            "write e.g. 0.99"))  # fmt: skip
    seconds = duration_seconds(a.interval)
    if seconds is None or not INTERVAL_SECONDS[0] <= seconds <= INTERVAL_SECONDS[1]:
        issues.append(Issue("strategy.analysis.interval", a.interval, "is not a duration from 30s to 1h",
                            "write e.g. 1m"))  # fmt: skip
    issues += int_issues("strategy.analysis.count", a.count, minimum=1, maximum=100)
    if is_int(a.count):
        issues += int_issues("strategy.analysis.failure_limit", a.failure_limit, minimum=0, maximum=max(a.count - 1, 0))
    return issues


__all__ = ["DURATION", "MAX_STEPS", "duration_seconds", "pause_issues", "progressive_issues", "weight_issues"]
