"""`ArgoRollouts`: the controller behind canary and blue-green apps (`Rollout` objects).

* Helm: chart `argo-rollouts` 2.41.0 (app v1.9.0) from argoproj/argo-helm
  (argoproj/argo-helm@argo-rollouts-2.41.0:charts/argo-rollouts/Chart.yaml), its newest
  release. Two leader-elected replicas (the chart passes `--leader-elect` when
  `controller.replicas` > 1, templates/controller/deployment.yaml) on the system pool, with a
  PodDisruptionBudget (`controller.pdb`; enabled without a bound the chart writes
  `minAvailable: 0`, templates/controller/poddisruptionbudget.yaml, so slipway sets
  `maxUnavailable: 1`).
* CRDs: the chart renders them from `templates/crds/` (`installCRDs`), not from a `crds/`
  folder, so Helm upgrades them with every chart upgrade. `keepCRDs` (the chart's
  `helm.sh/resource-policy: keep`) stays on: deleting the Rollout CRD would delete every
  Rollout, their ReplicaSets and the apps' pods with them. They are upstream's
  argoproj/argo-rollouts@v1.9.0 `manifests/crds/` (identical in v1.9.1); slipway ships the
  Rollout and AnalysisTemplate ones in components/data/crds/ for `slipway check`.
* IAM (IRSA, only `<namespace>/argo-rollouts`): slipway turns on AWS target group
  verification (`controller.awsVerifyTargetGroup` → `--aws-verify-target-group`): after a
  `setWeight` step the controller checks the ALB's rules really carry the weight, and after a
  Service selector switch that the TargetGroup holds the new pod IPs, before it scales the
  old pods down — the zero-downtime guard of argoproj/argo-rollouts@v1.9.0
  docs/features/traffic-management/alb.md ("Zero-Downtime Updates with AWS TargetGroup
  Verification"). It needs exactly the six ELBv2 Describe calls listed there (the calls of
  `utils/aws/aws.go`); they take no resource-level permissions. The ALB traffic routing
  itself only edits Ingress annotations through the Kubernetes API (the chart's
  `providerRBAC.providers.awsLoadBalancerController` rules add the Endpoints and
  TargetGroupBinding reads). `cloudwatch_analysis` adds `cloudwatch:GetMetricData` for
  AnalysisTemplates with the CloudWatch provider (docs/analysis/cloudwatch.md).
* Region: the controller builds its AWS client with `config.LoadDefaultConfig` (utils/aws/
  aws.go, metricproviders/cloudwatch/cloudwatch.go), which reads `AWS_REGION`; with IMDS hop
  limit 1 it cannot ask the instance, so slipway sets it (alb.md's `--aws-region` flag does
  not exist in v1.9.0's cmd/rollouts-controller/main.go).
* The dashboard is off by default. When on, it is read-only: it has no login, so whoever
  reaches its port acts as its ServiceAccount; promotions go through `kubectl argo rollouts`
  with the user's own RBAC.

Over time: the release waits for its pods (pinned_release), so it depends on the node
groups and on its namespace (`depends_on`: pinned_release does not create namespaces; the
program's Namespaces component does). Every Rollout must depend on the release: the API
server refuses a Rollout before its CRD exists.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from slipway.components.access import WorkloadRole, WorkloadRoleArgs, irsa_annotations
from slipway.components.common_args import (
    bool_issues,
    input_issues,
    label_issues,
    oidc_provider_issues,
    placement_dict_issues,
    provider_issues,
    region_issues,
    resources_issues,
)
from slipway.components.helm import pinned_release
from slipway.components.validation import Issue, int_issues, require_valid, str_map_issues

CHART = "argo-rollouts"
CHART_VERSION = "2.41.0"
CHART_REPO = "https://argoproj.github.io/argo-helm"
SERVICE_ACCOUNT = "argo-rollouts"
ROLLOUT_API = ("argoproj.io/v1alpha1", "Rollout")
ANALYSIS_TEMPLATE_API = ("argoproj.io/v1alpha1", "AnalysisTemplate")

# The chart sets no resources; these are its commented suggestion (values.yaml
# `controller.resources`: requests 50m / 64Mi) with memory doubled, because the controller's
# informers cache every ReplicaSet, Service and Ingress of the cluster. No CPU limit.
REQUESTS = {"cpu": "50m", "memory": "128Mi"}
LIMITS = {"memory": "256Mi"}
DASHBOARD_REQUESTS = {"cpu": "50m", "memory": "64Mi"}
DASHBOARD_LIMITS = {"memory": "128Mi"}

# Both images are distroless static with `USER 999` (argoproj/argo-rollouts@v1.9.0:Dockerfile).
NONROOT = 999
POD_SECURITY = {
    "runAsNonRoot": True,
    "runAsUser": NONROOT,
    "runAsGroup": NONROOT,
    # The IRSA token is a projected volume: readable by the pod's fsGroup.
    "fsGroup": NONROOT,
    "seccompProfile": {"type": "RuntimeDefault"},
}
CONTAINER_SECURITY = {
    "allowPrivilegeEscalation": False,
    "readOnlyRootFilesystem": True,
    "capabilities": {"drop": ["ALL"]},
    "seccompProfile": {"type": "RuntimeDefault"},
}
# Traffic providers whose RBAC the chart adds (values.yaml `providerRBAC.providers`). slipway
# routes through the AWS Load Balancer Controller only; the others would grant write access
# to objects nothing here uses (gatewayAPI adds create/update on every ConfigMap).
PROVIDERS = ("istio", "smi", "ambassador", "awsLoadBalancerController", "awsAppMesh", "traefik", "apisix",
             "contour", "glooPlatform", "gatewayAPI")  # fmt: skip
TARGET_GROUP_ACTIONS = [
    # argoproj/argo-rollouts@v1.9.0 docs/features/traffic-management/alb.md, "Usage".
    "elasticloadbalancing:DescribeListeners",
    "elasticloadbalancing:DescribeLoadBalancers",
    "elasticloadbalancing:DescribeRules",
    "elasticloadbalancing:DescribeTags",
    "elasticloadbalancing:DescribeTargetGroups",
    "elasticloadbalancing:DescribeTargetHealth",
]


def iam_statements(cloudwatch_analysis: bool) -> list[dict[str, Any]]:
    """The controller's identity policy: read-only ELBv2 (and CloudWatch metrics if asked).
    Neither service's Describe/GetMetricData calls take a resource ARN, hence `*`."""
    statements: list[dict[str, Any]] = [
        {"Sid": "VerifyTargetGroups", "Effect": "Allow", "Action": TARGET_GROUP_ACTIONS, "Resource": "*"}
    ]
    if cloudwatch_analysis:
        statements.append(
            {"Sid": "CloudWatchAnalysis", "Effect": "Allow", "Action": ["cloudwatch:GetMetricData"], "Resource": "*"}
        )
    return statements


