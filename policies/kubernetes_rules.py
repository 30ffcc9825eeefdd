"""Kubernetes guardrails: pod security, resources, probes, pinned images, namespaces, ALB TLS.

Kubernetes objects look the same offline and in a preview (pulumi-kubernetes sends
the manifest as the resource's properties), so each check reads one shape.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from slipway.policies.base import Props, Violation, as_list, as_mapping, mappings

DEPLOYMENT = "kubernetes:apps/v1:Deployment"
# Argo Rollouts' Deployment with a canary or blue-green strategy: `spec.template` is a pod
# template like a Deployment's, or absent when `spec.workloadRef` names the Deployment that
# holds it (argoproj/argo-rollouts@v1.9.0 docs/migrating.md); that Deployment is checked itself.
ROLLOUT = "kubernetes:argoproj.io/v1alpha1:Rollout"
WORKLOADS = frozenset({
    DEPLOYMENT, "kubernetes:apps/v1:StatefulSet", "kubernetes:apps/v1:DaemonSet",
    "kubernetes:apps/v1:ReplicaSet", "kubernetes:batch/v1:Job", "kubernetes:batch/v1:CronJob",
    "kubernetes:core/v1:Pod", ROLLOUT,
})  # fmt: skip
LONG_RUNNING = frozenset({DEPLOYMENT, "kubernetes:apps/v1:StatefulSet", "kubernetes:apps/v1:DaemonSet", ROLLOUT})
CLUSTER_SCOPED_KINDS = frozenset({
    "Namespace", "ClusterRole", "ClusterRoleBinding", "CustomResourceDefinition", "StorageClass",
    "PersistentVolume", "PriorityClass", "IngressClass", "ValidatingWebhookConfiguration",
    "MutatingWebhookConfiguration", "APIService", "Node", "CSIDriver", "RuntimeClass",
    # Karpenter's (scope: Cluster in karpenter.sh_nodepools.yaml / karpenter.k8s.aws_ec2nodeclasses.yaml)
    "NodePool", "NodeClaim", "EC2NodeClass",
})  # fmt: skip
# Namespaces where EKS and chart-installed system components live (their manifests are not ours).
SYSTEM_NAMESPACES = frozenset({"kube-system", "kube-public", "kube-node-lease"})


def pod_spec(type_: str, props: Props) -> Mapping[str, Any] | None:
    """The pod template's spec of a workload (or a Pod's own spec); None for a Rollout that
    takes its template from a Deployment (`workloadRef`)."""
    spec = as_mapping(props.get("spec"))
    if type_ == "kubernetes:core/v1:Pod":
        return spec
    if type_ == "kubernetes:batch/v1:CronJob":
        spec = as_mapping(as_mapping(spec.get("jobTemplate")).get("spec"))
    return as_mapping(as_mapping(spec.get("template")).get("spec")) or None


def _containers(type_: str, props: Props, init: bool = True) -> Iterator[Mapping[str, Any]]:
    """The containers of a workload's pod (with its init containers unless `init` is false)."""
    spec = as_mapping(pod_spec(type_, props))
    yield from mappings(spec.get("containers"))
    if init:
        yield from mappings(spec.get("initContainers"))


def check_pod_security(type_: str, props: Props, config: Mapping, options: Mapping) -> Iterable[Violation]:
    spec = as_mapping(pod_spec(type_, props))
    pod = as_mapping(spec.get("securityContext"))
    for key in ("hostNetwork", "hostPID", "hostIPC"):
        if spec.get(key) is True:
            yield Violation(f"the pod uses {key}", f"remove {key}: pods must not share the node's namespaces")
    for c in _containers(type_, props):
        sc = as_mapping(c.get("securityContext"))
        name = c.get("name", "?")
        problems = []
        if sc.get("runAsNonRoot", pod.get("runAsNonRoot")) is not True:
            problems.append("runAsNonRoot is not true")
        if sc.get("readOnlyRootFilesystem") is not True:
            problems.append("readOnlyRootFilesystem is not true")
        if sc.get("allowPrivilegeEscalation") is not False:
            problems.append("allowPrivilegeEscalation is not false")
        if "ALL" not in as_list(as_mapping(sc.get("capabilities")).get("drop")):
            problems.append("capabilities do not drop ALL")
        seccomp = as_mapping(sc.get("seccompProfile") or pod.get("seccompProfile")).get("type")
        if seccomp not in ("RuntimeDefault", "Localhost"):
            problems.append("no seccomp RuntimeDefault profile")
        if sc.get("privileged") is True:
            problems.append("privileged is true")
        if problems:
            yield Violation(f"container {name}: {'; '.join(problems)}",
                            "set the container securityContext (slipway's apps do this by default)")  # fmt: skip


