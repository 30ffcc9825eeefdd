"""EksCluster: control plane inputs, node role, node pools and their launch templates."""

from __future__ import annotations

import json

import pulumi
import pulumi_aws as aws
import pytest

from slipway.components.cluster import CONTROL_PLANE_LOGS, EksCluster, EksClusterArgs, NodePoolArgs
from slipway.components.iam import NODE_MANAGED_POLICIES, service_trust_policy
from slipway.testing import require_known

PRIVATE = {"us-east-1a": "subnet-priv-a", "us-east-1b": "subnet-priv-b"}
PUBLIC = {"us-east-1a": "subnet-pub-a", "us-east-1b": "subnet-pub-b"}


def build_cluster(mocked, **overrides):
    pools = overrides.pop(
        "node_pools",
        {
            "general": NodePoolArgs(instance_types=["t3.medium"], min_size=2, desired_size=2, max_size=4),
            "argo": NodePoolArgs(
                instance_types=["m6i.large"],
                capacity_type="SPOT",
                min_size=1,
                desired_size=1,
                max_size=3,
                labels={"slipway.dev/role": "argo"},
                taints=[{"key": "dedicated", "value": "argo", "effect": "NoSchedule"}],
                metadata_hop_limit=2,
                disk_size=50,
            ),
        },
    )
    args = dict(
        cluster_name="demo",
        version="1.34",
        vpc_id="vpc-123",
        private_subnet_ids=PRIVATE,
        public_subnet_ids=PUBLIC,
        node_pools=pools,
        public_access=True,
        public_access_cidrs=["203.0.113.0/24"],
    )
    args.update(overrides)
    holder = {}

    def program():
        c = EksCluster("c", EksClusterArgs(**args))
        holder["cluster"] = c
        return require_known(c.cluster_name, c.oidc_provider_arn, c.oidc_issuer, c.node_role_arn, c.kubeconfig)

    mocked.build(program)
    return holder["cluster"]


def test_control_plane_inputs(mocked):
    build_cluster(mocked)
    eks = mocked.one("eks:index:Cluster", "c-eks")
    i = eks.inputs
    assert i["name"] == "demo" and i["version"] == "1.34"
    assert i["skipDefaultNodeGroup"] is True
    assert i["authenticationMode"] == "API"
    assert i["endpointPrivateAccess"] is True
    assert i["endpointPublicAccess"] is True and i["publicAccessCidrs"] == ["203.0.113.0/24"]
    assert i["enabledClusterLogTypes"] == CONTROL_PLANE_LOGS
    assert len(CONTROL_PLANE_LOGS) == 5
    assert i["createOidcProvider"] is True
    assert i["nodeAssociatePublicIpAddress"] is False
    assert i["privateSubnetIds"] == ["subnet-priv-a", "subnet-priv-b"]
    key = mocked.one("aws:kms/key:Key", "c-secrets")
    assert i["encryptionConfigKeyArn"] == key.state["arn"]
    assert key.inputs["enableKeyRotation"] is True
    assert i["vpcCniOptions"]["enablePrefixDelegation"] is False
    assert "roleMappings" not in i  # API mode: no aws-auth


def test_private_endpoint_only_omits_cidrs(mocked):
    build_cluster(mocked, public_access=False, public_access_cidrs=[])
    i = mocked.one("eks:index:Cluster", "c-eks").inputs
    assert i["endpointPublicAccess"] is False and "publicAccessCidrs" not in i


def test_prefix_delegation_and_prod_protection(mocked):
    build_cluster(mocked, prefix_delegation=True, deletion_protection=True, protect=True)
    eks = mocked.one("eks:index:Cluster", "c-eks")
    cni = eks.inputs["vpcCniOptions"]
    assert cni["enablePrefixDelegation"] is True
    assert cni["warmPrefixTarget"] == 1
    assert eks.inputs["deletionProtection"] is True
    assert eks.options.get("protect") is True
    assert mocked.one("aws:kms/key:Key", "c-secrets").options.get("protect") is True


