"""`Namespaces`: every namespace slipway uses, created once, labelled for Pod Security.

Several components put objects into namespaces (access bindings, applications,
Argo); creating each namespace in one place avoids two components owning the same
object, and lets everything that lives in a namespace depend on it.

Over time: deleting a namespace deletes everything in it, including objects Pulumi does
not know about; a Namespace is named, so pulumi-kubernetes replaces it delete-first
(only a rename does that). Everything in a namespace depends on it, so it is created
first and deleted last.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

import pulumi
import pulumi_kubernetes as k8s

from slipway.components.common_args import label_issues, provider_issues
from slipway.components.validation import Issue, choice_issues, require_valid, str_list_issues

# Namespaces EKS and Kubernetes own; slipway never creates or adopts them.
SYSTEM_NAMESPACES = frozenset({"default", "kube-system", "kube-public", "kube-node-lease"})
# Pod Security Standards levels (Kubernetes docs, "Pod Security Admission").
POD_SECURITY_LEVELS = ("privileged", "baseline", "restricted")


def namespace_labels(name: str, enforce: str = "baseline") -> dict[str, str]:
    """Pod Security Admission labels: enforce `baseline`, warn and audit on `restricted`.

    `restricted` is what slipway's own workloads meet; enforcing only `baseline`
    keeps third-party charts installable while still surfacing violations.
    """
    return {
        "app.kubernetes.io/managed-by": "slipway",
        "kubernetes.io/metadata.name": name,
        "pod-security.kubernetes.io/enforce": enforce,
        "pod-security.kubernetes.io/warn": "restricted",
        "pod-security.kubernetes.io/audit": "restricted",
    }


@dataclass(frozen=True, kw_only=True)
class NamespacesArgs:
    """Inputs of Namespaces."""

    names: list[str]
    k8s_provider: k8s.Provider
    enforce: dict[str, str] = field(default_factory=dict[str, str])
    """Per-namespace Pod Security level to enforce (default baseline); keys are some of `names`."""


def namespaces_issues(args: NamespacesArgs) -> list[Issue]:
    """Every mistake in a Namespaces's inputs: field, value, problem and fix."""
    issues = str_list_issues("names", args.names, example="payments", allow_empty=True)
    names: list[Any] = [] if issues else list(cast("Sequence[Any]", args.names))
    for i, ns in enumerate(names):
        issues += label_issues(f"names[{i}]", ns)
        if ns in names[:i]:
            issues.append(Issue(f"names[{i}]", ns, f"is listed twice (also names[{names.index(ns)}])", "list it once"))
    issues += provider_issues("k8s_provider", args.k8s_provider)
    if not isinstance(args.enforce, Mapping):
        fix = "pass a dict of namespace → level, e.g. {'payments': 'restricted'}"
        return [*issues, Issue("enforce", args.enforce, "is not a mapping", fix)]
    known = [n for n in names if isinstance(n, str)]
    for ns, level in cast("Mapping[Any, Any]", args.enforce).items():
        if ns not in known:
            fix = f"add {ns!r} to names, or remove it from enforce"
            issues.append(Issue(f"enforce.{ns}", ns, "is not one of names, so no Namespace carries this level", fix))
        issues += choice_issues(f"enforce.{ns}", level, POD_SECURITY_LEVELS, "a Pod Security level")
    return issues


class Namespaces(pulumi.ComponentResource):
    """One Namespace per name (system namespaces are skipped)."""

    resources: dict[str, k8s.core.v1.Namespace]

    def __init__(self, name: str, args: NamespacesArgs, opts: pulumi.ResourceOptions | None = None):
        require_valid(f"Namespaces {name!r}", namespaces_issues(args))
        super().__init__("slipway:namespaces:Namespaces", name, None, opts)
        child = pulumi.ResourceOptions(parent=self, provider=args.k8s_provider)
        self.resources = {
            ns: k8s.core.v1.Namespace(
                f"{name}-{ns}",
                metadata={"name": ns, "labels": namespace_labels(ns, args.enforce.get(ns, "baseline"))},
                opts=child,
            )
            for ns in sorted(set(args.names) - SYSTEM_NAMESPACES)
        }
        self.register_outputs({"names": sorted(self.resources)})