def check_resources(type_: str, props: Props, config: Mapping, options: Mapping) -> Iterable[Violation]:
    for c in _containers(type_, props):
        res = as_mapping(c.get("resources"))
        req, lim = as_mapping(res.get("requests")), as_mapping(res.get("limits"))
        missing = [f"requests.{k}" for k in ("cpu", "memory") if k not in req]
        if "memory" not in lim:
            missing.append("limits.memory")
        if missing:
            yield Violation(f"container {c.get('name', '?')} has no {', '.join(missing)}",
                            "set cpu/memory requests and a memory limit (no CPU limit needed)")  # fmt: skip


def check_probes(type_: str, props: Props, config: Mapping, options: Mapping) -> Iterable[Violation]:
    for c in _containers(type_, props, init=False):  # init containers run to completion: no probes
        missing = [p for p in ("livenessProbe", "readinessProbe") if p not in c]
        if missing:
            yield Violation(f"container {c.get('name', '?')} has no {' or '.join(missing)}",
                            "add probes: readiness keeps it out of the Service until ready, liveness restarts "
                            "it when hung")  # fmt: skip


def _tag(image: str) -> str | None:
    if "@sha256:" in image:
        return "digest"
    last = image.rsplit("/", 1)[-1]
    return last.split(":", 1)[1] if ":" in last else None


def check_images(type_: str, props: Props, config: Mapping, options: Mapping) -> Iterable[Violation]:
    for c in _containers(type_, props):
        image = str(c.get("image", ""))
        if _tag(image) in (None, "latest"):
            yield Violation(f"container {c.get('name', '?')} runs {image or '(no image)'} without a pinned tag",
                            "use a version tag or a digest, never latest (CKV_K8S_14/43)")  # fmt: skip


def check_namespace(type_: str, props: Props, config: Mapping, options: Mapping) -> Iterable[Violation]:
    if type_ == "kubernetes:helm.sh/v3:Release":
        if props.get("namespace", "default") == "default":
            yield Violation("the Helm release installs into the default namespace", "give it a dedicated namespace")
        return
    kind = props.get("kind")
    if not kind or kind in CLUSTER_SCOPED_KINDS or not type_.startswith("kubernetes:"):
        return
    meta = as_mapping(props.get("metadata"))
    ns = meta.get("namespace")
    if ns in (None, "", "default"):
        yield Violation(f"{kind} {meta.get('name', '?')} is in the default namespace",
                        "set metadata.namespace to a dedicated namespace")  # fmt: skip


def _annotations(props: Props) -> Mapping[str, Any]:
    return as_mapping(as_mapping(props.get("metadata")).get("annotations"))


def _annotation(props: Props, key: str) -> Any:
    return _annotations(props).get(f"alb.ingress.kubernetes.io/{key}")


def _is_alb(props: Props) -> bool:
    """Is this Ingress served by the AWS Load Balancer Controller (class name, else the legacy annotation)?"""
    klass = as_mapping(props.get("spec")).get("ingressClassName") or _annotations(props).get(
        "kubernetes.io/ingress.class"
    )
    return klass == "alb"


def check_alb_https(type_: str, props: Props, config: Mapping, options: Mapping) -> Iterable[Violation]:
    if not _is_alb(props):
        return
    if _annotation(props, "scheme") != "internet-facing":
        return  # internal: reported by the advisory rule
    if not _annotation(props, "certificate-arn"):
        yield Violation(
            "an internet-facing ALB Ingress serves plain HTTP (CIS EKS 5.4.5)",
            "add alb.ingress.kubernetes.io/certificate-arn and ssl-redirect: '443'",
        )
    elif str(_annotation(props, "ssl-redirect")) != "443":
        yield Violation("an internet-facing ALB Ingress does not redirect HTTP to HTTPS",
                        "add alb.ingress.kubernetes.io/ssl-redirect: '443'")  # fmt: skip


def check_alb_internal_https(type_: str, props: Props, config: Mapping, options: Mapping) -> Iterable[Violation]:
    if (
        _is_alb(props)
        and _annotation(props, "scheme") != "internet-facing"
        and not _annotation(props, "certificate-arn")
    ):
        yield Violation("an internal ALB Ingress serves plain HTTP",
                        "add an ACM certificate if traffic crosses untrusted networks")  # fmt: skip
