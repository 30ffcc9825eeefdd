"""Cluster guardrails: API endpoint, secrets encryption, logs, authentication, nodes, KMS, SSH.

Each check covers both shapes a rule can see: pulumi-eks's component inputs
(`eks:index:Cluster`, offline) and its child resources (`aws:eks/cluster:Cluster`,
in a real preview).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from typing import Any

from slipway.policies.base import Props, Violation, as_list, as_mapping, mappings, number

CONTROL_PLANE_LOGS = {"api", "audit", "authenticator", "controllerManager", "scheduler"}
EKS_CLUSTER = frozenset({"eks:index:Cluster", "aws:eks/cluster:Cluster"})
LAUNCH_TEMPLATE = frozenset({"aws:ec2/launchTemplate:LaunchTemplate"})


def _eks_endpoint(type_: str, props: Props) -> tuple[Any, list[Any]]:
    if type_ == "eks:index:Cluster":
        return props.get("endpointPublicAccess", True), as_list(props.get("publicAccessCidrs"))
    vpc = as_mapping(props.get("vpcConfig"))
    return vpc.get("endpointPublicAccess", True), as_list(vpc.get("publicAccessCidrs"))


def _within(net: ipaddress.IPv4Network | ipaddress.IPv6Network, allowed: list[Any]) -> bool:
    """Is `net` inside one of the allowed CIDRs (malformed or other-family entries never match)?"""
    for a in allowed:
        try:
            outer = ipaddress.ip_network(str(a), strict=False)
        except ValueError:
            continue
        if outer.version == net.version and net.subnet_of(outer):
            return True
    return False


def check_endpoint(type_: str, props: Props, config: Mapping, options: Mapping) -> Iterable[Violation]:
    public, cidrs = _eks_endpoint(type_, props)
    if not public:
        return
    if not cidrs:
        yield Violation(
            "the API endpoint is public with no CIDR allowlist (EKS then allows 0.0.0.0/0)",
            "set cluster.endpoint.publicAccessCidrs to your VPN/office/CI ranges, or publicAccess: false",
        )
        return
    allowed = as_list(config.get("allowedPublicCidrs"))
    for cidr in cidrs:
        try:
            net = ipaddress.ip_network(str(cidr), strict=False)
        except ValueError:
            continue
        if net.prefixlen == 0:
            yield Violation(
                f"the API endpoint is open to {cidr} (CIS EKS 5.4.2)",
                "list only the CIDRs that need kubectl access, or set publicAccess: false",
            )
        elif allowed and not _within(net, allowed):
            yield Violation(
                f"public endpoint CIDR {cidr} is outside this stack's allowedPublicCidrs {allowed}",
                "use an allowed range, or add it to the policy config's allowedPublicCidrs",
            )


def check_secrets_encryption(type_: str, props: Props, config: Mapping, options: Mapping) -> Iterable[Violation]:
    if type_ == "eks:index:Cluster":
        ok = bool(props.get("encryptionConfigKeyArn"))
    else:
        enc = as_mapping(props.get("encryptionConfig"))
        ok = "secrets" in as_list(enc.get("resources")) and bool(as_mapping(enc.get("provider")).get("keyArn"))
    if not ok:
        yield Violation(
            "Kubernetes Secrets are not envelope-encrypted with a KMS key (CIS EKS 5.3.1)",
            "pass encryption_config_key_arn (slipway's EksCluster creates a rotating key)",
        )


def check_logs(type_: str, props: Props, config: Mapping, options: Mapping) -> Iterable[Violation]:
    enabled = {str(t) for t in as_list(props.get("enabledClusterLogTypes"))}
    missing = sorted(CONTROL_PLANE_LOGS - enabled)
    if missing:
        yield Violation(
            f"control-plane log types missing: {', '.join(missing)} (CIS EKS 2.1.1)",
            "enable all five: api, audit, authenticator, controllerManager, scheduler",
        )


def check_auth_mode(type_: str, props: Props, config: Mapping, options: Mapping) -> Iterable[Violation]:
    mode = props.get("authenticationMode") or as_mapping(props.get("accessConfig")).get("authenticationMode")
    if mode in (None, "CONFIG_MAP"):
        yield Violation(
            f"authentication mode is {mode or 'CONFIG_MAP (default)'}: only the deprecated aws-auth ConfigMap",
            "use API (access entries) or API_AND_CONFIG_MAP while migrating; the mode only moves forward",
        )


def check_kms_rotation(type_: str, props: Props, config: Mapping, options: Mapping) -> Iterable[Violation]:
    if props.get("customerMasterKeySpec", props.get("keySpec", "SYMMETRIC_DEFAULT")) != "SYMMETRIC_DEFAULT":
        return  # AWS rotates only symmetric keys
    if not props.get("enableKeyRotation"):
        yield Violation("KMS key rotation is off (CKV_AWS_7)", "set enable_key_rotation=True")


def check_imds(type_: str, props: Props, config: Mapping, options: Mapping) -> Iterable[Violation]:
    meta = as_mapping(props.get("metadataOptions"))
    if meta.get("httpTokens") != "required":
        yield Violation(
            "instance metadata allows IMDSv1 (CKV_AWS_79): pods can steal the node role's credentials",
            "set metadata_options.http_tokens='required' (slipway's node pools do)",
        )


def check_imds_hop(type_: str, props: Props, config: Mapping, options: Mapping) -> Iterable[Violation]:
    hop = as_mapping(props.get("metadataOptions")).get("httpPutResponseHopLimit")
    limit = config.get("maxHopLimit", 1)
    if not isinstance(hop, int | float) or isinstance(hop, bool) or hop > limit:
        shown = number(hop) if hop is not None else "unset (AWS default 1, EKS AMIs 2)"
        yield Violation(
            f"IMDS hop limit is {shown}, above {number(limit)}: "
            "pods can reach the node role's credentials (CKV_AWS_341)",
            "use metadataHopLimit: 1 on the pool unless a pod truly needs instance metadata",
        )


def check_nodes_private(type_: str, props: Props, config: Mapping, options: Mapping) -> Iterable[Violation]:
    if props.get("nodeAssociatePublicIpAddress", True) is not False:
        yield Violation(
            "worker nodes may get public IP addresses",
            "set node_associate_public_ip_address=False and place nodes in private subnets",
        )


def check_launch_template_public_ip(type_: str, props: Props, config: Mapping, options: Mapping) -> Iterable[Violation]:
    for nic in mappings(props.get("networkInterfaces")):
        if str(nic.get("associatePublicIpAddress", "")).lower() == "true":
            yield Violation("a node launch template gives nodes public IP addresses",
                            "remove associatePublicIpAddress; nodes belong in private subnets")  # fmt: skip


# ------------------------------------------------------------------ SSH from the internet

SECURITY_GROUP_RULES = frozenset({
    "aws:ec2/securityGroup:SecurityGroup",  # inline `ingress` blocks
    "aws:ec2/securityGroupRule:SecurityGroupRule",  # type ingress
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
})  # fmt: skip
SSH_PORT = 22


def _admits_ssh(protocol: Any, from_port: Any, to_port: Any) -> bool:
    """Does a rule with this protocol and port range admit tcp/22? Protocol -1 (or "all")
    is every protocol and every port, whatever the ports say (EC2 AuthorizeSecurityGroupIngress)."""
    proto = str(protocol).lower() if protocol is not None else ""
    if proto in ("-1", "all"):
        return True
    if proto not in ("tcp", "6"):
        return False
    if not isinstance(from_port, int | float) or not isinstance(to_port, int | float):
        return False
    return from_port <= SSH_PORT <= to_port


def _world(cidrs: Iterable[Any]) -> list[str]:
    """The CIDRs among `cidrs` that are the whole address space (0.0.0.0/0, ::/0, 0.0.0.0/0 written otherwise)."""
    found = []
    for cidr in cidrs:
        try:
            if ipaddress.ip_network(str(cidr), strict=False).prefixlen == 0:
                found.append(str(cidr))
        except ValueError:
            continue
    return found


def _ingress_openings(type_: str, props: Props) -> list[tuple[str, ...]]:
    """The world-open CIDRs of every ingress permission admitting tcp/22, per permission."""
    if type_ == "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule":
        if not _admits_ssh(props.get("ipProtocol"), props.get("fromPort"), props.get("toPort")):
            return []
        return [tuple(_world([c for c in (props.get("cidrIpv4"), props.get("cidrIpv6")) if c is not None]))]
    if type_ == "aws:ec2/securityGroupRule:SecurityGroupRule":
        permissions: list[Mapping[str, Any]] = [props] if props.get("type") == "ingress" else []
    else:
        permissions = mappings(props.get("ingress"))
    return [
        tuple(_world([*as_list(p.get("cidrBlocks")), *as_list(p.get("ipv6CidrBlocks"))]))
        for p in permissions
        if _admits_ssh(p.get("protocol"), p.get("fromPort"), p.get("toPort"))
    ]


def check_ssh_not_open(type_: str, props: Props, config: Mapping, options: Mapping) -> Iterable[Violation]:
    for world in _ingress_openings(type_, props):
        if world:
            yield Violation(
                f"SSH (tcp/22) is open to {', '.join(world)}: every host on the internet can try the nodes' sshd",
                "allow SSH only from a bastion's security group (nodePools.<pool>.ssh.sourceSecurityGroupIds), "
                "or use SSM: aws ssm start-session --target <instance-id>",
            )
