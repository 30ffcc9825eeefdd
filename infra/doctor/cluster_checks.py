"""Doctor checks of the cluster itself: who can get in, its version and support, node groups.

"You must be logged in to the server (Unauthorized)" is almost always one thing:
kubectl authenticates as an IAM identity the cluster has not mapped — typically the
cluster was created by a role (CI, `pulumi up` under SSO) and kubectl runs as a user,
or the other way round. `check_identity` names the identity kubectl will present and
whether the cluster (its access entries) or, before deploy, the stack config maps it.
"""

from __future__ import annotations

import re
from typing import Any

from botocore.exceptions import ClientError

from infra.config.schema import _arn_key
from infra.doctor.model import DoctorContext, Finding

ASSUMED_ROLE = re.compile(r"^arn:(?P<part>aws[a-z-]*):sts::(?P<account>\d{12}):assumed-role/(?P<role>[^/]+)/.+$")

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


def _client_error(exc: ClientError) -> tuple[str, str]:
    err = exc.response.get("Error", {})
    return str(err.get("Code", "")), str(err.get("Message", exc))


def principal_of(caller_arn: str) -> str:
    """The IAM principal behind a caller ARN: an assumed-role session → its role."""
    m = ASSUMED_ROLE.match(caller_arn)
    if m:
        return f"arn:{m['part']}:iam::{m['account']}:role/{m['role']}"
    return caller_arn


def _kind(arn: str) -> str:
    return "role" if ":role/" in arn else "user" if ":user/" in arn else "principal"


def check_identity(ctx: DoctorContext) -> list[Finding]:
    """The identity kubectl will use is mapped into the cluster (the Unauthorized cause)."""
    name = "identity"
    try:
        caller_arn = ctx.client("sts").get_caller_identity()["Arn"]
    except ClientError as exc:
        code, msg = _client_error(exc)
        return [
            Finding(
                name,
                "fail",
                "caller",
                f"sts:GetCallerIdentity failed: {code} {msg}",
                "your credentials are invalid or expired: `aws sso login` or refresh them",
            )
        ]
    caller = principal_of(caller_arn)
    role = ctx.cfg.identity.role_arn
    kubectl_as = role or caller
    how = f"assumes {role} (slipway:identity.roleArn)" if role else "as the deploying identity"
    findings = [Finding(name, "pass", "caller", f"you are {caller_arn}; kubectl will act {how}")]

    configured = {_arn_key(p.arn): p for p in ctx.cfg.access.principals}
    creators = [p.arn for p in ctx.cfg.access.principals if p.creator]
    cluster = ctx.cluster()
    mapped_live: set[str] | None = None
    mode = "API"
    if cluster is not None:
        mode = (cluster.get("accessConfig") or {}).get("authenticationMode", "CONFIG_MAP")
        if mode != "CONFIG_MAP":
            try:
                pages = ctx.client("eks").get_paginator("list_access_entries").paginate(clusterName=ctx.cluster_name)
                mapped_live = {_arn_key(principal_of(a)) for page in pages for a in page.get("accessEntries", [])}
            except ClientError as exc:
                code, msg = _client_error(exc)
                findings.append(
                    Finding(
                        name,
                        "warn",
                        "access entries",
                        f"eks:ListAccessEntries failed: {code}",
                        "grant eks:ListAccessEntries to read who is mapped; comparing with the stack config instead",
                    )
                )

    key = _arn_key(kubectl_as)
    if cluster is None and creators and not role and _arn_key(caller) != _arn_key(creators[0]):
        findings.append(
            Finding(
                name,
                "warn",
                "creator",
                f"{creators[0]} is marked creator, but you are {caller}: "
                "whoever runs the first `pulumi up` becomes the creator, and the marked one gets "
                "no access entry",
                f"run the first `pulumi up` as {creators[0]}, or mark {caller} creator instead",
            )
        )
    if mapped_live is not None:
        if key in mapped_live:
            findings.append(Finding(name, "pass", kubectl_as, f"has an access entry on {ctx.cluster_name}"))
            return findings
        where = f"{ctx.cluster_name} has no access entry for it"
    elif key in configured or (cluster is None and not creators and not role):
        # Before deploy with no creator marked, whoever runs `pulumi up` becomes the creator.
        why = "is listed in slipway:access.principals" if key in configured else "will create the cluster"
        findings.append(Finding(name, "pass", kubectl_as, f"{why}, so it is mapped"))
        if cluster is not None:
            findings.append(
                Finding(
                    name,
                    "warn",
                    "aws-auth",
                    f"authentication mode {mode}: the aws-auth ConfigMap, which AWS APIs cannot read, is what counts",
                    "check `kubectl -n kube-system get configmap aws-auth -o yaml`, or move to "
                    "cluster.authenticationMode API_AND_CONFIG_MAP",
                )
            )
        return findings
    elif cluster is not None:
        findings.append(
            Finding(
                name,
                "warn",
                kubectl_as,
                "not in slipway:access.principals; mapped only if it "
                "created the cluster (EKS does not show that without access entries)",
                f"add {{arn: {kubectl_as}, access: cluster-admin}} to slipway:access.principals",
            )
        )
        return findings
    else:
        where = "slipway:access.principals does not list it"

    roles = [p.arn for p in ctx.cfg.access.principals if _kind(p.arn) == "role"]
    fix = f"add {{arn: {kubectl_as}, access: cluster-admin}} to slipway:access.principals and `pulumi up`"
    if roles:
        fix += f", or set slipway:identity.roleArn to a mapped role ({', '.join(roles)})"
    trap = ""
    if creators and _kind(creators[0]) != _kind(kubectl_as):
        trap = (
            f" The cluster was created by {_kind(creators[0])} {creators[0]} and kubectl runs as a "
            f"{_kind(kubectl_as)}: the creator's admin rights do not carry over."
        )
    findings.append(
        Finding(
            name,
            "fail",
            kubectl_as,
            f"kubectl will get 'You must be logged in to the server (Unauthorized)': {where}.{trap}",
            fix,
        )
    )
    return findings


