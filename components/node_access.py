"""Shell access to nodes: SSM Session Manager by default, SSH only on request.

* **Default: no SSH.** The node role carries `AmazonSSMManagedInstanceCore`
  (components/iam.py), and the AMIs run the SSM agent: AL2023 EKS AMIs install
  `amazon-ssm-agent` (awslabs/amazon-eks-ami@v20260724:
  templates/al2023/provisioners/install-worker.sh, "SSM Agent"); Bottlerocket runs it in
  its control container (awsdocs/amazon-eks-user-guide@4d52b4d:
  latest/ug/nodes/eks-optimized-ami-bottlerocket.adoc). `aws ssm start-session --target
  <instance-id>` opens a shell through the agent's outbound connection: no key pair, and
  no security group rule admits port 22. (The AL2023 AMI still runs sshd, with no
  authorized key installed; nothing outside the cluster security group reaches it.)
* **SSH on request** (`NodePoolArgs.ssh`). slipway's pools have their own launch template,
  and with one EKS takes no `remoteAccess`: "You can't specify source security groups that
  are allowed remote access when using a launch template … specify a key pair in the launch
  template and ensure that the proper port is open … in the security groups that you
  specify in the launch template" (amazon-eks-user-guide latest/ug/nodes/launch-templates.adoc,
  create-managed-node-group.adoc). So the key pair goes into the launch template with a
  security group admitting tcp/22 only from the given source security groups (and CIDRs,
  never /0). Security groups named in a launch template *replace* EKS's: "If you specify
  custom security groups in the launch template … Amazon EKS doesn't add the cluster security
  group … the worker nodes can't join the cluster" (launch-templates.adoc, "Using custom
  security groups"); so the EKS-created cluster security group is listed alongside.
* Over time: the key and the security groups are launch template data, so adding or
  removing `ssh` is a new template version, which rolls the pool's nodes.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

import pulumi
import pulumi_aws as aws

from slipway.components.validation import Issue, cidr_list_issues, str_list_issues, type_issues

SECURITY_GROUP_ID = re.compile(r"sg-[0-9a-f]{8}([0-9a-f]{9})?")
# EC2 key pair names: up to 255 ASCII characters (EC2 CreateKeyPair); no control characters.
KEY_NAME = re.compile(r"[\x20-\x7e]{1,255}")
SSH_PORT = 22


@dataclass(frozen=True, kw_only=True)
class NodeSsh:
    """SSH to a pool's nodes, on request only (the default shell is SSM Session Manager)."""

    key_name: str
    """An existing EC2 key pair in the stack's region; its public key goes onto the nodes."""
    source_security_group_ids: Sequence[str]
    """Who may connect: members of these security groups (a bastion's, a VPN endpoint's).
    Required and non-empty: SSH is never opened without naming where it comes from."""
    source_cidrs: Sequence[str] = ()
    """Extra source ranges (IPv4 or IPv6). Never 0.0.0.0/0 or ::/0."""


def node_ssh_issues(ssh: Any) -> list[Issue]:
    """Everything wrong with a pool's `ssh` (fields relative to NodePoolArgs)."""
    if ssh is None:
        return []
    if not isinstance(ssh, NodeSsh):
        fix = "pass NodeSsh(key_name=..., source_security_group_ids=['sg-…']), or None for SSM only"
        return type_issues("ssh", ssh, NodeSsh, fix)
    issues: list[Issue] = []
    if not (isinstance(ssh.key_name, str) and KEY_NAME.fullmatch(ssh.key_name)):
        issues.append(Issue("ssh.key_name", ssh.key_name, "is not an EC2 key pair name",
                            "name an existing key pair of the stack's region"))  # fmt: skip
    sources = cast("Any", ssh.source_security_group_ids)
    found = str_list_issues("ssh.source_security_group_ids", sources, example="sg-0123456789abcdef0")
    if found:
        fix = "name the security groups SSH may come from (a bastion's), e.g. ['sg-0123456789abcdef0']"
        issues += [Issue(i.field, i.value, i.problem, fix) for i in found]
    else:
        for i, sg in enumerate(cast("Sequence[Any]", sources)):
            if not SECURITY_GROUP_ID.fullmatch(sg):
                issues.append(Issue(f"ssh.source_security_group_ids[{i}]", sg, "is not a security group id",
                                    "write one like 'sg-0123456789abcdef0'"))  # fmt: skip
    cidrs = cast("Any", ssh.source_cidrs)
    found = cidr_list_issues("ssh.source_cidrs", cidrs)
    issues += found
    if not found:
        for i, cidr in enumerate(cast("Sequence[str]", cidrs)):
            if ipaddress.ip_network(cidr).prefixlen == 0:
                fix = ("name the bastion's security group in source_security_group_ids (or a VPN range), "
                       "or use SSM: aws ssm start-session --target <instance-id>")  # fmt: skip
                issues.append(Issue(f"ssh.source_cidrs[{i}]", cidr, "opens SSH to the whole internet", fix))
    return issues


