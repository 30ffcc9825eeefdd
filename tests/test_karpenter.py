"""Karpenter: pins and documents checked against upstream's own files, the rendered
NodePools/EC2NodeClasses against the CRDs of the pinned chart, and the destroy order on
the graph of a component built under mocks.

Upstream files in tests/data (aws/karpenter-provider-aws@v1.14.1): the chart's values.yaml
(`charts/karpenter/values.yaml`, image tag/digest as the release pipeline sets them), the
getting-started CloudFormation template; the CRDs are shipped in components/data/crds/.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import parliament
import pulumi
import pulumi_kubernetes as k8s
import pytest
import yaml

from slipway.cli.checks import custom_resource_errors, suppressed
from slipway.components import karpenter_iam as kiam
from slipway.components.crds import CRD_DIR, crd_schema
from slipway.components.karpenter import Karpenter
from slipway.components.karpenter_args import (
    AMI_ALIAS,
    CHART,
    CHART_VERSION,
    CRD_CHART,
    KarpenterArgs,
    KarpenterPool,
    karpenter_issues,
)
from slipway.components.karpenter_manifests import helm_values, node_class_spec, node_pool_spec
from slipway.components.lifecycle import NATURAL_KEYS, REPLACE_SAFE
from slipway.components.node_pools import POOL_LABEL
from slipway.components.validation import ArgsError
from slipway.testing import Mocked, Recorded

from tests.test_addons import unknown_keys

DATA = Path(__file__).parent / "data"
ACCT = "123456789012"
ISSUER = "oidc.eks.us-east-1.amazonaws.com/id/ABC"
OIDC_ARN = f"arn:aws:iam::{ACCT}:oidc-provider/{ISSUER}"
RELEASE = "kubernetes:helm.sh/v3:Release"
NODE_POOL = "kubernetes:karpenter.sh/v1:NodePool"
NODE_CLASS = "kubernetes:karpenter.k8s.aws/v1:EC2NodeClass"
# sha256 of the upstream files as fetched at v1.14.1 (edits would no longer be upstream's).
NODEPOOLS, NODECLASSES = CRD_DIR / "karpenter.sh_nodepools.yaml", CRD_DIR / "karpenter.k8s.aws_ec2nodeclasses.yaml"
TEMPLATE = DATA / "karpenter" / "cloudformation-v1.14.1.yaml"
UPSTREAM_SHA256 = {
    NODEPOOLS: "3bb64a20c80776b77aa19a699ebdaf34480a7b2e7ec4ef890b43225b3517f878",
    NODECLASSES: "62dec59f01c0972d4503ca3ed25f243ba9c2f561be0d964ce7a14c8df406132f",
    TEMPLATE: "7ffeb01f04b5da482ef43087830de00a476098416e3b4576c38239ef1b0bef4b",
}

WEB = KarpenterPool(
    name="web",
    labels={"slipway.dev/role": "web"},
    taints=[],
    architectures=["amd64"],
    cpu_limit_millicores=32000,
    memory_limit_mib=65536,
    capacity_types=["spot", "on-demand"],
)
BATCH = KarpenterPool(
    name="batch",
    labels={},
    taints=[{"key": "dedicated", "value": "batch", "effect": "NoSchedule"}],
    architectures=["arm64"],
    instance_families=["m7g", "c7g"],
    cpu_limit_millicores=8000,
    memory_limit_mib=16384,
    consolidation_policy="WhenEmpty",
    expire_after="168h",
    disk_size_gib=50,
)


def _args(provider: k8s.Provider, depends_on: list[pulumi.Resource], **over: Any) -> KarpenterArgs:
    base: dict[str, Any] = dict(
        cluster_name="demo",
        cluster_endpoint="https://ABC.gr7.us-east-1.eks.amazonaws.com",
        k8s_provider=provider,
        oidc_provider_arn=OIDC_ARN,
        oidc_issuer=ISSUER,
        cluster_security_group_id="sg-0123456789abcdef0",
        region="us-east-1",
        pools=[WEB, BATCH],
        node_selector={POOL_LABEL: "system"},
        tolerations=[{"key": "CriticalAddonsOnly", "operator": "Exists"}],
        depends_on=depends_on,
        instance_tags={"slipway/stack": "test"},
        tags={"team": "platform"},
    )
    return KarpenterArgs(**{**base, **over})


@pytest.fixture
def built(mocked: Mocked) -> Mocked:
    """A Karpenter with two pools, depending on a stand-in node group and NAT route."""

    def program() -> None:
        provider = k8s.Provider("k8s", kubeconfig="{}")
        node_group = pulumi.CustomResource("eks:index:ManagedNodeGroup", "system-nodes", {"clusterName": "demo"})
        nat_route = pulumi.CustomResource("aws:ec2/route:Route", "private-a-nat", {"routeTableId": "rtb-1"})
        Karpenter("karpenter", _args(provider, [node_group, nat_route]))

    mocked.build(program)
    return mocked


# ------------------------------------------------------------------ upstream files, pins


def test_upstream_files_are_unchanged():
    for path, digest in UPSTREAM_SHA256.items():
        assert hashlib.sha256(path.read_bytes()).hexdigest() == digest, f"{path} is no longer upstream's v1.14.1"


def test_release_and_crd_release_are_pinned_oci_charts(built: Mocked):
    crds = built.template.one(RELEASE, props={"chart": CRD_CHART})
    release = built.template.one(RELEASE, props={"chart": CHART})
    for r in (crds, release):
        assert (r.inputs["version"], r.inputs["namespace"]) == (CHART_VERSION, "kube-system"), r.urn
        assert "repositoryOpts" not in r.inputs, f"{r.urn}: an oci:// chart takes no repository"
        assert r.inputs["skipAwait"] is False and r.inputs["atomic"] is True
    assert (crds.inputs["name"], release.inputs["name"]) == ("karpenter-crd", "karpenter")
    assert release.inputs["skipCrds"] is True and "skipCrds" not in crds.inputs
    built.template.depends_on(release, crds, direct=True)


def test_helm_values_are_real_keys_of_the_pinned_chart(built: Mocked):
    defaults = yaml.safe_load((DATA / "charts" / f"karpenter-chart-{CHART_VERSION}-values.yaml").read_text())
    assert defaults["controller"]["image"]["tag"] == CHART_VERSION
    values = built.template.one(RELEASE, props={"chart": CHART}).inputs["values"]
    assert unknown_keys(values, defaults) == []
    crd_defaults = yaml.safe_load((DATA / "charts" / f"karpenter-crd-chart-{CHART_VERSION}-values.yaml").read_text())
    assert unknown_keys(built.template.one(RELEASE, props={"chart": CRD_CHART}).inputs["values"], crd_defaults) == []


def test_helm_values(built: Mocked):
    v = built.template.one(RELEASE, props={"chart": CHART}).inputs["values"]
    queue = built.one("aws:sqs/queue:Queue", "karpenter-interruptions")
    role = built.one("aws:iam/role:Role", "karpenter-irsa-role")
    assert v["settings"] == {
        "clusterName": "demo",
        "clusterEndpoint": "https://ABC.gr7.us-east-1.eks.amazonaws.com",
        "interruptionQueue": queue.state["name"],
    }
    assert v["serviceAccount"] == {
        "create": True,
        "name": "karpenter",
        "annotations": {"eks.amazonaws.com/role-arn": role.state["arn"]},
    }
    assert v["replicas"] == 2 and v["podDisruptionBudget"] == {"name": "karpenter", "maxUnavailable": 1}
    assert v["nodeSelector"] == {POOL_LABEL: "system"}
    assert v["tolerations"] == [{"key": "CriticalAddonsOnly", "operator": "Exists"}]  # not twice
    assert v["controller"]["env"] == [{"name": "AWS_REGION", "value": "us-east-1"}]
    # The chart's default affinity keeps the controller off Karpenter's own nodes: never overridden.
    defaults = yaml.safe_load((DATA / "charts" / f"karpenter-chart-{CHART_VERSION}-values.yaml").read_text())
    term = defaults["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
    assert term["nodeSelectorTerms"] == [
        {"matchExpressions": [{"key": "karpenter.sh/nodepool", "operator": "DoesNotExist"}]}
    ]
    assert "affinity" not in v


def test_ami_alias_is_pinned():
    assert AMI_ALIAS.startswith("al2023@v") and AMI_ALIAS != "al2023@latest"


# ------------------------------------------------------------------ rendered objects vs the CRDs


def _objects(built: Mocked, type_: str) -> dict[str, dict[str, Any]]:
    found = {}
    for r in built.of_type(type_):
        found[r.inputs["metadata"]["name"]] = {k: r.inputs[k] for k in ("apiVersion", "kind", "metadata", "spec")}
    return found


def test_node_pools_and_classes_validate_against_the_crds(built: Mocked):
    objects = [*_objects(built, NODE_POOL).values(), *_objects(built, NODE_CLASS).values()]
    assert len(objects) == 4
    for obj in objects:
        assert custom_resource_errors(obj) == [], obj["metadata"]["name"]


def test_the_crd_check_catches_a_typo_and_a_bad_value():
    pool = {"apiVersion": "karpenter.sh/v1", "kind": "NodePool", "metadata": {"name": "x"}, "spec": node_pool_spec(WEB)}
    pool["spec"]["disruption"]["consolidationPolicy"] = "Sometimes"
    pool["spec"]["template"]["spec"]["expireAftr"] = "1h"
    errors = custom_resource_errors(pool)
    assert errors is not None and len(errors) == 2
    assert any("consolidationPolicy" in e and "'Sometimes' is not one of" in e for e in errors), errors
    assert any("'expireAftr' was unexpected" in e for e in errors), errors
    assert crd_schema("v1", "ConfigMap") is None and custom_resource_errors({"apiVersion": "v1", "kind": "X"}) is None


def test_node_classes_keep_the_node_baseline(built: Mocked):
    classes = _objects(built, NODE_CLASS)
    role = built.one("aws:iam/role:Role", "karpenter-node-role")
    for name, obj in classes.items():
        spec = obj["spec"]
        assert spec["role"] == role.state["name"]
        assert spec["amiSelectorTerms"] == [{"alias": AMI_ALIAS}]
        discovery = [{"tags": {"karpenter.sh/discovery": "demo"}}]
        assert spec["subnetSelectorTerms"] == discovery and spec["securityGroupSelectorTerms"] == discovery
        assert spec["associatePublicIPAddress"] is False
        assert spec["metadataOptions"] == {
            "httpEndpoint": "enabled",
            "httpProtocolIPv6": "disabled",
            "httpPutResponseHopLimit": 1,
            "httpTokens": "required",
        }
        [root] = spec["blockDeviceMappings"]
        assert root["deviceName"] == "/dev/xvda" and root["rootVolume"] is True
        assert {k: root["ebs"][k] for k in ("volumeType", "encrypted", "deleteOnTermination")} == {
            "volumeType": "gp3",
            "encrypted": True,
            "deleteOnTermination": True,
        }
        assert spec["tags"] == {"slipway/stack": "test", "slipway/pool": name}
    assert classes["batch"]["spec"]["blockDeviceMappings"][0]["ebs"]["volumeSize"] == "50Gi"


def test_node_pools_from_config():
    web, batch = node_pool_spec(WEB), node_pool_spec(BATCH)
    assert web["template"]["metadata"]["labels"] == {"slipway.dev/role": "web", POOL_LABEL: "web"}
    assert web["template"]["spec"]["requirements"] == [
        {"key": "kubernetes.io/os", "operator": "In", "values": ["linux"]},
        {"key": "kubernetes.io/arch", "operator": "In", "values": ["amd64"]},
        {"key": "karpenter.sh/capacity-type", "operator": "In", "values": ["spot", "on-demand"]},
        {"key": "karpenter.k8s.aws/instance-category", "operator": "In", "values": ["c", "m", "r"]},
        {"key": "karpenter.k8s.aws/instance-generation", "operator": "Gt", "values": ["2"]},
    ]
    assert batch["template"]["spec"]["requirements"][3] == {
        "key": "karpenter.k8s.aws/instance-family",
        "operator": "In",
        "values": ["m7g", "c7g"],
    }
    assert batch["template"]["spec"]["taints"] == [{"key": "dedicated", "value": "batch", "effect": "NoSchedule"}]
    assert batch["template"]["spec"]["nodeClassRef"] == {
        "group": "karpenter.k8s.aws",
        "kind": "EC2NodeClass",
        "name": "batch",
    }
    assert batch["template"]["spec"]["expireAfter"] == "168h"
    assert web["limits"] == {"cpu": "32000m", "memory": "65536Mi"}
    assert batch["disruption"] == {
        "consolidationPolicy": "WhenEmpty",
        "consolidateAfter": "1m",
        "budgets": [{"nodes": "10%"}],
    }


# ------------------------------------------------------------------ AWS side vs upstream's template


class _CfnLoader(yaml.SafeLoader):
    """Reads CloudFormation's short tags: !Sub keeps its string, !GetAtt/!Ref become markers."""


