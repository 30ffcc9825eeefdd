"""Platform guardrails: ECR repositories, node pool capacity, data safety, availability."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from slipway.policies.base import Props, Resource, Violation, as_list, as_mapping, get_in, mappings, number
from slipway.policies.kubernetes_rules import DEPLOYMENT, ROLLOUT, SYSTEM_NAMESPACES

ECR_REPOSITORY = frozenset({"aws:ecr/repository:Repository"})
NODE_GROUPS = frozenset({"eks:index:ManagedNodeGroup", "aws:eks/nodeGroup:NodeGroup"})
# Resources whose loss loses data or service: protected (or retained) in prod.
STATEFUL = frozenset({
    "eks:index:Cluster", "aws:eks/cluster:Cluster", "aws:ecr/repository:Repository", "aws:s3/bucket:Bucket",
    "aws:s3/bucketV2:BucketV2", "aws:kms/key:Key",
})  # fmt: skip


def check_ecr(type_: str, props: Props, config: Mapping, options: Mapping) -> Iterable[Violation]:
    if props.get("imageTagMutability") not in ("IMMUTABLE", "IMMUTABLE_WITH_EXCLUSION"):
        yield Violation(
            "image tags are mutable: a tag can silently point to another image (CKV_AWS_51)",
            "set image_tag_mutability='IMMUTABLE'",
        )
    if not as_mapping(props.get("imageScanningConfiguration")).get("scanOnPush"):
        yield Violation("images are not scanned on push (CKV_AWS_163)", "enable scan_on_push")
    if config.get("requireKms") and not any(
        e.get("encryptionType") == "KMS" for e in mappings(props.get("encryptionConfigurations"))
    ):
        yield Violation("the repository is not encrypted with KMS (CKV_AWS_136)", "set encryption_type='KMS'")


def check_node_pool_pods(type_: str, props: Props, config: Mapping, options: Mapping) -> Iterable[Violation]:
    """A pool whose max pods cannot even hold the DaemonSets never runs a workload pod."""
    from slipway.components.capacity.catalog import load_catalog

    catalog = load_catalog()
    daemonsets = int(config.get("daemonsets", 2))
    prefix = bool(config.get("prefixDelegation", False))
    for name in as_list(props.get("instanceTypes")):
        t = catalog.get(str(name))
        if t is not None and t.max_pods(prefix) <= daemonsets:
            yield Violation(f"{name} allows {t.max_pods(prefix)} pods per node and the {daemonsets} DaemonSets take "
                            "them all: workload pods would stay Pending", "use a larger instance type (slipway size "
                            "<stack> shows what fits)")  # fmt: skip


def check_protected(type_: str, props: Props, config: Mapping, options: Mapping) -> Iterable[Violation]:
    if not config.get("requireProtection"):
        return
    if not (options.get("protect") or options.get("retainOnDelete")):
        yield Violation("a stateful production resource is not protected: `pulumi destroy` would delete it",
                        "set protect=True (slipway does in prod) or retain_on_delete=True")  # fmt: skip


def check_ecr_lifecycle(resources: list[Resource], config: Mapping[str, Any]) -> Iterable[tuple[str, Violation]]:
    covered = {str(r.props.get("repository")) for r in resources if r.type == "aws:ecr/lifecyclePolicy:LifecyclePolicy"}
    for r in resources:
        if r.type in ECR_REPOSITORY and str(r.props.get("name")) not in covered:
            yield r.urn, Violation("the repository has no lifecycle policy: images accumulate forever",
                                   "add a LifecyclePolicy (expire untagged, keep the last N tagged)")  # fmt: skip


def _matches(selector: Mapping[str, Any], labels: Mapping[str, Any]) -> bool:
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


def _replicas(spec: Mapping[str, Any], key: str) -> Any:
    """A replica count (1 when unset, as Kubernetes defaults it)."""
    value = spec.get(key)
    return 1 if value is None else value


def _referenced_deployments(resources: list[Resource]) -> set[tuple[Any, Any]]:
    """(namespace, name) of the Deployments a Rollout takes its pods from (`workloadRef`)."""
    return {
        (get_in(r.props, "metadata", "namespace"), get_in(ref, "name"))
        for r in resources
        if r.type == ROLLOUT
        for ref in [get_in(r.props, "spec", "workloadRef")]
        if get_in(ref, "kind") == "Deployment"
    }


def _pod_labels(r: Resource, resources: list[Resource]) -> Mapping[str, Any]:
    """The labels of a workload's pods: its template's, or for a Rollout with `workloadRef`
    the referenced Deployment's (the Rollout copies that template)."""
    spec = as_mapping(r.props.get("spec"))
    ref = as_mapping(spec.get("workloadRef"))
    if r.type == ROLLOUT and ref and "template" not in spec:
        ns = get_in(r.props, "metadata", "namespace")
        for d in resources:
            if (d.type == DEPLOYMENT and get_in(d.props, "metadata", "namespace") == ns
                    and get_in(d.props, "metadata", "name") == ref.get("name")):  # fmt: skip
                return as_mapping(get_in(d.props, "spec", "template", "metadata", "labels"))
        return as_mapping(None)
    return as_mapping(get_in(spec, "template", "metadata", "labels"))


def check_ha(resources: list[Resource], config: Mapping[str, Any]) -> Iterable[tuple[str, Violation]]:
    """In prod: every Deployment and Rollout runs ≥ 2 replicas (or an HPA keeps ≥ 2) and has a PDB.

    A Deployment a Rollout references (`workloadRef`) is left out: the Rollout runs its pods
    and scales it to zero (argoproj/argo-rollouts@v1.9.0 docs/migrating.md), so it is the
    Rollout's replicas and PDB that count.
    """
    if not config.get("requireHighAvailability"):
        return
    pdbs = [r for r in resources if r.type == "kubernetes:policy/v1:PodDisruptionBudget"]
    hpas = [r for r in resources if r.type == "kubernetes:autoscaling/v2:HorizontalPodAutoscaler"]
    referenced = _referenced_deployments(resources)
    for r in resources:
        if r.type not in (DEPLOYMENT, ROLLOUT):
            continue
        meta, spec = as_mapping(r.props.get("metadata")), as_mapping(r.props.get("spec"))
        ns, name = meta.get("namespace"), meta.get("name")
        if ns in SYSTEM_NAMESPACES or (r.type == DEPLOYMENT and (ns, name) in referenced):
            continue
        kind = r.type.rsplit(":", 1)[-1]
        hpa_min = [
            _replicas(as_mapping(h.props.get("spec")), "minReplicas")
            for h in hpas
            if get_in(h.props, "metadata", "namespace") == ns
            and get_in(h.props, "spec", "scaleTargetRef", "name") == name
        ]
        replicas = max([_replicas(spec, "replicas"), *hpa_min])
        if replicas < 2:
            yield (
                r.urn,
                Violation(
                    f"{kind} {ns}/{name} runs {number(replicas)} replica in prod: one node loss is an outage",
                    "run at least 2 replicas (or an HPA with minReplicas ≥ 2)",
                ),
            )
        labels = _pod_labels(r, resources)
        if not any(
            get_in(p.props, "metadata", "namespace") == ns
            and _matches(as_mapping(get_in(p.props, "spec", "selector", "matchLabels")), labels)
            for p in pdbs
        ):
            yield r.urn, Violation(f"{kind} {ns}/{name} has no PodDisruptionBudget in prod: a node drain can "
                                   "evict every replica at once", "add a PDB (maxUnavailable: 1)")  # fmt: skip
