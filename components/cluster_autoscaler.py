"""`ClusterAutoscaler`: the Kubernetes Cluster Autoscaler for the cluster's managed node groups.

* Helm: chart `cluster-autoscaler` 9.59.0 (app 1.35.0) from kubernetes/autoscaler
  (kubernetes/autoscaler@cluster-autoscaler-chart-9.59.0:
  cluster-autoscaler/charts/cluster-autoscaler/Chart.yaml). The chart's default image
  is 1.35's; slipway sets `image.tag` to the newest release of the *cluster's* minor
  (`IMAGE_TAGS`): "We recommend … the latest Cluster Autoscaler release that corresponds
  to the minor version of Kubernetes that their cluster is running" (cluster-autoscaler/
  README.md, "Releases"). CA simulates the scheduler of its own minor.
* Discovery: `--node-group-auto-discovery=asg:tag=k8s.io/cluster-autoscaler/enabled,
  k8s.io/cluster-autoscaler/<cluster>` (the chart's `autoDiscovery.tags` default).
  "Amazon EKS tags managed node group resources so that they are configured to use the
  Kubernetes Cluster Autoscaler" (awsdocs/amazon-eks-user-guide@4d52b4d:
  latest/ug/nodes/managed-node-groups.adoc), so every node group of this cluster is
  found without tagging anything; no group of another cluster is.
* IAM: the AWS README's auto-discovery policy (cluster-autoscaler/cloudprovider/aws/
  README.md, "Full Cluster Autoscaler Features Policy", identical at tags 1.32.7 … 1.36.1)
  with its second block restricted as it asks ("only the second block … should be updated
  to restrict the resources/add conditionals"): scaling actions only on groups tagged
  `k8s.io/cluster-autoscaler/<cluster>: owned` (the condition the EKS user guide gave,
  awsdocs/amazon-eks-user-guide@07060621:doc_source/autoscaling.md), and
  `eks:DescribeNodegroup` only on this cluster's node groups. IRSA: only
  `kube-system/cluster-autoscaler` can assume the role.
* Expander: `least-waste` (CA's default) or `least-nodes`, `most-pods`, `random`.
  `price` is refused: on AWS `Pricing()` returns ErrNotImplemented and CA exits at start
  (`klog.Fatalf`, cluster-autoscaler/expander/factory/expander_factory.go; FAQ: "Currently
  it works only for GCE, GKE and Equinix Metal").
* IMDSv2 hop limit 1 is fine: credentials come from IRSA and the region from `awsRegion`
  (the chart's `AWS_REGION`, read first by `getRegion`, cloudprovider/aws/aws_sdk_provider.go);
  the AWS provider makes no instance-metadata call.
* Over time: CA owns each group's desiredSize, so the node pools it scales must ignore
  it (`NodePoolArgs.external_autoscaler` → `ignore_scaling_changes`, pulumi/pulumi-eks#321),
  or every `pulumi up` resets the size CA chose. CA only moves desiredSize between the
  group's min and max ("Cluster Autoscaler will respect the minimum and maximum values of
  each Auto Scaling Group", AWS README).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from slipway.components.access import WorkloadRole, WorkloadRoleArgs, irsa_annotations
from slipway.components.common_args import (
    input_issues,
    oidc_provider_issues,
    placement_dict_issues,
    provider_issues,
    region_issues,
    resources_issues,
)
from slipway.components.helm import pinned_release
from slipway.components.validation import Issue, choice_issues, int_issues, require_valid, str_map_issues

CHART = "cluster-autoscaler"
CHART_VERSION = "9.59.0"
CHART_REPO = "https://kubernetes.github.io/autoscaler"
NAMESPACE = "kube-system"
SERVICE_ACCOUNT = "cluster-autoscaler"
IMAGE_REPOSITORY = "registry.k8s.io/autoscaling/cluster-autoscaler"

IMAGE_TAGS: dict[str, str] = {
    # Kubernetes minor: the newest CA release of that minor (kubernetes/autoscaler tags
    # cluster-autoscaler-<v>, `ClusterAutoscalerVersion` in cluster-autoscaler/version/version.go).
    "1.32": "v1.32.7",
    "1.33": "v1.33.6",
    "1.34": "v1.34.5",
    "1.35": "v1.35.2",
}
"""The image per supported cluster minor. A new minor needs its release here first."""

EXPANDERS = ("least-waste", "least-nodes", "most-pods", "random")
"""Expanders that work on AWS without extra configuration (`priority` needs a ConfigMap,
`grpc` a server, `price` is not implemented for AWS)."""

# The chart's own suggestion (values.yaml `resources`, commented), without its CPU limit
# (the EKS best practices guide advises none). Memory grows with the cluster's size.
REQUESTS = {"cpu": "100m", "memory": "300Mi"}
LIMITS = {"memory": "300Mi"}

# The image is distroless `static:nonroot` (cluster-autoscaler/Dockerfile): UID 65532.
NONROOT = 65532
EKS_CLUSTER_NAME = re.compile(r"[0-9A-Za-z][A-Za-z0-9_-]{0,99}")


def iam_statements(cluster_name: str, oidc_provider_arn: str, region: str) -> list[dict[str, Any]]:
    """The Cluster Autoscaler's identity policy, scoped to `cluster_name`'s node groups.

    Partition and account come from the cluster's OIDC provider ARN
    (`arn:<partition>:iam::<account>:oidc-provider/…`), so nothing else needs passing.
    """
    _, partition, _, _, account, *_ = oidc_provider_arn.split(":")
    return [
        {
            # Describe calls take no resource-level permissions (the README's first block).
            "Sid": "Discover",
            "Effect": "Allow",
            "Action": [
                "autoscaling:DescribeAutoScalingGroups",
                "autoscaling:DescribeAutoScalingInstances",
                "autoscaling:DescribeLaunchConfigurations",
                "autoscaling:DescribeScalingActivities",
                "ec2:DescribeImages",
                "ec2:DescribeInstanceTypes",
                "ec2:DescribeLaunchTemplateVersions",
                "ec2:GetInstanceTypesFromInstanceRequirements",
            ],
            "Resource": "*",
        },
        {
            # Labels and taints of a managed node group scaled to zero (AWS README).
            "Sid": "DescribeOwnNodegroups",
            "Effect": "Allow",
            "Action": ["eks:DescribeNodegroup"],
            "Resource": f"arn:{partition}:eks:{region}:{account}:nodegroup/{cluster_name}/*",
        },
        {
            "Sid": "ScaleOwnGroups",
            "Effect": "Allow",
            "Action": ["autoscaling:SetDesiredCapacity", "autoscaling:TerminateInstanceInAutoScalingGroup"],
            "Resource": f"arn:{partition}:autoscaling:{region}:{account}:autoScalingGroup:*:autoScalingGroupName/*",
            "Condition": {"StringEquals": {f"aws:ResourceTag/k8s.io/cluster-autoscaler/{cluster_name}": "owned"}},
        },
    ]


def extra_args(expander: str) -> dict[str, Any]:
    """CA flags slipway sets (the chart renders each as `--<key>=<value>`)."""
    return {
        # Node groups alike in instance types and labels (one per AZ) grow together, so a
        # zone outage or an EBS-bound pod never finds one zone empty (EKS user guide,
        # managed-node-groups.adoc: "you should enable the --balance-similar-node-groups").
        "balance-similar-node-groups": True,
        "expander": expander,
        # Default true: "never delete nodes with pods with local storage, e.g. EmptyDir"
        # (config/flags/flags.go). Every slipway app mounts an emptyDir /tmp
        # (components/app_manifests.py), so no node running one would ever be removed.
        "skip-nodes-with-local-storage": False,
    }


def helm_values(
    *,
    cluster_name: str,
    region: str,
    kubernetes_version: str,
    role_arn: pulumi.Input[str],
    expander: str,
    replicas: int,
    node_selector: dict[str, str],
    tolerations: list[dict[str, Any]],
) -> dict[str, Any]:
    """The chart values slipway sets (every key exists in chart 9.59.0's values.yaml)."""
    return {
        "cloudProvider": "aws",
        "autoDiscovery": {"clusterName": cluster_name},
        "awsRegion": region,
        "image": {"repository": IMAGE_REPOSITORY, "tag": IMAGE_TAGS[kubernetes_version]},
        "rbac": {
            "serviceAccount": {"create": True, "name": SERVICE_ACCOUNT, "annotations": irsa_annotations(role_arn)},
        },
        "extraArgs": extra_args(expander),
        "replicaCount": replicas,
        "podDisruptionBudget": {"maxUnavailable": 1},
        "priorityClassName": "system-cluster-critical",
        "resources": {"requests": REQUESTS, "limits": LIMITS},
        "securityContext": {
            "runAsNonRoot": True,
            "runAsUser": NONROOT,
            "runAsGroup": NONROOT,
            # The IRSA token is a projected volume: readable by the pod's fsGroup.
            "fsGroup": NONROOT,
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        "containerSecurityContext": {
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "capabilities": {"drop": ["ALL"]},
        },
        "nodeSelector": node_selector,
        "tolerations": tolerations,
    }


@dataclass(frozen=True, kw_only=True)
class ClusterAutoscalerArgs:
    """Inputs of ClusterAutoscaler."""

    cluster_name: str
    """The EKS cluster's name: it selects the node groups (tags) and scopes the IAM policy."""
    region: str
    """The cluster's region (the chart's `awsRegion`; with IMDS hop limit 1 CA cannot look it up)."""
    kubernetes_version: str
    """The cluster's minor ("1.34"): picks the CA image of the same minor (`IMAGE_TAGS`)."""
    k8s_provider: k8s.Provider
    oidc_provider_arn: pulumi.Input[str]
    oidc_issuer: pulumi.Input[str]
    """The cluster's OIDC issuer without https:// (pulumi-eks `oidc_issuer`), as the LBC takes it."""
    expander: str = "least-waste"
    """How CA picks the group to grow: `least-waste` (CA's default: least idle CPU, then
    memory), `least-nodes`, `most-pods` or `random`. `price` does not work on AWS."""
    replicas: int = 1
    """One, as upstream ships it (chart `replicaCount: 1`): CA is leader-elected and "scaling
    is done by a single replica at a time" (EKS user guide, cluster-autoscaler.html); a
    second pod is only a standby. Its PDB (maxUnavailable 1) still lets nodes drain."""
    node_selector: dict[str, str] = field(default_factory=dict[str, str])
    """Schedule on the system pool if one is configured."""
    tolerations: list[dict[str, Any]] = field(default_factory=list[dict[str, Any]])
    depends_on: Sequence[pulumi.Resource] = field(default_factory=list[pulumi.Resource])
    """Node groups: the release waits for ready pods, which need nodes."""
    tags: dict[str, str] = field(default_factory=dict[str, str])
    """AWS tags on the IAM role."""


def cluster_autoscaler_issues(args: ClusterAutoscalerArgs) -> list[Issue]:
    """Every mistake in a ClusterAutoscaler's inputs: field, value, problem and fix."""
    issues: list[Issue] = []
    if not (isinstance(args.cluster_name, str) and EKS_CLUSTER_NAME.fullmatch(args.cluster_name)):
        issues.append(Issue("cluster_name", args.cluster_name, "is not an EKS cluster name",
                            "pass the cluster's name as a string (it goes into the ASG tag key)"))  # fmt: skip
    issues += region_issues("region", args.region)
    if args.kubernetes_version not in IMAGE_TAGS:
        issues.append(
            Issue(
                "kubernetes_version",
                args.kubernetes_version,
                "has no Cluster Autoscaler release pinned (CA's minor must match the cluster's)",
                f"use one of {', '.join(IMAGE_TAGS)}, or add that minor's newest release to IMAGE_TAGS",
            )
        )
    issues += provider_issues("k8s_provider", args.k8s_provider)
    issues += oidc_provider_issues("oidc_provider_arn", args.oidc_provider_arn)
    issues += input_issues("oidc_issuer", args.oidc_issuer, "is not an OIDC issuer", "pass the cluster's oidc_issuer")
    if args.expander == "price":
        issues.append(
            Issue(
                "expander",
                args.expander,
                "is not implemented on AWS: Cluster Autoscaler exits at start (no pricing model)",
                "use 'least-waste' (the default) and keep cheaper instance types in their own pool",
            )
        )
    else:
        issues += choice_issues("expander", args.expander, EXPANDERS, "an expander that works on AWS")
    issues += int_issues("replicas", args.replicas, minimum=1, maximum=2)
    issues += placement_dict_issues(args.node_selector, args.tolerations)
    issues += resources_issues("depends_on", args.depends_on)
    issues += str_map_issues("tags", args.tags, example="{'team': 'platform'}")
    return issues


class ClusterAutoscaler(pulumi.ComponentResource):
    """IRSA role (scoped policy) + Helm release of the Cluster Autoscaler in kube-system."""

    release: k8s.helm.v3.Release
    role: WorkloadRole
    role_arn: pulumi.Output[str]

    def __init__(self, name: str, args: ClusterAutoscalerArgs, opts: pulumi.ResourceOptions | None = None):
        require_valid(f"ClusterAutoscaler {name!r}", cluster_autoscaler_issues(args))
        super().__init__("slipway:autoscaler:ClusterAutoscaler", name, None, opts)
        statements = pulumi.Output.from_input(args.oidc_provider_arn).apply(
            lambda arn: iam_statements(args.cluster_name, arn, args.region)
        )
        self.role = WorkloadRole(
            f"{name}-irsa",
            WorkloadRoleArgs(
                namespace=NAMESPACE,
                service_account=SERVICE_ACCOUNT,
                oidc_provider_arn=args.oidc_provider_arn,
                oidc_issuer=args.oidc_issuer,
                k8s_provider=args.k8s_provider,
                policy_statements=statements,
                # The chart creates the ServiceAccount with our annotation (and its RBAC binds it).
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
            namespace=NAMESPACE,
            values=helm_values(
                cluster_name=args.cluster_name,
                region=args.region,
                kubernetes_version=args.kubernetes_version,
                role_arn=self.role.role_arn,
                expander=args.expander,
                replicas=args.replicas,
                node_selector=args.node_selector,
                tolerations=args.tolerations,
            ),
            # The role first: a pod started before its policy exists fails its first AWS calls.
            opts=pulumi.ResourceOptions(
                parent=self, provider=args.k8s_provider, depends_on=[self.role, *args.depends_on]
            ),
        )
        self.role_arn = self.role.role_arn
        self.register_outputs({"roleArn": self.role_arn})