_CfnLoader.add_constructor("!Sub", lambda loader, node: loader.construct_scalar(node))
_CfnLoader.add_constructor("!GetAtt", lambda loader, node: f"GetAtt:{loader.construct_scalar(node)}")
_CfnLoader.add_constructor("!Ref", lambda loader, node: f"Ref:{loader.construct_scalar(node)}")

SUBS = {
    "${AWS::Partition}": "aws-us-gov",
    "${AWS::Region}": "us-gov-west-1",
    "${AWS::AccountId}": ACCT,
    "${AWS::URLSuffix}": "amazonaws.com",
    "${ClusterName}": "demo",
    "${KarpenterNodeRole.Arn}": f"arn:aws-us-gov:iam::{ACCT}:role/node",
    "${KarpenterInterruptionQueue.Arn}": f"arn:aws-us-gov:sqs:us-gov-west-1:{ACCT}:demo",
}


def _upstream() -> dict[str, Any]:
    text = TEMPLATE.read_text()
    return yaml.load(text, Loader=_CfnLoader)["Resources"]  # noqa: S506 - a SafeLoader subclass


def _sub(text: str) -> str:
    for k, v in SUBS.items():
        text = text.replace(k, v)
    assert "${" not in text, text
    return text


def test_controller_policies_are_upstreams():
    upstream = _upstream()
    ours = kiam.controller_policies(
        partition="aws-us-gov",
        region="us-gov-west-1",
        account=ACCT,
        cluster="demo",
        node_role_arn=SUBS["${KarpenterNodeRole.Arn}"],
        queue_arn=SUBS["${KarpenterInterruptionQueue.Arn}"],
    )
    managed = {k for k, r in upstream.items() if r["Type"] == "AWS::IAM::ManagedPolicy"}
    assert managed == set(ours)
    for name in managed:
        assert ours[name] == json.loads(_sub(upstream[name]["Properties"]["PolicyDocument"])), name


