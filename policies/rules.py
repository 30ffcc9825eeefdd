"""slipway's guardrails as plain functions: (resource type, properties) → violations.

The same functions run in two places:

* in a real `pulumi preview --policy-pack policies` (policies/__main__.py wraps them
  in pulumi-policy ResourceValidationPolicies), where pulumi-eks's *child*
  resources are visible (`aws:eks/cluster:Cluster`, …);
* offline in `slipway check`, over the render, where only the component's *inputs*
  are visible (`eks:index:Cluster`).

Every rule covers both shapes, so it cannot be bypassed either way. Properties use
the engine's camelCase names.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

Enforcement = Literal["mandatory", "advisory"]
CONTROL_PLANE_LOGS = {"api", "audit", "authenticator", "controllerManager", "scheduler"}


@dataclass(frozen=True)
class Violation:
    """A rule's finding on one resource: what is wrong and how to fix it."""

    message: str
    fix: str


@dataclass(frozen=True)
class Rule:
    """One guardrail."""

    name: str
    description: str
    enforcement: Enforcement
    types: frozenset[str]
    check: Callable[[str, dict[str, Any], dict[str, Any]], Iterable[Violation]]
    config_defaults: dict[str, Any] = field(default_factory=dict)

    def evaluate(self, type_: str, props: dict[str, Any], config: dict[str, Any] | None = None) -> list[Violation]:
        if type_ not in self.types:
            return []
        return list(self.check(type_, props or {}, {**self.config_defaults, **(config or {})}))


def _eks_endpoint(type_: str, props: dict) -> tuple[bool, list[str]]:
    if type_ == "eks:index:Cluster":
        return props.get("endpointPublicAccess", True), props.get("publicAccessCidrs") or []
    vpc = props.get("vpcConfig") or {}
    return vpc.get("endpointPublicAccess", True), vpc.get("publicAccessCidrs") or []


def _check_endpoint(type_: str, props: dict, config: dict) -> Iterable[Violation]:
    public, cidrs = _eks_endpoint(type_, props)
    if not public:
        return
    if not cidrs:
        yield Violation(
            "the API endpoint is public with no CIDR allowlist (EKS then allows 0.0.0.0/0)",
            "set cluster.endpoint.publicAccessCidrs to your VPN/office/CI ranges, or publicAccess: false",
        )
        return
    allowed = config.get("allowedPublicCidrs") or []
    for cidr in cidrs:
        try:
            net = ipaddress.ip_network(cidr, strict=False)
        except ValueError:
            continue
        if net.prefixlen == 0:
            yield Violation(
                f"the API endpoint is open to {cidr} (CIS EKS 5.4.2)",
                "list only the CIDRs that need kubectl access, or set publicAccess: false",
            )
        elif allowed and not any(net.subnet_of(ipaddress.ip_network(a)) for a in allowed):
            yield Violation(
                f"public endpoint CIDR {cidr} is outside this stack's allowedPublicCidrs {allowed}",
                "use an allowed range, or add it to the policy config's allowedPublicCidrs",
            )


def _check_secrets_encryption(type_: str, props: dict, config: dict) -> Iterable[Violation]:
    if type_ == "eks:index:Cluster":
        ok = bool(props.get("encryptionConfigKeyArn"))
    else:
        enc = props.get("encryptionConfig") or {}
        ok = "secrets" in (enc.get("resources") or []) and bool((enc.get("provider") or {}).get("keyArn"))
    if not ok:
        yield Violation(
            "Kubernetes Secrets are not envelope-encrypted with a KMS key (CIS EKS 5.3.1)",
            "pass encryption_config_key_arn (slipway's EksCluster creates a rotating key)",
        )


def _check_logs(type_: str, props: dict, config: dict) -> Iterable[Violation]:
    enabled = set(props.get("enabledClusterLogTypes") or [])
    missing = sorted(CONTROL_PLANE_LOGS - enabled)
    if missing:
        yield Violation(
            f"control-plane log types missing: {', '.join(missing)} (CIS EKS 2.1.1)",
            "enable all five: api, audit, authenticator, controllerManager, scheduler",
        )