def helm_values(
    *,
    region: str,
    role_arn: pulumi.Input[str],
    replicas: int,
    node_selector: dict[str, str],
    tolerations: list[dict[str, Any]],
    dashboard: bool,
) -> dict[str, Any]:
    """The chart values slipway sets (every key exists in chart 2.41.0's values.yaml)."""
    return {
        "installCRDs": True,
        "keepCRDs": True,
        "controller": {
            "replicas": replicas,
            "pdb": {"enabled": True, "maxUnavailable": 1},
            "awsVerifyTargetGroup": True,
            "extraEnv": [{"name": "AWS_REGION", "value": region}],
            "resources": {"requests": REQUESTS, "limits": LIMITS},
            "priorityClassName": "system-cluster-critical",
            "nodeSelector": node_selector,
            "tolerations": tolerations,
        },
        "serviceAccount": {"create": True, "name": SERVICE_ACCOUNT, "annotations": irsa_annotations(role_arn)},
        "podSecurityContext": POD_SECURITY,
        "containerSecurityContext": CONTAINER_SECURITY,
        "providerRBAC": {
            "enabled": True,
            "providers": {p: p == "awsLoadBalancerController" for p in PROVIDERS},
        },
        "dashboard": {
            "enabled": dashboard,
            "readonly": True,
            "resources": {"requests": DASHBOARD_REQUESTS, "limits": DASHBOARD_LIMITS},
            "podSecurityContext": POD_SECURITY,
            "containerSecurityContext": CONTAINER_SECURITY,
            "nodeSelector": node_selector,
            "tolerations": tolerations,
        },
    }