def test_node_role_is_upstreams():
    node = _upstream()["KarpenterNodeRole"]["Properties"]
    trust = node["AssumeRolePolicyDocument"]["Statement"][0]
    assert kiam.node_trust_policy()["Statement"][0]["Principal"]["Service"] == _sub(trust["Principal"]["Service"])
    assert sorted(kiam.node_policy_arns("aws-us-gov").values()) == sorted(_sub(a) for a in node["ManagedPolicyArns"])


def test_interruption_queue_and_rules_are_upstreams(built: Mocked):
    upstream = _upstream()
    queue = upstream["KarpenterInterruptionQueue"]["Properties"]
    assert (queue["MessageRetentionPeriod"], queue["SqsManagedSseEnabled"]) == (kiam.QUEUE_RETENTION_SECONDS, True)
    ours = built.one("aws:sqs/queue:Queue", "karpenter-interruptions").inputs
    assert (ours["messageRetentionSeconds"], ours["sqsManagedSseEnabled"]) == (300, True)

    arn = "arn:aws:sqs:us-east-1:123456789012:q"
    theirs = upstream["KarpenterInterruptionQueuePolicy"]["Properties"]["PolicyDocument"]
    theirs = json.loads(json.dumps(theirs).replace("GetAtt:KarpenterInterruptionQueue.Arn", arn))
    mine = kiam.queue_policy(arn)
    assert (mine["Id"], mine["Statement"]) == (theirs["Id"], theirs["Statement"])

    rules = {k: r["Properties"] for k, r in upstream.items() if r["Type"] == "AWS::Events::Rule"}
    assert sorted(p["EventPattern"]["detail-type"][0] for p in rules.values()) == sorted(
        p["detail-type"][0] for p in kiam.INTERRUPTION_RULES.values()
    )
    assert sorted(json.dumps(p["EventPattern"], sort_keys=True) for p in rules.values()) == sorted(
        r.inputs["eventPattern"] for r in built.of_type("aws:cloudwatch/eventRule:EventRule")
    )
    queue_arn = built.one("aws:sqs/queue:Queue", "karpenter-interruptions").state["arn"]
    targets = built.of_type("aws:cloudwatch/eventTarget:EventTarget")
    assert len(targets) == len(rules) == 5
    for t in targets:
        assert (t.inputs["arn"], t.inputs["targetId"]) == (queue_arn, "KarpenterInterruptionQueueTarget"), t.urn


