"""The inputs of the access components (`Principal`, `ClusterAccessArgs`,
`AwsAuthBindingsArgs`, `WorkloadRoleArgs`) and the checks that refuse wrong ones
(field, value, problem and fix, all at once) before any resource is registered.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, cast

import pulumi
import pulumi_kubernetes as k8s

from slipway.components.common_args import (
    bool_issues,
    input_issues,
    label_issues,
    oidc_provider_issues,
    provider_issues,
    resources_issues,
    subdomain_issues,
)
from slipway.components.validation import (
    Issue,
    choice_issues,
    str_list_issues,
    str_map_issues,
    type_issues,
    under,
)

AccessLevel = Literal["cluster-admin", "admin", "edit", "view"]
AuthenticationMode = Literal["API", "API_AND_CONFIG_MAP", "CONFIG_MAP"]
ACCESS_LEVELS: tuple[str, ...] = ("cluster-admin", "admin", "edit", "view")
AUTHENTICATION_MODES: tuple[str, ...] = ("API", "API_AND_CONFIG_MAP", "CONFIG_MAP")


@dataclass(frozen=True, kw_only=True)
class Principal:
    """An IAM role or user and the access it gets."""

    arn: str
    access: AccessLevel
    namespaces: list[str] | None = None
    """Scope admin/edit/view to these namespaces; None = cluster-wide."""
    username: str | None = None
    creator: bool = False
    """The identity that creates the cluster: EKS maps it itself (cluster-admin)."""

    @property
    def kind(self) -> Literal["role", "user"]:
        return "role" if ":role/" in self.arn else "user"

    @property
    def short_name(self) -> str:
        return self.arn.rsplit("/", 1)[-1]

    @property
    def key(self) -> str:
        """Stable resource-name key derived from the whole ARN (account, kind, path, name).

        e.g. arn:aws:iam::123456789012:role/teams/dev → 123456789012-role-teams-dev
        """
        account, resource = self.arn.split(":")[4], self.arn.split(":", 5)[5]
        return f"{account}-{resource}".replace("/", "-").lower()

    @property
    def aws_auth_arn(self) -> str:
        """The ARN as aws-auth must have it: a role's *path* removed.

        aws-auth matches the role ARN without its path, so a mapped `role/teams/dev`
        never matches (Amazon EKS User Guide, "aws-auth ConfigMap"). Access entries
        take the full ARN.
        """
        if self.kind != "role":
            return self.arn
        return f"{self.arn.split(':role/')[0]}:role/{self.short_name}"


@dataclass(frozen=True, kw_only=True)
class ClusterAccessArgs:
    """Inputs of ClusterAccess."""

    cluster_name: pulumi.Input[str]
    authentication_mode: AuthenticationMode
    principals: list[Principal] = field(default_factory=list[Principal])
    tags: dict[str, str] = field(default_factory=dict[str, str])


@dataclass(frozen=True, kw_only=True)
class AwsAuthBindingsArgs:
    """Inputs of AwsAuthBindings."""

    principals: list[Principal]
    k8s_provider: k8s.Provider
    namespaces: Sequence[pulumi.Resource] = field(default_factory=list[pulumi.Resource])
    """Namespace resources the RoleBindings go into (created first)."""


@dataclass(frozen=True, kw_only=True)
class WorkloadRoleArgs:
    """Inputs of a WorkloadRole: one IAM role for one Kubernetes ServiceAccount."""

    namespace: str
    service_account: str
    oidc_provider_arn: pulumi.Input[str]
    oidc_issuer: pulumi.Input[str]
    """The cluster's OIDC issuer without https:// (pulumi-eks `oidc_issuer`)."""
    k8s_provider: k8s.Provider
    policy_statements: pulumi.Input[list[dict[str, Any]]] | None = None
    """Inline identity policy statements (least privilege, no `*` actions); may be an
    Output when they name resources created alongside (a bucket's ARN)."""
    managed_policies: Mapping[str, pulumi.Input[str]] = field(default_factory=dict[str, pulumi.Input[str]])
    """Managed policies to attach, keyed by a stable short name (the key names the attachment)."""
    create_service_account: bool = True
    """Create the annotated ServiceAccount; False when a chart creates it from our annotation."""
    service_account_after: Sequence[pulumi.Resource] = field(default_factory=list[pulumi.Resource])
    """What the ServiceAccount must wait for (its namespace)."""
    labels: dict[str, str] = field(default_factory=dict[str, str])
    tags: dict[str, str] = field(default_factory=dict[str, str])
    """AWS tags on the role (the stack's ownership and cost tags)."""


