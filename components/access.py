"""Who can get into the cluster: `ClusterAccess` (access entries), `AwsAuthBindings`
(RBAC for aws-auth groups) and `WorkloadRole` (IRSA).

Two mechanisms map IAM identities into EKS, chosen by the cluster's
`authenticationMode`:

* API — EKS access entries with AWS-managed access policies, cluster- or
  namespace-scoped. Managed by the EKS API, so a bad edit cannot lock anyone out.
* CONFIG_MAP — the `aws-auth` ConfigMap (pulumi-eks writes it from the
  `roleMappings`/`userMappings`/`instanceRoles` we pass): an IAM ARN becomes a
  Kubernetes username and groups. A group grants nothing by itself; the bindings
  `AwsAuthBindings` creates give the `slipway:<access>` groups their ClusterRole.

`API_AND_CONFIG_MAP` does both. The node role is always in aws-auth (it is passed
as an instance role), so an aws-auth edit can never cut nodes off
(pulumi/pulumi-eks#293, #593). Managed node groups get their access entry from EKS.

The identity that creates the cluster is special: EKS gives it cluster-admin at
creation (pulumi-eks sets `bootstrapClusterCreatorAdminPermissions`), so slipway
must not create an access entry for it — a second one fails with
ResourceInUseException. Mark it `creator: true`.

The inputs (`Principal` and each component's Args) and the checks every component runs
before registering anything live in access_args.py; they are re-exported here.
"""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from slipway.components.access_args import (
    AccessLevel,
    AuthenticationMode,
    AwsAuthBindingsArgs,
    ClusterAccessArgs,
    Principal,
    WorkloadRoleArgs,
    aws_auth_bindings_issues,
    cluster_access_issues,
    principal_issues,
    principals_issues,
    workload_role_issues,
)
from slipway.components.iam import irsa_trust_policy, policy_document, to_json
from slipway.components.lifecycle import keyed
from slipway.components.validation import require_valid

# Source: Amazon EKS User Guide, "Review access policy permissions".
ACCESS_POLICY_ARNS: dict[str, str] = {
    "cluster-admin": "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy",
    "admin": "arn:aws:eks::aws:cluster-access-policy/AmazonEKSAdminPolicy",
    "edit": "arn:aws:eks::aws:cluster-access-policy/AmazonEKSEditPolicy",
    "view": "arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy",
}


def uses_access_entries(mode: AuthenticationMode) -> bool:
    return mode in ("API", "API_AND_CONFIG_MAP")


def uses_aws_auth(mode: AuthenticationMode) -> bool:
    return mode in ("CONFIG_MAP", "API_AND_CONFIG_MAP")


def group_for(p: Principal, namespace: str | None = None) -> str:
    """The Kubernetes group a principal is put in through aws-auth."""
    return f"slipway:{p.access}" + (f":{namespace}" if namespace else "")


def scoped_groups(p: Principal) -> list[tuple[str | None, str]]:
    """(namespace, group) per scope of a principal: one per namespace it is limited to,
    else one cluster-wide group (namespace None)."""
    if p.namespaces:
        return [(ns, group_for(p, ns)) for ns in sorted(p.namespaces)]
    return [(None, group_for(p))]


def mapped(principals: list[Principal]) -> list[Principal]:
    """The principals slipway maps: all but the cluster creator (EKS maps it)."""
    return [p for p in principals if not p.creator]


def access_entries(principals: list[Principal]) -> list[dict[str, Any]]:
    """Access entry and policy association per principal (for API modes)."""
    out: list[dict[str, Any]] = []
    for p in mapped(principals):
        scope: dict[str, Any] = {"type": "cluster"}
        if p.namespaces:
            scope = {"type": "namespace", "namespaces": sorted(p.namespaces)}
        out.append(
            {
                "key": p.key,
                "principalArn": p.arn,
                "policyArn": ACCESS_POLICY_ARNS[p.access],
                "accessScope": scope,
                "userName": p.username,
            }
        )
    return out