def _severity(issue: str) -> str:
    return parliament.config.get(issue, {}).get("severity", "UNKNOWN")


def test_controller_policies_pass_parliament(built: Mocked):
    policies = built.of_type("aws:iam/policy:Policy")
    assert len(policies) == 6
    accepted = set()
    for p in policies:
        document = json.loads(p.inputs["policy"])
        assert kiam.upstream_policy_name(document), f"{p.urn} is not upstream's document"
        for f in parliament.analyze_policy_string(p.inputs["policy"], include_community_auditors=False).findings:
            if suppressed(document, f.issue):
                accepted.add(f.issue)
                continue
            assert _severity(f.issue) in ("LOW", "INFO"), f"{p.urn}: {f.issue} {f.detail}"
    assert accepted == {"RESOURCE_MISMATCH", "RESOURCE_STAR"}  # upstream's, explained in cli/checks.py
    # An edited copy is not upstream's, so nothing is accepted for it.
    edited = json.loads(policies[0].inputs["policy"])
    edited["Statement"][0]["Action"] = ["ec2:*"] if isinstance(edited["Statement"][0]["Action"], list) else "ec2:*"
    assert kiam.upstream_policy_name(edited) is None and suppressed(edited, "RESOURCE_MISMATCH") is None


# ------------------------------------------------------------------ access, discovery, lifecycle