# ------------------------------------------------------------------ checks

IAM_PRINCIPAL_ARN = re.compile(
    r"arn:(?P<partition>aws|aws-cn|aws-us-gov):(?P<service>iam|sts)::(?P<account>\d{12}):"
    r"(?P<kind>role|user|assumed-role)/(?P<path>[\w+=,.@/-]+)"
)
MANAGED_POLICY_ARN = re.compile(r"arn:aws(-cn|-us-gov)?:iam::(\d{12}|aws):policy/[\w+=,.@/-]+")
# EKS rejects access entry / aws-auth usernames with these prefixes.
RESERVED_USERNAME_PREFIXES = ("system:", "eks:", "aws:", "amazon:", "iam:")
# The keys of an identity-policy statement (a Principal belongs in resource policies only).
STATEMENT_KEYS = ("Sid", "Effect", "Action", "NotAction", "Resource", "NotResource", "Condition")
POLICY_KEY = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")  # names a child: `<name>-<key>`


def principal_issues(p: Any) -> list[Issue]:
    """Everything wrong with one Principal (fields relative to it)."""
    if not isinstance(p, Principal):
        return type_issues("", p, Principal, "pass Principal(arn=..., access=...)")
    issues = _arn_issues(p.arn)
    issues += choice_issues("access", p.access, ACCESS_LEVELS, "an access level")
    if p.namespaces is not None:
        found = str_list_issues("namespaces", p.namespaces, example="payments", allow_empty=True)
        if not found and not p.namespaces:
            found = [Issue("namespaces", [], "is empty", "list namespaces, or pass None for cluster-wide access")]
        issues += found or [i for n, ns in enumerate(p.namespaces) for i in label_issues(f"namespaces[{n}]", ns)]
        if p.access == "cluster-admin" and p.namespaces and not found:
            fix = "use access='admin' for namespace-scoped administrators, or drop namespaces"
            issues.append(Issue("namespaces", p.namespaces, "cannot scope cluster-admin to namespaces", fix))
    if p.username is not None and not (isinstance(p.username, str) and p.username.strip()):
        issues.append(Issue("username", p.username, "is not a username", "write a name, or pass None for the default"))
    elif isinstance(p.username, str) and p.username.lower().startswith(RESERVED_USERNAME_PREFIXES):
        fix = f"choose a name not starting with {', '.join(RESERVED_USERNAME_PREFIXES)}"
        issues.append(Issue("username", p.username, "starts with a prefix EKS reserves", fix))
    issues += bool_issues("creator", p.creator)
    if p.creator is True and (p.access != "cluster-admin" or p.namespaces):
        problem = "is set on a principal without cluster-wide cluster-admin (EKS gives the creator cluster-admin)"
        issues.append(Issue("creator", True, problem, "give the creator access='cluster-admin' and no namespaces"))
    return issues


def _arn_issues(arn: Any) -> list[Issue]:
    m = IAM_PRINCIPAL_ARN.fullmatch(arn) if isinstance(arn, str) else None
    if m is None:
        fix = "write arn:aws:iam::<12-digit account>:role/<name> or …:user/<name>"
        return [Issue("arn", arn, "is not an IAM role or user ARN", fix)]
    if m["kind"] == "assumed-role" or m["service"] == "sts":
        problem = "is an STS assumed-role session, which changes every login"
        fix = "map the role itself, arn:aws:iam::<account>:role/<name> (get-caller-identity shows the session)"
        return [Issue("arn", arn, problem, fix)]
    return []


