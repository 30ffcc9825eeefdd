"""`EksCluster`: the EKS control plane (pulumi-eks), its secrets key, the node role,
who can get in (`ClusterAccess`), one managed node group per pool, and the
Kubernetes provider the add-ons use.

Everything the security baseline cares about is a resource we create ourselves or
an input we pass explicitly, because pulumi-eks's `Cluster` is a remote component:
offline (and in unit tests) only its inputs are visible (pulumi/pulumi#15731).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import pulumi
import pulumi_aws as aws
import pulumi_eks as eks
import pulumi_kubernetes as k8s

from components.access import (
    AuthenticationMode,
    ClusterAccess,
    ClusterAccessArgs,
    Principal,
    aws_auth_mappings,
    uses_aws_auth,
)
from components.iam import NODE_MANAGED_POLICIES, service_trust_policy, to_json

# CIS EKS 2.1.1: all five control-plane log types.
CONTROL_PLANE_LOGS = ["api", "audit", "authenticator", "controllerManager", "scheduler"]

# EKS managed node group taint effects use the API's enum names.
TAINT_EFFECTS = {"NoSchedule": "NO_SCHEDULE", "PreferNoSchedule": "PREFER_NO_SCHEDULE", "NoExecute": "NO_EXECUTE"}

# The node label naming a node's pool (`<POOL_LABEL>: <pool>`): pods select their pool by it.
POOL_LABEL = "slipway.dev/pool"


@dataclass(frozen=True, kw_only=True)
class NodePoolArgs:
    """One EKS managed node group. Sizes are inputs (the capacity planner computes them)."""

    instance_types: list[str]
    capacity_type: Literal["ON_DEMAND", "SPOT"] = "ON_DEMAND"
    min_size: int = 1
    desired_size: int = 2
    max_size: int = 3
    disk_size: int = 20
    """Root (AL2023) or data (Bottlerocket) EBS volume, GiB, gp3, encrypted."""
    ami_type: str = "AL2023_x86_64_STANDARD"
    """Pinned so a moving AMI lookup never replaces nodes (pulumi/pulumi-eks#862)."""
    release_version: str | None = None
    labels: dict[str, str] = field(default_factory=dict)
    taints: list[dict[str, str]] = field(default_factory=list)
    """[{key, value, effect}] with Kubernetes effect names (NoSchedule, …)."""
    metadata_hop_limit: int = 1
    """IMDSv2 hop limit: 1 keeps pods from reaching the node role's credentials."""
    external_autoscaler: bool = False
    """An autoscaler owns desiredSize after creation: ignore drift there (pulumi/pulumi-eks#321).
    Without one, each `pulumi up` applies the planned size."""


@dataclass(frozen=True, kw_only=True)
class EksClusterArgs:
    """Inputs of an EksCluster."""

    cluster_name: str
    version: str
    """Kubernetes minor version, e.g. "1.34"."""
    vpc_id: pulumi.Input[str]
    private_subnet_ids: dict[str, pulumi.Input[str]]
    """Private subnets keyed by AZ: the control plane's ENIs and every node go here."""
    public_subnet_ids: dict[str, pulumi.Input[str]]
    node_pools: dict[str, NodePoolArgs]
    authentication_mode: AuthenticationMode = "API"
    principals: list[Principal] = field(default_factory=list)
    """IAM roles/users mapped into the cluster (access entries and/or aws-auth)."""
    public_access: bool = False
    public_access_cidrs: list[str] = field(default_factory=list)
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
    kubeconfig_role_arn: str | None = None
    """Role the kubeconfig assumes (`aws eks get-token --role`)."""
    node_dependencies: list[pulumi.Resource] = field(default_factory=list)
    """What nodes need before they boot: private routes, NAT, endpoints (they pull images
    and reach the EKS API at boot; without egress they never join)."""
    coredns_node_selector: dict[str, str] = field(default_factory=dict)
    """Pin CoreDNS (the EKS add-on) to a pool, e.g. the system pool; empty: anywhere."""
    coredns_tolerations: list[dict[str, Any]] = field(default_factory=list)
    """Tolerations for that pool's taints (CriticalAddonsOnly is always tolerated)."""
    tags: dict[str, str] = field(default_factory=dict)


def launch_template_metadata(hop_limit: int) -> dict[str, Any]:
    """IMDSv2 required (CKV_AWS_79) with the given hop limit (CKV_AWS_341 wants 1)."""
    return {
        "http_endpoint": "enabled",
        "http_tokens": "required",
        "http_put_response_hop_limit": hop_limit,
        "instance_metadata_tags": "disabled",
    }


def coredns_options(node_selector: dict[str, str], tolerations: list[dict[str, Any]]) -> eks.CoreDnsAddonOptionsArgs:
    """The CoreDNS add-on, placed by its configuration values (nodeSelector, tolerations).

    Tolerations given here replace the add-on's defaults, so its own
    `CriticalAddonsOnly: Exists` is kept in the list.
    """
    if not node_selector:
        return eks.CoreDnsAddonOptionsArgs(enabled=True)
    critical = {"key": "CriticalAddonsOnly", "operator": "Exists"}
    return eks.CoreDnsAddonOptionsArgs(
        enabled=True,
        configuration_values={
            "nodeSelector": node_selector,
            "tolerations": [critical, *(t for t in tolerations if t.get("key") != critical["key"])],
        },
    )


def data_volume_device(ami_type: str) -> str:
    """The block device that holds images and pods for an AMI type.

    AL2023 keeps everything on the root volume (/dev/xvda); Bottlerocket has a small
    OS volume on /dev/xvda and puts containers on the data volume /dev/xvdb.
    """
    return "/dev/xvdb" if ami_type.startswith("BOTTLEROCKET") else "/dev/xvda"


def vpc_cni_configuration(prefix_delegation: bool) -> dict[str, Any]:
    """VPC CNI add-on options: network policy on; prefix delegation if asked."""
    opts: dict[str, Any] = {"enable_network_policy": True, "enable_prefix_delegation": prefix_delegation}
    if prefix_delegation:
        # Keep one spare /28 prefix per node so new pods do not wait for an EC2 call.
        opts["warm_prefix_target"] = 1
    return opts


class EksCluster(pulumi.ComponentResource):
    """EKS control plane + access + managed node groups + a Kubernetes provider."""

    cluster_name: pulumi.Output[str]
    kubeconfig: pulumi.Output[str]
    oidc_provider_arn: pulumi.Output[str]
    oidc_issuer: pulumi.Output[str]
    node_role_arn: pulumi.Output[str]
    node_group_names: list[str]
    node_groups: list[pulumi.Resource]
    """The managed node groups: what anything that needs running pods must wait for."""
    provider: k8s.Provider

    def __init__(self, name: str, args: EksClusterArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("slipway:cluster:EksCluster", name, None, opts)
        self._name, self._args = name, args
        self._child = pulumi.ResourceOptions(parent=self)

        key = self._create_secrets_key()
        self._node_role = self._create_node_role()
        self._cluster = self._create_cluster(key)
        # Waiting on the cluster's OIDC provider makes every consumer of the name
        # (access entries, add-ons) wait for the control plane to exist.
        self.cluster_name = self._cluster.oidc_provider_arn.apply(lambda _: args.cluster_name)
        access = ClusterAccess(
            f"{name}-access",
            ClusterAccessArgs(
                cluster_name=self.cluster_name,
                authentication_mode=args.authentication_mode,
                principals=args.principals,
                tags=args.tags,
            ),
            opts=self._child,
        )
        # One kubeconfig for people and for slipway's own provider: it authenticates
        # as the configured profile/role. (pulumi-eks's `kubeconfig` output leaves the
        # profile out, so it would run as whatever credentials are ambient.)
        self.kubeconfig = pulumi.Output.secret(
            self._cluster.get_kubeconfig(profile_name=args.kubeconfig_profile, role_arn=args.kubeconfig_role_arn)
        )
        self.provider = self._create_provider(access.ready)
        self.node_groups = self._create_node_groups()

        self.oidc_provider_arn = self._cluster.oidc_provider_arn
        self.oidc_issuer = self._cluster.oidc_issuer
        self.node_role_arn = self._node_role.arn
        self.node_group_names = sorted(args.node_pools)
        self.register_outputs(
            {
                "clusterName": self.cluster_name,
                "kubeconfig": self.kubeconfig,
                "oidcProviderArn": self.oidc_provider_arn,
                "nodeRoleArn": self.node_role_arn,
            }
        )

    # -------------------------------------------------------------- steps
    def _create_secrets_key(self) -> aws.kms.Key:
        # CIS 5.3.1: envelope-encrypt Kubernetes Secrets with a customer key that rotates.
        key = aws.kms.Key(
            f"{self._name}-secrets",
            description=f"EKS secrets envelope encryption for {self._args.cluster_name}",
            enable_key_rotation=True,
            deletion_window_in_days=self._args.key_deletion_window_days,
            tags={**self._args.tags, "Name": f"{self._args.cluster_name}-secrets"},
            opts=pulumi.ResourceOptions(parent=self, protect=self._args.protect),
        )
        aws.kms.Alias(
            f"{self._name}-secrets",
            name=f"alias/{self._args.cluster_name}-secrets",
            target_key_id=key.key_id,
            opts=self._child,
        )
        return key

    def _create_node_role(self) -> aws.iam.Role:
        role = aws.iam.Role(
            f"{self._name}-node-role",
            assume_role_policy=to_json(service_trust_policy("ec2.amazonaws.com")),
            description=f"EKS managed node groups of {self._args.cluster_name}",
            tags=self._args.tags,
            opts=self._child,
        )
        for key, arn in sorted(NODE_MANAGED_POLICIES.items()):
            aws.iam.RolePolicyAttachment(f"{self._name}-node-{key}", role=role.name, policy_arn=arn, opts=self._child)
        return role

    def _create_cluster(self, key: aws.kms.Key) -> eks.Cluster:
        a = self._args
        role_mappings = user_mappings = None
        if uses_aws_auth(a.authentication_mode):
            m = aws_auth_mappings(a.principals)
            role_mappings = [
                eks.RoleMappingArgs(role_arn=r["roleArn"], username=r["username"], groups=r["groups"])
                for r in m["mapRoles"]
            ]
            user_mappings = [
                eks.UserMappingArgs(user_arn=u["userArn"], username=u["username"], groups=u["groups"])
                for u in m["mapUsers"]
            ]
        creds = None
        if a.kubeconfig_profile or a.kubeconfig_role_arn:
            creds = eks.KubeconfigOptionsArgs(profile_name=a.kubeconfig_profile, role_arn=a.kubeconfig_role_arn)
        return eks.Cluster(
            f"{self._name}-eks",
            name=a.cluster_name,
            version=a.version,
            vpc_id=a.vpc_id,
            private_subnet_ids=[v for _, v in sorted(a.private_subnet_ids.items())],
            public_subnet_ids=[v for _, v in sorted(a.public_subnet_ids.items())],
            node_associate_public_ip_address=False,
            skip_default_node_group=True,
            authentication_mode=a.authentication_mode,
            # The node role goes into aws-auth through instanceRoles (pulumi-eks maps it
            # to system:bootstrappers/system:nodes), so nodes are never cut off; in
            # CONFIG_MAP mode a managed node group refuses a role missing from this list.
            instance_roles=[self._node_role],
            role_mappings=role_mappings,
            user_mappings=user_mappings,
            encryption_config_key_arn=key.arn,
            endpoint_private_access=True,
            endpoint_public_access=a.public_access,
            public_access_cidrs=a.public_access_cidrs if a.public_access else None,
            enabled_cluster_log_types=CONTROL_PLANE_LOGS,
            create_oidc_provider=True,
            deletion_protection=a.deletion_protection,
            upgrade_policy=aws.eks.ClusterUpgradePolicyArgs(support_type=a.support_type),
            vpc_cni_options=eks.VpcCniOptionsArgs(**vpc_cni_configuration(a.prefix_delegation)),
            coredns_addon_options=coredns_options(a.coredns_node_selector, a.coredns_tolerations),
            provider_credential_opts=creds,
            tags=a.tags,
            opts=pulumi.ResourceOptions(parent=self, protect=a.protect),
        )

    def _create_provider(self, access_ready: list[pulumi.Resource]) -> k8s.Provider:
        # Built from a kubeconfig ourselves: in Python `eks.Cluster.provider` is an
        # Output, not a Provider (pulumi/pulumi-eks#662). It waits for the access
        # entries, or its first call could come before its identity is mapped.
        return k8s.Provider(
            f"{self._name}-k8s",
            kubeconfig=self.kubeconfig,
            enable_server_side_apply=True,
            opts=pulumi.ResourceOptions(parent=self, depends_on=access_ready),
        )

    def _create_node_groups(self) -> list[pulumi.Resource]:
        groups: list[pulumi.Resource] = []
        subnets = [v for _, v in sorted(self._args.private_subnet_ids.items())]
        for pool, p in sorted(self._args.node_pools.items()):
            # Our own launch template: IMDSv2 with hop limit 1 and an encrypted gp3
            # volume. (With a launch template EKS rejects `diskSize` on the group.)
            lt = aws.ec2.LaunchTemplate(
                f"{self._name}-{pool}",
                description=f"{self._args.cluster_name} node pool {pool}",
                metadata_options=aws.ec2.LaunchTemplateMetadataOptionsArgs(
                    **launch_template_metadata(p.metadata_hop_limit)
                ),
                block_device_mappings=[
                    aws.ec2.LaunchTemplateBlockDeviceMappingArgs(
                        device_name=data_volume_device(p.ami_type),
                        ebs=aws.ec2.LaunchTemplateBlockDeviceMappingEbsArgs(
                            volume_size=p.disk_size,
                            volume_type="gp3",
                            encrypted="true",
                            delete_on_termination="true",
                        ),
                    )
                ],
                tag_specifications=[
                    aws.ec2.LaunchTemplateTagSpecificationArgs(
                        resource_type="instance",
                        tags={**self._args.tags, "Name": f"{self._args.cluster_name}-{pool}"},
                    )
                ],
                update_default_version=True,
                tags=self._args.tags,
                opts=self._child,
            )
            group = eks.ManagedNodeGroup(
                f"{self._name}-{pool}",
                cluster=self._cluster,
                node_role=self._node_role,
                instance_types=p.instance_types,
                capacity_type=p.capacity_type,
                ami_type=p.ami_type,
                release_version=p.release_version,
                scaling_config=aws.eks.NodeGroupScalingConfigArgs(
                    min_size=p.min_size, desired_size=p.desired_size, max_size=p.max_size
                ),
                # Only when an autoscaler owns desiredSize (pulumi/pulumi-eks#321); otherwise
                # a grown plan must reach the group (and a raised minSize must not exceed a
                # stale desiredSize, which EKS rejects).
                ignore_scaling_changes=p.external_autoscaler,
                subnet_ids=subnets,
                labels={**p.labels, POOL_LABEL: pool},
                taints=[
                    aws.eks.NodeGroupTaintArgs(
                        key=t["key"], value=t.get("value") or None, effect=TAINT_EFFECTS[t["effect"]]
                    )
                    for t in p.taints
                ],
                launch_template=aws.eks.NodeGroupLaunchTemplateArgs(id=lt.id, version=lt.latest_version.apply(str)),
                tags=self._args.tags,
                opts=pulumi.ResourceOptions(parent=self, depends_on=self._args.node_dependencies),
            )
            groups.append(group)
        return groups