def test_node_role_access_entry_and_discovery_tag(built: Mocked):
    role = built.one("aws:iam/role:Role", "karpenter-node-role")
    entry = built.one("aws:eks/accessEntry:AccessEntry", "karpenter-node-access")
    assert (entry.inputs["type"], entry.inputs["clusterName"], entry.inputs["principalArn"]) == (
        "EC2_LINUX",
        "demo",
        role.state["arn"],
    )
    assert "kubernetesGroups" not in entry.inputs  # EKS refuses groups on EC2_LINUX entries
    attached = {r.inputs["policyArn"] for r in built.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
                if r.inputs["role"] == role.state["name"]}  # fmt: skip
    assert attached == set(kiam.node_policy_arns("aws").values())
    tag = built.one("aws:ec2/tag:Tag", "karpenter-sg-discovery")
    assert tag.inputs == {"resourceId": "sg-0123456789abcdef0", "key": "karpenter.sh/discovery", "value": "demo"}


def test_every_type_is_classified_and_keyed_ones_delete_first(built: Mocked):
    for r in built.records:
        if not r.custom or r.type.startswith(("kubernetes:", "pulumi:")) or r.type == "eks:index:ManagedNodeGroup":
            continue
        assert r.type in NATURAL_KEYS or r.type in REPLACE_SAFE, f"{r.urn}: classify {r.type} in lifecycle.py"
        if r.type in NATURAL_KEYS:
            assert r.options.get("deleteBeforeReplace") is True, r.urn