def principals_issues(principals: Any) -> list[Issue]:
    """A list of Principals: each valid, each IAM identity once, one creator at most."""
    if isinstance(principals, str | Mapping) or not isinstance(principals, Sequence):
        return [Issue("principals", principals, "is not a list of Principal", "pass [Principal(arn=..., access=...)]")]
    items = cast("Sequence[Any]", principals)
    issues: list[Issue] = []
    seen: dict[str, int] = {}
    creators: list[int] = []
    for i, p in enumerate(items):
        found = principal_issues(p)
        issues += under(f"principals[{i}]", found)
        if found or not isinstance(p, Principal):
            continue
        # IAM names are case-insensitive and aws-auth ignores role paths: compare on that.
        key = f"{p.arn.split(':')[4]}:{p.kind}:{p.short_name}".lower()
        if key in seen:
            problem = f"is the same IAM identity as principals[{seen[key]}] (names are case-insensitive, paths ignored)"
            issues.append(Issue(f"principals[{i}].arn", p.arn, problem, "list each principal once"))
        seen.setdefault(key, i)
        if p.creator:
            creators.append(i)
    for i in creators[1:]:
        fix = "mark only the identity that runs the first `pulumi up`"
        issues.append(Issue(f"principals[{i}].creator", True, f"is set twice (also principals[{creators[0]}])", fix))
    return issues


def cluster_access_issues(a: ClusterAccessArgs) -> list[Issue]:
    """Everything wrong with a ClusterAccess's inputs."""
    issues = input_issues("cluster_name", a.cluster_name, "is not a cluster name", "pass the EKS cluster's name")
    modes = AUTHENTICATION_MODES
    issues += choice_issues("authentication_mode", a.authentication_mode, modes, "an EKS authentication mode")
    issues += principals_issues(a.principals)
    issues += str_map_issues("tags", a.tags, example="{'team': 'platform'}")
    return issues


def aws_auth_bindings_issues(a: AwsAuthBindingsArgs) -> list[Issue]:
    """Everything wrong with an AwsAuthBindings's inputs."""
    issues = principals_issues(a.principals)
    issues += provider_issues("k8s_provider", a.k8s_provider)
    issues += resources_issues("namespaces", a.namespaces)
    return issues


def workload_role_issues(a: WorkloadRoleArgs) -> list[Issue]:
    """Everything wrong with a WorkloadRole's inputs."""
    issues = label_issues("namespace", a.namespace)
    issues += subdomain_issues("service_account", a.service_account, "a ServiceAccount name")
    issues += oidc_provider_issues("oidc_provider_arn", a.oidc_provider_arn)
    fix = "pass the cluster's, e.g. 'oidc.eks.us-east-1.amazonaws.com/id/<id>'"
    issues += input_issues("oidc_issuer", a.oidc_issuer, "is not an OIDC issuer", fix)
    issues += provider_issues("k8s_provider", a.k8s_provider)
    issues += statements_issues("policy_statements", a.policy_statements)
    issues += managed_policies_issues("managed_policies", a.managed_policies)
    issues += bool_issues("create_service_account", a.create_service_account)
    issues += resources_issues("service_account_after", a.service_account_after)
    issues += str_map_issues("labels", a.labels, example="{'app.kubernetes.io/name': 'api'}")
    issues += str_map_issues("tags", a.tags, example="{'team': 'platform'}")
    return issues


