"""argo-server SSO: the chart's `server.sso` values and `ArgoSsoRbac`, the objects that
map a user's OIDC groups to Kubernetes permissions.

How argo-server (v4.0.6) decides what a signed-in user may do, and what slipway
builds for it (sources: argoproj/argo-workflows@v4.0.6 `docs/argo-server-sso.md`,
`server/auth/gatekeeper.go`, `util/secrets/secret_name.go`,
`docs/service-account-secrets.md`; argoproj/argo-helm@argo-workflows-1.0.18
`charts/argo-workflows/templates/server/server-cluster-roles.yaml`):

* With `server.sso.rbac.enabled` (chart default true; written into the controller
  ConfigMap as `sso.rbac.enabled`) argo-server lists the ServiceAccounts *in its own
  namespace* that carry the `workflows.argoproj.io/rbac-rule` annotation, sorts them
  by `workflows.argoproj.io/rbac-rule-precedence` (an integer, higher first, missing
  or unparsable = 0, ties in arbitrary order) and acts as the first one whose rule
  (an expr-lang expression over the user's claims) is true. If none is true, the
  login is denied. That was slipway's bug: RBAC on, no annotated ServiceAccount.
* A rule that fails to evaluate aborts the whole search (argo-workflows#13061,
  #15110): `'admins' in groups` errors with "unknown name groups" for a user whose
  token has no groups claim (`groups` is `omitempty` in the claims), so even the
  default account is never reached. slipway's rules read `$env?.groups` instead,
  which is nil, not an error, when the claim is absent (checked against
  expr-lang/expr v1.17.7, the version v4.0.6 pins).
* argo-server then calls Kubernetes with that ServiceAccount's token, read from the
  Secret `<serviceaccount>.service-account-token` in the same namespace. Since
  Kubernetes 1.24 nobody creates that Secret: slipway does, as type
  `kubernetes.io/service-account-token` annotated `kubernetes.io/service-account.name`,
  and the token controller fills in the token.
* The chart gives argo-server `get` on every Secret in the cluster unless
  `server.sso.rbac.secretWhitelist` lists names; slipway lists exactly the token
  Secrets and the OIDC client Secret, the only Secrets argo-server reads itself.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, cast

import pulumi
import pulumi_kubernetes as k8s

from slipway.components.common_args import label_issues, provider_issues, resources_issues
from slipway.components.validation import (
    HIDDEN,
    Issue,
    Verbatim,
    choice_issues,
    require_valid,
    str_list_issues,
    type_issues,
)

Access = Literal["view", "edit", "admin"]

SSO_SECRET = "argo-server-sso"  # the OIDC client id and secret, read by argo-server
RULE_ANNOTATION = "workflows.argoproj.io/rbac-rule"
PRECEDENCE_ANNOTATION = "workflows.argoproj.io/rbac-rule-precedence"
TOKEN_SA_ANNOTATION = "kubernetes.io/service-account.name"
# Higher wins. The everyone-rule is lowest; steps of 10 leave room for hand-made rules
# (e.g. SSO namespace delegation, which needs a precedence above the login account's).
DEFAULT_PRECEDENCE = 0
PRECEDENCE: dict[str, int] = {"view": 10, "edit": 20, "admin": 30}
SA_PREFIX = "argo-sso-"
MANAGED = {"app.kubernetes.io/managed-by": "slipway", "app.kubernetes.io/part-of": "argo-workflows"}


@dataclass(frozen=True, kw_only=True)
class SsoRoleBinding:
    """One SSO RBAC rule: members of `group` (or, with group None, everyone who signs in)
    act in Argo with the permissions of `access`."""

    group: str | None
    """An OIDC group exactly as the provider sends it in the `groups` claim; None: everyone."""
    access: Access
    """view: read everything; edit: also run, retry, stop and delete workflows; admin: also
    change WorkflowTemplates, CronWorkflows and the other Argo resources."""


@dataclass(frozen=True, kw_only=True)
class ArgoSso:
    """argo-server login through an OIDC provider (auth mode `sso`)."""

    issuer: str
    """The provider's issuer URL."""
    redirect_url: str
    """`https://<argo host>/oauth2/callback`, registered with the provider."""
    client_id: pulumi.Input[str]
    client_secret: pulumi.Input[str]
    """Secret Outputs; stored in the Secret argo-server-sso that the chart points argo-server at."""
    roles: tuple[SsoRoleBinding, ...]
    """Who may do what; at least one, else argo-server denies every login."""
    scopes: tuple[str, ...] = ("groups",)
    """OIDC scopes; `groups` is how most providers put group membership into the token."""