def test_node_role_trust_and_managed_policies(mocked):
    build_cluster(mocked)
    role = mocked.one("aws:iam/role:Role", "c-node-role")
    assert json.loads(role.inputs["assumeRolePolicy"]) == service_trust_policy("ec2.amazonaws.com")
    assert json.loads(role.inputs["assumeRolePolicy"]) == {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}],
    }
    attached = {r.inputs["policyArn"] for r in mocked.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")}
    assert attached == {
        "arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy",
        "arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy",
        "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly",
        "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore",  # shell through SSM, not SSH
    }
    assert attached == set(NODE_MANAGED_POLICIES.values())


def test_node_pools_keyed_and_scaled(mocked):
    build_cluster(mocked)
    groups = {r.name: r for r in mocked.of_type("eks:index:ManagedNodeGroup")}
    assert set(groups) == {"c-general", "c-argo"}
    g, a = groups["c-general"].inputs, groups["c-argo"].inputs
    assert g["scalingConfig"] == {"minSize": 2, "desiredSize": 2, "maxSize": 4}
    assert a["scalingConfig"] == {"minSize": 1, "desiredSize": 1, "maxSize": 3}
    assert g["instanceTypes"] == ["t3.medium"] and a["capacityType"] == "SPOT"
    assert a["taints"] == [{"key": "dedicated", "value": "argo", "effect": "NO_SCHEDULE"}]
    assert a["labels"] == {"slipway.dev/role": "argo", "slipway.dev/pool": "argo"}
    role_urn = mocked.one("aws:iam/role:Role", "c-node-role").urn
    for r in groups.values():
        assert r.inputs["subnetIds"] == ["subnet-priv-a", "subnet-priv-b"], r.urn  # private only
        assert r.inputs["ignoreScalingChanges"] is False, r.urn  # no autoscaler: the plan is applied
        assert r.inputs["amiType"] == "AL2023_x86_64_STANDARD", r.urn
        assert r.inputs["nodeRole"] == {"$ref": role_urn}, r.urn
        assert "diskSize" not in r.inputs, r.urn  # lives in the launch template


def test_launch_templates_enforce_imdsv2(mocked):
    build_cluster(mocked)
    lts = {r.name: r for r in mocked.of_type("aws:ec2/launchTemplate:LaunchTemplate")}
    general, argo = lts["c-general"].inputs, lts["c-argo"].inputs
    assert general["metadataOptions"] == {
        "httpEndpoint": "enabled",
        "httpTokens": "required",
        "httpPutResponseHopLimit": 1,
        "instanceMetadataTags": "disabled",
    }
    assert argo["metadataOptions"]["httpPutResponseHopLimit"] == 2  # opted in
    ebs = argo["blockDeviceMappings"][0]["ebs"]
    assert ebs == {"volumeSize": 50, "volumeType": "gp3", "encrypted": "true", "deleteOnTermination": "true"}
    group = mocked.one("eks:index:ManagedNodeGroup", "c-general")
    assert group.inputs["launchTemplate"] == {"id": lts["c-general"].id, "version": "1"}


def test_kubernetes_provider_from_kubeconfig(mocked):
    build_cluster(mocked)
    provider = mocked.one("pulumi:providers:kubernetes", "c-k8s")
    assert provider.inputs["kubeconfig"] == "[secret]"
    # Named ConfigMaps/Secrets update in place instead of delete-then-create (a gap in which
    # starting pods fail); the apps' checksum annotations roll the pods.
    assert provider.inputs["enableConfigMapMutable"] == "true"
    assert provider.inputs["enableSecretMutable"] == "true"


def test_kubeconfig_uses_the_configured_identity(mocked):
    """pulumi-eks's own `kubeconfig` output drops the profile; slipway's uses getKubeconfig."""
    role = "arn:aws:iam::123456789012:role/platform-admins"
    cluster = build_cluster(mocked, kubeconfig_role_arn=role, kubeconfig_profile="ops")
    assert mocked.one("eks:index:Cluster", "c-eks").inputs["providerCredentialOpts"] == {
        "profileName": "ops",
        "roleArn": role,
    }
    seen = {}

    def program():
        return pulumi.Output.unsecret(cluster.kubeconfig).apply(lambda kc: seen.setdefault("kc", json.loads(kc)))

    mocked.build(program)
    exec_ = seen["kc"]["users"][0]["user"]["exec"]
    assert exec_["command"] == "aws"
    assert exec_["args"] == [
        "--region", "us-east-1", "eks", "get-token", "--cluster-name", "demo", "--output", "json",
        "--role", role, "--profile", "ops",
    ]  # fmt: skip


def test_provider_waits_for_the_access_entries(mocked):
    from slipway.components.access import Principal

    ops = Principal(arn="arn:aws:iam::123456789012:role/ops", access="cluster-admin")
    creator = Principal(arn="arn:aws:iam::123456789012:role/ci", access="cluster-admin", creator=True)
    build_cluster(mocked, principals=[creator, ops])
    entries = mocked.of_type("aws:eks/accessEntry:AccessEntry")
    assert [e.inputs["principalArn"] for e in entries] == [ops.arn]  # the creator has one from EKS
    provider = mocked.one("pulumi:providers:kubernetes", "c-k8s")
    assoc = mocked.one("aws:eks/accessPolicyAssociation:AccessPolicyAssociation", f"c-access-{ops.key}")
    assert {entries[0].urn, assoc.urn} <= set(provider.dependencies)


def test_upgrade_policy_defaults_to_standard_support(mocked):
    build_cluster(mocked)
    assert mocked.one("eks:index:Cluster", "c-eks").inputs["upgradePolicy"] == {"supportType": "STANDARD"}


def test_node_groups_wait_for_egress(mocked):
    def program():
        route = aws.ec2.Route("egress", route_table_id="rtb-1", destination_cidr_block="0.0.0.0/0",
                              nat_gateway_id="nat-1")  # fmt: skip
        c = EksCluster("c", EksClusterArgs(
            cluster_name="demo", version="1.34", vpc_id="vpc-1", private_subnet_ids=PRIVATE,
            public_subnet_ids=PUBLIC, node_dependencies=[route],
            node_pools={"general": NodePoolArgs(instance_types=["t3.medium"])},
        ))  # fmt: skip
        return require_known(c.cluster_name)

    mocked.build(program)
    route = mocked.one("aws:ec2/route:Route", "egress")
    assert route.urn in mocked.one("eks:index:ManagedNodeGroup", "c-general").dependencies


def test_node_role_is_an_instance_role_in_every_mode(mocked):
    # pulumi-eks refuses a managed node group whose role is not in instanceRoles in
    # CONFIG_MAP mode, and writes instance roles into aws-auth as nodes.
    build_cluster(mocked, authentication_mode="CONFIG_MAP")
    eks = mocked.one("eks:index:Cluster", "c-eks")
    role = mocked.one("aws:iam/role:Role", "c-node-role")
    assert eks.inputs["instanceRoles"] == [{"$ref": role.urn}]
    for group in mocked.of_type("eks:index:ManagedNodeGroup"):
        assert group.inputs["nodeRole"] == {"$ref": role.urn}, group.urn


@pytest.mark.parametrize("mode", ["CONFIG_MAP", "API_AND_CONFIG_MAP"])
def test_aws_auth_maps_principals_without_role_paths(mocked, mode):
    from slipway.components.access import Principal

    devs = Principal(arn="arn:aws:iam::123456789012:role/teams/devs", access="view")
    build_cluster(mocked, authentication_mode=mode, principals=[devs])
    eks = mocked.one("eks:index:Cluster", "c-eks")
    assert eks.inputs["roleMappings"] == [
        {
            "roleArn": "arn:aws:iam::123456789012:role/devs",
            "username": "devs:{{SessionName}}",
            "groups": ["slipway:view"],
        }
    ]
    assert eks.inputs["authenticationMode"] == mode


def test_bottlerocket_pools_size_the_data_volume(mocked):
    pools = {"br": NodePoolArgs(instance_types=["m6i.large"], ami_type="BOTTLEROCKET_x86_64", disk_size=60)}
    build_cluster(mocked, node_pools=pools)
    lt = mocked.one("aws:ec2/launchTemplate:LaunchTemplate", "c-br")
    assert lt.inputs["blockDeviceMappings"][0]["deviceName"] == "/dev/xvdb"
    assert lt.inputs["blockDeviceMappings"][0]["ebs"]["volumeSize"] == 60


def test_an_external_autoscaler_owns_desired_size(mocked):
    pools = {"general": NodePoolArgs(instance_types=["m6i.large"], external_autoscaler=True)}
    build_cluster(mocked, node_pools=pools)
    assert mocked.one("eks:index:ManagedNodeGroup", "c-general").inputs["ignoreScalingChanges"] is True


def test_a_deployer_in_the_vpc_reaches_the_private_endpoint(mocked):
    """EKS user guide, "Cluster API server endpoint": a connected network needs 443 allowed
    on the cluster security group; slipway's provider waits for the rule."""
    from slipway.components.lifecycle import NATURAL_KEYS, REPLACE_SAFE

    build_cluster(mocked, api_private_cidrs=["10.99.0.0/24"])
    (rule,) = mocked.of_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
    assert rule.name == "c-api-10-99-0-0-24"
    assert {k: rule.inputs[k] for k in ("cidrIpv4", "fromPort", "toPort", "ipProtocol")} == {
        "cidrIpv4": "10.99.0.0/24", "fromPort": 443, "toPort": 443, "ipProtocol": "tcp"
    }  # fmt: skip
    cluster = mocked.one("eks:index:Cluster", "c-eks")
    assert rule.inputs["securityGroupId"] == cluster.state["clusterSecurityGroupId"]
    assert rule.urn in mocked.one("pulumi:providers:kubernetes", "c-k8s").dependencies
    assert rule.type in REPLACE_SAFE and rule.type not in NATURAL_KEYS


def test_coredns_adopts_pulumi_eks_own_addon_on_existing_stacks(mocked):
    """Stacks deployed before slipway created CoreDNS itself have pulumi-eks's
    `<cluster>-coredns` child for the same EKS key (cluster:coredns): ours aliases it."""
    build_cluster(mocked)
    addon = mocked.one("aws:eks/addon:Addon", "c-coredns")
    assert json.loads(addon.inputs["configurationValues"]) == {}  # unplaced: reset, not left as it was
    cluster = mocked.one("eks:index:Cluster", "c-eks")
    # The alias names pulumi-eks's child: `${name}-coredns` under the Cluster component
    # (nodejs/eks/cluster/cluster.ts), whose own name is c-eks.
    assert addon.options["aliases"] == [{"name": "c-eks-coredns", "parentUrn": cluster.urn}]


def test_addon_versions_ask_for_eks_default_never_the_most_recent(monkeypatch):
    """`most_recent=True` (pulumi-eks's own choice) would move kube-proxy, vpc-cni and CoreDNS
    on every AWS release: an unchanged stack would not be a no-op. A pin wins over both."""
    from slipway.components import cluster as cluster_module

    asked = []

    def lookup(**kwargs):
        asked.append(kwargs)
        return type("Found", (), {"version": "v-default"})()

    monkeypatch.setattr(cluster_module.aws.eks, "get_addon_version_output", lookup)
    assert cluster_module.addon_version("coredns", "1.34", {}) == "v-default"
    assert asked == [{"addon_name": "coredns", "kubernetes_version": "1.34", "most_recent": False}]
    assert cluster_module.addon_version("coredns", "1.34", {"coredns": "v1.11.4-eksbuild.2"}) == "v1.11.4-eksbuild.2"
    assert len(asked) == 1  # a pinned version asks nothing
