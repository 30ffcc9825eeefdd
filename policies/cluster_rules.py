"""Cluster guardrails: API endpoint, secrets encryption, logs, authentication, nodes, KMS.

Each check covers both shapes a rule can see: pulumi-eks's component inputs
(`eks:index:Cluster`, offline) and its child resources (`aws:eks/cluster:Cluster`,
in a real preview).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from policies.base import Violation

CONTROL_PLANE_LOGS = {"api", "audit", "authenticator", "controllerManager", "scheduler"}
EKS_CLUSTER = frozenset({"eks:index:Cluster", "aws:eks/cluster:Cluster"})
LAUNCH_TEMPLATE = frozenset({"aws:ec2/launchTemplate:LaunchTemplate"})


def _eks_endpoint(type_: str, props: dict) -> tuple[bool, list[str]]:
    if type_ == "eks:index:Cluster":
        return props.get("endpointPublicAccess", True), props.get("publicAccessCidrs") or []
    vpc = props.get("vpcConfig") or {}
    return vpc.get("endpointPublicAccess", True), vpc.get("publicAccessCidrs") or []


def check_endpoint(type_: str, props: dict, config: dict, options: dict) -> Iterable[Violation]:
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


def check_secrets_encryption(type_: str, props: dict, config: dict, options: dict) -> Iterable[Violation]:
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


def check_logs(type_: str, props: dict, config: dict, options: dict) -> Iterable[Violation]:
    enabled = set(props.get("enabledClusterLogTypes") or [])
    missing = sorted(CONTROL_PLANE_LOGS - enabled)
    if missing:
        yield Violation(
            f"control-plane log types missing: {', '.join(missing)} (CIS EKS 2.1.1)",
            "enable all five: api, audit, authenticator, controllerManager, scheduler",
        )


def check_auth_mode(type_: str, props: dict, config: dict, options: dict) -> Iterable[Violation]:
    mode = props.get("authenticationMode") or (props.get("accessConfig") or {}).get("authenticationMode")
    if mode in (None, "CONFIG_MAP"):
        yield Violation(
            f"authentication mode is {mode or 'CONFIG_MAP (default)'}: only the deprecated aws-auth ConfigMap",
            "use API (access entries) or API_AND_CONFIG_MAP while migrating; the mode only moves forward",
        )


def check_kms_rotation(type_: str, props: dict, config: dict, options: dict) -> Iterable[Violation]:
    if props.get("customerMasterKeySpec", props.get("keySpec", "SYMMETRIC_DEFAULT")) != "SYMMETRIC_DEFAULT":
        return  # AWS rotates only symmetric keys
    if not props.get("enableKeyRotation"):
        yield Violation("KMS key rotation is off (CKV_AWS_7)", "set enable_key_rotation=True")


def check_imds(type_: str, props: dict, config: dict, options: dict) -> Iterable[Violation]:
    meta = props.get("metadataOptions") or {}
    if meta.get("httpTokens") != "required":
        yield Violation(
            "instance metadata allows IMDSv1 (CKV_AWS_79): pods can steal the node role's credentials",
            "set metadata_options.http_tokens='required' (slipway's node pools do)",
        )


def check_imds_hop(type_: str, props: dict, config: dict, options: dict) -> Iterable[Violation]:
    hop = (props.get("metadataOptions") or {}).get("httpPutResponseHopLimit")
    limit = config.get("maxHopLimit", 1)
    if hop is None or hop > limit:
        yield Violation(
            f"IMDS hop limit is {hop if hop is not None else 'unset (AWS default 1, EKS AMIs 2)'}, above {limit}: "
            "pods can reach the node role's credentials (CKV_AWS_341)",
            "use metadataHopLimit: 1 on the pool unless a pod truly needs instance metadata",
        )


def check_nodes_private(type_: str, props: dict, config: dict, options: dict) -> Iterable[Violation]:
    if props.get("nodeAssociatePublicIpAddress", True) is not False:
        yield Violation(
            "worker nodes may get public IP addresses",
            "set node_associate_public_ip_address=False and place nodes in private subnets",
        )


def check_launch_template_public_ip(type_: str, props: dict, config: dict, options: dict) -> Iterable[Violation]:
    for nic in props.get("networkInterfaces") or []:
        if str(nic.get("associatePublicIpAddress", "")).lower() == "true":
            yield Violation("a node launch template gives nodes public IP addresses",
                            "remove associatePublicIpAddress; nodes belong in private subnets")  # fmt: skip
