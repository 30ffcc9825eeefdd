"""`slipway:autoscaling` — what adds nodes when pods stay Pending: Karpenter, Cluster Autoscaler or none.

The planner sizes each pool for the steady state (every HPA at `minReplicas`); the
autoscaler's ceiling must hold the peak (every HPA at `maxReplicas`, with rolling-update
surge). `slipway.program.guardrails.autoscaling` checks that the two agree.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import Field

from slipway.program.config.errors import Issue
from slipway.program.config.model import Model, _dict

Provider = Literal["karpenter", "cluster-autoscaler", "none"]

# Karpenter's duration grammar (NodePool `consolidateAfter`, `expireAfter`): Go durations
# such as 30s, 5m, 720h, or "Never" (karpenter-provider-aws pkg/apis/crds/karpenter.sh_nodepools.yaml).
DURATION = re.compile(r"^(([0-9]+(s|m|h))+|Never)$")
INSTANCE_CATEGORIES = ("a", "c", "d", "g", "i", "im", "inf", "is", "m", "p", "r", "t", "trn", "u", "vt", "x", "z")


class KarpenterConfig(Model):
    """`slipway:autoscaling.karpenter` — the NodePools that extend each pool at peak."""

    capacity_types: list[Literal["on-demand", "spot"]] = ["on-demand"]
    """`spot` lets Karpenter pick spot capacity first (interruptions are handled through
    the SQS interruption queue: pods are drained before the instance goes)."""
    instance_categories: list[str] = ["c", "m", "r"]
    """EC2 categories Karpenter may launch (with no `families` on the pool)."""
    consolidation_policy: Literal["WhenEmptyOrUnderutilized", "WhenEmpty"] = "WhenEmptyOrUnderutilized"
    consolidate_after: str = "1m"
    """How long a node stays empty/underused before Karpenter removes it."""
    disruption_budget: str = "10%"
    """At most this many of a NodePool's nodes are disrupted at once (a count or a percentage)."""
    expire_after: str = "720h"
    """Nodes are replaced after this long (fresh AMIs, no long-lived drift); `Never` to keep them."""

    @classmethod
    def raw_checks(cls, data: dict[str, Any], context: dict[str, Any]) -> list[Issue]:
        issues = []
        for key in ("consolidateAfter", "expireAfter"):
            v = data.get(key)
            if isinstance(v, str) and not DURATION.match(v):
                issues.append(Issue(key, v, "is not a duration", "write it like 30s, 5m or 720h (or Never)"))
        budget = data.get("disruptionBudget")
        if isinstance(budget, str) and not re.fullmatch(r"[0-9]+%?", budget):
            issues.append(Issue("disruptionBudget", budget, "is not a node count or a percentage",
                                "write it like 1 or 10%"))  # fmt: skip
        categories = data.get("instanceCategories")
        for i, c in enumerate(categories if isinstance(categories, list) else []):
            if c not in INSTANCE_CATEGORIES:
                issues.append(Issue(f"instanceCategories[{i}]", c, "is not an EC2 instance category",
                                    f"use some of {', '.join(INSTANCE_CATEGORIES)}"))  # fmt: skip
        for key in ("capacityTypes", "instanceCategories"):
            if data.get(key) == []:
                issues.append(Issue(key, [], "is empty, so Karpenter could launch nothing", f"remove {key}"))
        return issues


class ClusterAutoscalerConfig(Model):
    """`slipway:autoscaling.clusterAutoscaler`."""

    # `price` is listed so that it gets its own message (why), not "not allowed".
    expander: Literal["least-waste", "least-nodes", "most-pods", "random", "price"] = "least-waste"
    """Which node group grows when several could: `least-waste` leaves the least idle CPU and
    memory. (`price` is not offered: on AWS the autoscaler has no price model and exits at start,
    kubernetes/autoscaler cluster-autoscaler/expander/factory/expander_factory.go.)"""

    @classmethod
    def raw_checks(cls, data: dict[str, Any], context: dict[str, Any]) -> list[Issue]:
        if data.get("expander") == "price":
            return [Issue("expander", "price", "has no price model on AWS (the Cluster Autoscaler exits at start with "
                          "it)", "use least-waste (the default), least-nodes, most-pods or random")]  # fmt: skip
        return []


class AutoscalingConfig(Model):
    """`slipway:autoscaling` — node autoscaling for the pools (each pool may opt out with `autoscaler: none`)."""

    provider: Provider = "none"
    """`karpenter`: elastic capacity beside each pool's node group (NodePools with limits from
    the plan); `cluster-autoscaler`: the managed node groups grow between the steady plan and
    `maxSize`; `none`: fixed pools (an HPA beyond the plan leaves pods Pending — warned)."""
    karpenter: KarpenterConfig = KarpenterConfig()
    cluster_autoscaler: ClusterAutoscalerConfig = ClusterAutoscalerConfig()
    headroom: float = Field(1.5, ge=1.0, le=10.0)
    """With an autoscaler and no `maxSize`: the ceiling is the peak plan's node count, and at
    least this × the steady count (room for what is not an HPA: a burst of Jobs, a new app)."""

    @classmethod
    def raw_checks(cls, data: dict[str, Any], context: dict[str, Any]) -> list[Issue]:
        provider = data.get("provider", "none")
        issues = []
        for key, owner in (("karpenter", "karpenter"), ("clusterAutoscaler", "cluster-autoscaler")):
            if _dict(data.get(key)) and provider != owner:
                issues.append(Issue(key, data.get(key), f"is set but provider is {provider!r}, so it would be ignored",
                                    f"set provider: {owner}, or remove {key}"))  # fmt: skip
        return issues
