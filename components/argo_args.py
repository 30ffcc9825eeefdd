"""`ArgoWorkflowsArgs`, the inputs of ArgoWorkflows (with its WorkflowTemplates), and the
check that refuses wrong ones (field, value, problem and fix, all at once) before any
resource is registered."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, cast

import pulumi
import pulumi_kubernetes as k8s

from slipway.components.argo_sso import ArgoSso, argo_sso_issues
from slipway.components.capacity.quantity import cpu_millicores, memory_mib
from slipway.components.common_args import (
    bool_issues,
    label_issues,
    oidc_provider_issues,
    placement_dict_issues,
    provider_issues,
    region_issues,
    resources_issues,
)
from slipway.components.validation import (
    Issue,
    Verbatim,
    choice_issues,
    int_issues,
    str_list_issues,
    str_map_issues,
    type_issues,
    under,
)


@dataclass(frozen=True, kw_only=True)
class Parameter:
    """A WorkflowTemplate input parameter."""

    name: str
    value: str | None = None


@dataclass(frozen=True, kw_only=True)
class WorkflowTemplateSpec:
    """A WorkflowTemplate declared in stack config: one container step."""

    name: str
    image: str
    command: list[str] = field(default_factory=list[str])
    args: list[str] = field(default_factory=list[str])
    parameters: list[Parameter] = field(default_factory=list[Parameter])
    cpu: str = "100m"
    memory: str = "128Mi"


@dataclass(frozen=True, kw_only=True)
class ArgoWorkflowsArgs:
    """Inputs of ArgoWorkflows."""

    namespace: str
    k8s_provider: k8s.Provider
    oidc_provider_arn: pulumi.Input[str]
    oidc_issuer: pulumi.Input[str]
    region: str
    node_selector: dict[str, str]
    """The dedicated pool's label (slipway.dev/pool: <pool>)."""
    tolerations: list[dict[str, Any]] = field(default_factory=list[dict[str, Any]])
    """Tolerations for the pool's taints."""
    auth_mode: Literal["client", "sso"] = "client"
    sso: ArgoSso | None = None
    """With auth_mode sso: the OIDC client and the group → access mapping (slipway.components.argo_sso)."""
    ingress: dict[str, Any] | None = None
    """argo-server's Ingress manifest (see server_ingress); None: no Ingress (kubectl port-forward)."""
    load_balancer: Sequence[pulumi.Resource] = field(default_factory=list[pulumi.Resource])
    """The Load Balancer Controller release: the Ingress comes after it and goes before it."""
    bucket_name: pulumi.Input[str] | None = None
    """Artifact bucket name (globally unique); default: generated."""
    artifact_expiry_days: int = 30
    """Artifacts (and archived logs) are deleted after this many days (1–3650)."""
    protect: bool = False
    parallelism: int = 10
    """Workflows running at once (the controller's `parallelism`; 1–1000): more wait as
    Pending workflows. Size the pool for this many workflow pods."""
    workflow_templates: list[WorkflowTemplateSpec] = field(default_factory=list[WorkflowTemplateSpec])
    depends_on: Sequence[pulumi.Resource] = field(default_factory=list[pulumi.Resource])
    """Namespace, node groups and (with an Ingress) the Load Balancer Controller release."""
    tags: dict[str, str] = field(default_factory=dict[str, str])


# S3 bucket naming rules (Amazon S3 User Guide, "General purpose bucket naming rules").
S3_BUCKET = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
IP_ADDRESS = re.compile(r"\d+\.\d+\.\d+\.\d+")
PARAMETER_NAME = re.compile(r"[-a-zA-Z0-9_]+")  # argo-workflows workflow/validate


def argo_workflows_issues(a: ArgoWorkflowsArgs) -> list[Issue]:
    """Every mistake in an ArgoWorkflows's inputs (its roles' and SSO RBAC's included)."""
    issues = label_issues("namespace", a.namespace)
    issues += region_issues("region", a.region)
    issues += oidc_provider_issues("oidc_provider_arn", a.oidc_provider_arn)
    issues += provider_issues("k8s_provider", a.k8s_provider)
    issues += placement_dict_issues(a.node_selector, a.tolerations)
    issues += _auth_issues(a)
    if a.ingress is not None and not (isinstance(a.ingress, Mapping) and {"metadata", "spec"} <= set(a.ingress)):
        fix = "pass server_ingress(...), or None for no Ingress"
        issues.append(Issue("ingress", Verbatim("a manifest"), "has no metadata and spec", fix))
    issues += resources_issues("load_balancer", a.load_balancer)
    issues += _bucket_issues(a.bucket_name)
    issues += int_issues("artifact_expiry_days", a.artifact_expiry_days, minimum=1, maximum=3650)
    issues += bool_issues("protect", a.protect)
    issues += int_issues("parallelism", a.parallelism, minimum=1, maximum=1000)
    issues += _templates_issues(a.workflow_templates)
    issues += resources_issues("depends_on", a.depends_on)
    issues += str_map_issues("tags", a.tags, example="{'team': 'platform'}")
    return issues


