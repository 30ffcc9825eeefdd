"""The order `pulumi up` follows for a plan, and how long it takes along the critical path.

The engine walks the head program's dependency graph: a resource is created, updated or
replaced as soon as everything it waits for is done, so independent chains run in parallel.
Deletes come last, in reverse dependency order (dependents first): resources gone from the
program and the old halves of create-before-delete replacements. A delete-before-replace
replacement deletes the old resource right before it creates the new one, inside the walk.

Durations are typical, not promised; each names its basis. Sources:

- [ref] /work/shared/REFERENCE.md, "Typical creation times": EKS control plane 9–16 min,
  managed node group ~2 min, NAT gateway ~1.5–2 min, ALB ~2.5 min.
- [eks-create] https://docs.aws.amazon.com/eks/latest/userguide/create-cluster.html
- [eks-upgrade] https://docs.aws.amazon.com/eks/latest/userguide/update-cluster.html — a minor
  version upgrade replaces the control plane's API servers one by one; ~25 min is typical.
- [mng-update] https://docs.aws.amazon.com/eks/latest/userguide/managed-node-update-behavior.html
  — a rolling update launches a new node, drains and terminates an old one, `maxUnavailable`
  (default 1) at a time: ~4 min per batch of nodes.
- [k8s-await] pulumi-kubernetes waits for readiness: an Ingress until its
  `.status.loadBalancer` is set (the ALB exists, [ref] ~2.5 min), a Deployment until its rollout
  completes, a Helm release (unless `skipAwait`) until its resources are ready (~1–3 min), a Job
  until it completes (https://www.pulumi.com/registry/packages/kubernetes/api-docs/networking/v1/ingress/).
Anything else is an API call of seconds (counted as 0.1 min).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from slipway.cli.plan.graph import dependency_map, reported, topological
from slipway.cli.plan.model import CREATE, DELETE, REPLACE, UPDATE, Plan, ResourceChange

NODE_GROUP_TYPES = frozenset({"eks:index:ManagedNodeGroup", "aws:eks/nodeGroup:NodeGroup"})
# Changes that make EKS replace a node group's nodes in place (UpdateNodegroupVersion):
# terraform-provider-aws internal/service/eks/node_group.go, resourceNodeGroupUpdate
# (`launch_template`, `release_version`, `version`); [mng-update] for what EKS then does.
ROLLING_PATHS = ("launchTemplate", "releaseVersion", "version")
MINUTES_PER_NODE_BATCH = 4.0  # [mng-update]
API_CALL = 0.1

# (create, update, delete) minutes and their basis, per type.
_TYPICAL: dict[str, tuple[float, float, float, str]] = {
    "eks:index:Cluster": (12.0, 5.0, 10.0, "EKS control plane 9–16 min [ref, eks-create]"),
    "aws:eks/cluster:Cluster": (12.0, 5.0, 10.0, "EKS control plane 9–16 min [ref, eks-create]"),
    "eks:index:ManagedNodeGroup": (2.5, 0.5, 5.0, "managed node group ~2–3 min [ref]"),
    "aws:eks/nodeGroup:NodeGroup": (2.5, 0.5, 5.0, "managed node group ~2–3 min [ref]"),
    "aws:ec2/natGateway:NatGateway": (2.0, API_CALL, 1.0, "NAT gateway ~1.5–2 min [ref]"),
    "kubernetes:networking.k8s.io/v1:Ingress": (2.5, 0.5, 1.0, "ALB ~2.5 min [ref, k8s-await]"),
    "kubernetes:helm.sh/v3:Release": (2.0, 2.0, 0.5, "Helm release waits ~1–3 min [k8s-await]"),
    "kubernetes:helm.sh/v4:Chart": (2.0, 2.0, 0.5, "Helm chart waits ~1–3 min [k8s-await]"),
    "kubernetes:apps/v1:Deployment": (1.0, 1.0, API_CALL, "rollout awaited ~1 min [k8s-await]"),
    "kubernetes:apps/v1:StatefulSet": (2.0, 2.0, API_CALL, "rollout awaited ~2 min [k8s-await]"),
    "kubernetes:batch/v1:Job": (1.0, 1.0, API_CALL, "job awaited ~1 min [k8s-await]"),
    "aws:eks/addon:Addon": (1.5, 1.0, 1.0, "EKS add-on becomes ACTIVE ~1–2 min"),
}
CLUSTER_UPGRADE = 25.0  # [eks-upgrade]


def nodes(record: Mapping[str, Any]) -> int:
    """How many nodes a node group runs (desired, else minimum size; 1 if unknown)."""
    scaling = (record.get("inputs") or {}).get("scalingConfig") or {}
    return int(scaling.get("desiredSize") or scaling.get("minSize") or 1)


def batch_size(record: Mapping[str, Any]) -> int:
    """How many nodes EKS replaces at once in a rolling update (`updateConfig`, default 1)."""
    update = (record.get("inputs") or {}).get("updateConfig") or {}
    if update.get("maxUnavailable"):
        return int(update["maxUnavailable"])
    if update.get("maxUnavailablePercentage"):
        return max(1, nodes(record) * int(update["maxUnavailablePercentage"]) // 100)
    return 1


def rolls(change: ResourceChange) -> bool:
    """Whether this update replaces a node group's nodes (a new launch template version, a
    Kubernetes version or AMI release change)."""
    return (
        change.type in NODE_GROUP_TYPES
        and change.action == UPDATE
        and any(p.split(".")[0].split("[")[0] in ROLLING_PATHS for p in change.paths)
    )


def roll_minutes(record: Mapping[str, Any]) -> float:
    """A rolling update's duration: batches of `maxUnavailable` nodes, ~4 min each [mng-update]."""
    return math.ceil(nodes(record) / batch_size(record)) * MINUTES_PER_NODE_BATCH