def check_roles(roles: tuple[SsoRoleBinding, ...] | list[SsoRoleBinding]) -> None:
    """Raise ValueError on the first mistake in a mapping argo-server could not use.

    The older, one-at-a-time form of `sso_role_issues`, kept for its callers; the
    components report every mistake with field paths through `sso_role_issues`."""
    if not roles:
        raise ValueError("SSO RBAC needs at least one role binding: without a matching rule argo-server denies login")
    keys = [binding_key(r) for r in roles]
    for r, k in zip(roles, keys, strict=True):
        if r.group is not None and not r.group.strip():
            raise ValueError("an SSO group name is empty")
        if r.access not in PRECEDENCE:
            raise ValueError(f"SSO access {r.access!r} is not one of {', '.join(PRECEDENCE)}")
        if keys.count(k) > 1:
            raise ValueError(f"SSO group {r.group or '(everyone)'!r} is bound twice")


def sso_role_issues(field: str, roles: Any) -> list[Issue]:
    """Every mistake in a group → access mapping at `field`: argo-server could not use it,
    or two bindings would share a ServiceAccount."""
    fix = "pass a tuple of SsoRoleBinding(group=..., access=...)"
    if isinstance(roles, str | Mapping) or not isinstance(roles, Sequence):
        return [Issue(field, roles, "is not a list of role bindings", fix)]
    items = cast("Sequence[Any]", roles)
    if not items:
        fix = "give at least one role binding, e.g. (SsoRoleBinding(group=None, access='view'),)"
        return [Issue(field, items, "is empty, so argo-server denies every login", fix)]
    issues: list[Issue] = []
    seen: dict[str, int] = {}
    for i, r in enumerate(items):
        if not isinstance(r, SsoRoleBinding):
            issues += type_issues(f"{field}[{i}]", r, SsoRoleBinding, "pass SsoRoleBinding(group=..., access=...)")
            continue
        issues += choice_issues(f"{field}[{i}].access", r.access, tuple(PRECEDENCE), "an Argo access level")
        if r.group is not None and not (isinstance(r.group, str) and r.group.strip()):
            fix = "write the group exactly as your provider sends it in the groups claim, or None for everyone"
            issues.append(Issue(f"{field}[{i}].group", r.group, "is not a group name", fix))
            continue
        if r.group is not None and r.group != r.group.strip():
            issues.append(
                Issue(f"{field}[{i}].group", r.group, "has spaces around it, so it never matches", "remove them")
            )
        if (first := seen.setdefault(binding_key(r), i)) != i:
            who = Verbatim("None (everyone)") if r.group is None else r.group
            fix = "bind each group once, with the highest access it needs"
            issues.append(Issue(f"{field}[{i}].group", who, f"is bound twice (also {field}[{first}])", fix))
    return issues


def argo_sso_issues(sso: Any) -> list[Issue]:
    """Every mistake in an ArgoSso (fields relative to it; the client id and secret never shown)."""
    if not isinstance(sso, ArgoSso):
        fix = "pass ArgoSso(issuer=..., redirect_url=..., client_id=..., client_secret=..., roles=(...))"
        return [Issue("", HIDDEN, "is not an ArgoSso", fix)]
    issues: list[Issue] = []
    if not (isinstance(sso.issuer, str) and sso.issuer.startswith("https://")):
        issues.append(Issue("issuer", sso.issuer, "is not an https URL", "write e.g. 'https://login.example.com'"))
    # argo-server serves the OIDC callback at /oauth2/callback (below its base href).
    if not (isinstance(sso.redirect_url, str) and re.fullmatch(r"https://\S+/oauth2/callback", sso.redirect_url)):
        fix = "write 'https://<argo host>/oauth2/callback', as registered with the provider"
        issues.append(Issue("redirect_url", sso.redirect_url, "is not argo-server's https callback URL", fix))
    for where in ("client_id", "client_secret"):
        value = getattr(sso, where)
        if not isinstance(value, pulumi.Output) and not (isinstance(value, str) and value):
            fix = "pass the OIDC client's value, e.g. pulumi.Config().require_secret('<key>')"
            issues.append(Issue(where, HIDDEN, "is missing or not a string", fix))
    issues += sso_role_issues("roles", sso.roles)
    issues += str_list_issues("scopes", sso.scopes, example="groups", allow_empty=True)
    return issues


