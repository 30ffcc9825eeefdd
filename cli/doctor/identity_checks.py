"""Doctor check: the identity kubectl will present is mapped into the cluster.

"You must be logged in to the server (Unauthorized)" is almost always one thing:
kubectl authenticates as an IAM identity the cluster has not mapped — typically the
cluster was created by a role (CI, `pulumi up` under SSO) and kubectl runs as a user,
or the other way round. `check_identity` names the identity kubectl will present and
whether the cluster (its access entries) or, before deploy, the stack config maps it.
"""

from __future__ import annotations

import re

from botocore.exceptions import ClientError

from slipway.cli.aws_errors import error_code, error_message
from slipway.cli.doctor.model import DoctorContext, Finding
from slipway.program.config.schema import _arn_key

ASSUMED_ROLE = re.compile(r"^arn:(?P<part>aws[a-z-]*):sts::(?P<account>\d{12}):assumed-role/(?P<role>[^/]+)/.+$")


def principal_of(caller_arn: str) -> str:
    """The IAM principal behind a caller ARN: an assumed-role session → its role."""
    m = ASSUMED_ROLE.match(caller_arn)
    if m:
        return f"arn:{m['part']}:iam::{m['account']}:role/{m['role']}"
    return caller_arn


def _kind(arn: str) -> str:
    return "role" if ":role/" in arn else "user" if ":user/" in arn else "principal"


def _assume_check(ctx: DoctorContext, role: str) -> Finding | None:
    """kubectl runs `aws eks get-token --role-arn <role>`: the caller must be allowed to assume it."""
    try:
        ctx.client("sts").assume_role(RoleArn=role, RoleSessionName="slipway-doctor", DurationSeconds=900)
    except ClientError as exc:
        code = error_code(exc)
        if "AccessDenied" not in code:
            raise
        return Finding(
            "identity",
            "fail",
            role,
            f"you may not assume it ({code}): kubectl will fail with "
            f"'AccessDenied … sts:AssumeRole' before reaching the cluster",
            f"add your principal to the trust policy of {role}, or change slipway:identity.roleArn",
        )
    return None


def _live_entries(ctx: DoctorContext) -> tuple[dict[str, str] | None, Finding | None]:
    """The cluster's access entries keyed like the config (`_arn_key`) → their ARN."""
    try:
        pages = ctx.client("eks").get_paginator("list_access_entries").paginate(clusterName=ctx.cluster_name)
        return {_arn_key(principal_of(a)): a for page in pages for a in page.get("accessEntries", [])}, None
    except ClientError as exc:
        return None, Finding(
            "identity",
            "warn",
            "access entries",
            f"eks:ListAccessEntries failed: {error_code(exc)}",
            "allow eks:ListAccessEntries to read who is mapped; compared with the stack config instead",
        )


def _entry_grants_nothing(ctx: DoctorContext, arn: str) -> bool:
    """An entry with no access policy and no Kubernetes group authenticates, then gets Forbidden."""
    eks = ctx.client("eks")
    try:
        policies = eks.list_associated_access_policies(clusterName=ctx.cluster_name, principalArn=arn)
        if policies.get("associatedAccessPolicies"):
            return False
        entry = eks.describe_access_entry(clusterName=ctx.cluster_name, principalArn=arn)["accessEntry"]
        return not entry.get("kubernetesGroups")
    except ClientError:
        return False  # cannot tell; the entry exists


def _unauthorized(ctx: DoctorContext, kubectl_as: str, where: str, creators: list[str], mapped: list[str]) -> Finding:
    roles = [p.arn for p in ctx.cfg.access.principals if _kind(p.arn) == "role"]
    fix = f"add {{arn: {kubectl_as}, access: cluster-admin}} to slipway:access.principals and `pulumi up`"
    if roles:
        fix += f", or set slipway:identity.roleArn to a mapped role ({', '.join(roles[:3])})"
    detail = f"kubectl will get 'You must be logged in to the server (Unauthorized)': {where}."
    creator_kinds = {_kind(a) for a in (creators or mapped)}
    if creators and _kind(creators[0]) != _kind(kubectl_as):
        detail += (
            f" The cluster is created by {_kind(creators[0])} {creators[0]} and kubectl runs as a "
            f"{_kind(kubectl_as)}: the creator's admin rights do not carry over."
        )
    elif mapped and _kind(kubectl_as) not in creator_kinds:
        detail += (
            f" Only {'roles' if creator_kinds == {'role'} else 'users'} are mapped, and you are a {_kind(kubectl_as)}."
        )
    if mapped:
        detail += f" Mapped: {', '.join(mapped[:5])}{' …' if len(mapped) > 5 else ''}."
    return Finding("identity", "fail", kubectl_as, detail, fix)


