"""What a plan means for a running stack: the hazards a reviewer must see before merge.

Hazards come first in every report, in this order (issue #13):

1. **protected** — a resource the base marks `protect` is deleted or replaced: `pulumi up`
   refuses, and `slipway plan` exits 1;
2. **nodes** — a node group replaced or deleted, or its nodes rolled (a new launch template
   version, a Kubernetes version or AMI release change), with the pods that move (Deployments
   and Helm releases whose `nodeSelector` names the group's pool label);
3. **stateful** — a VPC, subnet, cluster, KMS key, ECR repository or bucket replaced or deleted;
4. **access** — an EKS access entry or policy association deleted or replaced: deleted first,
   access is gone for seconds; deleted, it is gone;
5. **load balancer** — an Ingress replaced, or moved to another ALB group or scheme: its ALB
   is re-created and the DNS name changes;
6. **workload** — an app's Deployment deleted while a Rollout of the same name is created
   (a progressive strategy switched on), or the other way round: another kind is another
   resource, so this is a delete and a create, and the old pods go with the old object;
7. **immutable** — a Kubernetes object replaced because an immutable field changed (a
   Deployment's selector, a Job's template). A rename (a migration Job named after its image
   tag) is a new object by design, not a hazard.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from slipway.cli.plan.model import CREATE, DELETE, REPLACE, SAME, UPDATE, Plan, ResourceChange, label
from slipway.cli.plan.order import NODE_GROUP_TYPES, ROLLING_PATHS, nodes, roll_minutes, rolls
from slipway.cli.plan.values import show
from slipway.components.node_pools import POOL_LABEL

STATEFUL = {
    "aws:ec2/vpc:Vpc": "VPC",
    "aws:ec2/subnet:Subnet": "subnet",
    "eks:index:Cluster": "cluster",
    "aws:eks/cluster:Cluster": "cluster",
    "aws:kms/key:Key": "KMS key",
    "aws:ecr/repository:Repository": "ECR repository",
    "aws:s3/bucket:Bucket": "bucket",
    "aws:s3/bucketV2:BucketV2": "bucket",
}
ACCESS = {
    "aws:eks/accessEntry:AccessEntry": "access entry",
    "aws:eks/accessPolicyAssociation:AccessPolicyAssociation": "access policy",
}
INGRESS = "kubernetes:networking.k8s.io/v1:Ingress"
DEPLOYMENT = "kubernetes:apps/v1:Deployment"
ROLLOUT = "kubernetes:argoproj.io/v1alpha1:Rollout"
_SWITCHED = {DEPLOYMENT: ROLLOUT, ROLLOUT: DEPLOYMENT}
# Annotations that put an Ingress on another ALB (aws-load-balancer-controller IngressGroup docs).
ALB_IDENTITY = ("alb.ingress.kubernetes.io/group.name", "alb.ingress.kubernetes.io/scheme")
_RENAME = ("metadata.name", "metadata.namespace")


@dataclass(frozen=True)
class Hazard:
    """Something in the plan a reviewer must see before merge; `blocking` ones fail the plan."""

    kind: str  # protected | nodes | stateful | access | load-balancer | workload | immutable
    title: str
    urn: str
    resource: str
    detail: str
    blocking: bool = False

    def as_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "kind": self.kind,
            "title": self.title,
            "urn": self.urn,
            "resource": self.resource,
            "detail": self.detail,
            "blocking": self.blocking,
        }


def _k8s_name(record: Mapping[str, Any]) -> str:
    meta = (record.get("inputs") or {}).get("metadata") or {}
    return "/".join(str(p) for p in (meta.get("namespace"), meta.get("name")) if p) or record.get("name", "")


def pods_on(records: list[dict[str, Any]], group: Mapping[str, Any]) -> list[str]:
    """The workloads whose pods run on `group`'s pool: Deployments, StatefulSets and Rollouts whose pod
    `nodeSelector` names its pool label, and Helm releases whose values do."""
    pool = ((group.get("inputs") or {}).get("labels") or {}).get(POOL_LABEL)
    if not pool:
        return []
    found: list[str] = []
    for r in records:
        inputs = r.get("inputs") or {}
        if r["type"] in (DEPLOYMENT, "kubernetes:apps/v1:StatefulSet", ROLLOUT):
            selector = (((inputs.get("spec") or {}).get("template") or {}).get("spec") or {}).get("nodeSelector") or {}
            if selector.get(POOL_LABEL) == pool:
                found.append(f"{r['type'].split(':')[-1]} {_k8s_name(r)}")
        elif r["type"].startswith("kubernetes:helm.sh/") and any(
            s.get(POOL_LABEL) == pool for s in _selectors(inputs.get("values"))
        ):
            found.append(f"Helm release {inputs.get('name') or r['name']}")
    return sorted(found)


def _selectors(value: Any) -> Iterator[dict[str, Any]]:
    if isinstance(value, dict):
        for key, sub in value.items():
            if key == "nodeSelector" and isinstance(sub, dict):
                yield sub
            yield from _selectors(sub)
    elif isinstance(value, list):
        for sub in value:
            yield from _selectors(sub)


def hazards(plan: Plan) -> list[Hazard]:
    """The plan's hazards, most serious first (see the module docstring)."""
    found: list[Hazard] = _canary_switches(plan)
    for c in plan.changes:
        if c.action in (SAME, CREATE):
            continue
        found += _hazards_of(c, plan)
    rank = ["protected", "nodes", "stateful", "access", "load-balancer", "workload", "immutable"]
    return sorted(found, key=lambda h: (rank.index(h.kind), h.urn))


