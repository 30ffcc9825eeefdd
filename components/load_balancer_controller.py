"""`LoadBalancerController`: the AWS Load Balancer Controller, from its official chart.

* IAM: exactly upstream's policy for the pinned version (components/data), attached
  to a workload role only `kube-system/aws-load-balancer-controller` can assume.
  Copies of this policy drift (one well-known copy misses 7 actions and breaks with
  AccessDenied after upgrades): the file is pinned with the chart and tested.
* Helm: chart `aws-load-balancer-controller` 3.5.0 (app v3.5.0) from eks-charts, with
  `region` and `vpcId` set — with IMDSv2 hop limit 1 the controller cannot read them
  from instance metadata (kubernetes-sigs/aws-load-balancer-controller#3695, #4307).
* Ordering: the release waits until the controller is ready, and everything with an
  Ingress or LoadBalancer Service depends on `release`. So Ingresses are created after
  the webhook has endpoints (#4140), and on destroy they are deleted first, while the
  controller still runs to delete its ALBs; otherwise the ALB is orphaned and blocks
  deleting the VPC.
* Over time: `keepTLSSecret: true`, so a chart upgrade reuses the webhook certificate
  instead of issuing a new one the running pods do not serve yet. pulumi-kubernetes
  (4.6 and later) diffs a Release on its inputs, not on the rendered chart, so an
  unchanged stack shows no diff (pulumi/pulumi-kubernetes#2649, fixed by #2672).
  `helm upgrade` never updates CRDs: a chart bump that brings new CRDs needs them
  applied first (the chart's `crds/` folder).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from slipway.components.access import WorkloadRole, WorkloadRoleArgs
from slipway.components.common_args import (
    input_issues,
    oidc_provider_issues,
    placement_dict_issues,
    provider_issues,
    region_issues,
    resources_issues,
)
from slipway.components.helm import pinned_release
from slipway.components.validation import Issue, int_issues, require_valid, str_map_issues

CHART = "aws-load-balancer-controller"
CHART_VERSION = "3.5.0"
CHART_REPO = "https://aws.github.io/eks-charts"
NAMESPACE = "kube-system"
SERVICE_ACCOUNT = "aws-load-balancer-controller"
POLICY_FILE = (
    Path(__file__).resolve().parent / "data" / f"aws-load-balancer-controller-v{CHART_VERSION}-iam_policy.json"
)

# Requests slipway gives the controller pods (the chart sets none); the capacity
# planner counts them on the system pool.
REQUESTS = {"cpu": "100m", "memory": "128Mi"}
LIMITS = {"memory": "256Mi"}


def iam_policy() -> dict[str, Any]:
    """Upstream's IAM policy for the pinned controller version, unchanged."""
    return json.loads(POLICY_FILE.read_text())


def helm_values(
    *,
    cluster_name: pulumi.Input[str],
    region: str,
    vpc_id: pulumi.Input[str],
    replicas: int,
    node_selector: dict[str, str],
    tolerations: list[dict[str, Any]],
) -> dict[str, Any]:
    """The chart values slipway sets (every key exists in chart 3.5.0's values.yaml)."""
    return {
        "clusterName": cluster_name,
        "region": region,
        "vpcId": vpc_id,
        "replicaCount": replicas,
        "serviceAccount": {"create": False, "name": SERVICE_ACCOUNT},
        # The chart's Service mutator webhook (failurePolicy Fail) intercepts every
        # Service CREATE and fails while the controller is not ready; slipway sets
        # loadBalancerClass on its NLB Services itself, so it is not needed.
        "enableServiceMutatorWebhook": False,
        # Without it every chart upgrade (a replica count, a chart bump) runs genCA and
        # genSignedCert again: a new webhook Secret and caBundle while the running pods
        # still serve the old certificate, so webhook calls fail with "x509: certificate
        # signed by unknown authority" until kubelet refreshes the mount. With it the
        # chart `lookup`s the existing Secret and reuses it (helm real runs, not
        # previews, do the lookup). Chart 3.5.0 `templates/_helpers.tpl`; default false
        # since v3.1.0 (kubernetes-sigs/aws-load-balancer-controller#4581).
        "keepTLSSecret": True,
        "podDisruptionBudget": {"maxUnavailable": 1},
        "resources": {"requests": REQUESTS, "limits": LIMITS},
        "nodeSelector": node_selector,
        "tolerations": tolerations,
        "topologySpreadConstraints": [
            {
                "maxSkew": 1,
                "topologyKey": "topology.kubernetes.io/zone",
                "whenUnsatisfiable": "ScheduleAnyway",
                "labelSelector": {"matchLabels": {"app.kubernetes.io/name": CHART}},
            }
        ],
    }


