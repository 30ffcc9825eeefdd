"""`slipway:argo` — Argo Workflows: server auth and SSO, its Ingress, artifacts bucket, WorkflowTemplates."""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import Field

from slipway.components import argo_args
from slipway.program.config.app_secrets import secret_key_issue
from slipway.program.config.errors import Issue
from slipway.program.config.model import (
    DNS1123_LABEL,
    Model,
    _dict,
    anchored,
    certificate_arn_issues,
    dns1123_name_issues,
    image_issues,
    kubernetes_namespace,
    missing_certificate_issues,
    parse_quantity,
)

S3_BUCKET = anchored(argo_args.S3_BUCKET)


class ArgoIngressConfig(Model):
    """`slipway:argo.ingress` — argo-server behind the shared ALB."""

    enabled: bool = False
    scheme: Literal["internal", "internet-facing"] = "internal"
    host: str | None = None
    certificate_arn: str | None = None
    """ACM certificate for HTTPS (required for internet-facing)."""


class ArgoArtifactsConfig(Model):
    """`slipway:argo.artifacts` — the S3 artifact repository."""

    bucket_name: str | None = None
    """Globally unique bucket name; default: generated from the stack."""
    expiry_days: int = Field(30, ge=1, le=3650)


class ParameterConfig(Model):
    name: str
    value: str | None = None


class WorkflowTemplateConfig(Model):
    """`slipway:argo.workflowTemplates[]` — a one-step WorkflowTemplate."""

    name: str
    image: str
    command: list[str] = []
    args: list[str] = []
    parameters: list[ParameterConfig] = []
    cpu: str = "100m"
    memory: str = "128Mi"

    @classmethod
    def raw_checks(cls, data: dict[str, Any], context: dict[str, Any]) -> list[Issue]:
        issues = image_issues("image", data.get("image"))
        issues += dns1123_name_issues("name", data.get("name"))
        for key in ("cpu", "memory"):
            if key in data:
                issues += parse_quantity(key, key, data[key])[1]
        return issues


class ArgoSsoConfig(Model):
    """`slipway:argo.sso` — argo-server login through your OIDC provider."""

    issuer: str
    """The provider's issuer URL (https://…)."""
    client_id_key: str
    """`slipway:` config key (a secret) holding the OIDC client id."""
    client_secret_key: str
    """`slipway:` config key (a secret) holding the OIDC client secret."""
    redirect_url: str | None = None
    """Default: https://<argo.ingress.host>/oauth2/callback."""
    scopes: list[str] = ["groups"]
    default_access: Literal["view", "none"] = "view"
    """What everyone who signs in may do when none of `groups` matches: `view` (read-only,
    the fallback the Argo docs recommend) or `none` (login denied). argo-server denies
    any user no rule matches, so with `none` at least one group must be mapped."""
    groups: dict[str, Literal["view", "edit", "admin"]] = {}
    """OIDC group (exactly as the provider sends it in the `groups` claim) → access:
    `view` reads everything, `edit` also runs, retries, stops and deletes workflows,
    `admin` also changes WorkflowTemplates, CronWorkflows and other Argo resources.
    A user in several groups gets the highest (admin > edit > view > defaultAccess)."""

    @classmethod
    def raw_checks(cls, data: dict[str, Any], context: dict[str, Any]) -> list[Issue]:
        issues = []
        groups = data.get("groups")
        names = [g for g in groups if isinstance(g, str)] if isinstance(groups, dict) else []
        seen: dict[str, str] = {}
        for g in names:
            if not g.strip():
                issues.append(
                    Issue("groups", g, "is an empty group name",
                          "write the group exactly as your provider sends it in the groups claim")
                )  # fmt: skip
                continue
            if g != g.strip():
                issues.append(Issue("groups", g, "has spaces around it, so it never matches a group", "remove them"))
            if (same := seen.setdefault(g.strip().casefold(), g)) != g:
                issues.append(
                    Issue("groups", g, f"is listed twice (as {same!r} too, differing only in case or spaces)",
                          "keep one entry per group, spelled as your provider sends it")
                )  # fmt: skip
        if data.get("defaultAccess") == "none" and isinstance(groups, dict | None) and not groups:
            issues.append(
                Issue(
                    "groups",
                    groups,
                    "is empty while defaultAccess is none, so no SSO rule matches and argo-server denies every login",
                    "map a group (e.g. platform-admins: admin), or set defaultAccess: view",
                )
            )
        return issues