@dataclass(frozen=True)
class Estimate:
    """A step's typical duration and where the number comes from."""

    minutes: float
    basis: str


def estimate(change: ResourceChange, part: str) -> Estimate:
    """How long `part` ("create", "update" or "delete") of `change` typically takes."""
    record = change.record
    create, update, delete, basis = _TYPICAL.get(change.type, (API_CALL, API_CALL, API_CALL, "API call, seconds"))
    if change.type.startswith("kubernetes:helm.sh/") and (record.get("inputs") or {}).get("skipAwait"):
        create = update = API_CALL
        basis = "Helm release, skipAwait"
    if part == "create":
        return Estimate(create, basis)
    if part == "delete":
        return Estimate(delete, basis)
    if change.paths and all(p.split(".")[0].split("[")[0] in ("tags", "tagsAll") for p in change.paths):
        return Estimate(API_CALL, "tags only: API call, seconds")
    if rolls(change):
        n, b = nodes(record), batch_size(record)
        return Estimate(roll_minutes(record), f"{n} nodes rolled {b} at a time, ~4 min each [mng-update]")
    if change.type in ("eks:index:Cluster", "aws:eks/cluster:Cluster") and "version" in change.paths:
        return Estimate(CLUSTER_UPGRADE, "control plane version upgrade ~25 min [eks-upgrade]")
    return Estimate(update, basis)


@dataclass
class Step:
    """One thing the engine does: create, update, replace (delete-first included) or delete."""

    urn: str
    name: str
    type: str
    action: str  # create | update | replace | delete | delete-replaced
    minutes: float
    basis: str
    start: float = 0.0
    finish: float = 0.0
    wave: int = 0
    critical: bool = False
    delete_first: bool = False
    """A replacement that deletes the old resource before it creates the new one."""

    def as_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "urn": self.urn,
            "name": self.name,
            "type": self.type,
            "action": self.action,
            "minutes": round(self.minutes, 2),
            "basis": self.basis,
            "start": round(self.start, 2),
            "finish": round(self.finish, 2),
            "wave": self.wave,
            "critical": self.critical,
            "deleteFirst": self.delete_first,
        }


@dataclass
class Schedule:
    """The steps of `pulumi up` in order (the dependency walk, then the deletes), the critical
    chain through them, and the estimated wall time."""

    steps: list[Step]
    critical: list[Step]
    apply_minutes: float
    delete_minutes: float
    fresh: bool = False
    parallel: list[tuple[Step, float]] = field(default_factory=list)
    """Steps off the critical chain, with their slack (minutes they could slip without delaying the end)."""

    @property
    def total(self) -> float:
        """Estimated wall time of the whole `pulumi up`, in minutes."""
        return self.apply_minutes + self.delete_minutes

    def as_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "totalMinutes": round(self.total, 1),
            "applyMinutes": round(self.apply_minutes, 1),
            "deleteMinutes": round(self.delete_minutes, 1),
            "fresh": self.fresh,
            "steps": [s.as_dict() for s in self.steps],
            "critical": [s.urn for s in self.critical],
            "parallel": [{"urn": s.urn, "slackMinutes": round(slack, 1)} for s, slack in self.parallel],
        }