def _hazards_of(c: ResourceChange, plan: Plan) -> list[Hazard]:
    """Every hazard one change raises (one rule per kind). A delete of a resource with
    `retainOnDelete` only drops it from the state: nothing happens to it in the cloud."""
    if c.action == DELETE and c.retained:
        return []
    rules = (_protected, _node_group, _stateful, _access, _load_balancer, _switched_kind, _immutable)
    return [h for rule in rules for h in rule(c, plan)]


def _hazard(kind: str, title: str, c: ResourceChange, detail: str, blocking: bool = False) -> list[Hazard]:
    return [Hazard(kind, title, c.urn, label(c), detail, blocking)]


def _why(c: ResourceChange) -> str:
    return f"forced by {', '.join(c.reasons)}" if c.reasons else ""


def _protected(c: ResourceChange, plan: Plan) -> list[Hazard]:
    if not (c.protected and c.action in (DELETE, REPLACE)):
        return []
    why = f"; {_why(c)}" if c.reasons else ""
    detail = f"`protect` is set on it, so `pulumi up` refuses{why}. If this is meant, remove `protect` first, alone."
    return _hazard("protected", f"protected resource {_gone(c)}", c, detail, blocking=True)


def _gone(c: ResourceChange) -> str:
    return "deleted" if c.action == DELETE else "replaced"


def _node_group(c: ResourceChange, plan: Plan) -> list[Hazard]:
    if not (c.type in NODE_GROUP_TYPES and c.action in (DELETE, REPLACE) or rolls(c)):
        return []
    record = c.record
    moving = pods_on(plan.base if c.action == DELETE else plan.head, record)
    pods = f"; pods that move: {', '.join(moving)}" if moving else ""
    if c.action == DELETE:
        return _hazard("nodes", "node group deleted", c, f"its {nodes(record)} nodes are drained and terminated{pods}")
    if c.action == REPLACE:
        how = (
            "the old group is deleted first: no nodes until the new one is up"
            if c.delete_before_replace
            else "a new group is created, the old one drained and deleted at the end"
        )
        count = f"{nodes(c.base or record)} nodes now, {nodes(record)} in the new group"
        return _hazard("nodes", "node group replaced", c, f"{_why(c)}; {count}: {how}{pods}")
    causes = ", ".join(_roll_cause(p, plan) for p in c.changes if p.path.split(".")[0].split("[")[0] in ROLLING_PATHS)
    detail = f"{causes}: EKS replaces the {nodes(record)} nodes a batch at a time (~{roll_minutes(record):g} min){pods}"
    return _hazard("nodes", "node group rolls", c, detail)


def _stateful(c: ResourceChange, plan: Plan) -> list[Hazard]:
    if not (c.type in STATEFUL and c.action in (DELETE, REPLACE)):
        return []
    first = "deleted before its replacement is created" if c.delete_before_replace else ""
    detail = "; ".join(x for x in (_why(c), first) if x) or "removed from the program"
    return _hazard("stateful", f"{STATEFUL[c.type]} {_gone(c)}", c, detail)


