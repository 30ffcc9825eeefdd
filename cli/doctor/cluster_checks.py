"""Doctor checks of the cluster itself: status, health, version and support tier, node groups."""

from __future__ import annotations

import datetime as dt
from typing import Any

from botocore.exceptions import ClientError

from slipway.cli.aws_errors import error_code
from slipway.cli.doctor.identity_checks import check_identity
from slipway.cli.doctor.model import DoctorContext, Finding

# EKS node group health issue codes (eks:DescribeNodegroup health.issues[].code) → the fix.
NODEGROUP_FIXES = {
    "AccessDenied": "the node role or the EKS service-linked role lacks a permission: re-run `pulumi up` "
    "(it restores the node role's managed policies) and check SCPs",
    "AsgInstanceLaunchFailures": "the Auto Scaling group cannot launch instances: see its activity history "
    "(aws autoscaling describe-scaling-activities) — often capacity or a quota; add instance types to the pool",
    "ClusterUnreachable": "nodes cannot reach the API server: check the private subnets' NAT route and the "
    "cluster security group",
    "Ec2LaunchTemplateNotFound": "the launch template was deleted outside Pulumi: `pulumi refresh` then `pulumi up`",
    "Ec2LaunchTemplateVersionMismatch": "the launch template changed outside Pulumi: `pulumi refresh` then `pulumi up`",
    "Ec2SubnetInvalidConfiguration": "a node subnet does not assign IPs or lost its route: `pulumi up` restores "
    "the network",
    "Ec2SubnetNotFound": "a node subnet was deleted outside Pulumi: `pulumi refresh` then `pulumi up`",
    "IamInstanceProfileNotFound": "the node instance profile was deleted: `pulumi refresh` then `pulumi up`",
    "IamNodeRoleNotFound": "the node role was deleted: `pulumi refresh` then `pulumi up`",
    "InstanceLimitExceeded": "the account's EC2 vCPU quota is reached: request a higher 'Running On-Demand "
    "Standard instances' quota or lower the pool's maxSize",
    "InsufficientFreeAddresses": "the node subnets are out of IP addresses: use a larger network.cidr "
    "(private subnets get 1/8 of it) or enable cluster.prefixDelegation",
    "NodeCreationFailure": "instances launched but did not join: check the node role's access entry "
    "(EC2_LINUX), the AMI type and that nodes reach the API endpoint",
    "AutoScalingGroupNotFound": "the Auto Scaling group was deleted outside Pulumi: `pulumi refresh` then `pulumi up`",
}


# EKS cluster health issue codes (eks:DescribeCluster health.issues[].code) → the fix.
CLUSTER_FIXES = {
    "Ec2SubnetNotFound": "a cluster subnet was deleted outside Pulumi: `pulumi refresh` then `pulumi up`",
    "Ec2SecurityGroupNotFound": "the cluster security group was deleted: `pulumi refresh` then `pulumi up`",
    "Ec2InsufficientFreeAddresses": "the cluster subnets are out of IPs: use a larger network.cidr",
    "IamRoleNotFound": "the cluster role was deleted: `pulumi refresh` then `pulumi up`",
    "KmsKeyDisabled": "the secrets-encryption KMS key is disabled: enable it (aws kms enable-key) or the "
    "cluster stops working",
    "KmsKeyNotFound": "the secrets-encryption KMS key is gone: the cluster cannot be recovered — restore the key "
    "if it is pending deletion (aws kms cancel-key-deletion)",
    "KmsKeyMarkedForDeletion": "the secrets-encryption key is scheduled for deletion: aws kms cancel-key-deletion",
    "KmsGrantRevoked": "the cluster's grant on its KMS key was revoked: restore it or the cluster stops working",
    "StsDisabled": "STS is deactivated in this region: enable it in IAM account settings",
    "VpcNotFound": "the cluster VPC was deleted outside Pulumi: `pulumi refresh` then `pulumi up`",
}


def _minor(version: str | None) -> tuple[int, ...]:
    try:
        return tuple(int(p) for p in (version or "").split("."))
    except ValueError:
        return ()


def check_cluster(ctx: DoctorContext) -> list[Finding]:
    """Status, health, version, platform version and support tier (extended support is 6× the price)."""
    name = "cluster"
    cluster = ctx.cluster()
    if cluster is None:
        if ctx.cluster_unreadable:
            return [
                Finding(
                    name,
                    "warn",
                    ctx.cluster_name,
                    f"eks:DescribeCluster failed ({ctx.cluster_unreadable})",
                    "allow eks:DescribeCluster to the identity running doctor",
                )
            ]
        return [Finding(name, "skip", ctx.cluster_name, f"not created yet in {ctx.region} (preflight)")]
    status, version = cluster.get("status"), cluster.get("version")
    issues = (cluster.get("health") or {}).get("issues", [])
    out = []
    what = f"Kubernetes {version}, platform {cluster.get('platformVersion')}"
    if status == "ACTIVE":
        out.append(
            Finding(
                name,
                "pass" if not issues else "warn",
                ctx.cluster_name,
                f"ACTIVE, {what}",
                "" if not issues else "fix the health issues below",
            )
        )
    elif status in ("CREATING", "UPDATING"):
        out.append(
            Finding(
                name,
                "warn",
                ctx.cluster_name,
                f"{status}, {what}",
                f"wait for ACTIVE: aws eks wait cluster-active --name {ctx.cluster_name}",
            )
        )
    else:
        out.append(
            Finding(
                name,
                "fail",
                ctx.cluster_name,
                f"{status}, {what}",
                "see the cluster's health in the EKS console; `pulumi refresh` shows drift",
            )
        )
    for issue in issues:
        code = issue.get("code", "")
        out.append(
            Finding(
                name,
                "fail",
                code or "health",
                issue.get("message", ""),
                CLUSTER_FIXES.get(code, "see the cluster's health in the EKS console"),
            )
        )
    pinned = ctx.cfg.cluster.version
    if version != pinned:
        newer = _minor(version) > _minor(pinned)
        fix = (
            f'EKS cannot downgrade: set slipway:cluster.version to "{version}" (AWS upgraded it, or it was '
            "upgraded outside Pulumi)"
            if newer
            else "`pulumi up` upgrades it (one minor version at a time), or pin the running version"
        )
        out.append(Finding(name, "warn", "version", f"cluster runs {version}, the stack pins {pinned}", fix))
    out.append(_support(ctx, cluster, version))
    return out