def aws_auth_mappings(principals: list[Principal]) -> dict[str, list[dict[str, Any]]]:
    """aws-auth `mapRoles` and `mapUsers` for the principals (the node role is added by
    pulumi-eks from `instanceRoles`)."""
    roles: list[dict[str, Any]] = []
    users: list[dict[str, Any]] = []
    for p in mapped(principals):
        groups = [group for _, group in scoped_groups(p)]
        if p.kind == "role":
            username = p.username or f"{p.short_name}:{{{{SessionName}}}}"
            roles.append({"roleArn": p.aws_auth_arn, "username": username, "groups": groups})
        else:
            users.append({"userArn": p.arn, "username": p.username or p.short_name, "groups": groups})
    return {"mapRoles": roles, "mapUsers": users}


def rbac_bindings(principals: list[Principal]) -> list[dict[str, Any]]:
    """The (Cluster)RoleBindings that give aws-auth groups their ClusterRole.

    One binding per distinct group: cluster-wide groups get a ClusterRoleBinding,
    namespace-scoped ones a RoleBinding in each namespace.
    """
    seen: dict[str, dict[str, Any]] = {}
    for p in mapped(principals):
        for ns, group in scoped_groups(p):
            # Each access level has the built-in ClusterRole of the same name.
            seen[group] = {"group": group, "namespace": ns, "clusterRole": p.access}
    return [seen[g] for g in sorted(seen)]


class ClusterAccess(pulumi.ComponentResource):
    """EKS access entries and access policy associations, one per principal (API modes).

    `ready` lists the resources a Kubernetes provider acting as one of these
    principals must wait for (otherwise its first call is Unauthorized).
    """

    access_entry_arns: dict[str, pulumi.Output[str]]
    ready: list[pulumi.Resource]

    def __init__(self, name: str, args: ClusterAccessArgs, opts: pulumi.ResourceOptions | None = None):
        require_valid(f"ClusterAccess {name!r}", cluster_access_issues(args))
        super().__init__("slipway:access:ClusterAccess", name, None, opts)
        self._name, self._args = name, args
        self.access_entry_arns = {}
        self.ready = []
        if uses_access_entries(args.authentication_mode):
            self.access_entry_arns = self._create_access_entries()
        self.register_outputs({"accessEntryArns": self.access_entry_arns})

    def _create_access_entries(self) -> dict[str, pulumi.Output[str]]:
        # Both are keyed by AWS, not by Pulumi: an entry by cluster:principal, an
        # association by cluster#principal#policy, and `access_scope` (the namespaces) is
        # ForceNew (terraform-provider-aws internal/service/eks/access_entry.go,
        # access_policy_association.go). Pulumi's default create-before-delete would write
        # the same key (a no-op or ResourceInUseException) and then delete it: narrowing a
        # principal's namespaces would remove its access. Delete first, then create: a
        # gap of seconds instead of a loss that lasts until someone notices.
        arns: dict[str, pulumi.Output[str]] = {}
        for spec in access_entries(self._args.principals):
            entry = aws.eks.AccessEntry(
                f"{self._name}-{spec['key']}",
                cluster_name=self._args.cluster_name,
                principal_arn=spec["principalArn"],
                type="STANDARD",
                user_name=spec["userName"],
                tags=self._args.tags,
                opts=keyed(self),
            )
            association = aws.eks.AccessPolicyAssociation(
                f"{self._name}-{spec['key']}",
                cluster_name=self._args.cluster_name,
                principal_arn=entry.principal_arn,
                policy_arn=spec["policyArn"],
                access_scope=aws.eks.AccessPolicyAssociationAccessScopeArgs(**spec["accessScope"]),
                opts=keyed(self),
            )
            arns[spec["key"]] = entry.access_entry_arn
            self.ready += [entry, association]
        return arns