def _cidr_key(cidr: str) -> str:
    return re.sub(r"[^0-9a-f]+", "-", cidr.lower()).strip("-")


def create_ssh_security_group(
    parent: pulumi.Resource,
    name: str,
    pool: str,
    ssh: NodeSsh,
    *,
    cluster_name: str,
    vpc_id: pulumi.Input[str],
    tags: Mapping[str, str],
) -> aws.ec2.SecurityGroup:
    """A security group admitting tcp/22 from `ssh`'s sources only (no egress rule: the
    cluster security group the nodes also carry allows all egress, and replies to an
    admitted connection pass a security group anyway)."""
    child = pulumi.ResourceOptions(parent=parent)
    group = aws.ec2.SecurityGroup(
        f"{name}-ssh",
        description=f"SSH to {cluster_name} node pool {pool} from named sources only",
        vpc_id=vpc_id,
        tags={**tags, "Name": f"{cluster_name}-{pool}-ssh"},
        opts=child,
    )
    # Keyed by the source itself: adding a source never renames another's rule.
    for sg in sorted(ssh.source_security_group_ids):
        aws.vpc.SecurityGroupIngressRule(
            f"{name}-ssh-{sg}",
            security_group_id=group.id,
            description=f"SSH from {sg}",
            ip_protocol="tcp",
            from_port=SSH_PORT,
            to_port=SSH_PORT,
            referenced_security_group_id=sg,
            tags=dict(tags),
            opts=child,
        )
    for cidr in sorted(ssh.source_cidrs):
        v6 = ipaddress.ip_network(cidr).version == 6
        aws.vpc.SecurityGroupIngressRule(
            f"{name}-ssh-{_cidr_key(cidr)}",
            security_group_id=group.id,
            description=f"SSH from {cidr}",
            ip_protocol="tcp",
            from_port=SSH_PORT,
            to_port=SSH_PORT,
            cidr_ipv4=None if v6 else cidr,
            cidr_ipv6=cidr if v6 else None,
            tags=dict(tags),
            opts=child,
        )
    return group


__all__ = ["SSH_PORT", "NodeSsh", "create_ssh_security_group", "node_ssh_issues"]


# Nodes are reached through SSM Session Manager: sshd is stopped at first boot, so nothing
# listens on port 22 (the EKS AL2023/AL2 AMIs start it). A MIME multi-part shell script part,
# as EKS merges it with its own user data for managed node groups with a launch template
# (awsdocs/amazon-eks-user-guide latest/ug/nodes/launch-templates.adoc, "MIME multi-part") and as
# Karpenter merges an EC2NodeClass's AL2023 userData. Bottlerocket runs no sshd (its admin
# container is off by default) and takes TOML user data: nothing is added there.
NO_SSHD_USER_DATA = """MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="==SLIPWAY=="

--==SLIPWAY==
Content-Type: text/x-shellscript; charset="us-ascii"

#!/bin/bash
# slipway: nodes are reached through SSM Session Manager; nothing listens on port 22.
systemctl disable --now sshd.service sshd.socket 2>/dev/null || true

--==SLIPWAY==--
"""


def no_sshd_user_data(ami_type: str, ssh: NodeSsh | None) -> str | None:
    """The user data that stops sshd on a pool's nodes (None: Bottlerocket, or SSH was asked for)."""
    if ssh is not None or not ami_type.startswith("AL2"):
        return None
    return NO_SSHD_USER_DATA