def binding_key(role: SsoRoleBinding) -> str:
    """The stable key of a binding: `default`, or `group-<group as DNS-1123>`.

    Keyed by the group, never by position, so adding a group renames nothing. A group
    name that is not already a short DNS-1123 label gets a hash of the exact name, so
    `Platform Admins` and `platform-admins` never share a ServiceAccount.
    """
    if role.group is None:
        return "default"
    slug = re.sub(r"[^a-z0-9]+", "-", role.group.lower()).strip("-")
    room = 63 - len(SA_PREFIX) - len("group-")
    if slug == role.group and len(slug) <= room:
        return f"group-{slug}"
    digest = hashlib.sha256(role.group.encode()).hexdigest()[:8]
    slug = slug[: room - len(digest) - 1].rstrip("-")
    return "-".join(p for p in ("group", slug, digest) if p)


def service_account_name(role: SsoRoleBinding) -> str:
    """The ServiceAccount argo-server acts as for this binding (a DNS-1123 label)."""
    return SA_PREFIX + binding_key(role)


def token_secret_name(service_account: str) -> str:
    """The Secret argo-server reads the token from (util/secrets/secret_name.go)."""
    return f"{service_account}.service-account-token"


def role_name(access: str) -> str:
    """The Role of an access level."""
    return f"{SA_PREFIX}{access}"


def rbac_rule(group: str | None) -> str:
    """The expr-lang rule: membership of `group`, or `true` for everyone.

    `$env?.groups` is nil (so `in` is false) when the token has no groups claim, where
    plain `groups` would abort argo-server's whole rule search (see module docstring).
    The group is a JSON string literal, which expr-lang reads with the same escapes.
    """
    if group is None:
        return "true"
    return f"{json.dumps(group, ensure_ascii=False)} in $env?.groups"


def precedence(role: SsoRoleBinding) -> int:
    """Higher wins when several rules match: admin > edit > view > everyone."""
    return DEFAULT_PRECEDENCE if role.group is None else PRECEDENCE[role.access]


_READ = ["get", "list", "watch"]
_WRITE = ["create", "update", "patch", "delete"]


def role_rules(access: str) -> list[dict[str, Any]]:
    """What a signed-in user may do in the Argo namespace.

    view is the "UI Access" read-only role of argo-workflows `docs/security.md` minus
    ClusterWorkflowTemplates (cluster-scoped: a Role cannot grant them). edit adds
    running work: submit, resubmit, retry, stop, terminate and delete workflows
    (retry deletes the failed pods with the user's own token, see
    `server/workflow/workflow_server.go` RetryWorkflow); WorkflowTemplates and
    CronWorkflows stay read-only, slipway deploys them from stack config. admin may
    also change every namespaced Argo resource, as argo's `argo-aggregate-to-admin`.
    """
    read_core = {"apiGroups": [""], "resources": ["events", "pods", "pods/log"], "verbs": _READ}
    read_argo = {
        "apiGroups": ["argoproj.io"],
        "resources": ["cronworkflows", "eventsources", "sensors", "workfloweventbindings", "workflows",
                      "workflowtaskresults", "workflowtemplates"],
        "verbs": _READ,
    }  # fmt: skip
    rules = [read_core, read_argo]
    if access in ("edit", "admin"):
        rules.append({"apiGroups": [""], "resources": ["pods"], "verbs": ["delete"]})
        rules.append({"apiGroups": ["argoproj.io"], "resources": ["workflows"], "verbs": _WRITE})
    if access == "admin":
        rules.append({
            "apiGroups": ["argoproj.io"],
            "resources": ["cronworkflows", "workfloweventbindings", "workflowartifactgctasks", "workflows",
                          "workflowtaskresults", "workflowtasksets", "workflowtemplates"],
            "verbs": [*_WRITE, "deletecollection"],
        })  # fmt: skip
    return rules


def service_account(role: SsoRoleBinding, namespace: str) -> dict[str, Any]:
    """The annotated ServiceAccount; it must live in argo-server's own namespace."""
    return {
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": {
            "name": service_account_name(role),
            "namespace": namespace,
            "labels": MANAGED,
            "annotations": {RULE_ANNOTATION: rbac_rule(role.group), PRECEDENCE_ANNOTATION: str(precedence(role))},
        },
        "automountServiceAccountToken": False,  # no pod runs as it; only argo-server uses its token
    }


def token_secret(role: SsoRoleBinding, namespace: str) -> dict[str, Any]:
    """The long-lived token Secret; Kubernetes' token controller fills in `data.token`."""
    sa = service_account_name(role)
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": "kubernetes.io/service-account-token",
        "metadata": {
            "name": token_secret_name(sa),
            "namespace": namespace,
            "labels": MANAGED,
            "annotations": {TOKEN_SA_ANNOTATION: sa},
        },
    }


def role(access: str, namespace: str) -> dict[str, Any]:
    """The Role of one access level (shared by every binding at that level)."""
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "Role",
        "metadata": {"name": role_name(access), "namespace": namespace, "labels": MANAGED},
        "rules": role_rules(access),
    }


