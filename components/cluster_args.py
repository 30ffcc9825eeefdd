"""`EksClusterArgs`, the inputs of an EksCluster, and the check that refuses wrong ones
(field, value, problem and fix, all at once) before any resource is registered."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import pulumi

from slipway.components.access import (
    AuthenticationMode,
    Principal,
)
from slipway.components.access_args import principals_issues
from slipway.components.node_pools import (
    KUBERNETES_MINOR,
    POOL_LABEL,
    NodePoolArgs,
    node_pool_issues,
)
from slipway.components.validation import (
    Issue,
    choice_issues,
    cidr_list_issues,
    int_issues,
    pattern_issues,
    str_map_issues,
    under,
)

# CIS EKS 2.1.1: all five control-plane log types.
CONTROL_PLANE_LOGS = ["api", "audit", "authenticator", "controllerManager", "scheduler"]


@dataclass(frozen=True, kw_only=True)
class EksClusterArgs:
    """Inputs of an EksCluster."""

    cluster_name: str
    version: str
    """Kubernetes minor version, e.g. "1.34"."""
    vpc_id: pulumi.Input[str]
    private_subnet_ids: Mapping[str, pulumi.Input[str]]
    """Private subnets keyed by AZ: the control plane's ENIs and every node go here."""
    public_subnet_ids: Mapping[str, pulumi.Input[str]]
    node_pools: dict[str, NodePoolArgs]
    authentication_mode: AuthenticationMode = "API"
    principals: list[Principal] = field(default_factory=list[Principal])
    """IAM roles/users mapped into the cluster (access entries and/or aws-auth)."""
    public_access: bool = False
    public_access_cidrs: list[str] = field(default_factory=list[str])
    prefix_delegation: bool = False
    deletion_protection: bool = False
    support_type: Literal["STANDARD", "EXTENDED"] = "STANDARD"
    """EKS upgrade policy. EKS's default, EXTENDED, silently moves a cluster whose version
    leaves standard support to extended support at 6× the control-plane price."""
    protect: bool = False
    """Pulumi `protect` on the cluster and its secrets key (prod)."""
    key_deletion_window_days: int = 30
    kubeconfig_profile: str | None = None
    """AWS profile the kubeconfig (and slipway's Kubernetes provider) authenticates with."""
    kubeconfig_role_arn: pulumi.Input[str] | None = None
    """Role the kubeconfig assumes (`aws eks get-token --role`)."""
    node_dependencies: Sequence[pulumi.Resource] = field(default_factory=list[pulumi.Resource])
    """What nodes need before they boot: private routes, NAT, endpoints (they pull images
    and reach the EKS API at boot; without egress they never join)."""
    coredns_node_selector: dict[str, str] = field(default_factory=dict[str, str])
    """Pin CoreDNS (the EKS add-on) to a pool, e.g. the system pool; empty: anywhere."""
    coredns_tolerations: list[dict[str, Any]] = field(default_factory=list[dict[str, Any]])
    """Tolerations for that pool's taints (CriticalAddonsOnly is always tolerated)."""
    api_private_cidrs: list[str] = field(default_factory=list[str])
    """Networks that reach the private API endpoint besides the nodes (a CI runner in the
    VPC or a network routed to it): HTTPS from them is allowed on the cluster security
    group (EKS user guide, "Cluster API server endpoint": a connected network needs an
    ingress rule on 443)."""
    addon_versions: dict[str, str] = field(default_factory=dict[str, str])
    """Pinned EKS add-on versions by add-on name (`coredns`, `kube-proxy`, `vpc-cni`).
    Unset ones get EKS's default version for the cluster's Kubernetes minor."""
    tags: dict[str, str] = field(default_factory=dict[str, str])
    """Tags on every AWS resource (updated in place; never on the nodes' instances)."""
    instance_tags: dict[str, str] = field(default_factory=dict[str, str])
    """Tags the nodes' EC2 instances carry (through the launch template). Changing them
    creates a new launch template version, which rolls every node: keep them stable."""


# The EKS add-ons slipway manages: the two pulumi-eks creates (versions passed in) and
# CoreDNS, which slipway creates itself after the node groups.
EKS_ADDONS = ("coredns", "kube-proxy", "vpc-cni")


CLUSTER_NAME = re.compile(r"[0-9A-Za-z][A-Za-z0-9_-]{0,99}")  # EKS CreateCluster
POOL_NAME = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")  # a label value and part of resource names


def eks_cluster_issues(a: EksClusterArgs) -> list[Issue]:
    """Everything wrong with an EksCluster's inputs, its pools' included (fields relative to the Args)."""
    name_fix = "use ≤ 100 letters, digits, '-' and '_', starting with a letter or digit"
    issues = pattern_issues("cluster_name", a.cluster_name, CLUSTER_NAME, "is not an EKS cluster name", name_fix)
    issues += pattern_issues("version", a.version, KUBERNETES_MINOR, "is not a Kubernetes minor", "write e.g. '1.34'")
    for where in ("private_subnet_ids", "public_subnet_ids"):
        if not isinstance(subnets := getattr(a, where), Mapping):
            issues.append(Issue(where, subnets, "is not a mapping of AZ → subnet id", "key each subnet by its AZ"))
    if isinstance(a.private_subnet_ids, Mapping) and len(a.private_subnet_ids) < 2:
        fix = "pass a private subnet in each of two AZs or more"
        issues.append(Issue("private_subnet_ids", dict(a.private_subnet_ids), "spans fewer than two AZs", fix))
    pools = a.node_pools if isinstance(a.node_pools, Mapping) else {}
    if not isinstance(a.node_pools, Mapping):
        issues.append(Issue("node_pools", a.node_pools, "is not a mapping", "pass {'general': NodePoolArgs(...)}"))
    for pool, p in pools.items():
        fix = "use lowercase letters, digits and '-'"
        issues += pattern_issues(f"node_pools.{pool}", pool, POOL_NAME, "is not a pool name (DNS-1123 label)", fix)
        issues += under(f"node_pools.{pool}", node_pool_issues(p))
    modes = ("API", "API_AND_CONFIG_MAP", "CONFIG_MAP")
    issues += choice_issues("authentication_mode", a.authentication_mode, modes, "an EKS authentication mode")
    issues += choice_issues("support_type", a.support_type, ("STANDARD", "EXTENDED"), "an EKS support type")
    # The principals are checked here too, so a bad one stops the cluster before anything
    # is registered (ClusterAccess, its child, would refuse it only after the control plane).
    issues += principals_issues(a.principals)
    issues += cidr_list_issues("public_access_cidrs", a.public_access_cidrs)
    issues += cidr_list_issues("api_private_cidrs", a.api_private_cidrs)
    issues += int_issues("key_deletion_window_days", a.key_deletion_window_days, minimum=7, maximum=30)  # KMS
    issues += str_map_issues("addon_versions", a.addon_versions, example="{'coredns': 'v1.11.4-eksbuild.2'}")
    for addon in a.addon_versions if isinstance(a.addon_versions, Mapping) else ():
        issues += choice_issues(f"addon_versions.{addon}", addon, EKS_ADDONS, "an add-on slipway manages")
    issues += str_map_issues("coredns_node_selector", a.coredns_node_selector, example=f"{{'{POOL_LABEL}': 'system'}}")
    for where in ("tags", "instance_tags"):
        issues += str_map_issues(where, getattr(a, where), example="{'team': 'platform'}")
    return issues