def statements_issues(field: str, statements: Any) -> list[Issue]:
    """Identity-policy statements: dicts with Effect, Action (or NotAction) and Resource
    (or NotResource). An Output (statements naming resources created alongside) is
    checked by IAM when it resolves."""
    if statements is None or isinstance(statements, pulumi.Output):
        return []
    fix = "pass a list of dicts with Effect, Action and Resource"
    if isinstance(statements, str | Mapping) or not isinstance(statements, Sequence):
        return [Issue(field, statements, "is not a list of IAM statements", fix)]
    issues: list[Issue] = []
    for i, item in enumerate(cast("Sequence[Any]", statements)):
        where = f"{field}[{i}]"
        if not isinstance(item, Mapping):
            issues.append(Issue(where, item, "is not an IAM statement", "write a dict with Effect, Action, Resource"))
            continue
        s = cast("Mapping[Any, Any]", item)
        for key in s:
            issues += choice_issues(f"{where}.{key}", key, STATEMENT_KEYS, "an identity-policy statement key")
        issues += choice_issues(f"{where}.Effect", s.get("Effect"), ("Allow", "Deny"), "an IAM effect")
        for one, other in (("Action", "NotAction"), ("Resource", "NotResource")):
            present = [k for k in (one, other) if k in s]
            if not present:
                fix = f"add {one}, e.g. {'s3:GetObject' if one == 'Action' else 'arn:aws:s3:::bucket/*'!r}"
                issues.append(Issue(f"{where}.{one}", None, "is missing", fix))
            for k in present:
                issues += _string_or_list_issues(f"{where}.{k}", s[k], "s3:GetObject" if one == "Action" else "*")
    return issues


def _string_or_list_issues(field: str, value: Any, example: str) -> list[Issue]:
    """An Action or Resource: a string, or a non-empty list of strings (an ARN may be an Output)."""
    if isinstance(value, pulumi.Output) or (isinstance(value, str) and value):
        return []
    if isinstance(value, Sequence) and not isinstance(value, str):
        items = cast("Sequence[Any]", value)
        if items and all(isinstance(v, pulumi.Output) or (isinstance(v, str) and v) for v in items):
            return []
    return [Issue(field, value, "is not a string or a non-empty list of strings", f"write e.g. [{example!r}]")]


def managed_policies_issues(field: str, policies: Any) -> list[Issue]:
    """Managed policy ARNs keyed by a short kebab-case name (the key names the attachment)."""
    if not isinstance(policies, Mapping):
        example = "{'readonly': 'arn:aws:iam::aws:policy/ReadOnlyAccess'}"
        return [Issue(field, policies, "is not a mapping of name → policy ARN", f"pass a dict, e.g. {example}")]
    issues: list[Issue] = []
    for key, arn in cast("Mapping[Any, Any]", policies).items():
        if not (isinstance(key, str) and POLICY_KEY.fullmatch(key)):
            fix = "use lowercase letters, digits and '-': it names the attachment"
            issues.append(Issue(f"{field}.{key}", key, "is not a policy key", fix))
        if not (isinstance(arn, pulumi.Output) or (isinstance(arn, str) and MANAGED_POLICY_ARN.fullmatch(arn))):
            fix = "write arn:aws:iam::aws:policy/<name> or arn:aws:iam::<account>:policy/<name>"
            issues.append(Issue(f"{field}.{key}", arn, "is not an IAM managed policy ARN", fix))
    return issues


__all__ = [
    "ACCESS_LEVELS",
    "AUTHENTICATION_MODES",
    "IAM_PRINCIPAL_ARN",
    "MANAGED_POLICY_ARN",
    "RESERVED_USERNAME_PREFIXES",
    "STATEMENT_KEYS",
    "AccessLevel",
    "AuthenticationMode",
    "AwsAuthBindingsArgs",
    "ClusterAccessArgs",
    "Principal",
    "WorkloadRoleArgs",
    "aws_auth_bindings_issues",
    "cluster_access_issues",
    "managed_policies_issues",
    "principal_issues",
    "principals_issues",
    "statements_issues",
    "workload_role_issues",
]
