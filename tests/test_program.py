"""The whole program per stack: dev is cheap, prod is HA and protected, every auth mode renders."""

from __future__ import annotations

import json

import pytest
import yaml

from slipway.cli.checks import kubernetes_findings, run_checks
from slipway.cli.render import ROOT, run_program, write_render
from slipway.program.stackfile import load_stack_file

from tests.helpers import check_settings, shipped_stacks


def test_dev_is_cheap(dev):
    assert len(dev.by_type("aws:ec2/natGateway:NatGateway")) == 1
    assert len(dev.by_type("aws:ec2/subnet:Subnet")) == 4
    (eks,) = dev.by_type("eks:index:Cluster")
    assert eks.inputs["deletionProtection"] is False and not eks.options.get("protect")


def test_prod_is_highly_available_and_protected(prod):
    assert len(prod.by_type("aws:ec2/natGateway:NatGateway")) == 3
    assert len(prod.by_type("aws:ec2/subnet:Subnet")) == 6
    (eks,) = prod.by_type("eks:index:Cluster")
    assert eks.inputs["deletionProtection"] is True and eks.options["protect"] is True
    # the VPN range and the deploy runner's fixed egress address (slipway:deploy)
    assert eks.inputs["endpointPublicAccess"] is True
    assert eks.inputs["publicAccessCidrs"] == ["198.51.100.0/24", "192.0.2.10/32"]
    assert eks.inputs["vpcCniOptions"]["enablePrefixDelegation"] is True
    (key,) = prod.by_type("aws:kms/key:Key")
    assert key.options["protect"] is True
    endpoints = {r.inputs["serviceName"] for r in prod.by_type("aws:ec2/vpcEndpoint:VpcEndpoint")}
    assert {f"com.amazonaws.us-east-1.{s}" for s in ("s3", "ecr.api", "ecr.dkr", "sts", "logs")} == endpoints
    pools = {r.name: r for r in prod.by_type("eks:index:ManagedNodeGroup")}
    assert set(pools) == {"cluster-system", "cluster-general", "cluster-argo"}
    assert pools["cluster-system"].inputs["taints"] == [
        {"key": "CriticalAddonsOnly", "value": "true", "effect": "NO_SCHEDULE"}
    ]


# AWS types rendered without a `tags` input today. A type that loses its tags, or a new
# AWS type rendered without them, fails the test below until it is listed here.
# Karpenter's (prod only): the tag on EKS's security group, the queue's policy, the rules' targets.
KARPENTER_UNTAGGED = {"aws:ec2/tag:Tag", "aws:sqs/queuePolicy:QueuePolicy", "aws:cloudwatch/eventTarget:EventTarget"}
UNTAGGED_TYPES = frozenset({
    "aws:ec2/route:Route", "aws:ec2/routeTableAssociation:RouteTableAssociation",
    *KARPENTER_UNTAGGED,
    "aws:ecr/lifecyclePolicy:LifecyclePolicy",
    "aws:eks/accessPolicyAssociation:AccessPolicyAssociation", "aws:iam/rolePolicy:RolePolicy",
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment", "aws:kms/alias:Alias",
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls", "aws:s3/bucketPolicy:BucketPolicy",
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
})  # fmt: skip


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_every_resource_carries_the_stack_tags(stack, request):
    records = [r for r in request.getfixturevalue(stack).records if r.custom and r.type.startswith("aws:")]
    tagged_types = {r.type for r in records if "tags" in r.inputs}
    # Only types known to take no tags go untagged (Karpenter's exist in prod only).
    untagged = {r.type for r in records} - tagged_types
    assert untagged <= UNTAGGED_TYPES, untagged - UNTAGGED_TYPES
    assert UNTAGGED_TYPES - untagged <= (KARPENTER_UNTAGGED if stack == "dev" else set())
    for r in records:
        if r.type in tagged_types:
            assert "tags" in r.inputs, r.urn  # every resource of a type that takes tags
            assert r.inputs["tags"]["slipway/stack"] == stack, r.urn
            assert r.inputs["tags"]["slipway/environment"] == stack, r.urn