class ArgoConfig(Model):
    """`slipway:argo` — Argo Workflows."""

    enabled: bool = False
    namespace: str = "argo"
    node_pool: str | None = None
    """Pool that runs the controller, server and every workflow pod (default: the system pool).
    Naming a tainted pool places Argo there explicitly: it gets the pool's tolerations."""
    parallelism: int = Field(argo_args.ArgoWorkflowsArgs.parallelism, ge=1, le=1000)
    """Workflows running at once (the controller's `parallelism`; more wait as Pending).
    Argo's own default is no limit; slipway sets this bound and sizes the pool for it:
    `parallelism` workflow pods, each as large as the largest WorkflowTemplate's requests
    plus Argo's executor. A workflow that runs several pods at once (a DAG or steps
    fan-out) needs room declared with `nodePools.<pool>.pods`."""
    auth_mode: Literal["client", "sso"] = "client"
    """argo-server auth: `client` (Kubernetes bearer tokens) or `sso`. Never `server`."""
    ingress: ArgoIngressConfig = ArgoIngressConfig()
    sso: ArgoSsoConfig | None = None
    """Required with authMode sso."""
    artifacts: ArgoArtifactsConfig = ArgoArtifactsConfig()
    workflow_templates: list[WorkflowTemplateConfig] = []

    @classmethod
    def raw_checks(cls, data: dict[str, Any], context: dict[str, Any]) -> list[Issue]:
        issues = []
        if data.get("authMode") == "server":
            issues.append(
                Issue(
                    "authMode",
                    "server",
                    "serves the Argo UI and API with the server's own "
                    "service-account permissions to anyone who reaches it",
                    "use client (users present Kubernetes tokens) or sso",
                )
            )
        sso = _dict(data.get("sso"))
        if data.get("authMode") == "sso" and not sso:
            issues.append(
                Issue(
                    "sso",
                    None,
                    "is missing while authMode is sso (argo-server would not start)",
                    "add sso: {issuer, clientIdKey, clientSecretKey}, or use authMode: client",
                )
            )
        if sso and data.get("authMode", "client") != "sso":
            issues.append(
                Issue(
                    "authMode",
                    data.get("authMode", "client"),
                    "is not sso while an sso block is set",
                    "set authMode: sso, or remove sso",
                )
            )
        if sso:
            issuer = sso.get("issuer")
            if isinstance(issuer, str) and not issuer.startswith("https://"):
                issues.append(Issue("sso.issuer", issuer, "is not an https URL", "write https://login.example.com"))
            host = _dict(data.get("ingress")).get("host")
            if not sso.get("redirectUrl") and not host:
                issues.append(
                    Issue(
                        "sso.redirectUrl",
                        None,
                        "is missing and there is no ingress host to derive it from",
                        "set redirectUrl: https://<argo host>/oauth2/callback, or ingress.host",
                    )
                )
            # Each key must be set, as a secret: the same message as for an app's secrets
            # (names the key, never a value written in its place).
            for field in ("clientIdKey", "clientSecretKey"):
                ref = sso.get(field)
                issue = secret_key_issue(f"sso.{field}", ref, context) if isinstance(ref, str) else None
                issues += [issue] if issue else []
        ns = data.get("namespace", "argo")
        if isinstance(ns, str) and (not DNS1123_LABEL.match(ns) or kubernetes_namespace(ns)):
            issues.append(
                Issue("namespace", ns, "is not a namespace Argo should own", "use a dedicated namespace such as argo")
            )
        bucket = _dict(data.get("artifacts")).get("bucketName")
        if isinstance(bucket, str) and (
            not S3_BUCKET.match(bucket)
            or ".." in bucket
            or re.fullmatch(r"\d+\.\d+\.\d+\.\d+", bucket)
            or bucket.startswith(("xn--", "sthree-"))
            or bucket.endswith(("-s3alias", "--ol-s3"))
        ):
            issues.append(
                Issue(
                    "artifacts.bucketName",
                    bucket,
                    "is not a valid S3 bucket name",
                    "use 3–63 lowercase letters, digits, '-' or '.', starting and ending with a "
                    "letter or digit, not shaped like an IP address",
                )
            )
        ingress = _dict(data.get("ingress"))
        cert = ingress.get("certificateArn")
        issues += missing_certificate_issues(
            "ingress.certificateArn",
            cert,
            ingress.get("enabled") is True and ingress.get("scheme") == "internet-facing",
            "is missing for an internet-facing argo-server",
            "add an ACM certificate ARN (HTTPS with HTTP→HTTPS redirect), or use scheme internal",
        )
        issues += certificate_arn_issues("ingress.certificateArn", cert)
        templates = data.get("workflowTemplates", [])
        names = [t.get("name") for t in templates if isinstance(t, dict)] if isinstance(templates, list) else []
        for i, n in enumerate(names):
            if n in names[:i]:
                issues.append(Issue(f"workflowTemplates[{i}].name", n, "is listed twice", "give each template a name"))
        return issues  # fmt: skip
