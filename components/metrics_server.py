"""`MetricsServer`: the resource metrics API HorizontalPodAutoscalers read.

EKS does not run metrics-server by default; without it an HPA reports
`<unknown>` utilization and never scales. Chart `metrics-server` 3.13.1
(app v0.8.1, Kubernetes 1.31+) from kubernetes-sigs, two replicas with a PodDisruptionBudget.

Over time: the release waits for its pods, so it depends on the node groups (created
before them it would wait on Pending pods until its timeout).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from slipway.components.common_args import placement_dict_issues, provider_issues, resources_issues
from slipway.components.helm import pinned_release
from slipway.components.validation import Issue, require_valid

CHART = "metrics-server"
CHART_VERSION = "3.13.1"
CHART_REPO = "https://kubernetes-sigs.github.io/metrics-server/"
REPLICAS = 2
REQUESTS = {"cpu": "100m", "memory": "200Mi"}  # the chart's defaults, sized for ~100 nodes


def helm_values(node_selector: dict[str, str], tolerations: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "replicas": REPLICAS,
        "podDisruptionBudget": {"enabled": True, "maxUnavailable": 1},
        "resources": {"requests": REQUESTS, "limits": {"memory": "400Mi"}},
        "nodeSelector": node_selector,
        "tolerations": tolerations,
    }


@dataclass(frozen=True, kw_only=True)
class MetricsServerArgs:
    """Inputs of MetricsServer."""

    k8s_provider: k8s.Provider
    node_selector: dict[str, str] = field(default_factory=dict[str, str])
    tolerations: list[dict[str, Any]] = field(default_factory=list[dict[str, Any]])
    depends_on: Sequence[pulumi.Resource] = field(default_factory=list[pulumi.Resource])
    """Node groups: the release waits for ready pods, which need nodes."""


def metrics_server_issues(args: MetricsServerArgs) -> list[Issue]:
    """Every mistake in a MetricsServer's inputs: field, value, problem and fix."""
    issues = provider_issues("k8s_provider", args.k8s_provider)
    issues += placement_dict_issues(args.node_selector, args.tolerations)
    issues += resources_issues("depends_on", args.depends_on)
    return issues


class MetricsServer(pulumi.ComponentResource):
    """Helm release of metrics-server in kube-system."""

    release: k8s.helm.v3.Release

    def __init__(self, name: str, args: MetricsServerArgs, opts: pulumi.ResourceOptions | None = None):
        require_valid(f"MetricsServer {name!r}", metrics_server_issues(args))
        super().__init__("slipway:metrics:MetricsServer", name, None, opts)
        self.release = pinned_release(
            f"{name}-release",
            chart=CHART,
            version=CHART_VERSION,
            repo=CHART_REPO,
            namespace="kube-system",
            values=helm_values(args.node_selector, args.tolerations),
            opts=pulumi.ResourceOptions(parent=self, provider=args.k8s_provider, depends_on=args.depends_on),
        )
        self.register_outputs({})