def test_prod_is_created_by_ci_and_maps_everyone_else(prod):
    (eks,) = prod.by_type("eks:index:Cluster")
    assert "providerCredentialOpts" not in eks.inputs  # the kubeconfig uses the deploying (CI) identity
    mapped = {e.inputs["principalArn"] for e in prod.by_type("aws:eks/accessEntry:AccessEntry")}
    assert "arn:aws:iam::123456789012:role/github-actions-deploy" not in mapped  # EKS made the creator's
    assert "arn:aws:iam::123456789012:role/platform-admins" in mapped
    namespaces = {n.inputs["metadata"]["name"]: n for n in prod.by_type("kubernetes:core/v1:Namespace")}
    # oncall's scoped access names the apps' own namespaces (no namespace exists only for it).
    assert set(namespaces) == {"argo", "web", "api", "worker", "argo-rollouts"}  # api is a canary
    for app in ("api", "web", "worker"):  # restricted also where a principal has scoped access
        assert namespaces[app].inputs["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
    assert namespaces["argo"].inputs["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "baseline"


@pytest.mark.parametrize("mode", ["CONFIG_MAP", "API_AND_CONFIG_MAP"])
def test_aws_auth_modes_render_and_validate(tmp_path, mode):
    stack = load_stack_file("prod", ROOT)
    cluster = dict(stack.values["slipway:cluster"], authenticationMode=mode)
    # Karpenter's nodes join through an access entry, which CONFIG_MAP refuses (a config error).
    autoscaling = {"provider": "cluster-autoscaler" if mode == "CONFIG_MAP" else "karpenter"}
    stack.values = stack.values | {"slipway:cluster": cluster, "slipway:autoscaling": autoscaling}
    stack.validate()
    result = write_render(stack, run_program(stack), tmp_path / mode)
    (eks,) = result.by_type("eks:index:Cluster")
    node_role = next(r for r in result.by_type("aws:iam/role:Role") if r.name == "cluster-node-role")
    assert eks.inputs["instanceRoles"] == [{"$ref": node_role.urn}]
    mapped = {m["roleArn"] for m in eks.inputs["roleMappings"]}
    assert mapped == {f"arn:aws:iam::123456789012:role/{n}" for n in ("platform-admins", "developers", "oncall")}
    # The aws-auth pulumi-eks will write: principals, then the node role.
    cm = yaml.safe_load((result.out_dir / "kubernetes/kube-system/configmap-aws-auth.yaml").read_text())
    roles = yaml.safe_load(cm["data"]["mapRoles"])
    assert roles[-1] == {
        "rolearn": node_role.state["arn"],
        "username": "system:node:{{EC2PrivateDNSName}}",
        "groups": ["system:bootstrappers", "system:nodes"],
    }
    crbs = result.by_type("kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding")
    rbs = [
        b
        for b in result.by_type("kubernetes:rbac.authorization.k8s.io/v1:RoleBinding")
        if b.name.startswith("aws-auth")
    ]
    assert {b.inputs["metadata"]["name"] for b in crbs} == {"slipway-cluster-admin", "slipway-view"}
    assert sorted((b.inputs["metadata"]["namespace"], b.inputs["roleRef"]["name"]) for b in rbs) == [
        ("api", "admin"), ("web", "admin"), ("worker", "admin")
    ]  # fmt: skip
    ns = {n.inputs["metadata"]["name"]: n.urn for n in result.by_type("kubernetes:core/v1:Namespace")}
    for rb in rbs:  # a RoleBinding cannot go into a namespace that does not exist yet
        assert ns[rb.inputs["metadata"]["namespace"]] in rb.dependencies
    assert [f for f in kubernetes_findings(result, "1.34") if f.severity != "info"] == []
    entries = result.by_type("aws:eks/accessEntry:AccessEntry")
    # API_AND_CONFIG_MAP: the three principals, and Karpenter's node role (type EC2_LINUX).
    assert sorted(e.inputs.get("type", "STANDARD") for e in entries) == (
        ["EC2_LINUX", "STANDARD", "STANDARD", "STANDARD"] if mode == "API_AND_CONFIG_MAP" else []
    )


@pytest.mark.parametrize("stack", shipped_stacks())
def test_shipped_stacks_pass_every_offline_check(stack, request):
    """`slipway check <stack>`: every check, configured from the stack file, finds nothing mandatory."""
    version, policy_config = check_settings(stack)
    findings = run_checks(request.getfixturevalue(stack), version, policy_config)
    assert [f for f in findings if f.severity == "mandatory"] == []


def test_coredns_runs_where_the_planner_counted_it(dev, prod):
    (addon,) = prod.by_type("aws:eks/addon:Addon")
    values = json.loads(addon.inputs["configurationValues"])
    assert values["nodeSelector"] == {"slipway.dev/pool": "system"}
    # the add-on's own toleration is kept (configuration values replace its defaults)
    assert values["tolerations"] == [{"key": "CriticalAddonsOnly", "operator": "Exists"}]
    cfg = load_stack_file("dev", ROOT).parse()
    (dev_addon,) = dev.by_type("aws:eks/addon:Addon")
    dedicated = any(p.system or name == "system" for name, p in cfg.node_pools.items())
    # Unplaced: "{}" (reset to EKS's defaults), never left out (that would keep an old nodeSelector).
    assert (json.loads(dev_addon.inputs["configurationValues"]) != {}) is dedicated
