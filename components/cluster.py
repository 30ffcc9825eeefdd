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
from typing import Any

import pulumi
import pulumi_aws as aws
import pulumi_eks as eks
import pulumi_kubernetes as k8s

from slipway.components.access import (
    ClusterAccess,
    ClusterAccessArgs,
    aws_auth_mappings,
    uses_aws_auth,
)
from slipway.components.cluster_args import (
    CONTROL_PLANE_LOGS,
    EksClusterArgs,
    eks_cluster_issues,
)
from slipway.components.iam import NODE_MANAGED_POLICIES, service_trust_policy, to_json
from slipway.components.lifecycle import keyed
from slipway.components.node_pools import (
    POOL_LABEL,
    NodePoolArgs,
    NodePoolContext,
    create_node_pool,
)
from slipway.components.validation import (
    require_valid,
)


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
            authentication_mode=eks.AuthenticationMode(a.authentication_mode),
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

    def _cluster_security_group_id(self) -> pulumi.Output[str] | None:
        """The security group EKS created for the cluster, when a pool needs it (`ssh`).

        pulumi-eks's `cluster_security_group_id` is its own API-endpoint group, not this
        one (it returns EKS's only with `skipDefaultSecurityGroups`), and its `eks_cluster`
        is a resource reference; so it is read back by name, after the cluster exists.
        """
        if not any(p.ssh is not None for p in self._args.node_pools.values()):
            return None
        return aws.eks.get_cluster_output(name=self.cluster_name).vpc_config.cluster_security_group_id

    def _create_node_groups(self) -> list[pulumi.Resource]:
        subnets = [v for _, v in sorted(self._args.private_subnet_ids.items())]
        cluster_sg = self._cluster_security_group_id()
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
                    vpc_id=self._args.vpc_id,
                    cluster_security_group_id=cluster_sg,
                ),
            )
            for pool, p in sorted(self._args.node_pools.items())
        ]


__all__ = ["CONTROL_PLANE_LOGS", "POOL_LABEL", "EksCluster", "EksClusterArgs", "NodePoolArgs", "eks_cluster_issues"]