class AwsAuthBindings(pulumi.ComponentResource):
    """ClusterRoleBindings/RoleBindings for the aws-auth groups (CONFIG_MAP modes)."""

    def __init__(self, name: str, args: AwsAuthBindingsArgs, opts: pulumi.ResourceOptions | None = None):
        require_valid(f"AwsAuthBindings {name!r}", aws_auth_bindings_issues(args))
        super().__init__("slipway:access:AwsAuthBindings", name, None, opts)
        # A RoleBinding into a namespace that does not exist yet fails to apply.
        child = pulumi.ResourceOptions(parent=self, provider=args.k8s_provider, depends_on=args.namespaces)
        for b in rbac_bindings(args.principals):
            slug = b["group"].replace(":", "-")
            meta: k8s.meta.v1.ObjectMetaArgsDict = {"name": slug, "labels": {"app.kubernetes.io/managed-by": "slipway"}}
            # Kubernetes' own field names (apiGroup), as in every manifest slipway builds:
            # pulumi-kubernetes sends them as they are, but its TypedDicts spell only the
            # snake_case aliases, hence Any.
            subjects: list[Any] = [{"kind": "Group", "name": b["group"], "apiGroup": "rbac.authorization.k8s.io"}]
            role_ref: Any = {"kind": "ClusterRole", "name": b["clusterRole"], "apiGroup": "rbac.authorization.k8s.io"}
            if b["namespace"]:
                k8s.rbac.v1.RoleBinding(
                    f"{name}-{slug}",
                    metadata={**meta, "namespace": b["namespace"]},
                    subjects=subjects,
                    role_ref=role_ref,
                    opts=child,
                )
            else:
                k8s.rbac.v1.ClusterRoleBinding(
                    f"{name}-{slug}", metadata=meta, subjects=subjects, role_ref=role_ref, opts=child
                )
        self.register_outputs({})


# ------------------------------------------------------------------ workload roles (IRSA)


def irsa_annotations(role_arn: Any) -> dict[str, Any]:
    """The ServiceAccount annotation that makes its pods assume `role_arn` (IRSA)."""
    return {"eks.amazonaws.com/role-arn": role_arn}


class WorkloadRole(pulumi.ComponentResource):
    """An IAM role assumable only by `namespace/service_account`, plus that ServiceAccount.

    Role trust and ServiceAccount annotation come from the same two strings, so
    they cannot disagree.
    """

    role_arn: pulumi.Output[str]
    role_name: pulumi.Output[str]
    service_account_name: str
    namespace: str

    def __init__(self, name: str, args: WorkloadRoleArgs, opts: pulumi.ResourceOptions | None = None):
        require_valid(f"WorkloadRole {name!r}", workload_role_issues(args))
        super().__init__("slipway:access:WorkloadRole", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        trust = pulumi.Output.all(args.oidc_provider_arn, args.oidc_issuer).apply(
            lambda v: to_json(irsa_trust_policy(v[0], v[1], args.namespace, args.service_account))
        )
        role = aws.iam.Role(
            f"{name}-role",
            assume_role_policy=trust,
            description=f"IRSA role for {args.namespace}/{args.service_account}",
            tags=args.tags,
            opts=child,
        )
        if args.policy_statements is not None:
            document = pulumi.Output.from_input(args.policy_statements).apply(lambda s: to_json(policy_document(s)))
            aws.iam.RolePolicy(f"{name}-policy", role=role.name, policy=document, opts=child)
        for key, arn in sorted(args.managed_policies.items()):
            aws.iam.RolePolicyAttachment(f"{name}-{key}", role=role.name, policy_arn=arn, opts=keyed(self))
        if args.create_service_account:
            k8s.core.v1.ServiceAccount(
                f"{name}-sa",
                metadata={
                    "name": args.service_account,
                    "namespace": args.namespace,
                    "labels": {"app.kubernetes.io/managed-by": "slipway", **args.labels},
                    "annotations": irsa_annotations(role.arn),
                },
                opts=pulumi.ResourceOptions(
                    parent=self, provider=args.k8s_provider, depends_on=args.service_account_after
                ),
            )
        self.role_arn = role.arn
        self.role_name = role.name
        self.service_account_name = args.service_account
        self.namespace = args.namespace
        self.register_outputs({"roleArn": self.role_arn, "roleName": self.role_name})


__all__ = [
    "ACCESS_POLICY_ARNS",
    "AccessLevel",
    "AuthenticationMode",
    "AwsAuthBindings",
    "AwsAuthBindingsArgs",
    "ClusterAccess",
    "ClusterAccessArgs",
    "Principal",
    "WorkloadRole",
    "WorkloadRoleArgs",
    "access_entries",
    "aws_auth_bindings_issues",
    "aws_auth_mappings",
    "cluster_access_issues",
    "group_for",
    "irsa_annotations",
    "mapped",
    "principal_issues",
    "principals_issues",
    "rbac_bindings",
    "scoped_groups",
    "uses_access_entries",
    "uses_aws_auth",
    "workload_role_issues",
]
