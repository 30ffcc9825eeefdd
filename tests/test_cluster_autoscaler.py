"""ClusterAutoscaler: chart values real, IAM scoped to the cluster, image minor = cluster minor."""

from __future__ import annotations

import json
from pathlib import Path

import parliament
import pulumi
import pulumi_kubernetes as k8s
import pytest
import yaml

from slipway.components import cluster_autoscaler as ca
from slipway.components.cluster_autoscaler import ClusterAutoscaler, ClusterAutoscalerArgs
from slipway.components.iam import irsa_trust_policy
from slipway.components.validation import ArgsError, require_valid
from slipway.program.config import SUPPORTED_KUBERNETES_VERSIONS

from tests.test_addons import unknown_keys

CHARTS = Path(__file__).parent / "data" / "charts"
VALUES_FILE = CHARTS / f"cluster-autoscaler-chart-{ca.CHART_VERSION}-values.yaml"
OIDC = "arn:aws:iam::123456789012:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/ABC"
ISSUER = "oidc.eks.us-east-1.amazonaws.com/id/ABC"
SYSTEM = {"slipway.dev/pool": "system"}
CRITICAL = [{"key": "CriticalAddonsOnly", "operator": "Equal", "value": "true", "effect": "NoSchedule"}]

# kubernetes/autoscaler cluster-autoscaler/cloudprovider/aws/README.md, "Full Cluster Autoscaler
# Features Policy (Recommended)", the same at tags cluster-autoscaler-1.32.7 … 1.36.1.
UPSTREAM_DESCRIBE = {
    "autoscaling:DescribeAutoScalingGroups", "autoscaling:DescribeAutoScalingInstances",
    "autoscaling:DescribeLaunchConfigurations", "autoscaling:DescribeScalingActivities", "ec2:DescribeImages",
    "ec2:DescribeInstanceTypes", "ec2:DescribeLaunchTemplateVersions", "ec2:GetInstanceTypesFromInstanceRequirements",
    "eks:DescribeNodegroup",
}  # fmt: skip
# Flags defined in cluster-autoscaler/main.go (tag cluster-autoscaler-1.32.7) and
# cluster-autoscaler/config/flags/flags.go (1.33 and later).
CA_FLAGS = {"balance-similar-node-groups", "expander", "skip-nodes-with-local-storage"}
UPSTREAM_SCALE = {"autoscaling:SetDesiredCapacity", "autoscaling:TerminateInstanceInAutoScalingGroup"}


def args(provider: k8s.Provider | None = None, **overrides) -> ClusterAutoscalerArgs:
    values = dict(
        cluster_name="slipway-prod",
        region="us-east-1",
        kubernetes_version="1.34",
        k8s_provider=provider or k8s.Provider("k8s", kubeconfig="{}"),
        oidc_provider_arn=OIDC,
        oidc_issuer=ISSUER,
        node_selector=SYSTEM,
        tolerations=CRITICAL,
    )
    values.update(overrides)
    return ClusterAutoscalerArgs(**values)


def build(mocked, **overrides) -> None:
    mocked.build(lambda: ClusterAutoscaler("ca", args(**overrides)))


def release(mocked):
    return mocked.one("kubernetes:helm.sh/v3:Release", "ca-release")


# ------------------------------------------------------------------ chart pinned, values real


def test_chart_is_pinned_from_the_official_repository(mocked):
    build(mocked)
    r = release(mocked).inputs
    assert (r["chart"], r["version"], r["repositoryOpts"]["repo"]) == (
        "cluster-autoscaler",
        "9.59.0",
        "https://kubernetes.github.io/autoscaler",
    )
    assert r["namespace"] == "kube-system" and r["skipAwait"] is False


def test_every_helm_value_is_a_real_key_of_the_pinned_chart(mocked):
    build(mocked)
    defaults = yaml.safe_load(VALUES_FILE.read_text())
    values = dict(release(mocked).inputs["values"])
    # extraArgs are CA's own flags, not chart keys: each is checked against CA's flag list.
    assert set(values.pop("extraArgs")) <= CA_FLAGS
    assert unknown_keys(values, defaults) == []
    # The values file is the pinned chart's: its default image is the chart's appVersion.
    assert defaults["image"]["repository"] == ca.IMAGE_REPOSITORY and defaults["image"]["tag"] == "v1.35.0"


def test_values(mocked):
    build(mocked)
    v = release(mocked).inputs["values"]
    role = mocked.one("aws:iam/role:Role", "ca-irsa-role")
    assert v["cloudProvider"] == "aws" and v["awsRegion"] == "us-east-1"  # region without IMDS
    assert v["autoDiscovery"] == {"clusterName": "slipway-prod"}  # tags: the chart's defaults
    assert v["rbac"]["serviceAccount"] == {
        "create": True,
        "name": "cluster-autoscaler",
        "annotations": {"eks.amazonaws.com/role-arn": role.state["arn"]},
    }
    assert v["image"]["tag"] == "v1.34.5"
    assert v["extraArgs"] == {
        "balance-similar-node-groups": True,
        "expander": "least-waste",
        "skip-nodes-with-local-storage": False,
    }
    assert v["replicaCount"] == 1 and v["podDisruptionBudget"] == {"maxUnavailable": 1}
    assert v["priorityClassName"] == "system-cluster-critical"
    assert v["resources"]["requests"] == {"cpu": "100m", "memory": "300Mi"}
    assert v["nodeSelector"] == SYSTEM and v["tolerations"] == CRITICAL
    assert v["securityContext"]["runAsNonRoot"] is True
    assert v["containerSecurityContext"]["readOnlyRootFilesystem"] is True