def _one(built: Mocked, type_: str, name: str) -> Recorded:
    return built.one(type_, name)


def test_destroy_removes_karpenter_nodes_before_the_controller_and_the_network(built: Mocked):
    t = built.template
    crds = t.one(RELEASE, props={"chart": CRD_CHART})
    release = t.one(RELEASE, props={"chart": CHART})
    node_group = _one(built, "eks:index:ManagedNodeGroup", "system-nodes")
    nat_route = _one(built, "aws:ec2/route:Route", "private-a-nat")
    sg_tag = _one(built, "aws:ec2/tag:Tag", "karpenter-sg-discovery")
    access = _one(built, "aws:eks/accessEntry:AccessEntry", "karpenter-node-access")
    for pool in ("web", "batch"):
        node_pool = _one(built, NODE_POOL, f"karpenter-{pool}-pool")
        node_class = _one(built, NODE_CLASS, f"karpenter-{pool}-class")
        # Direct: the NodePool is deleted (its NodeClaims, so its instances, gone) before each of these.
        for first in (release, crds, node_class, node_group, nat_route, access):
            t.depends_on(node_pool, first, direct=True)
        for first in (release, crds, sg_tag, node_group, nat_route):
            t.depends_on(node_class, first, direct=True)
    # The controller (which removes the finalizers) and its IAM outlive every NodePool.
    t.depends_on(release, _one(built, "aws:iam/role:Role", "karpenter-irsa-role"))
    t.depends_on(release, node_group, direct=True)


# ------------------------------------------------------------------ input errors


def test_karpenter_reports_every_mistake_and_registers_nothing(mocked: Mocked):
    bad_pool = KarpenterPool(
        name="Web",
        labels={"karpenter.sh/nodepool": "x"},
        taints=[{"key": "k", "effect": "NoSchedulee"}],
        architectures=[],
        capacity_types=["spot", "reserved"],
        instance_families=["m6i.large"],
        instance_categories=[],
        cpu_limit_millicores=0,
        memory_limit_mib=-1,
        consolidation_policy="Always",
        consolidate_after="1 minute",
        disruption_budget_nodes="110%",
        expire_after="30d",
        disk_size_gib=8,
    )

    def program() -> None:
        args = _args(
            None,  # type: ignore[arg-type]
            [],
            pools=[bad_pool, WEB, WEB],
            ami_alias="al2023@latest",
            replicas=0,
            region="us-east1",
            oidc_provider_arn="arn:aws:iam::123:role/x",
        )
        Karpenter("karpenter", args)

    with pytest.raises(ArgsError) as exc:
        mocked.build(program)
    assert mocked.records == []
    assert exc.value.messages == [
        "k8s_provider: None is not a Kubernetes provider — pass the cluster's provider (EksCluster.provider) "
        "or a k8s.Provider(kubeconfig=...)",
        "oidc_provider_arn: 'arn:aws:iam::123:role/x' is not an IAM OIDC provider ARN — pass the cluster's, "
        "arn:aws:iam::<account>:oidc-provider/oidc.eks.<region>.amazonaws.com/id/<id>",
        "region: 'us-east1' is not an AWS region — write a region code, e.g. 'us-east-1'",
        "pools[0].name: 'Web' is not a NodePool name (a DNS-1123 label) — use at most 63 lowercase letters, "
        "digits and '-', starting and ending with a letter or digit",
        "pools[0].labels.karpenter.sh/nodepool: 'karpenter.sh/nodepool' is a label the NodePool CRD refuses — "
        "Karpenter sets it; use a label of your own domain",
        "pools[0].taints[0].effect: 'NoSchedulee' is not a taint effect — did you mean 'NoSchedule'? "
        "(allowed: NoSchedule, PreferNoSchedule, NoExecute)",
        "pools[0].architectures: [] is empty — give at least one, e.g. ['amd64']",
        "pools[0].capacity_types[1]: 'reserved' is not a capacity type — use one of on-demand, spot",
        "pools[0].instance_families[0]: 'm6i.large' is not an instance family — write it like 'm6i'",
        "pools[0].cpu_limit_millicores: 0 is out of range — use a value ≥ 1",
        "pools[0].memory_limit_mib: -1 is out of range — use a value ≥ 1",
        "pools[0].consolidation_policy: 'Always' is not a consolidation policy — use one of WhenEmpty, "
        "WhenEmptyOrUnderutilized, Balanced",
        "pools[0].consolidate_after: '1 minute' is not a duration — write a duration like '30s', '5m', '720h' "
        "or 'Never'",
        "pools[0].expire_after: '30d' is not a duration — write a duration like '30s', '5m', '720h' or 'Never'",
        "pools[0].disruption_budget_nodes: '110%' is not a node count or percentage — write '10%' or '1'",
        "pools[0].disk_size_gib: 8 is out of range — use a value ≥ 20",
        "pools[2].name: 'web' is listed twice — give each pool one KarpenterPool",
        "ami_alias: 'al2023@latest' is not a pinned AL2023 alias — write al2023@v<YYYYMMDD>, e.g. "
        f"{AMI_ALIAS!r} (@latest replaces every node on each AMI release)",
        "replicas: 0 is out of range — use a value ≥ 1",
    ]