def check_identity(ctx: DoctorContext) -> list[Finding]:
    """The identity kubectl will use is mapped into the cluster (the Unauthorized cause)."""
    name = "identity"
    try:
        caller_arn = ctx.client("sts").get_caller_identity()["Arn"]
    except ClientError as exc:
        return [
            Finding(
                name,
                "fail",
                "caller",
                f"sts:GetCallerIdentity failed: {error_code(exc)} {error_message(exc, str(exc))}",
                "your credentials are invalid or expired: `aws sso login` or refresh them",
            )
        ]
    caller = principal_of(caller_arn)
    role = ctx.cfg.identity.role_arn
    kubectl_as = role or caller
    how = f"assumes {role} (slipway:identity.roleArn)" if role else "as you"
    note = ""
    if ctx.profile and ctx.cfg.identity.profile and ctx.profile != ctx.cfg.identity.profile:
        note = f" (doctor runs with profile {ctx.profile}; the kubeconfig uses {ctx.cfg.identity.profile})"
    findings = [Finding(name, "pass", "caller", f"you are {caller_arn}; kubectl will act {how}{note}")]
    if role and _arn_key(caller) != _arn_key(role):
        problem = _assume_check(ctx, role)
        if problem:
            return [*findings, problem]

    key = _arn_key(kubectl_as)
    configured = {_arn_key(p.arn) for p in ctx.cfg.access.principals}
    creators = [p.arn for p in ctx.cfg.access.principals if p.creator]
    cluster = ctx.cluster()
    if ctx.cluster_unreadable:
        findings.append(
            Finding(
                name,
                "warn",
                "cluster",
                f"eks:DescribeCluster failed ({ctx.cluster_unreadable})",
                "allow eks:DescribeCluster; compared with the stack config instead",
            )
        )

    if cluster is None:  # preflight: judge by the config and by who will create the cluster
        if creators and _arn_key(caller) != _arn_key(creators[0]):
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
        if key in configured:
            findings.append(
                Finding(name, "pass", kubectl_as, "is listed in slipway:access.principals, so it is mapped")
            )
        elif not creators and key == _arn_key(caller):
            findings.append(Finding(name, "pass", kubectl_as, "will create the cluster, so EKS makes it admin"))
        else:
            findings.append(_unauthorized(ctx, kubectl_as, "slipway:access.principals does not list it", creators, []))
        return findings

    mode = (cluster.get("accessConfig") or {}).get("authenticationMode", "CONFIG_MAP")
    live, problem = _live_entries(ctx) if mode != "CONFIG_MAP" else (None, None)
    findings += [problem] if problem else []
    if live is not None and key in live:
        if _entry_grants_nothing(ctx, live[key]):
            findings.append(
                Finding(
                    name,
                    "warn",
                    kubectl_as,
                    "has an access entry but no access policy and no "
                    "Kubernetes group: it authenticates, then every request is Forbidden",
                    "give it an access level in slipway:access.principals and `pulumi up`",
                )
            )
        else:
            findings.append(Finding(name, "pass", kubectl_as, f"has an access entry on {ctx.cluster_name}"))
        return findings
    aws_auth_may_map = mode != "API"
    if key in configured and (live is None or aws_auth_may_map):
        why = "is listed in slipway:access.principals"
        findings.append(
            Finding(
                name,
                "warn",
                kubectl_as,
                f"{why}; with authentication mode {mode} the aws-auth ConfigMap, which AWS APIs cannot read, decides",
                "check `kubectl -n kube-system get configmap aws-auth -o yaml` (or, as an admin, "
                "`pulumi up` to restore it)",
            )
        )
        return findings
    if live is None:
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
    findings.append(
        _unauthorized(
            ctx, kubectl_as, f"{ctx.cluster_name} has no access entry for it", creators, sorted(live.values())
        )
    )
    return findings