def test_release_waits_for_its_role_and_the_nodes(mocked):
    def program():
        provider = k8s.Provider("k8s", kubeconfig="{}")
        nodes = pulumi.CustomResource("test:index:Nodes", "nodes", {})
        ClusterAutoscaler("ca", args(provider, depends_on=[nodes]))

    mocked.build(program)
    deps = set(release(mocked).dependencies)
    assert mocked.one("test:index:Nodes", "nodes").urn in deps
    assert mocked.one("aws:iam/role:Role", "ca-irsa-role").urn in deps  # the component: its children


# ------------------------------------------------------------------ version matched to the cluster


@pytest.mark.parametrize("minor", SUPPORTED_KUBERNETES_VERSIONS)
def test_image_minor_matches_every_supported_cluster_minor(minor):
    tag = ca.IMAGE_TAGS[minor]
    assert tag.startswith(f"v{minor}.") and tag.count(".") == 2, tag
    values = ca.helm_values(cluster_name="c", region="us-east-1", kubernetes_version=minor, role_arn="arn",
                            expander="least-waste", replicas=1, node_selector={}, tolerations=[])  # fmt: skip
    assert values["image"]["tag"] == tag


def test_the_table_covers_exactly_the_supported_minors():
    assert sorted(ca.IMAGE_TAGS) == sorted(SUPPORTED_KUBERNETES_VERSIONS)


# ------------------------------------------------------------------ IAM


def test_policy_is_upstreams_scoped_to_this_cluster():
    statements = ca.iam_statements("slipway-prod", OIDC, "us-east-1")
    actions = [a for s in statements for a in s["Action"]]
    assert set(actions) == UPSTREAM_DESCRIBE | UPSTREAM_SCALE and len(actions) == len(set(actions))
    by_sid = {s["Sid"]: s for s in statements}
    assert by_sid["Discover"]["Resource"] == "*" and "Condition" not in by_sid["Discover"]
    assert by_sid["DescribeOwnNodegroups"]["Resource"] == (
        "arn:aws:eks:us-east-1:123456789012:nodegroup/slipway-prod/*"
    )
    scale = by_sid["ScaleOwnGroups"]
    assert set(scale["Action"]) == UPSTREAM_SCALE
    assert scale["Resource"] == "arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:*:autoScalingGroupName/*"
    assert scale["Condition"] == {"StringEquals": {"aws:ResourceTag/k8s.io/cluster-autoscaler/slipway-prod": "owned"}}


def test_partition_and_account_come_from_the_oidc_provider():
    arn = "arn:aws-cn:iam::210987654321:oidc-provider/oidc.eks.cn-north-1.amazonaws.com.cn/id/X"
    (_, nodegroups, scale) = ca.iam_statements("c", arn, "cn-north-1")
    assert nodegroups["Resource"] == "arn:aws-cn:eks:cn-north-1:210987654321:nodegroup/c/*"
    assert scale["Resource"].startswith("arn:aws-cn:autoscaling:cn-north-1:210987654321:")


def test_emitted_policy_passes_parliament_and_trust_is_the_service_account(mocked):
    build(mocked)
    emitted = mocked.one("aws:iam/rolePolicy:RolePolicy", "ca-irsa-policy").inputs["policy"]
    assert [f.issue for f in parliament.analyze_policy_string(emitted).findings] == []
    assert json.loads(emitted)["Statement"] == ca.iam_statements("slipway-prod", OIDC, "us-east-1")
    trust = json.loads(mocked.one("aws:iam/role:Role", "ca-irsa-role").inputs["assumeRolePolicy"])
    assert trust == irsa_trust_policy(OIDC, ISSUER, "kube-system", "cluster-autoscaler")
    assert not mocked.of_type("kubernetes:core/v1:ServiceAccount")  # the chart creates it


# ------------------------------------------------------------------ Args errors


def _messages(**overrides) -> list[str]:
    with pytest.raises(ArgsError) as e:
        require_valid("ClusterAutoscaler 'ca'", ca.cluster_autoscaler_issues(args(**overrides)))
    return e.value.messages


def test_price_expander_is_refused_with_the_reason(mocked):
    def program():
        with pytest.raises(ArgsError) as e:
            ClusterAutoscaler("ca", args(expander="price"))
        assert e.value.messages == [
            "expander: 'price' is not implemented on AWS: Cluster Autoscaler exits at start (no pricing model) — "
            "use 'least-waste' (the default) and keep cheaper instance types in their own pool"
        ]

    mocked.build(program)
    assert not mocked.of_type("kubernetes:helm.sh/v3:Release")  # nothing half-registered


def test_args_errors_name_field_value_and_fix(mocked):
    def program():
        messages = _messages(kubernetes_version="1.30", expander="fastest", region="useast1", cluster_name="",
                             replicas=0)  # fmt: skip
        assert messages == [
            "cluster_name: '' (empty) is not an EKS cluster name — pass the cluster's name as a string "
            "(it goes into the ASG tag key)",
            "region: 'useast1' is not an AWS region — write a region code, e.g. 'us-east-1'",
            "kubernetes_version: '1.30' has no Cluster Autoscaler release pinned (CA's minor must match the "
            "cluster's) — use one of 1.32, 1.33, 1.34, 1.35, or add that minor's newest release to IMAGE_TAGS",
            *[m for m in messages if m.startswith("expander: 'fastest'")],
            "replicas: 0 is out of range — use a value ≥ 1",
        ]
        assert any("least-waste" in m for m in messages if m.startswith("expander:"))

    mocked.build(program)


def test_defaults_are_valid(mocked):
    mocked.build(lambda: ca.cluster_autoscaler_issues(args()) == [] or pytest.fail("defaults refused"))