def _support(ctx: DoctorContext, cluster: dict[str, Any], version: str | None) -> Finding:
    name = "cluster"
    policy = (cluster.get("upgradePolicy") or {}).get("supportType", "EXTENDED")
    docs = "https://docs.aws.amazon.com/eks/latest/userguide/kubernetes-versions.html"
    try:
        versions = ctx.client("eks").describe_cluster_versions(clusterVersions=[version], includeAll=True)
    except ClientError as exc:
        return Finding(
            name,
            "warn",
            "support",
            f"eks:DescribeClusterVersions failed ({error_code(exc)}); upgrade policy {policy}",
            f"see {docs} for the version's end of standard support",
        )
    info = next(iter(versions.get("clusterVersions", [])), {})
    state = (info.get("versionStatus") or info.get("status") or "").upper().replace("-", "_")
    end = info.get("endOfStandardSupportDate")
    if not state and hasattr(end, "date"):
        state = "EXTENDED_SUPPORT" if end.date() < dt.date.today() else "STANDARD_SUPPORT"
    end_text = f"; standard support ends {end:%Y-%m-%d}" if hasattr(end, "strftime") else ""
    if state in ("EXTENDED_SUPPORT", "EXTENDED"):
        return Finding(
            name,
            "warn",
            "support",
            f"Kubernetes {version} is in extended support: the control plane costs $0.60/h instead of $0.10/h",
            "upgrade: set slipway:cluster.version to the next minor and `pulumi up`",
        )
    if state == "UNSUPPORTED":
        return Finding(
            name,
            "fail",
            "support",
            f"Kubernetes {version} is out of support",
            "AWS will upgrade it automatically: upgrade deliberately first",
        )
    if state in ("STANDARD_SUPPORT", "STANDARD"):
        return Finding(
            name, "pass", "support", f"Kubernetes {version} in standard support{end_text}; upgrade policy {policy}"
        )
    return Finding(
        name,
        "warn",
        "support",
        f"EKS did not report the support tier of {version}",
        f"check {docs}: extended support costs 6× the control-plane price",
    )


FAILED_NODEGROUP = ("CREATE_FAILED", "DELETE_FAILED", "DEGRADED")


def check_nodegroups(ctx: DoctorContext) -> list[Finding]:
    """Each managed node group is ACTIVE with no health issues."""
    name = "node groups"
    if ctx.cluster() is None:
        return [
            Finding(
                name,
                "skip",
                ctx.cluster_name,
                "cluster not readable" if ctx.cluster_unreadable else "cluster not created yet",
            )
        ]
    eks = ctx.client("eks")
    groups = [
        g
        for page in eks.get_paginator("list_nodegroups").paginate(clusterName=ctx.cluster_name)
        for g in page.get("nodegroups", [])
    ]
    if not groups:
        return [
            Finding(
                name,
                "fail",
                ctx.cluster_name,
                "no managed node groups: every pod stays Pending",
                "`pulumi up` creates the pools in slipway:nodePools",
            )
        ]
    out = []
    for group in sorted(groups):
        ng = eks.describe_nodegroup(clusterName=ctx.cluster_name, nodegroupName=group)["nodegroup"]
        issues = (ng.get("health") or {}).get("issues", [])
        scaling = ng.get("scalingConfig", {})
        size = f"{scaling.get('desiredSize')} of {scaling.get('minSize')}–{scaling.get('maxSize')} × " + ", ".join(
            ng.get("instanceTypes") or []
        )
        status = ng.get("status")
        if not issues and status == "ACTIVE":
            out.append(Finding(name, "pass", group, f"ACTIVE, {size}"))
            continue
        if not issues and status in FAILED_NODEGROUP:
            out.append(
                Finding(
                    name,
                    "fail",
                    group,
                    f"{status}, {size}, no health issue reported",
                    "see the Auto Scaling group's activity: aws autoscaling describe-scaling-activities",
                )
            )
        elif not issues:
            out.append(
                Finding(
                    name,
                    "warn",
                    group,
                    f"{status}, {size}",
                    "wait for ACTIVE: aws eks wait "
                    f"nodegroup-active --cluster-name {ctx.cluster_name} --nodegroup-name {group}",
                )
            )
        for issue in issues:
            code = issue.get("code", "")
            fix = NODEGROUP_FIXES.get(code, "see the node group's health in the EKS console")
            ids = ", ".join(issue.get("resourceIds", [])[:3])
            out.append(
                Finding(name, "fail", group, f"{code}: {issue.get('message', '')}{f' ({ids})' if ids else ''}", fix)
            )
    return out


CLUSTER_CHECKS = [check_identity, check_cluster, check_nodegroups]