@dataclass(frozen=True, kw_only=True)
class ArgoRolloutsArgs:
    """Inputs of ArgoRollouts."""

    k8s_provider: k8s.Provider
    oidc_provider_arn: pulumi.Input[str]
    oidc_issuer: pulumi.Input[str]
    """The cluster's OIDC issuer without https:// (pulumi-eks `oidc_issuer`)."""
    region: str
    """The cluster's region (`AWS_REGION` of the controller: IMDS hop limit 1 hides it)."""
    namespace: str = "argo-rollouts"
    """Where the controller runs; it must exist (the program's Namespaces creates it)."""
    replicas: int = 2
    """Two: one leader and a standby that takes over within the lease (15 s) when a node
    drains; the PDB (maxUnavailable 1) keeps one running."""
    node_selector: dict[str, str] = field(default_factory=dict[str, str])
    """Schedule on the system pool if one is configured."""
    tolerations: list[dict[str, Any]] = field(default_factory=list[dict[str, Any]])
    dashboard: bool = False
    """Deploy the read-only dashboard (reach it with `kubectl port-forward`); off: the
    `kubectl argo rollouts` plugin shows the same."""
    cloudwatch_analysis: bool = False
    """Allow `cloudwatch:GetMetricData`, for AnalysisTemplates with the CloudWatch provider."""
    depends_on: Sequence[pulumi.Resource] = field(default_factory=list[pulumi.Resource])
    """The namespace and the node groups: the release waits for ready pods."""
    tags: dict[str, str] = field(default_factory=dict[str, str])
    """AWS tags on the IAM role."""


def argo_rollouts_issues(args: ArgoRolloutsArgs) -> list[Issue]:
    """Every mistake in an ArgoRollouts' inputs: field, value, problem and fix."""
    issues = provider_issues("k8s_provider", args.k8s_provider)
    issues += oidc_provider_issues("oidc_provider_arn", args.oidc_provider_arn)
    issues += input_issues("oidc_issuer", args.oidc_issuer, "is not an OIDC issuer", "pass the cluster's oidc_issuer")
    issues += region_issues("region", args.region)
    issues += label_issues("namespace", args.namespace)
    issues += int_issues("replicas", args.replicas, minimum=1, maximum=3)
    issues += placement_dict_issues(args.node_selector, args.tolerations)
    issues += bool_issues("dashboard", args.dashboard)
    issues += bool_issues("cloudwatch_analysis", args.cloudwatch_analysis)
    issues += resources_issues("depends_on", args.depends_on)
    issues += str_map_issues("tags", args.tags, example="{'team': 'platform'}")
    return issues


class ArgoRollouts(pulumi.ComponentResource):
    """IRSA role (read-only ELBv2) + Helm release of the Argo Rollouts controller and CRDs."""

    release: k8s.helm.v3.Release
    role: WorkloadRole
    role_arn: pulumi.Output[str]

    def __init__(self, name: str, args: ArgoRolloutsArgs, opts: pulumi.ResourceOptions | None = None):
        require_valid(f"ArgoRollouts {name!r}", argo_rollouts_issues(args))
        super().__init__("slipway:rollouts:ArgoRollouts", name, None, opts)
        self.role = WorkloadRole(
            f"{name}-irsa",
            WorkloadRoleArgs(
                namespace=args.namespace,
                service_account=SERVICE_ACCOUNT,
                oidc_provider_arn=args.oidc_provider_arn,
                oidc_issuer=args.oidc_issuer,
                k8s_provider=args.k8s_provider,
                policy_statements=iam_statements(args.cloudwatch_analysis),
                # The chart creates the ServiceAccount with our annotation (its RBAC binds it).
                create_service_account=False,
                tags=args.tags,
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.release = pinned_release(
            f"{name}-release",
            chart=CHART,
            version=CHART_VERSION,
            repo=CHART_REPO,
            namespace=args.namespace,
            values=helm_values(
                region=args.region,
                role_arn=self.role.role_arn,
                replicas=args.replicas,
                node_selector=args.node_selector,
                tolerations=args.tolerations,
                dashboard=args.dashboard,
            ),
            # The role first: a verification before its policy exists fails and stalls a rollout.
            opts=pulumi.ResourceOptions(
                parent=self, provider=args.k8s_provider, depends_on=[self.role, *args.depends_on]
            ),
        )
        self.role_arn = self.role.role_arn
        self.register_outputs({"roleArn": self.role_arn})


__all__ = [
    "ANALYSIS_TEMPLATE_API",
    "CHART",
    "CHART_REPO",
    "CHART_VERSION",
    "REQUESTS",
    "ROLLOUT_API",
    "SERVICE_ACCOUNT",
    "ArgoRollouts",
    "ArgoRolloutsArgs",
    "argo_rollouts_issues",
    "helm_values",
    "iam_statements",
]