def _access(c: ResourceChange, plan: Plan) -> list[Hazard]:
    if not (c.type in ACCESS and c.action in (DELETE, REPLACE)):
        return []
    inputs = c.record.get("inputs") or {}
    who = f"{inputs.get('principalArn', '?')} ({str(inputs.get('policyArn', 'access entry')).rsplit('/', 1)[-1]})"
    if c.action == DELETE:
        return _hazard("access", "access lost", c, f"{who}: deleted")
    if c.delete_before_replace:
        return _hazard("access", "access gap", c, f"{who}: delete-before-replace: seconds without access ({_why(c)})")
    # REFERENCE.md: the association's id is cluster#principal#policy, so create-before-delete
    # writes the same key and the old one's delete then removes it.
    detail = f"{who}: replaced create-before-delete on the same key, so the old one's delete removes it ({_why(c)})"
    return _hazard("access", "access lost", c, detail)


def _load_balancer(c: ResourceChange, plan: Plan) -> list[Hazard]:
    if c.type != INGRESS:
        return []
    if c.action == REPLACE:
        detail = f"Ingress {_k8s_name(c.record)} replaced ({', '.join(c.reasons)}): its ALB rules are re-created"
        return _hazard("load-balancer", "load balancer re-created", c, detail + "; the DNS name may change")
    moved = [p for p in c.changes if _key(p.path) in ALB_IDENTITY]
    if not moved:
        return []
    shown = "; ".join(f"{_key(p.path)}: {show(p.old)} → {show(p.new)}" for p in moved)
    return _hazard("load-balancer", "ingress group changed", c, f"{shown}: served by another ALB, another DNS name")


def _switched_kind(c: ResourceChange, plan: Plan) -> list[Hazard]:
    """A Deployment deleted while a Rollout with its namespace and name (or pod selector) is
    created, or a Rollout deleted for a Deployment; the old one is deleted, its pods with it,
    at the end of the same update. A Rollout is created without waiting for its pods: a custom
    resource has no readiness to await unless annotated (pulumi/pulumi-kubernetes@v4.32.0
    provider/pkg/metadata/overrides.go `ReadyCondition`); a Deployment's are awaited."""
    if c.action != DELETE or c.type not in _SWITCHED:
        return []
    old = c.record
    new = next((o.record for o in plan.changes if o.action == CREATE and o.type == _SWITCHED[c.type]
                and _same_app(old, o.record)), None)  # fmt: skip
    if new is None:
        return []
    was, now = c.type.rsplit(":", 1)[-1], _SWITCHED[c.type].rsplit(":", 1)[-1]
    if c.type == DEPLOYMENT:
        gone = (
            f"{_k8s_name(old)}: Deployment replaced by a Rollout — another kind is another object: `pulumi up` "
            "creates the Rollout without waiting for its pods and deletes the Deployment, its pods with it, "
            "before the Rollout's are ready: requests fail in between"
        )
        # argoproj/argo-rollouts@v1.9.0 docs/migrating.md, "Reference Deployment From Rollout" and
        # "Running Rollout and Deployment side-by-side".
        safe = (
            "without downtime (Argo Rollouts docs/migrating.md), keep the Deployment in this update: either point "
            "the Rollout at it, `workloadRef: {apiVersion: apps/v1, kind: Deployment, "
            f"name: {_meta(old, 'name')}, scaleDown: progressively}}` (the Deployment stays as the pod template and "
            "is scaled down as the Rollout's pods become ready), or run a full Rollout beside it (twice the pods "
            "for a while) and remove the Deployment in a later update, once `kubectl argo rollouts status "
            f"{_meta(new, 'name')} -n {_meta(new, 'namespace')}` reports Healthy"
        )
    else:
        # The controller pins the Services it switches to its pods (`rollouts-pod-template-hash`,
        # rollout/service.go) and removes that selector only once no Rollout references the
        # Service (service/service.go syncService): after the foreground delete of its pods.
        gone = (
            f"{_k8s_name(old)}: Rollout replaced by a Deployment — another kind is another object: `pulumi up` "
            "waits for the Deployment's pods, then deletes the Rollout and its pods; a Service the Rollout "
            "switched (blue-green, canary with traffic routing) selects only the Rollout's pods until it is gone: "
            "no endpoints in between"
        )
        safe = (  # docs/migrating.md, "Migrating to Deployments"
            "without downtime (Argo Rollouts docs/migrating.md): first add the Deployment beside the Rollout "
            "and point the Service at both, then remove the Rollout in a later update"
        )
    return _hazard("workload", f"{was} replaced by a {now}", c, f"{gone}; {safe}")


def _meta(record: Mapping[str, Any], key: str) -> str:
    return str(((record.get("inputs") or {}).get("metadata") or {}).get(key, "?"))


