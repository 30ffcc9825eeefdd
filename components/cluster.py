"""`EksCluster`: the EKS control plane (pulumi-eks), its secrets key, the node role,
who can get in (`ClusterAccess`), one managed node group per pool, the CoreDNS
add-on, and the Kubernetes provider the add-ons use.

Everything the security baseline cares about is a resource we create ourselves or
an input we pass explicitly, because pulumi-eks's `Cluster` is a remote component:
offline (and in unit tests) only its inputs are visible (pulumi/pulumi#15731).

What the real engine and EKS do with this over time (tested on the render's graph
in tests/test_graph.py):

- **CoreDNS waits for nodes.** pulumi-eks creates its CoreDNS add-on *inside* the
  Cluster component, and with `skipDefaultNodeGroup` it skips it "because we can only
  enable the coredns addon if we have a node group to place it on" — unless
  `corednsAddonOptions.enabled` is true, which creates it before any node exists: the
  add-on stays DEGRADED until its 20-minute timeout (pulumi-eks
  `nodejs/eks/cluster/cluster.ts`, pulumi/pulumi-eks#1819). Node groups take the
  cluster as input, so they wait for the whole component. We turn pulumi-eks's off and
  create the add-on ourselves, `depends_on` every node group.
- **Add-on versions do not drift.** pulumi-eks looks up kube-proxy, vpc-cni and CoreDNS
  versions with `mostRecent: true`, so every AWS release changes them on the next
  `pulumi up`. We pass EKS's *default* version for the cluster's Kubernetes minor (or
  the pinned one): it changes when the cluster version does.
- **Nodes follow the control plane.** With a launch template pulumi-eks does not
  default a managed node group's `version` to the cluster's
  (`nodejs/eks/nodes/nodegroup.ts`), and EKS refuses the next control-plane minor
  upgrade until node groups match it (terraform-provider-aws#19478). Every group gets
  the cluster's version (or a per-pool lag the config checks). Groups depend on the
  cluster, so `pulumi up` upgrades the control plane first, then rolls the nodes.
- **What rolls nodes.** A new launch template version (metadata options, volume,
  instance tags) or a new `version`/`releaseVersion` is a rolling update: EKS brings
  up new nodes, drains the old ones respecting PodDisruptionBudgets. `instanceTypes`,
  `capacityType`, `amiType` and `subnetIds` are ForceNew (terraform-provider-aws
  `internal/service/eks/node_group.go`): the group is *replaced*, create-before-delete
  (its name is generated, so the new one does not collide), so the new group is ACTIVE
  before the old one is drained and deleted. Stack tags are deliberately kept out of
  the instance tags: editing `slipway:tags` must not roll every node.
- **Keyed associations delete before they replace.** An access entry is keyed by
  cluster+principal and a policy association by cluster#principal#policy
  (terraform-provider-aws `internal/service/eks/access_*.go`): a create-before-delete
  replacement writes the same key, then deletes it, leaving the principal without
  access (see components/access.py).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import pulumi
import pulumi_aws as aws
import pulumi_eks as eks
import pulumi_kubernetes as k8s

from slipway.components.access import (
    AuthenticationMode,
    ClusterAccess,
    ClusterAccessArgs,
    Principal,
    aws_auth_mappings,
    uses_aws_auth,
)
from slipway.components.iam import NODE_MANAGED_POLICIES, service_trust_policy, to_json
from slipway.components.lifecycle import keyed
from slipway.components.node_pools import (
    KUBERNETES_MINOR,
    POOL_LABEL,
    NodePoolArgs,
    NodePoolContext,
    create_node_pool,
    node_pool_issues,
)
from slipway.components.validation import (
    Issue,
    choice_issues,
    cidr_list_issues,
    int_issues,
    pattern_issues,
    require_valid,
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
    api_private_cidrs: list[str] = field(default_factory=list)
    """Networks that reach the private API endpoint besides the nodes (a CI runner in the
    VPC or a network routed to it): HTTPS from them is allowed on the cluster security
    group (EKS user guide, "Cluster API server endpoint": a connected network needs an
    ingress rule on 443)."""
    addon_versions: dict[str, str] = field(default_factory=dict)
    """Pinned EKS add-on versions by add-on name (`coredns`, `kube-proxy`, `vpc-cni`).
    Unset ones get EKS's default version for the cluster's Kubernetes minor."""
    tags: dict[str, str] = field(default_factory=dict)
    """Tags on every AWS resource (updated in place; never on the nodes' instances)."""
    instance_tags: dict[str, str] = field(default_factory=dict)
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


def coredns_configuration(node_selector: dict[str, str], tolerations: list[dict[str, Any]]) -> dict[str, Any] | None:
    """CoreDNS add-on configuration values placing it on a pool (None: EKS's defaults).

    Tolerations given here replace the add-on's defaults, so its own
    `CriticalAddonsOnly: Exists` is kept in the list.
    """
    if not node_selector:
        return None
    critical = {"key": "CriticalAddonsOnly", "operator": "Exists"}
    return {
        "nodeSelector": node_selector,
        "tolerations": [critical, *(t for t in tolerations if t.get("key") != critical["key"])],
    }


def addon_version(addon: str, kubernetes_version: str, pinned: dict[str, str]) -> pulumi.Input[str]:
    """The pinned version of an EKS add-on, else EKS's default one for this Kubernetes minor.

    `most_recent=False` asks for the version EKS marks default for that minor, which
    moves with the cluster version, not with every add-on release (pulumi-eks's own
    lookups use `mostRecent: true` and drift).
    """
    if addon in pinned:
        return pinned[addon]
    return aws.eks.get_addon_version_output(
        addon_name=addon, kubernetes_version=kubernetes_version, most_recent=False
    ).version


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
    coredns: aws.eks.Addon
    """The CoreDNS add-on (created after the node groups)."""
    provider: k8s.Provider

    def __init__(self, name: str, args: EksClusterArgs, opts: pulumi.ResourceOptions | None = None):
        # Every mistake at once, the pools' included, before anything is registered.
        require_valid(f"EksCluster {name!r}", eks_cluster_issues(args))
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
        api_rules = self._allow_api_access()
        self.provider = self._create_provider([*access.ready, *api_rules])
        self.node_groups = self._create_node_groups()
        self.coredns = self._create_coredns()

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
            opts=keyed(self),
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
            aws.iam.RolePolicyAttachment(f"{self._name}-node-{key}", role=role.name, policy_arn=arn, opts=keyed(self))
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
            vpc_cni_options=eks.VpcCniOptionsArgs(
                addon_version=addon_version("vpc-cni", a.version, a.addon_versions),
                **vpc_cni_configuration(a.prefix_delegation),
            ),
            kube_proxy_addon_options=eks.KubeProxyAddonOptionsArgs(
                enabled=True, version=addon_version("kube-proxy", a.version, a.addon_versions)
            ),
            # Off here: pulumi-eks would create it inside the Cluster, before any node
            # group (see the module docstring). `_create_coredns` makes it after them.
            coredns_addon_options=eks.CoreDnsAddonOptionsArgs(enabled=False),
            provider_credential_opts=creds,
            tags=a.tags,
            opts=pulumi.ResourceOptions(parent=self, protect=a.protect),
        )

    def _allow_api_access(self) -> list[pulumi.Resource]:
        return [
            aws.vpc.SecurityGroupIngressRule(
                f"{self._name}-api-{cidr.replace('/', '-').replace('.', '-').replace(':', '-')}",
                security_group_id=self._cluster.cluster_security_group_id,
                description=f"Kubernetes API from {cidr} (deployer)",
                ip_protocol="tcp",
                from_port=443,
                to_port=443,
                cidr_ipv4=cidr,
                tags=self._args.tags,
                opts=self._child,
            )
            for cidr in sorted(self._args.api_private_cidrs)
        ]

    def _create_provider(self, access_ready: list[pulumi.Resource]) -> k8s.Provider:
        # Built from a kubeconfig ourselves: in Python `eks.Cluster.provider` is an
        # Output, not a Provider (pulumi/pulumi-eks#662). It waits for the access
        # entries (and the deployer's network rule), or its first call could come
        # before its identity is mapped or its packets are admitted.
        return k8s.Provider(
            f"{self._name}-k8s",
            kubeconfig=self.kubeconfig,
            enable_server_side_apply=True,
            # A named ConfigMap or Secret whose data changes is otherwise *replaced*, delete
            # first (pulumi-kubernetes diff.go forceNew on .data/.stringData; provider.go
            # deleteBeforeReplace for named objects): for seconds it does not exist, and a pod
            # starting then fails with CreateContainerConfigError. Updated in place instead;
            # the apps' checksum annotations roll their pods onto the new values.
            enable_config_map_mutable=True,
            enable_secret_mutable=True,
            opts=pulumi.ResourceOptions(parent=self, depends_on=access_ready),
        )

    def _create_coredns(self) -> aws.eks.Addon:
        a = self._args
        config = coredns_configuration(a.coredns_node_selector, a.coredns_tolerations)
        return aws.eks.Addon(
            f"{self._name}-coredns",
            cluster_name=self.cluster_name,
            addon_name="coredns",
            addon_version=addon_version("coredns", a.version, a.addon_versions),
            # "{}" rather than None when unplaced: the field is optional and computed, so None
            # would leave an old nodeSelector in place (CoreDNS pinned to a pool that is gone).
            configuration_values=json.dumps(config or {}, sort_keys=True),
            # EKS bootstraps a self-managed CoreDNS at cluster creation; the add-on adopts it.
            resolve_conflicts_on_create="OVERWRITE",
            resolve_conflicts_on_update="OVERWRITE",
            # Removing the add-on from Pulumi must not delete the cluster's DNS.
            preserve=True,
            tags=a.tags,
            # Its pods need a node (a Deployment of 2, on the system pool when there is one):
            # created before the node groups it would wait DEGRADED and time out after 20 min.
            # Keyed by cluster:addon: a replacement must not create the same key first.
            # Stacks deployed before slipway made this add-on have pulumi-eks's
            # `<cluster>-coredns` child for the same EKS key: the alias adopts it (an update
            # in place) instead of creating a second add-on, which EKS refuses
            # (ResourceInUseException), and then deleting the old, which would remove ours.
            opts=keyed(
                self,
                depends_on=self.node_groups,
                aliases=[pulumi.Alias(name=f"{self._name}-eks-coredns", parent=self._cluster)],
            ),
        )

    def _create_node_groups(self) -> list[pulumi.Resource]:
        subnets = [v for _, v in sorted(self._args.private_subnet_ids.items())]
        return [
            create_node_pool(
                self,
                f"{self._name}-{pool}",
                pool,
                p,
                NodePoolContext(
                    cluster=self._cluster,
                    cluster_name=self._args.cluster_name,
                    cluster_version=self._args.version,
                    node_role=self._node_role,
                    subnet_ids=subnets,
                    tags=self._args.tags,
                    instance_tags=self._args.instance_tags,
                    depends_on=self._args.node_dependencies,
                ),
            )
            for pool, p in sorted(self._args.node_pools.items())
        ]


__all__ = ["CONTROL_PLANE_LOGS", "POOL_LABEL", "EksCluster", "EksClusterArgs", "NodePoolArgs", "eks_cluster_issues"]