def check_cluster(ctx: DoctorContext) -> list[Finding]:
    """Status, version, platform version and support tier (extended support is 6× the price)."""
    name = "cluster"
    cluster = ctx.cluster()
    if cluster is None:
        return [Finding(name, "skip", ctx.cluster_name, f"not created yet in {ctx.region} (preflight)")]
    status, version = cluster.get("status"), cluster.get("version")
    out = []
    if status == "ACTIVE":
        out.append(
            Finding(
                name,
                "pass",
                ctx.cluster_name,
                f"ACTIVE, Kubernetes {version}, platform {cluster.get('platformVersion')}",
            )
        )
    elif status in ("CREATING", "UPDATING"):
        out.append(
            Finding(
                name,
                "warn",
                ctx.cluster_name,
                f"{status} (Kubernetes {version})",
                "wait for ACTIVE: aws eks wait cluster-active --name " + ctx.cluster_name,
            )
        )
    else:
        health = "; ".join(i.get("message", "") for i in (cluster.get("health") or {}).get("issues", []))
        out.append(
            Finding(
                name,
                "fail",
                ctx.cluster_name,
                f"{status}{': ' + health if health else ''}",
                "see the EKS console's cluster health; `pulumi refresh` shows drift",
            )
        )
    if version != ctx.cfg.cluster.version:
        out.append(
            Finding(
                name,
                "warn",
                "version",
                f"cluster runs {version}, the stack pins {ctx.cfg.cluster.version}",
                "`pulumi up` upgrades it (one minor version at a time); or pin the running version",
            )
        )
    out.append(_support(ctx, cluster, version))
    return out


def _support(ctx: DoctorContext, cluster: dict[str, Any], version: str | None) -> Finding:
    name = "cluster"
    policy = (cluster.get("upgradePolicy") or {}).get("supportType", "EXTENDED")
    try:
        versions = ctx.client("eks").describe_cluster_versions(clusterVersions=[version]).get("clusterVersions", [])
    except ClientError as exc:
        code, _ = _client_error(exc)
        return Finding(
            name,
            "warn",
            "support",
            f"eks:DescribeClusterVersions failed ({code}); upgrade policy {policy}",
            "see https://docs.aws.amazon.com/eks/latest/userguide/kubernetes-versions.html "
            "for the version's end of standard support",
        )
    info = versions[0] if versions else {}
    state = info.get("versionStatus") or info.get("status", "")
    end = info.get("endOfStandardSupportDate")
    end_text = f"; standard support ends {end:%Y-%m-%d}" if hasattr(end, "strftime") else ""
    if state.upper() in ("EXTENDED_SUPPORT", "EXTENDED"):
        return Finding(
            name,
            "warn",
            "support",
            f"Kubernetes {version} is in extended support: the control plane costs $0.60/h instead of $0.10/h",
            "upgrade: set slipway:cluster.version to the next minor and `pulumi up`",
        )
    if state.upper() == "UNSUPPORTED":
        return Finding(
            name,
            "fail",
            "support",
            f"Kubernetes {version} is out of support",
            "AWS will upgrade it automatically: upgrade deliberately first",
        )
    if not state:
        return Finding(name, "skip", "support", f"EKS did not report the support tier of {version}")
    return Finding(
        name, "pass", "support", f"Kubernetes {version} in standard support{end_text}; upgrade policy {policy}"
    )


def check_nodegroups(ctx: DoctorContext) -> list[Finding]:
    """Each managed node group is ACTIVE with no health issues."""
    name = "node groups"
    if ctx.cluster() is None:
        return [Finding(name, "skip", ctx.cluster_name, "cluster not created yet")]
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
        if not issues and ng.get("status") == "ACTIVE":
            out.append(Finding(name, "pass", group, f"ACTIVE, {size}"))
            continue
        if not issues:
            out.append(
                Finding(
                    name, "warn", group, f"{ng.get('status')}, {size}", "wait for ACTIVE: aws eks wait nodegroup-active"
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