@dataclass(frozen=True, kw_only=True)
class LoadBalancerControllerArgs:
    """Inputs of LoadBalancerController."""

    cluster_name: pulumi.Input[str]
    region: str
    vpc_id: pulumi.Input[str]
    oidc_provider_arn: pulumi.Input[str]
    oidc_issuer: pulumi.Input[str]
    k8s_provider: k8s.Provider
    replicas: int = 2
    """Two replicas with a PodDisruptionBudget: a node drain never stops ALB reconciliation."""
    node_selector: dict[str, str] = field(default_factory=dict[str, str])
    """Schedule on the system pool if one is configured."""
    tolerations: list[dict[str, Any]] = field(default_factory=list[dict[str, Any]])
    depends_on: Sequence[pulumi.Resource] = field(default_factory=list[pulumi.Resource])
    """Node groups: the release waits for ready pods, which need nodes."""
    tags: dict[str, str] = field(default_factory=dict[str, str])


def load_balancer_controller_issues(args: LoadBalancerControllerArgs) -> list[Issue]:
    """Every mistake in a LoadBalancerController's inputs (its IRSA role's included)."""
    issues = input_issues("cluster_name", args.cluster_name, "is not a cluster name", "pass the EKS cluster's name")
    # The chart's `region`: with IMDSv2 hop limit 1 the controller cannot look it up.
    issues += region_issues("region", args.region)
    issues += oidc_provider_issues("oidc_provider_arn", args.oidc_provider_arn)
    issues += provider_issues("k8s_provider", args.k8s_provider)
    issues += int_issues("replicas", args.replicas, minimum=1)
    issues += placement_dict_issues(args.node_selector, args.tolerations)
    issues += resources_issues("depends_on", args.depends_on)
    issues += str_map_issues("tags", args.tags, example="{'team': 'platform'}")
    return issues


class LoadBalancerController(pulumi.ComponentResource):
    """IAM policy + IRSA role + ServiceAccount + Helm release of the controller."""

    release: k8s.helm.v3.Release
    role_arn: pulumi.Output[str]
    policy_arn: pulumi.Output[str]

    def __init__(self, name: str, args: LoadBalancerControllerArgs, opts: pulumi.ResourceOptions | None = None):
        require_valid(f"LoadBalancerController {name!r}", load_balancer_controller_issues(args))
        super().__init__("slipway:lbc:LoadBalancerController", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        policy = aws.iam.Policy(
            f"{name}-policy",
            description=f"AWS Load Balancer Controller v{CHART_VERSION} (upstream docs/install/iam_policy.json)",
            policy=json.dumps(iam_policy(), indent=2),
            tags=args.tags,
            opts=child,
        )
        role = WorkloadRole(
            f"{name}-irsa",
            WorkloadRoleArgs(
                namespace=NAMESPACE,
                service_account=SERVICE_ACCOUNT,
                oidc_provider_arn=args.oidc_provider_arn,
                oidc_issuer=args.oidc_issuer,
                k8s_provider=args.k8s_provider,
                managed_policies={"controller": policy.arn},
                labels={"app.kubernetes.io/name": CHART},
                tags=args.tags,
            ),
            opts=child,
        )
        self.release = pinned_release(
            f"{name}-release",
            chart=CHART,
            version=CHART_VERSION,
            repo=CHART_REPO,
            namespace=NAMESPACE,
            values=helm_values(
                cluster_name=args.cluster_name,
                region=args.region,
                vpc_id=args.vpc_id,
                replicas=args.replicas,
                node_selector=args.node_selector,
                tolerations=args.tolerations,
            ),
            opts=pulumi.ResourceOptions(parent=self, provider=args.k8s_provider, depends_on=[role, *args.depends_on]),
        )
        self.role_arn = role.role_arn
        self.policy_arn = policy.arn
        self.register_outputs({"roleArn": self.role_arn, "policyArn": self.policy_arn})