def _check_auth_mode(type_: str, props: dict, config: dict) -> Iterable[Violation]:
    mode = props.get("authenticationMode") or (props.get("accessConfig") or {}).get("authenticationMode")
    if mode in (None, "CONFIG_MAP"):
        yield Violation(
            f"authentication mode is {mode or 'CONFIG_MAP (default)'}: only the deprecated aws-auth ConfigMap",
            "use API (access entries) or API_AND_CONFIG_MAP while migrating; the mode only moves forward",
        )


def _check_kms_rotation(type_: str, props: dict, config: dict) -> Iterable[Violation]:
    if props.get("customerMasterKeySpec", props.get("keySpec", "SYMMETRIC_DEFAULT")) != "SYMMETRIC_DEFAULT":
        return  # AWS rotates only symmetric keys
    if not props.get("enableKeyRotation"):
        yield Violation("KMS key rotation is off (CKV_AWS_7)", "set enable_key_rotation=True")


def _check_imds(type_: str, props: dict, config: dict) -> Iterable[Violation]:
    meta = props.get("metadataOptions") or {}
    if meta.get("httpTokens") != "required":
        yield Violation(
            "instance metadata allows IMDSv1 (CKV_AWS_79): pods can steal the node role's credentials",
            "set metadata_options.http_tokens='required' (slipway's node pools do)",
        )


def _check_imds_hop(type_: str, props: dict, config: dict) -> Iterable[Violation]:
    hop = (props.get("metadataOptions") or {}).get("httpPutResponseHopLimit")
    limit = config.get("maxHopLimit", 1)
    if hop is None or hop > limit:
        yield Violation(
            f"IMDS hop limit is {hop if hop is not None else 'unset (AWS default 1, EKS AMIs 2)'}, above {limit}: "
            "pods can reach the node role's credentials (CKV_AWS_341)",
            "use metadataHopLimit: 1 on the pool unless a pod truly needs instance metadata",
        )


def _check_nodes_private(type_: str, props: dict, config: dict) -> Iterable[Violation]:
    if props.get("nodeAssociatePublicIpAddress", True) is not False:
        yield Violation(
            "worker nodes may get public IP addresses",
            "set node_associate_public_ip_address=False and place nodes in private subnets",
        )


EKS_CLUSTER = frozenset({"eks:index:Cluster", "aws:eks/cluster:Cluster"})

RULES: list[Rule] = [
    Rule("eks-endpoint-restricted", "The EKS API endpoint is private or allow-listed, never 0.0.0.0/0.",
         "mandatory", EKS_CLUSTER, _check_endpoint, {"allowedPublicCidrs": []}),
    Rule("eks-secrets-encrypted", "Kubernetes Secrets are envelope-encrypted with KMS.",
         "mandatory", EKS_CLUSTER, _check_secrets_encryption),
    Rule("eks-control-plane-logs", "All five control-plane log types are enabled.",
         "mandatory", EKS_CLUSTER, _check_logs),
    Rule("eks-access-entries", "The cluster uses access entries (API or API_AND_CONFIG_MAP).",
         "advisory", EKS_CLUSTER, _check_auth_mode),
    Rule("eks-nodes-private", "Nodes get no public IP addresses.",
         "mandatory", frozenset({"eks:index:Cluster"}), _check_nodes_private),
    Rule("kms-key-rotation", "Customer KMS keys rotate yearly.",
         "mandatory", frozenset({"aws:kms/key:Key"}), _check_kms_rotation),
    Rule("nodes-imdsv2", "Node launch templates require IMDSv2.",
         "mandatory", frozenset({"aws:ec2/launchTemplate:LaunchTemplate"}), _check_imds),
    Rule("nodes-imds-hop-limit", "Node IMDS hop limit is 1 so pods cannot reach node credentials.",
         "advisory", frozenset({"aws:ec2/launchTemplate:LaunchTemplate"}), _check_imds_hop, {"maxHopLimit": 1}),
]  # fmt: skip


def evaluate(resources: Iterable[tuple[str, str, dict]], config: dict[str, dict] | None = None):
    """Run every rule over (urn, type, props) triples: yields (rule, urn, violation)."""
    config = config or {}
    for urn, type_, props in resources:
        for rule in RULES:
            for v in rule.evaluate(type_, props, config.get(rule.name)):
                yield rule, urn, v
