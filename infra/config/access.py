"""`slipway:access` and `slipway:identity` — IAM principals mapped into the cluster, and who kubectl is."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import field_validator

from slipway.components import access_args
from slipway.program.config.errors import Issue, invalid
from slipway.program.config.model import DNS1123_LABEL, Model, _dict, anchored

IAM_PRINCIPAL_ARN = anchored(access_args.IAM_PRINCIPAL_ARN)
# EKS rejects access entry / aws-auth usernames with these prefixes.
RESERVED_USERNAME_PREFIXES = ("system:", "eks:", "aws:", "amazon:", "iam:")

AccessLevel = Literal["cluster-admin", "admin", "edit", "view"]


class PrincipalConfig(Model):
    """`slipway:access.principals[]` — an IAM role or user mapped into the cluster."""

    arn: str
    access: AccessLevel
    """cluster-admin: everything; admin/edit/view: the Kubernetes roles of those names."""
    namespaces: list[str] | None = None
    """Limit admin/edit/view to these namespaces (default: cluster-wide)."""
    username: str | None = None
    """Kubernetes username (default: derived from the ARN)."""
    creator: bool = False
    """This identity creates the cluster (runs the first `pulumi up`). EKS gives it
    cluster-admin itself; slipway then creates no access entry for it (a second one
    fails with ResourceInUseException)."""

    @field_validator("arn")
    @classmethod
    def _arn(cls, v: str) -> str:
        m = IAM_PRINCIPAL_ARN.match(v)
        if not m:
            raise invalid(
                "is not an IAM role or user ARN",
                "write arn:aws:iam::<12-digit account>:role/<name> or …:user/<name>",
            )
        if m["kind"] == "assumed-role" or m["service"] == "sts":
            raise invalid(
                "is an STS assumed-role session, which changes every login",
                "map the role itself: arn:aws:iam::<account>:role/<role name> "
                "(aws sts get-caller-identity shows the session, not the role)",
            )
        return v

    @classmethod
    def raw_checks(cls, data: dict[str, Any], context: dict[str, Any]) -> list[Issue]:
        issues = []
        namespaces, access = data.get("namespaces"), data.get("access")
        if isinstance(namespaces, list):
            if access == "cluster-admin":
                issues.append(
                    Issue(
                        "namespaces",
                        namespaces,
                        "cannot scope cluster-admin to namespaces",
                        "use access: admin for namespace-scoped administrators, or drop namespaces",
                    )
                )
            if not namespaces:
                issues.append(Issue("namespaces", [], "is empty", "list namespaces or remove the field"))
            for i, ns in enumerate(namespaces):
                if not isinstance(ns, str) or not DNS1123_LABEL.match(ns) or len(ns) > 63:
                    issues.append(
                        Issue(
                            f"namespaces[{i}]",
                            ns,
                            "is not a valid namespace name (DNS-1123 label)",
                            "use lowercase letters, digits and '-'",
                        )
                    )
        username = data.get("username")
        if isinstance(username, str) and username.lower().startswith(RESERVED_USERNAME_PREFIXES):
            issues.append(
                Issue(
                    "username",
                    username,
                    "starts with a prefix EKS reserves",
                    f"choose a name not starting with {', '.join(RESERVED_USERNAME_PREFIXES)}",
                )
            )
        if data.get("creator") is True and (access != "cluster-admin" or namespaces):
            issues.append(
                Issue(
                    "creator",
                    True,
                    "is set on a principal without cluster-wide cluster-admin "
                    "(EKS gives the creator cluster-admin whatever is written here)",
                    "give the creator access: cluster-admin and no namespaces",
                )
            )
        return issues  # fmt: skip


def _arn_key(arn: str) -> str:
    """IAM names are case-insensitive and aws-auth ignores role paths: compare on this."""
    head, _, name = arn.rpartition("/")
    kind = "role" if ":role/" in arn else "user"
    return f"{arn.split(':')[4]}:{kind}:{name}".lower()


class AccessConfig(Model):
    """`slipway:access` — who can use the cluster."""

    principals: list[PrincipalConfig] = []

    @classmethod
    def raw_checks(cls, data: dict[str, Any], context: dict[str, Any]) -> list[Issue]:
        issues = []
        principals = [_dict(p) for p in data.get("principals", [])] if isinstance(data.get("principals"), list) else []
        seen: dict[str, int] = {}
        for i, p in enumerate(principals):
            arn = p.get("arn")
            if not isinstance(arn, str) or not IAM_PRINCIPAL_ARN.match(arn):
                continue
            key = _arn_key(arn)
            if key in seen:
                issues.append(
                    Issue(
                        f"principals[{i}].arn",
                        arn,
                        f"is the same IAM identity as principals[{seen[key]}] (names are case-insensitive and "
                        "aws-auth ignores role paths)",
                        "list each principal once with the access it needs",
                    )
                )
            seen.setdefault(key, i)
        creators = [i for i, p in enumerate(principals) if p.get("creator") is True]
        for i in creators[1:]:
            issues.append(
                Issue(
                    f"principals[{i}].creator",
                    True,
                    f"is set twice (also principals[{creators[0]}])",
                    "mark only the identity that runs the first `pulumi up`",
                )
            )
        return issues  # fmt: skip


class IdentityConfig(Model):
    """`slipway:identity` — the identity the kubeconfig (and slipway's Kubernetes
    provider) authenticate as.

    Leave it empty to use the credentials that run `pulumi up` (aws:profile or the
    environment): then deploying and kubectl are one identity, and the cause of
    "You must be logged in to the server (Unauthorized)" cannot arise.
    """

    profile: str | None = None
    """AWS CLI profile for `aws eks get-token` (default: aws:profile)."""
    role_arn: str | None = None
    """Role the kubeconfig assumes (`aws eks get-token --role`). It must be mapped:
    the creator, or a cluster-admin principal."""

    @field_validator("role_arn")
    @classmethod
    def _role(cls, v: str | None) -> str | None:
        if v is not None and not (IAM_PRINCIPAL_ARN.match(v) and ":role/" in v):
            raise invalid("is not an IAM role ARN", "write arn:aws:iam::<account>:role/<name>")
        return v
