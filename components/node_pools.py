"""Node pools: one EKS managed node group per pool, with slipway's own launch template.

What EKS and the engine do with them over time (see components/cluster.py for the
cluster side, tests/test_graph.py and tests/test_pins.py for the checks):

- a new launch template version (metadata options, volume, instance tags) or a new
  `version`/`releaseVersion` is a rolling update: EKS launches new nodes, then drains the
  old ones respecting PodDisruptionBudgets (one node at a time by default; EKS user
  guide, "managed-node-update-behavior");
- `instanceTypes`, `capacityType`, `amiType`, `subnetIds` are ForceNew
  (terraform-provider-aws `internal/service/eks/node_group.go`): the group is replaced.
  Its name is generated (no `nodeGroupName`), so Pulumi replaces it create-before-delete:
  the new group is ACTIVE before the old one is deleted, and EKS drains the old nodes
  (evictions honour PDBs for a few minutes, then the nodes terminate; EKS user guide,
  "delete-managed-node-group");
- instance tags live in the launch template, so only stable tags go there.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, cast

import pulumi
import pulumi_aws as aws
import pulumi_eks as eks

from slipway.components.node_access import NodeSsh, create_ssh_security_group, no_sshd_user_data, node_ssh_issues
from slipway.components.validation import (
    Issue,
    choice_issues,
    int_issues,
    pattern_issues,
    require_valid,
    str_list_issues,
    str_map_issues,
    type_issues,
)

# EKS managed node group taint effects use the API's enum names.
TAINT_EFFECTS = {"NoSchedule": "NO_SCHEDULE", "PreferNoSchedule": "PREFER_NO_SCHEDULE", "NoExecute": "NO_EXECUTE"}

# The node label naming a node's pool (`<POOL_LABEL>: <pool>`): pods select their pool by it.
POOL_LABEL = "slipway.dev/pool"


@dataclass(frozen=True, kw_only=True)
class NodePoolArgs:
    """One EKS managed node group. Sizes are inputs (the capacity planner computes them)."""

    instance_types: list[str]
    capacity_type: Literal["ON_DEMAND", "SPOT"] = "ON_DEMAND"
    min_size: int = 1
    desired_size: int = 2
    max_size: int = 3
    disk_size: int = 20
    """Root (AL2023) or data (Bottlerocket) EBS volume, GiB, gp3, encrypted."""
    ami_type: str = "AL2023_x86_64_STANDARD"
    """Pinned so a moving AMI lookup never replaces nodes (pulumi/pulumi-eks#862)."""
    release_version: str | None = None
    labels: dict[str, str] = field(default_factory=dict[str, str])
    taints: list[dict[str, str]] = field(default_factory=list[dict[str, str]])
    """[{key, value, effect}] with Kubernetes effect names (NoSchedule, …)."""
    metadata_hop_limit: int = 1
    """IMDSv2 hop limit: 1 keeps pods from reaching the node role's credentials."""
    version: str | None = None
    """Kubernetes minor of the nodes. None (the default) follows the cluster's version, so
    a control-plane upgrade rolls the nodes right after it; a pinned lag is checked by
    the stack config (never ahead of the control plane, at most what EKS allows behind)."""
    external_autoscaler: bool = False
    """An autoscaler owns desiredSize after creation: ignore drift there (pulumi/pulumi-eks#321).
    Without one, each `pulumi up` applies the planned size."""
    ssh: NodeSsh | None = None
    """SSH with a key pair, from named security groups only. None (the default): no key, no
    port 22; shell access through SSM Session Manager (components/node_access.py)."""


@dataclass(frozen=True, kw_only=True)
class NodePoolContext:
    """What every pool of one cluster shares."""

    cluster: eks.Cluster
    cluster_name: str
    cluster_version: str
    node_role: aws.iam.Role
    subnet_ids: Sequence[pulumi.Input[str]]
    tags: dict[str, str]
    instance_tags: dict[str, str]
    depends_on: Sequence[pulumi.Resource] = ()
    vpc_id: pulumi.Input[str] | None = None
    """The cluster's VPC: where a pool's SSH security group is created (pools with `ssh`)."""
    cluster_security_group_id: pulumi.Input[str] | None = None
    """The EKS-created cluster security group. EKS attaches it to nodes only when the launch
    template names no security group; a pool with `ssh` names its own, so it lists this too."""


INSTANCE_TYPE = re.compile(r"[a-z][a-z0-9-]*\.[a-z0-9]+")
KUBERNETES_MINOR = re.compile(r"1\.\d{1,3}")
AMI_TYPE = re.compile(r"[A-Za-z0-9_]+")  # AL2023_x86_64_STANDARD, BOTTLEROCKET_ARM_64, CUSTOM, …


def node_pool_issues(p: NodePoolArgs) -> list[Issue]:
    """Everything wrong with one pool's inputs (fields relative to NodePoolArgs)."""
    if not isinstance(p, NodePoolArgs):
        return type_issues("", p, NodePoolArgs, "pass NodePoolArgs(instance_types=[...], ...)")
    issues = str_list_issues("instance_types", p.instance_types, example="t3a.medium")
    if not issues:
        for i, t in enumerate(p.instance_types):
            issues += pattern_issues(
                f"instance_types[{i}]", t, INSTANCE_TYPE, "is not an EC2 instance type", "write it like t3a.medium"
            )
    issues += choice_issues("capacity_type", p.capacity_type, ("ON_DEMAND", "SPOT"), "a capacity type")
    sizes = [
        int_issues("min_size", p.min_size, minimum=0),
        int_issues("max_size", p.max_size, minimum=1),
        int_issues("desired_size", p.desired_size, minimum=0),
    ]
    issues += [i for found in sizes for i in found]
    if not any(sizes) and not p.min_size <= p.desired_size <= p.max_size:
        issues.append(
            Issue(
                "desired_size",
                p.desired_size,
                f"is outside min_size {p.min_size} .. max_size {p.max_size}",
                "keep min_size ≤ desired_size ≤ max_size",
            )
        )
    issues += int_issues("disk_size", p.disk_size, minimum=1, maximum=16384)  # GiB; gp3's limit
    issues += pattern_issues(
        "ami_type",
        p.ami_type,
        AMI_TYPE,
        "is not an EKS AMI type",
        "write it like AL2023_x86_64_STANDARD",
    )
    issues += str_map_issues("labels", p.labels, example="{'slipway.dev/role': 'argo'}")
    issues += taint_issues(p.taints)
    issues += int_issues("metadata_hop_limit", p.metadata_hop_limit, minimum=1, maximum=64)
    issues += node_ssh_issues(p.ssh)
    if p.version is not None:
        issues += pattern_issues(
            "version",
            p.version,
            KUBERNETES_MINOR,
            "is not a Kubernetes minor version",
            "write it like '1.34', or None to follow the cluster",
        )
    return issues


def taint_issues(taints: Any) -> list[Issue]:
    """A list of `{key, value?, effect}` taints, as node groups and Karpenter's NodePools take them."""
    if isinstance(taints, str | Mapping) or not isinstance(taints, Sequence):
        return [Issue("taints", taints, "is not a list of taints", "write [{'key': ..., 'effect': 'NoSchedule'}]")]
    issues: list[Issue] = []
    items = cast("Sequence[Any]", taints)
    for i, item in enumerate(items):
        if not isinstance(item, Mapping):
            issues.append(Issue(f"taints[{i}]", item, "is not a taint", "write {'key': ..., 'effect': 'NoSchedule'}"))
            continue
        t = cast("Mapping[str, Any]", item)
        if not (isinstance(t.get("key"), str) and t.get("key")):
            issues.append(Issue(f"taints[{i}].key", t.get("key"), "is not a taint key", "name the taint's key"))
        if t.get("value") is not None and not isinstance(t.get("value"), str):
            issues.append(Issue(f"taints[{i}].value", t.get("value"), "is not a string", "write it as a string"))
        issues += choice_issues(f"taints[{i}].effect", t.get("effect"), tuple(TAINT_EFFECTS), "a taint effect")
    return issues


def launch_template_metadata(hop_limit: int) -> dict[str, Any]:
    """IMDSv2 required (CKV_AWS_79) with the given hop limit (CKV_AWS_341 wants 1)."""
    return {
        "http_endpoint": "enabled",
        "http_tokens": "required",
        "http_put_response_hop_limit": hop_limit,
        "instance_metadata_tags": "disabled",
    }


def data_volume_device(ami_type: str) -> str:
    """The block device that holds images and pods for an AMI type.

    AL2023 keeps everything on the root volume (/dev/xvda); Bottlerocket has a small
    OS volume on /dev/xvda and puts containers on the data volume /dev/xvdb.
    """
    return "/dev/xvdb" if ami_type.startswith("BOTTLEROCKET") else "/dev/xvda"


def _base64(text: str | None) -> str | None:
    """A launch template's user data is base64-encoded."""
    import base64

    return base64.b64encode(text.encode()).decode() if text is not None else None


def create_node_pool(
    parent: pulumi.Resource, name: str, pool: str, p: NodePoolArgs, ctx: NodePoolContext
) -> eks.ManagedNodeGroup:
    """The launch template and managed node group of one pool, children of `parent`."""
    issues = node_pool_issues(p)
    if getattr(p, "ssh", None) is not None and (ctx.vpc_id is None or ctx.cluster_security_group_id is None):
        issues.append(Issue("ssh", p.ssh, "needs the cluster's VPC and security group",
                            "pass NodePoolContext(vpc_id=..., cluster_security_group_id=...)"))  # fmt: skip
    require_valid(f"node pool {pool!r}", issues)
    child = pulumi.ResourceOptions(parent=parent)
    ssh_groups: list[pulumi.Input[str]] | None = None
    if p.ssh is not None and ctx.vpc_id is not None and ctx.cluster_security_group_id is not None:
        group = create_ssh_security_group(
            parent, name, pool, p.ssh, cluster_name=ctx.cluster_name, vpc_id=ctx.vpc_id, tags=ctx.tags
        )
        # Named security groups replace EKS's cluster security group: list it again, first.
        ssh_groups = [ctx.cluster_security_group_id, group.id]
    # Our own launch template: IMDSv2 with hop limit 1 and an encrypted gp3 volume.
    # (With a launch template EKS rejects `diskSize` on the group.)
    lt = aws.ec2.LaunchTemplate(
        name,
        description=f"{ctx.cluster_name} node pool {pool}",
        metadata_options=aws.ec2.LaunchTemplateMetadataOptionsArgs(**launch_template_metadata(p.metadata_hop_limit)),
        block_device_mappings=[
            aws.ec2.LaunchTemplateBlockDeviceMappingArgs(
                device_name=data_volume_device(p.ami_type),
                ebs=aws.ec2.LaunchTemplateBlockDeviceMappingEbsArgs(
                    volume_size=p.disk_size, volume_type="gp3", encrypted="true", delete_on_termination="true"
                ),
            )
        ],
        # Instance tags are launch template data: a change is a new version, which rolls the
        # pool. Only the stable ones go here (never the stack's `tags`, which users edit freely).
        tag_specifications=[
            aws.ec2.LaunchTemplateTagSpecificationArgs(
                resource_type="instance", tags={**ctx.instance_tags, "Name": f"{ctx.cluster_name}-{pool}"}
            )
        ],
        # Only with `ssh`: otherwise no key pair, and EKS attaches its cluster security group.
        key_name=p.ssh.key_name if p.ssh is not None else None,
        vpc_security_group_ids=ssh_groups,
        # Without `ssh`, sshd is stopped at boot: nothing listens on port 22 (SSM instead).
        user_data=_base64(no_sshd_user_data(p.ami_type, p.ssh)),
        update_default_version=True,
        tags=ctx.tags,  # the template's own tags: updated in place, no new version
        opts=child,
    )
    return eks.ManagedNodeGroup(
        name,
        cluster=ctx.cluster,
        node_role=ctx.node_role,
        instance_types=p.instance_types,
        capacity_type=p.capacity_type,
        ami_type=p.ami_type,
        # Explicit: with a launch template pulumi-eks leaves it unset (nodegroup.ts: "If they
        # do, they're responsible for deciding the k8s version"), and the nodes would stay on
        # their first version until EKS refuses the next control-plane upgrade.
        version=p.version or ctx.cluster_version,
        release_version=p.release_version,
        scaling_config=aws.eks.NodeGroupScalingConfigArgs(
            min_size=p.min_size, desired_size=p.desired_size, max_size=p.max_size
        ),
        # Only when an autoscaler owns desiredSize (pulumi/pulumi-eks#321); otherwise a grown
        # plan must reach the group (and a raised minSize must not exceed a stale desiredSize,
        # which EKS rejects).
        ignore_scaling_changes=p.external_autoscaler,
        subnet_ids=list(ctx.subnet_ids),
        labels={**p.labels, POOL_LABEL: pool},
        taints=[
            aws.eks.NodeGroupTaintArgs(key=t["key"], value=t.get("value") or None, effect=TAINT_EFFECTS[t["effect"]])
            for t in p.taints
        ],
        launch_template=aws.eks.NodeGroupLaunchTemplateArgs(id=lt.id, version=lt.latest_version.apply(str)),
        tags=ctx.tags,
        # No nodeGroupName: a generated name lets a replacement run create-before-delete.
        opts=pulumi.ResourceOptions(parent=parent, depends_on=list(ctx.depends_on)),
    )