def test_categories_are_needed_without_families():
    pool = KarpenterPool(
        name="x", labels={}, taints=[], architectures=["amd64"], cpu_limit_millicores=1, memory_limit_mib=1,
        instance_categories=[],
    )  # fmt: skip
    issues = [str(i) for i in karpenter_issues(_args(None, [], pools=[pool]))]  # type: ignore[arg-type]
    assert "pools[0].instance_categories: [] is empty and so are instance_families — list instance_families, " \
        "or categories such as ['c', 'm', 'r']" in issues  # fmt: skip


def test_manifest_builders_are_pure():
    spec = node_class_spec(WEB, cluster_name="demo", role_name="node-role", ami_alias=AMI_ALIAS, instance_tags={})
    assert spec["tags"] == {"slipway/pool": "web"}
    values = helm_values(
        cluster_name="demo", cluster_endpoint="https://x", region="eu-west-1", queue_name="q", role_arn="arn",
        replicas=3, node_selector={}, tolerations=[{"key": "dedicated", "operator": "Exists"}],
    )  # fmt: skip
    assert values["tolerations"] == [
        {"key": "CriticalAddonsOnly", "operator": "Exists"},
        {"key": "dedicated", "operator": "Exists"},
    ]


def test_slipway_check_validates_karpenter_objects_against_the_shipped_crds(built: Mocked):
    from types import SimpleNamespace

    from slipway.cli.checks import kubernetes_findings

    findings = kubernetes_findings(SimpleNamespace(records=built.records), "1.34")  # type: ignore[arg-type]
    about = [f for f in findings if f.resource.startswith(("kubernetes/_cluster/nodepool-", "kubernetes/_cluster/ec2"))]
    assert about == [], about  # validated (no "not validated" info), and valid
    broken = [r for r in built.records if r.type == NODE_POOL][0]
    broken.inputs["spec"]["limits"]["cpu"] = "lots"
    findings = kubernetes_findings(SimpleNamespace(records=built.records), "1.34")  # type: ignore[arg-type]
    assert [(f.check, f.severity, f.resource) for f in findings if f.check == "crd-schema"] == [
        ("crd-schema", "mandatory", f"kubernetes/_cluster/nodepool-{broken.inputs['metadata']['name']}.yaml")
    ]