def _auth_issues(a: ArgoWorkflowsArgs) -> list[Issue]:
    """argo-server's auth mode, and the SSO block exactly when it is `sso`."""
    mode: Any = a.auth_mode  # callers without a type checker (and old configs) may pass "server"
    if mode == "server":
        problem = "serves the Argo UI and API with the server's own permissions to anyone who reaches it"
        return [Issue("auth_mode", "server", problem, "use 'client' (users present Kubernetes tokens) or 'sso'")]
    issues = choice_issues("auth_mode", a.auth_mode, ("client", "sso"), "an argo-server auth mode")
    if a.auth_mode == "sso" and a.sso is None:
        problem = "is missing while auth_mode is 'sso' (argo-server would not start)"
        issues.append(Issue("sso", None, problem, "pass sso=ArgoSso(...), or use auth_mode='client'"))
    if a.sso is not None:
        if a.auth_mode != "sso":
            fix = "set auth_mode='sso', or drop sso"
            issues.append(Issue("auth_mode", a.auth_mode, "is not 'sso' while sso is set", fix))
        issues += under("sso", argo_sso_issues(a.sso))
    return issues


def _bucket_issues(name: Any) -> list[Issue]:
    """An artifact bucket name S3 accepts, when one is given (an Output is checked by S3)."""
    if name is None or isinstance(name, pulumi.Output):
        return []
    if (
        isinstance(name, str)
        and S3_BUCKET.fullmatch(name)
        and ".." not in name
        and not IP_ADDRESS.fullmatch(name)
        and not name.startswith(("xn--", "sthree-"))
        and not name.endswith(("-s3alias", "--ol-s3"))
    ):
        return []
    fix = (
        "use 3–63 lowercase letters, digits, '-' or '.', starting and ending with a letter or digit, "
        "not shaped like an IP address (or None for a generated name)"
    )
    return [Issue("bucket_name", name, "is not an S3 bucket name", fix)]


def _templates_issues(templates: Any) -> list[Issue]:
    """Each template valid, each name once (it names the WorkflowTemplate and its resource)."""
    if isinstance(templates, str | Mapping) or not isinstance(templates, Sequence):
        fix = "pass a list of WorkflowTemplateSpec"
        return [Issue("workflow_templates", templates, "is not a list of workflow templates", fix)]
    issues: list[Issue] = []
    names: list[Any] = []
    for i, t in enumerate(cast("Sequence[Any]", templates)):
        where = f"workflow_templates[{i}]"
        if not isinstance(t, WorkflowTemplateSpec):
            issues += type_issues(where, t, WorkflowTemplateSpec, "pass WorkflowTemplateSpec(name=..., image=...)")
            continue
        issues += under(where, template_issues(t))
        if t.name in names:
            problem = f"is used twice (also workflow_templates[{names.index(t.name)}])"
            issues.append(Issue(f"{where}.name", t.name, problem, "give each template its own name"))
        names.append(t.name)
    return issues


def template_issues(t: WorkflowTemplateSpec) -> list[Issue]:
    """Everything wrong with one WorkflowTemplateSpec (fields relative to it)."""
    issues = label_issues("name", t.name, "a WorkflowTemplate name")
    issues += image_issues("image", t.image)
    issues += str_list_issues("command", t.command, example="python", allow_empty=True)
    issues += str_list_issues("args", t.args, example="--verbose", allow_empty=True)
    for key, parse, example in (("cpu", cpu_millicores, "250m"), ("memory", memory_mib, "256Mi")):
        value = getattr(t, key)
        try:
            parse(value)
        except (TypeError, ValueError):
            issues.append(Issue(key, value, f"is not a {key} quantity", f"write it like {example}"))
    issues += _parameters_issues(t.parameters)
    return issues


def _parameters_issues(parameters: Any) -> list[Issue]:
    if isinstance(parameters, str | Mapping) or not isinstance(parameters, Sequence):
        return [Issue("parameters", parameters, "is not a list of Parameter", "pass [Parameter(name=...)]")]
    issues: list[Issue] = []
    names: list[Any] = []
    for i, p in enumerate(cast("Sequence[Any]", parameters)):
        if not isinstance(p, Parameter):
            issues += type_issues(f"parameters[{i}]", p, Parameter, "pass Parameter(name=..., value=...)")
            continue
        if not (isinstance(p.name, str) and PARAMETER_NAME.fullmatch(p.name)):
            fix = "use letters, digits, '-' and '_'"
            issues.append(Issue(f"parameters[{i}].name", p.name, "is not a parameter name", fix))
        elif p.name in names:
            issues.append(Issue(f"parameters[{i}].name", p.name, "is listed twice", "give each parameter once"))
        if p.value is not None and not isinstance(p.value, str):
            issues.append(Issue(f"parameters[{i}].value", p.value, "is not a string", f"write {str(p.value)!r}"))
        names.append(p.name)
    return issues


def image_issues(field: str, image: Any) -> list[Issue]:
    """An image names a tag (or a digest) other than `latest` (the stack config's rule)."""
    if not isinstance(image, str) or not image:
        return [Issue(field, image, "is empty", "name an image with a tag, e.g. ghcr.io/org/tool:1.4.2")]
    if "@sha256:" in image:
        return []
    last = image.rsplit("/", 1)[-1]
    tag = last.split(":", 1)[1] if ":" in last else ""
    if tag in ("", "latest"):
        problem = "has no tag or the tag `latest`, so what runs changes without a deploy"
        return [Issue(field, image, problem, "pin a version tag or a digest, e.g. python:3.12.7-slim")]
    return []


__all__ = [
    "ArgoWorkflowsArgs",
    "Parameter",
    "WorkflowTemplateSpec",
    "argo_workflows_issues",
    "image_issues",
    "template_issues",
]
