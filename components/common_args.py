"""Input rules several components share: Kubernetes names, AWS regions and ARNs, pod
placement as manifests write it, providers, booleans and resource lists.

Each checker returns `Issue`s in the house style (components/validation.py); the
components' `*_issues` functions compose them with their own rules.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any, cast

import pulumi

from slipway.components.app_rules import DNS1123_LABEL
from slipway.components.spec import Toleration, toleration_issues
from slipway.components.validation import Issue, Verbatim, choice_issues, str_map_issues, under

# A ServiceAccount's (or a WorkflowTemplate's) name: a DNS-1123 subdomain, ≤ 253 characters.
DNS1123_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
# us-east-1, us-gov-west-1, ap-southeast-5, cn-northwest-1, eusc-de-east-1.
AWS_REGION = re.compile(r"[a-z]{2,4}(-[a-z]+)+-\d{1,2}")
# The cluster's IAM OIDC provider, the principal of every IRSA trust policy.
OIDC_PROVIDER_ARN = re.compile(r"arn:aws(-cn|-us-gov)?:iam::\d{12}:oidc-provider/\S+")
# A toleration's fields, as Kubernetes spells them.
TOLERATION_KEYS = ("key", "operator", "value", "effect", "tolerationSeconds")


def label_issues(field: str, value: Any, what: str = "a namespace name") -> list[Issue]:
    """`value` is a DNS-1123 label (namespaces and most Kubernetes names): ≤ 63 characters."""
    if isinstance(value, str) and DNS1123_LABEL.fullmatch(value) and len(value) <= 63:
        return []
    fix = "use at most 63 lowercase letters, digits and '-', starting and ending with a letter or digit"
    return [Issue(field, value, f"is not {what} (a DNS-1123 label)", fix)]


def subdomain_issues(field: str, value: Any, what: str) -> list[Issue]:
    """`value` is a DNS-1123 subdomain (ServiceAccount names): ≤ 253 characters."""
    if isinstance(value, str) and DNS1123_SUBDOMAIN.fullmatch(value) and len(value) <= 253:
        return []
    return [Issue(field, value, f"is not {what} (a DNS-1123 subdomain)", "use lowercase letters, digits, '-' and '.'")]


def region_issues(field: str, value: Any) -> list[Issue]:
    """`value` is an AWS region code."""
    if isinstance(value, str) and AWS_REGION.fullmatch(value):
        return []
    return [Issue(field, value, "is not an AWS region", "write a region code, e.g. 'us-east-1'")]


def oidc_provider_issues(field: str, value: Any) -> list[Issue]:
    """`value` is the cluster's IAM OIDC provider ARN, or an Output of it (checked by AWS then)."""
    if isinstance(value, pulumi.Output) or (isinstance(value, str) and OIDC_PROVIDER_ARN.fullmatch(value)):
        return []
    fix = "pass the cluster's, arn:aws:iam::<account>:oidc-provider/oidc.eks.<region>.amazonaws.com/id/<id>"
    return [Issue(field, value, "is not an IAM OIDC provider ARN", fix)]


def input_issues(field: str, value: Any, problem: str, fix: str) -> list[Issue]:
    """`value` is a non-empty string, or an Output of one (known once its resource exists)."""
    if isinstance(value, pulumi.Output) or (isinstance(value, str) and value):
        return []
    return [Issue(field, value, problem, fix)]


def bool_issues(field: str, value: Any) -> list[Issue]:
    """`value` is True or False (a string "false" would be true)."""
    return [] if isinstance(value, bool) else [Issue(field, value, "is not True or False", "pass a bool")]


def provider_issues(field: str, value: Any) -> list[Issue]:
    """`value` is a Kubernetes provider. Without one, pulumi-kubernetes uses the ambient
    kubeconfig: whatever cluster the user's kubectl points at."""
    if isinstance(value, pulumi.ProviderResource) and value.package == "kubernetes":
        return []
    fix = "pass the cluster's provider (EksCluster.provider) or a k8s.Provider(kubeconfig=...)"
    return [Issue(field, _kind(value), "is not a Kubernetes provider", fix)]


def resources_issues(field: str, value: Any) -> list[Issue]:
    """`value` is a list of resources to depend on (never a single one)."""
    if isinstance(value, str | Mapping) or not isinstance(value, Sequence):
        return [Issue(field, _kind(value), "is not a list of resources", "pass a list, e.g. [resource]")]
    items = cast("Sequence[Any]", value)
    return [
        Issue(f"{field}[{i}]", _kind(item), "is not a resource", "pass Pulumi resources (or Outputs of them)")
        for i, item in enumerate(items)
        if not isinstance(item, pulumi.Resource | pulumi.Output)
    ]


def placement_dict_issues(node_selector: Any, tolerations: Any) -> list[Issue]:
    """A `nodeSelector` and `tolerations` as a chart's values write them (dicts, not Placement)."""
    issues = str_map_issues("node_selector", node_selector, example="{'slipway.dev/pool': 'system'}")
    if isinstance(tolerations, str | Mapping) or not isinstance(tolerations, Sequence):
        fix = "pass a list, e.g. [{'key': 'dedicated', 'operator': 'Exists', 'effect': 'NoSchedule'}]"
        return [*issues, Issue("tolerations", tolerations, "is not a list of tolerations", fix)]
    for i, item in enumerate(cast("Sequence[Any]", tolerations)):
        if not isinstance(item, Mapping):
            fix = "write {'key': ..., 'operator': 'Exists', 'effect': 'NoSchedule'}"
            issues.append(Issue(f"tolerations[{i}]", item, "is not a toleration", fix))
            continue
        t = cast("Mapping[Any, Any]", item)
        for key in t:
            issues += choice_issues(f"tolerations[{i}].{key}", key, TOLERATION_KEYS, "a toleration field")
        if t.get("value") is not None and not isinstance(t.get("value"), str):
            issues.append(Issue(f"tolerations[{i}].value", t.get("value"), "is not a string", "write it as a string"))
        issues += under(f"tolerations[{i}]", toleration_issues(Toleration.from_k8s(t)))
    return issues


def _kind(value: Any) -> Any:
    """A value for an Issue: itself when it reads well, else its type (a resource's repr is an address)."""
    if value is None or isinstance(value, str | int | float | list | tuple | dict):
        return cast("Any", value)
    return Verbatim(f"a {type(value).__name__}")


__all__ = [
    "AWS_REGION",
    "DNS1123_SUBDOMAIN",
    "OIDC_PROVIDER_ARN",
    "TOLERATION_KEYS",
    "bool_issues",
    "input_issues",
    "label_issues",
    "oidc_provider_issues",
    "placement_dict_issues",
    "provider_issues",
    "region_issues",
    "resources_issues",
    "subdomain_issues",
]