def _same_app(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    """Same namespace, and the same name or the same pod selector."""
    if _meta(a, "namespace") != _meta(b, "namespace"):
        return False

    def selector(r: Mapping[str, Any]) -> Any:
        return (((r.get("inputs") or {}).get("spec") or {}).get("selector") or {}).get("matchLabels")

    return _meta(a, "name") == _meta(b, "name") or (selector(a) is not None and selector(a) == selector(b))


def _immutable(c: ResourceChange, plan: Plan) -> list[Hazard]:
    own = [r for r in c.reasons if not r.startswith("provider ")]
    if not (c.action == REPLACE and own and c.type.startswith("kubernetes:")) or c.type == INGRESS:
        return []
    if c.type.startswith("kubernetes:helm.sh/") or set(own) & set(_RENAME):
        return []  # a renamed object is a new one (a migration Job named after its tag), by design
    down = "; deleted first: down until the new one is ready" if c.delete_before_replace else ""
    detail = f"{c.type.split(':')[-1]} {_k8s_name(c.record)}: immutable {', '.join(own)} changed{down}"
    return _hazard("immutable", "Kubernetes object replaced", c, detail)


def _key(path: str) -> str:
    """The last key of a path: `metadata.annotations["a/b"]` → `a/b`."""
    last = path.rsplit("[", 1)[-1].rstrip("]")
    return json.loads(last) if last.startswith('"') else path.rsplit(".", 1)[-1]


def _roll_cause(p: Any, plan: Plan) -> str:
    if p.kind == "computed":
        lt = next((c for c in plan.changes if c.urn == p.cause), None)
        changed = sorted({q.split(".")[0].split("[")[0] for q in lt.paths}) if lt else []
        return f"new launch template version ({', '.join(changed)} changed)"
    return f"{p.path}: {show(p.old)} → {show(p.new)}"


def _uses_annotation(record: Mapping[str, Any] | None) -> bool:
    """An Ingress with a backend on port `use-annotation` (the ALB action a canary Rollout writes)."""
    rules = (((record or {}).get("inputs") or {}).get("spec") or {}).get("rules") or []
    return any(
        ((p.get("backend") or {}).get("service") or {}).get("port", {}).get("name") == "use-annotation"
        for r in rules for p in ((r.get("http") or {}).get("paths") or [])
    )  # fmt: skip


def _canary_switches(plan: Plan) -> list[Hazard]:
    """A canary's Rollout and its Ingress, as `pulumi up` will order them.

    Argo refuses a canary until its Ingress exists (argo-rollouts@v1.9.0 rollout/controller.go
    getReferencedIngresses), and writes the ALB action only once the Rollout's ReplicaSet is fully
    available (rollout/trafficrouting.go). So an existing Ingress moved to `use-annotation` next
    to a new Rollout that is not awaited answers 503 until then; and a new canary whose Rollout is
    awaited (`switchFromDeployment`) waits for an Ingress that comes after it: a timeout.
    """
    found: list[Hazard] = []
    for c in plan.changes:
        if c.type != ROLLOUT or c.action != CREATE or not _uses_annotation_rollout(c.record):
            continue
        awaited = "pulumi.com/waitFor" in ((c.record.get("inputs") or {}).get("metadata") or {}).get("annotations", {})
        ingress = next((o for o in plan.changes if o.type == INGRESS and _same_app(o.record, c.record)), None)
        if ingress is None:
            continue
        if ingress.action == UPDATE and _uses_annotation(ingress.head) and not _uses_annotation(ingress.base):
            if not awaited:
                found += _hazard("workload", "canary switch: the ALB answers 503 until the Rollout's pods are up",
                                 ingress, f"{_k8s_name(ingress.record)}: moves to the ALB action the new Rollout "
                                 "writes only once its pods are all available — set "
                                 "strategy.canary.switchFromDeployment: true for this update (pulumi up then waits "
                                 "for the Rollout before moving the Ingress)")  # fmt: skip
        elif ingress.action == CREATE and awaited:
            found += _hazard("workload", "new canary awaited before its Ingress exists", c,
                             f"{_k8s_name(c.record)}: Argo refuses a canary until its Ingress exists, and the "
                             "Ingress comes after the awaited Rollout: pulumi up would time out — remove "
                             "strategy.canary.switchFromDeployment (it is for switching a serving app)",
                             blocking=True)  # fmt: skip
    return found


def _uses_annotation_rollout(record: Mapping[str, Any]) -> bool:
    """A Rollout whose canary routes ALB traffic (trafficRouting.alb)."""
    canary = (((record.get("inputs") or {}).get("spec") or {}).get("strategy") or {}).get("canary") or {}
    return "alb" in (canary.get("trafficRouting") or {})