def schedule(plan: Plan) -> Schedule:
    """The order and timing of `pulumi up` for `plan`."""
    fresh = not any(reported(r) for r in plan.base)
    apply_steps: dict[str, Step] = {}
    for c in plan.changes:
        if c.action in (CREATE, UPDATE):
            e = estimate(c, "create" if c.action == CREATE else "update")
            apply_steps[c.urn] = Step(c.urn, c.name, c.type, c.action, e.minutes, e.basis)
        elif c.action == REPLACE:
            e = estimate(c, "create")
            minutes, basis = e.minutes, e.basis
            if c.delete_before_replace:
                minutes += estimate(c, "delete").minutes
                basis = "delete first, then create: " + basis
            apply_steps[c.urn] = Step(
                c.urn, c.name, c.type, REPLACE, minutes, basis, delete_first=c.delete_before_replace
            )
    head_deps = dependency_map(plan.head)
    apply_crit, apply_end = _walk(topological(head_deps), head_deps, apply_steps, 0.0)

    delete_steps: dict[str, Step] = {}
    for c in plan.changes:
        old = c.old_urn or c.urn
        if c.action == DELETE or (c.action == REPLACE and not c.delete_before_replace):
            e = estimate(c, "delete")
            action = DELETE if c.action == DELETE else "delete-replaced"
            delete_steps[old] = Step(old, c.name, c.type, action, e.minutes, e.basis)
    base_deps = dependency_map(plan.base)
    dependents: dict[str, set[str]] = {u: set() for u in base_deps}
    for u, ds in base_deps.items():
        for d in ds:
            dependents.setdefault(d, set()).add(u)
    reverse = list(reversed(topological(base_deps)))
    delete_crit, delete_end = _walk(reverse, dependents, delete_steps, apply_end)

    steps = sorted(apply_steps.values(), key=lambda s: (s.start, s.wave, s.urn))
    steps += sorted(delete_steps.values(), key=lambda s: (s.start, s.wave, s.urn))
    critical = apply_crit + delete_crit
    for s in critical:
        s.critical = True
    deleting = ("delete", "delete-replaced")
    parallel = sorted(
        ((s, (delete_end if s.action in deleting else apply_end) - s.finish) for s in steps if not s.critical),
        key=lambda pair: (pair[1], pair[0].urn),
    )
    return Schedule(steps, critical, apply_end, delete_end - apply_end, fresh, parallel)


def _walk(
    order: list[str], waits: Mapping[str, set[str]], steps: Mapping[str, Step], offset: float
) -> tuple[list[Step], float]:
    """Earliest start and finish of each step when every node starts once all it waits for
    have finished (nodes without a step pass through in no time); the critical chain and the end."""
    finish: dict[str, float] = {}
    wave: dict[str, int] = {}
    before: dict[str, str | None] = {}
    for urn in order:
        prior = [d for d in waits.get(urn, ()) if d in finish]
        start = max((finish[d] for d in prior), default=offset)
        before[urn] = max(prior, key=lambda d: (finish[d], d)) if prior else None
        level = max((wave[d] for d in prior), default=0)
        step = steps.get(urn)
        if step is not None:
            step.start, step.finish, step.wave = start, start + step.minutes, level + 1
            finish[urn], wave[urn] = step.finish, level + 1
        else:
            finish[urn], wave[urn] = start, level
    if not steps:
        return [], offset
    last = max(steps.values(), key=lambda s: (s.finish, s.urn))
    chain: list[Step] = []
    node: str | None = last.urn
    while node is not None:
        if node in steps:
            chain.append(steps[node])
        node = before.get(node)
    return list(reversed(chain)), last.finish


__all__ = [
    "NODE_GROUP_TYPES",
    "Estimate",
    "Schedule",
    "Step",
    "batch_size",
    "estimate",
    "nodes",
    "roll_minutes",
    "rolls",
    "schedule",
]
