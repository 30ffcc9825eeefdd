"""Policy rules: each fires on its violating input and stays silent on the compliant one,
in both shapes (component inputs offline, pulumi-eks child resources in a real preview)."""

from __future__ import annotations

import json

import pytest

from infra.render import render_stack
from policies.rules import RULES, evaluate

RULE = {r.name: r for r in RULES}
LOGS = ["api", "audit", "authenticator", "controllerManager", "scheduler"]
KEY = "arn:aws:kms:us-east-1:123456789012:key/k"

COMPONENT_OK = {
    "endpointPublicAccess": True,
    "publicAccessCidrs": ["203.0.113.0/24"],
    "encryptionConfigKeyArn": KEY,
    "enabledClusterLogTypes": LOGS,
    "authenticationMode": "API",
    "nodeAssociatePublicIpAddress": False,
}
CHILD_OK = {
    "vpcConfig": {"endpointPublicAccess": True, "publicAccessCidrs": ["203.0.113.0/24"]},
    "encryptionConfig": {"resources": ["secrets"], "provider": {"keyArn": KEY}},
    "enabledClusterLogTypes": LOGS,
    "accessConfig": {"authenticationMode": "API_AND_CONFIG_MAP"},
}
LT_OK = {"metadataOptions": {"httpTokens": "required", "httpPutResponseHopLimit": 1}}

# (rule, type, compliant props, violating props, expected message fragment)
CASES = [
    ("eks-endpoint-restricted", "eks:index:Cluster", COMPONENT_OK,
     {**COMPONENT_OK, "publicAccessCidrs": ["0.0.0.0/0"]}, "open to 0.0.0.0/0"),
    ("eks-endpoint-restricted", "eks:index:Cluster", {**COMPONENT_OK, "endpointPublicAccess": False,
                                                      "publicAccessCidrs": []},
     {**COMPONENT_OK, "publicAccessCidrs": []}, "no CIDR allowlist"),
    ("eks-endpoint-restricted", "aws:eks/cluster:Cluster", CHILD_OK,
     {**CHILD_OK, "vpcConfig": {"endpointPublicAccess": True, "publicAccessCidrs": ["0.0.0.0/0"]}}, "0.0.0.0/0"),
    ("eks-secrets-encrypted", "eks:index:Cluster", COMPONENT_OK,
     {k: v for k, v in COMPONENT_OK.items() if k != "encryptionConfigKeyArn"}, "not envelope-encrypted"),
    ("eks-secrets-encrypted", "aws:eks/cluster:Cluster", CHILD_OK,
     {k: v for k, v in CHILD_OK.items() if k != "encryptionConfig"}, "not envelope-encrypted"),
    ("eks-control-plane-logs", "eks:index:Cluster", COMPONENT_OK,
     {**COMPONENT_OK, "enabledClusterLogTypes": ["api"]}, "audit, authenticator, controllerManager, scheduler"),
    ("eks-control-plane-logs", "aws:eks/cluster:Cluster", CHILD_OK,
     {**CHILD_OK, "enabledClusterLogTypes": []}, "missing"),
    ("eks-access-entries", "eks:index:Cluster", COMPONENT_OK,
     {**COMPONENT_OK, "authenticationMode": "CONFIG_MAP"}, "aws-auth"),
    ("eks-access-entries", "aws:eks/cluster:Cluster", CHILD_OK,
     {k: v for k, v in CHILD_OK.items() if k != "accessConfig"}, "CONFIG_MAP (default)"),
    ("eks-nodes-private", "eks:index:Cluster", COMPONENT_OK,
     {**COMPONENT_OK, "nodeAssociatePublicIpAddress": True}, "public IP"),
    ("kms-key-rotation", "aws:kms/key:Key", {"enableKeyRotation": True}, {}, "rotation is off"),
    ("nodes-imdsv2", "aws:ec2/launchTemplate:LaunchTemplate", LT_OK,
     {"metadataOptions": {"httpTokens": "optional"}}, "IMDSv1"),
    ("nodes-imds-hop-limit", "aws:ec2/launchTemplate:LaunchTemplate", LT_OK,
     {"metadataOptions": {"httpTokens": "required", "httpPutResponseHopLimit": 2}}, "hop limit is 2"),
]  # fmt: skip


@pytest.mark.parametrize("rule, type_, ok, bad, fragment", CASES, ids=[f"{c[0]}:{c[1]}" for c in CASES])
def test_rule_fires_and_stays_silent(rule, type_, ok, bad, fragment):
    assert RULE[rule].evaluate(type_, ok) == []
    violations = RULE[rule].evaluate(type_, bad)
    assert len(violations) == 1, violations
    assert fragment in violations[0].message
    assert violations[0].fix


def test_every_rule_has_a_case():
    assert {c[0] for c in CASES} == set(RULE)


def test_rules_ignore_other_types():
    assert RULE["kms-key-rotation"].evaluate("aws:s3/bucket:Bucket", {}) == []


def test_endpoint_allowlist_config():
    props = {**COMPONENT_OK, "publicAccessCidrs": ["192.0.2.0/24"]}
    (v,) = RULE["eks-endpoint-restricted"].evaluate("eks:index:Cluster", props, {"allowedPublicCidrs": ["10.0.0.0/8"]})
    assert "outside this stack's allowedPublicCidrs" in v.message


def test_hop_limit_config_allows_two():
    props = {"metadataOptions": {"httpTokens": "required", "httpPutResponseHopLimit": 2}}
    assert (
        RULE["nodes-imds-hop-limit"].evaluate("aws:ec2/launchTemplate:LaunchTemplate", props, {"maxHopLimit": 2}) == []
    )


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_shipped_stacks_have_no_mandatory_violations(stack, tmp_path):
    result = render_stack(stack, tmp_path / stack)
    resources = json.loads((result.out_dir / "resources.json").read_text())
    found = [
        (rule.name, urn, v.message)
        for rule, urn, v in evaluate((r["urn"], r["type"], r["inputs"]) for r in resources)
        if rule.enforcement == "mandatory"
    ]
    assert found == []