def role_binding(role_: SsoRoleBinding, namespace: str) -> dict[str, Any]:
    """Binds a binding's ServiceAccount to its access level's Role."""
    sa = service_account_name(role_)
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "RoleBinding",
        "metadata": {"name": sa, "namespace": namespace, "labels": MANAGED},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": role_name(role_.access)},
        "subjects": [{"kind": "ServiceAccount", "name": sa, "namespace": namespace}],
    }


def access_levels(roles: tuple[SsoRoleBinding, ...]) -> list[str]:
    """The access levels in use, lowest first (one Role each)."""
    return sorted({r.access for r in roles}, key=PRECEDENCE.__getitem__)


def sso_helm_values(sso: ArgoSso) -> dict[str, Any]:
    """The chart's `server.sso` (every key exists in chart 1.0.18's values.yaml)."""
    return {
        "enabled": True,
        "issuer": sso.issuer,
        "clientId": {"name": SSO_SECRET, "key": "client-id"},
        "clientSecret": {"name": SSO_SECRET, "key": "client-secret"},
        "redirectUrl": sso.redirect_url,
        "scopes": list(sso.scopes),
        # Users act as the ServiceAccount their groups map to, not as argo-server.
        "rbac": {
            "enabled": True,
            # Without it the chart's ClusterRole lets argo-server read every Secret in the cluster.
            "secretWhitelist": [SSO_SECRET] + sorted(token_secret_name(service_account_name(r)) for r in sso.roles),
        },
    }


@dataclass(frozen=True, kw_only=True)
class ArgoSsoRbacArgs:
    """Inputs of ArgoSsoRbac."""

    namespace: str
    """argo-server's own namespace: the only one it looks for annotated ServiceAccounts in."""
    roles: tuple[SsoRoleBinding, ...]
    """Group → access bindings; at least one."""
    k8s_provider: k8s.Provider
    depends_on: Sequence[pulumi.Resource] = field(default_factory=list[pulumi.Resource])
    """The namespace."""


def argo_sso_rbac_issues(args: ArgoSsoRbacArgs) -> list[Issue]:
    """Every mistake in an ArgoSsoRbac's inputs: field, value, problem and fix."""
    issues = label_issues("namespace", args.namespace)
    issues += sso_role_issues("roles", args.roles)
    issues += provider_issues("k8s_provider", args.k8s_provider)
    issues += resources_issues("depends_on", args.depends_on)
    return issues


class ArgoSsoRbac(pulumi.ComponentResource):
    """A Role per access level in use; per binding an annotated ServiceAccount, its token
    Secret and a RoleBinding, keyed by `binding_key` (the group), never by position."""

    service_accounts: dict[str, str]
    """binding key → ServiceAccount name."""

    def __init__(self, name: str, args: ArgoSsoRbacArgs, opts: pulumi.ResourceOptions | None = None):
        require_valid(f"ArgoSsoRbac {name!r}", argo_sso_rbac_issues(args))
        super().__init__("slipway:argo_sso:ArgoSsoRbac", name, None, opts)
        self._name, self._args = name, args
        self._opts = pulumi.ResourceOptions(parent=self, provider=args.k8s_provider, depends_on=args.depends_on)
        for access in access_levels(args.roles):
            obj = role(access, args.namespace)
            k8s.rbac.v1.Role(f"{name}-{access}", metadata=obj["metadata"], rules=obj["rules"], opts=self._opts)
        for r in args.roles:
            self._create_binding(r)
        self.service_accounts = {binding_key(r): service_account_name(r) for r in args.roles}
        self.register_outputs({"serviceAccounts": self.service_accounts})

    def _create_binding(self, r: SsoRoleBinding) -> None:
        ns, child = self._args.namespace, f"{self._name}-{binding_key(r)}"
        sa = service_account(r, ns)
        account = k8s.core.v1.ServiceAccount(
            child,
            metadata=sa["metadata"],
            automount_service_account_token=sa["automountServiceAccountToken"],
            opts=self._opts,
        )
        secret = token_secret(r, ns)
        k8s.core.v1.Secret(
            f"{child}-token",
            metadata=secret["metadata"],
            type=secret["type"],
            # After its ServiceAccount: the token controller deletes a token Secret whose
            # ServiceAccount does not exist.
            opts=pulumi.ResourceOptions.merge(self._opts, pulumi.ResourceOptions(depends_on=[account])),
        )
        binding = role_binding(r, ns)
        k8s.rbac.v1.RoleBinding(
            child, metadata=binding["metadata"], role_ref=binding["roleRef"], subjects=binding["subjects"],
            opts=self._opts,
        )  # fmt: skip
