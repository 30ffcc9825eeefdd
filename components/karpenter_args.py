"""Inputs of `Karpenter` (components/karpenter.py) and their checks.

The pins live here with the Args, so every default is documented once. Sources, all at
aws/karpenter-provider-aws@v1.14.1 unless said otherwise:

- chart `oci://public.ecr.aws/karpenter/karpenter` and `…/karpenter-crd` 1.14.1: the release
  pipeline publishes both from the tag with version = app version
  (`hack/release/common.sh` publishHelmChart);
- the allowed values of NodePool / EC2NodeClass fields: the CRDs
  `pkg/apis/crds/karpenter.sh_nodepools.yaml`, `karpenter.k8s.aws_ec2nodeclasses.yaml`
  (copied to components/data/crds/, which `slipway check` and the tests validate against).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

import pulumi
import pulumi_kubernetes as k8s

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
from slipway.components.node_pools import taint_issues
from slipway.components.validation import (
    Issue,
    choice_issues,
    int_issues,
    pattern_issues,
    str_list_issues,
    str_map_issues,
    type_issues,
    under,
)

CHART_VERSION = "1.14.1"
CHART = "oci://public.ecr.aws/karpenter/karpenter"
CRD_CHART = "oci://public.ecr.aws/karpenter/karpenter-crd"
# Upstream installs into kube-system (getting-started `step01-config.sh`: KARPENTER_NAMESPACE).
NAMESPACE = "kube-system"
SERVICE_ACCOUNT = "karpenter"
AMI_ALIAS = "al2023@v20260714"
"""The EKS-optimized AL2023 AMI release (awslabs/amazon-eks-ami tag v20260714, whose release
notes list AL2023 AMIs for Kubernetes 1.30-1.36). `al2023@latest` would be drift on every AMI
release: Karpenter replaces every node it launched (the CRD's `alias` description says so)."""

ARCHITECTURES = ("amd64", "arm64")
CAPACITY_TYPES = ("on-demand", "spot")
CONSOLIDATION_POLICIES = ("WhenEmpty", "WhenEmptyOrUnderutilized", "Balanced")  # the CRD's enum
DURATION = re.compile(r"(([0-9]+(s|m|h))+|Never)")  # consolidateAfter, expireAfter (CRD pattern)
BUDGET_NODES = re.compile(r"((100|[0-9]{1,2})%|[0-9]+)")  # disruption.budgets[].nodes (CRD pattern)
AL2023_ALIAS = re.compile(r"al2023@v\d{8}")
INSTANCE_FAMILY = re.compile(r"[a-z][a-z0-9]*(-flex)?")  # m6i, c7g, m7i-flex
INSTANCE_CATEGORY = re.compile(r"[a-z]+")  # c, m, r, inf, trn
INSTANCE_TYPE = re.compile(r"[a-z][a-z0-9-]*\.[a-z0-9]+")  # m6i.large, m7i-flex.xlarge
# Label domains the NodePool CRD refuses in template labels (its CEL rules).
RESTRICTED_LABELS = ("karpenter.sh/", "karpenter.k8s.aws/", "kubernetes.io/hostname")


@dataclass(frozen=True, kw_only=True)
class KarpenterPool:
    """One NodePool and its EC2NodeClass: the elastic extension of a slipway pool."""

    name: str
    """The slipway pool's name; names the NodePool and the EC2NodeClass. Nodes carry
    POOL_LABEL = name, so pods that select the pool land on these nodes too."""
    labels: Mapping[str, str]
    """Node labels (POOL_LABEL is added)."""
    taints: Sequence[Mapping[str, str]]
    """[{key, value?, effect}], Kubernetes effect names, as NodePoolArgs.taints."""
    architectures: Sequence[str]
    """`amd64` and/or `arm64` (the caller derives them from the pool's AMI type)."""
    cpu_limit_millicores: int
    """spec.limits.cpu: Karpenter launches nothing more once its nodes' CPU reaches this."""
    memory_limit_mib: int
    """spec.limits.memory, MiB."""
    instance_families: Sequence[str] = ()
    """e.g. ("m6i", "c6i"); empty: choose among `instance_categories`."""
    instance_categories: Sequence[str] = ("c", "m", "r")
    """Used when no families are given (with generation > 2, as upstream's example NodePool)."""
    capacity_types: Sequence[str] = ("on-demand",)
    """`on-demand` and/or `spot`; with both, Karpenter prefers spot."""
    consolidation_policy: str = "WhenEmptyOrUnderutilized"
    """Upstream's default; `WhenEmpty` only removes nodes without pods."""
    consolidate_after: str = "1m"
    """How long a node stays empty/underutilized before Karpenter consolidates it."""
    disruption_budget_nodes: str = "10%"
    """At most this many (or this share) of the pool's nodes disrupted at once (CRD default)."""
    expire_after: str = "720h"
    """Nodes are replaced after 30 days (CRD default): patched AMIs, no long-lived nodes."""
    instance_types: Sequence[str] = ()
    """When given, only these types (`node.kubernetes.io/instance-type In`), instead of
    families/categories: e.g. the types of the same shape as the pool's planned one, so that
    the limits (its CPU and memory × the nodes to add) buy the capacity the plan counted."""
    max_pods: int | None = None
    """kubelet `maxPods` on these nodes (None: Karpenter's ENI-derived default). Set it when the
    pool's plan counts more pods per node (prefix delegation: 110)."""
    metadata_hop_limit: int = 1
    """IMDSv2 hop limit, as the pool's node group (1: pods cannot reach the node's credentials)."""
    disk_size_gib: int = 20
    """Root volume (gp3, encrypted), GiB; 20 is Karpenter's own AL2023 default (DefaultEBS)."""


@dataclass(frozen=True, kw_only=True)
class KarpenterArgs:
    """Inputs of Karpenter."""

    cluster_name: str
    cluster_endpoint: pulumi.Input[str]
    k8s_provider: k8s.Provider
    oidc_provider_arn: pulumi.Input[str]
    """The cluster's IAM OIDC provider; its partition and account scope the controller policy."""
    oidc_issuer: pulumi.Input[str]
    """The cluster's OIDC issuer (with or without https://), as LoadBalancerControllerArgs."""
    cluster_security_group_id: pulumi.Input[str]
    """The EKS-created cluster security group (the nodes'): tagged for Karpenter's discovery."""
    region: str
    pools: Sequence[KarpenterPool]
    node_selector: Mapping[str, str]
    """The system pool: the controller never runs on capacity it manages (the chart's default
    affinity also keeps it off nodes with `karpenter.sh/nodepool`)."""
    tolerations: Sequence[Mapping[str, Any]]
    ami_alias: str = AMI_ALIAS
    replicas: int = 2
    """Two replicas (leader election) with the chart's PodDisruptionBudget (maxUnavailable 1)."""
    instance_tags: Mapping[str, str] = field(default_factory=dict[str, str])
    """Tags on the instances and volumes Karpenter launches. Keep them stable: they are part of
    the EC2NodeClass, so a change is drift and replaces every Karpenter node."""
    depends_on: Sequence[pulumi.Resource] = ()
    """Node groups (the controller needs nodes) and network egress (NAT routes). The NodePools
    depend on them too, so `pulumi destroy` removes Karpenter's nodes before the network."""
    tags: Mapping[str, str] = field(default_factory=dict[str, str])
    """AWS tags on the roles, policies, queue and rules."""
    protect: bool = False
    """Accepted like the other components' flag; Karpenter holds no state (its resources are
    re-created by `pulumi up`), so nothing is protected."""


def pool_issues(p: Any) -> list[Issue]:
    """Everything wrong with one KarpenterPool (fields relative to it)."""
    if not isinstance(p, KarpenterPool):
        return type_issues("", p, KarpenterPool, "pass KarpenterPool(name=..., ...)")
    issues = label_issues("name", p.name, "a NodePool name")
    issues += str_map_issues("labels", p.labels, example="{'slipway.dev/role': 'web'}")
    if isinstance(p.labels, Mapping):
        for key in cast("Mapping[Any, Any]", p.labels):
            if isinstance(key, str) and key.startswith(RESTRICTED_LABELS):
                fix = "Karpenter sets it; use a label of your own domain"
                issues.append(Issue(f"labels.{key}", key, "is a label the NodePool CRD refuses", fix))
    issues += taint_issues(p.taints)
    issues += _choices_issues("architectures", p.architectures, ARCHITECTURES, "an architecture", "amd64")
    issues += _choices_issues("capacity_types", p.capacity_types, CAPACITY_TYPES, "a capacity type", "on-demand")
    issues += _names_issues("instance_families", p.instance_families, INSTANCE_FAMILY, "an instance family", "m6i")
    issues += _names_issues("instance_categories", p.instance_categories, INSTANCE_CATEGORY, "a category", "m")
    if not p.instance_families and isinstance(p.instance_categories, Sequence) and not p.instance_categories:
        fix = "list instance_families, or categories such as ['c', 'm', 'r']"
        issues.append(Issue("instance_categories", [], "is empty and so are instance_families", fix))
    issues += _names_issues("instance_types", p.instance_types, INSTANCE_TYPE, "an instance type", "m6i.large")
    if p.max_pods is not None:
        issues += int_issues("max_pods", p.max_pods, minimum=1, maximum=250)
    issues += int_issues("metadata_hop_limit", p.metadata_hop_limit, minimum=1, maximum=2)
    issues += int_issues("cpu_limit_millicores", p.cpu_limit_millicores, minimum=1)
    issues += int_issues("memory_limit_mib", p.memory_limit_mib, minimum=1)
    issues += choice_issues(
        "consolidation_policy", p.consolidation_policy, CONSOLIDATION_POLICIES, "a consolidation policy"
    )
    duration_fix = "write a duration like '30s', '5m', '720h' or 'Never'"
    issues += pattern_issues("consolidate_after", p.consolidate_after, DURATION, "is not a duration", duration_fix)
    issues += pattern_issues("expire_after", p.expire_after, DURATION, "is not a duration", duration_fix)
    issues += pattern_issues(
        "disruption_budget_nodes",
        p.disruption_budget_nodes,
        BUDGET_NODES,
        "is not a node count or percentage",
        "write '10%' or '1'",
    )
    # Karpenter's own AL2023 default (pkg/providers/amifamily/resolver.go DefaultEBS): the
    # AMI's snapshot does not fit a smaller root volume. 16384 GiB is gp3's maximum.
    issues += int_issues("disk_size_gib", p.disk_size_gib, minimum=20, maximum=16384)
    return issues


def karpenter_issues(args: KarpenterArgs) -> list[Issue]:
    """Every mistake in a Karpenter's inputs: field, value, problem and fix."""
    issues = label_issues("cluster_name", args.cluster_name, "a cluster name")
    issues += input_issues("cluster_endpoint", args.cluster_endpoint, "is not an endpoint", "pass the cluster's")
    issues += provider_issues("k8s_provider", args.k8s_provider)
    issues += oidc_provider_issues("oidc_provider_arn", args.oidc_provider_arn)
    issues += input_issues("oidc_issuer", args.oidc_issuer, "is not an OIDC issuer", "pass the cluster's")
    issues += input_issues(
        "cluster_security_group_id", args.cluster_security_group_id, "is not a security group id", "pass the cluster's"
    )
    issues += region_issues("region", args.region)
    issues += _pools_issues(args.pools)
    issues += placement_dict_issues(args.node_selector, args.tolerations)
    issues += pattern_issues(
        "ami_alias",
        args.ami_alias,
        AL2023_ALIAS,
        "is not a pinned AL2023 alias",
        f"write al2023@v<YYYYMMDD>, e.g. {AMI_ALIAS!r} (@latest replaces every node on each AMI release)",
    )
    issues += int_issues("replicas", args.replicas, minimum=1)
    issues += str_map_issues("instance_tags", args.instance_tags, example="{'team': 'platform'}")
    issues += resources_issues("depends_on", args.depends_on)
    issues += str_map_issues("tags", args.tags, example="{'team': 'platform'}")
    issues += bool_issues("protect", args.protect)
    return issues


def _pools_issues(pools: Any) -> list[Issue]:
    if isinstance(pools, str | Mapping) or not isinstance(pools, Sequence):
        return [Issue("pools", pools, "is not a list of KarpenterPool", "pass [KarpenterPool(...), ...]")]
    items = cast("Sequence[Any]", pools)
    if not items:
        return [Issue("pools", [], "is empty", "give at least one KarpenterPool (else leave Karpenter out)")]
    issues: list[Issue] = []
    seen: set[str] = set()
    for i, p in enumerate(items):
        issues += under(f"pools[{i}]", pool_issues(p))
        name = getattr(p, "name", None)
        if isinstance(name, str) and name in seen:
            issues.append(Issue(f"pools[{i}].name", name, "is listed twice", "give each pool one KarpenterPool"))
        if isinstance(name, str):
            seen.add(name)
    return issues


def _choices_issues(field_: str, value: Any, allowed: Sequence[str], what: str, example: str) -> list[Issue]:
    issues = str_list_issues(field_, value, example=example)
    if issues:
        return issues
    items = cast("Sequence[str]", value)
    for i, v in enumerate(items):
        issues += choice_issues(f"{field_}[{i}]", v, allowed, what)
        if v in items[:i]:
            issues.append(Issue(f"{field_}[{i}]", v, "is listed twice", "list each once"))
    return issues


def _names_issues(field_: str, value: Any, pattern: re.Pattern[str], what: str, example: str) -> list[Issue]:
    issues = str_list_issues(field_, value, example=example, allow_empty=True)
    if issues:
        return issues
    fix = f"write it like {example!r}"
    for i, v in enumerate(cast("Sequence[str]", value)):
        issues += pattern_issues(f"{field_}[{i}]", v, pattern, f"is not {what}", fix)
    return issues


__all__ = [
    "AMI_ALIAS",
    "CHART",
    "CHART_VERSION",
    "CRD_CHART",
    "NAMESPACE",
    "SERVICE_ACCOUNT",
    "KarpenterArgs",
    "KarpenterPool",
    "karpenter_issues",
    "pool_issues",
]
