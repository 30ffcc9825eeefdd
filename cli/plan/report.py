"""What a plan means for a running stack — the hazards — and the plan as a terminal table, a
pull-request comment (Markdown) or JSON.

Hazards come first, in this order (issue #13):

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
6. **immutable** — a Kubernetes object replaced because an immutable field changed (a
   Deployment's selector, a Job's template). A rename (a migration Job named after its image
   tag) is a new object by design, not a hazard.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from slipway.cli.plan.diff import COMPUTED, CREATE, DELETE, REPLACE, SAME, UPDATE, Plan, ResourceChange
from slipway.cli.plan.order import NODE_GROUP_TYPES, ROLLING_PATHS, Schedule, nodes, roll_minutes, rolls, schedule
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
# Annotations that put an Ingress on another ALB (aws-load-balancer-controller IngressGroup docs).
ALB_IDENTITY = ("alb.ingress.kubernetes.io/group.name", "alb.ingress.kubernetes.io/scheme")
_RENAME = ("metadata.name", "metadata.namespace")
# GitHub rejects comments over 65,536 characters; the rest of a comment needs some room.
MARKDOWN_LIMIT = 60000
_SHOWN_CHANGES = 8  # changed paths listed per resource in the table and the comment


@dataclass(frozen=True)
class Hazard:
    """Something in the plan a reviewer must see before merge; `blocking` ones fail the plan."""

    kind: str  # protected | nodes | stateful | access | load-balancer | immutable
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


def label(change: ResourceChange) -> str:
    """`<Type> <name>`, e.g. `ManagedNodeGroup cluster-general`."""
    return f"{change.type.split(':')[-1]} {change.name}"


def _show(value: Any, width: int = 60) -> str:
    text = value if value == COMPUTED else json.dumps(value, sort_keys=True, default=str)
    return text if len(text) <= width else text[: width - 1] + "…"


def _k8s_name(record: Mapping[str, Any]) -> str:
    meta = (record.get("inputs") or {}).get("metadata") or {}
    return "/".join(str(p) for p in (meta.get("namespace"), meta.get("name")) if p) or record.get("name", "")


def pods_on(records: list[dict[str, Any]], group: Mapping[str, Any]) -> list[str]:
    """The workloads whose pods run on `group`'s pool: Deployments and StatefulSets whose pod
    `nodeSelector` names its pool label, and Helm releases whose values do."""
    pool = ((group.get("inputs") or {}).get("labels") or {}).get(POOL_LABEL)
    if not pool:
        return []
    found: list[str] = []
    for r in records:
        inputs = r.get("inputs") or {}
        if r["type"] in ("kubernetes:apps/v1:Deployment", "kubernetes:apps/v1:StatefulSet"):
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
    found: list[Hazard] = []
    for c in plan.changes:
        if c.action in (SAME, CREATE):
            continue
        found += _hazards_of(c, plan)
    rank = ["protected", "nodes", "stateful", "access", "load-balancer", "immutable"]
    return sorted(found, key=lambda h: (rank.index(h.kind), h.urn))


def _hazards_of(c: ResourceChange, plan: Plan) -> list[Hazard]:
    """Every hazard one change raises (one rule per kind). A delete of a resource with
    `retainOnDelete` only drops it from the state: nothing happens to it in the cloud."""
    if c.action == DELETE and c.retained:
        return []
    rules = (_protected, _node_group, _stateful, _access, _load_balancer, _immutable)
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
    shown = "; ".join(f"{_key(p.path)}: {_show(p.old)} → {_show(p.new)}" for p in moved)
    return _hazard("load-balancer", "ingress group changed", c, f"{shown}: served by another ALB, another DNS name")


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
    return f"{p.path}: {_show(p.old)} → {_show(p.new)}"


# ---------------------------------------------------------------------------- the report


@dataclass
class Report:
    """A plan with its hazards and schedule, for one stack and base."""

    stack: str
    base: str
    plan: Plan
    hazards: list[Hazard]
    schedule: Schedule

    @classmethod
    def build(cls, stack: str, base: str, plan: Plan) -> Report:
        """Weigh `plan`: hazards and schedule."""
        return cls(stack, base, plan, hazards(plan), schedule(plan))

    @property
    def exit_code(self) -> int:
        """1 when a blocking hazard (a protected resource deleted or replaced) is in the plan."""
        return 1 if any(h.blocking for h in self.hazards) else 0

    @property
    def verdict(self) -> str:
        """One line: no changes, the hazards by kind, or the count of changes without hazards."""
        if self.plan.empty:
            return "verdict: no changes"
        if not self.hazards:
            n = sum(1 for c in self.plan.changes if c.action != SAME)
            return f"verdict: {n} change{'s' * (n != 1)}, no hazards"
        titles = Counter(h.title for h in self.hazards)
        parts = [f"{n} {plural(t) if n > 1 else t}" for t, n in titles.items()]
        blocked = " — `pulumi up` refuses: protected resources" if self.exit_code else ""
        n = len(self.hazards)
        return f"verdict: {n} hazard{'s' * (n != 1)} — {', '.join(parts)}{blocked}"

    def summary(self) -> str:
        """Counts per action and the estimated time."""
        counts = self.plan.counts()
        first = sum(1 for c in self.plan.of(REPLACE) if c.delete_before_replace)
        parts = [
            f"{counts[CREATE]} to create",
            f"{counts[UPDATE]} to update",
            f"{counts[REPLACE]} to replace" + (f" ({first} delete-first)" if first else ""),
            f"{counts[DELETE]} to delete",
            f"{counts[SAME]} unchanged",
        ]
        if not self.plan.empty:
            what = "fresh stack" if self.schedule.fresh else "`pulumi up`"
            parts.append(f"{minutes(self.schedule.total)} ({what}, critical path)")
        return " · ".join(parts)

    def details(self, change: ResourceChange) -> list[str]:
        """The lines that explain one change: why it is replaced, then the changed paths."""
        lines: list[str] = []
        if change.action == REPLACE:
            lines.append(
                f"forced by {', '.join(change.reasons)}"
                + (" · delete-before-replace" if change.delete_before_replace else "")
            )
        if change.old_urn:
            lines.append(f"alias of {change.old_urn}")
        if change.action == DELETE and change.retained:
            lines.append("retainOnDelete: dropped from the state, left in the cloud")
        for p in change.changes[:_SHOWN_CHANGES]:
            cause = f" (after {p.cause.rsplit('::', 1)[-1]})" if p.kind == "computed" else ""
            lines.append(f"{p.path}: {_show(p.old)} → {_show(p.new)}{cause}")
        if len(change.changes) > _SHOWN_CHANGES:
            lines.append(f"… {len(change.changes) - _SHOWN_CHANGES} more")
        lines += change.notes
        return lines

    def order_lines(self) -> list[str]:
        """The critical chain, what runs beside it, and the steps in order (wave by wave)."""
        sch = self.schedule
        if not sch.steps:
            return []
        chain = " → ".join(f"{s.type.split(':')[-1]} {s.name} ({s.action}, {s.minutes:g} min)" for s in sch.critical)
        lines = [f"critical path ({minutes(sch.total)}): {chain}"]
        if sch.parallel:
            first = sch.parallel[:12]
            shown = ", ".join(f"{s.type.split(':')[-1]} {s.name} ({slack:.0f} min slack)" for s, slack in first)
            more = f", … {len(sch.parallel) - 12} more" if len(sch.parallel) > 12 else ""
            lines.append(f"in parallel with it: {shown}{more}")
        waves: dict[tuple[str, int], list[str]] = {}
        for s in sch.steps:
            phase = "delete" if s.action in ("delete", "delete-replaced") else "apply"
            action = "delete, then create" if s.delete_first else s.action
            waves.setdefault((phase, s.wave), []).append(f"{action} {s.type.split(':')[-1]} {s.name}")
        for i, ((phase, _), names) in enumerate(waves.items(), 1):
            lines.append(f"{i}. {'(deletes, at the end) ' if phase == 'delete' else ''}{', '.join(names)}")
        return lines

    # ------------------------------------------------------------------ formats
    def table(self) -> RenderableType:
        """The terminal report: hazards, summary, details, order and time, verdict.

        Each resource's `<Type> <name>` heads its own line, above what is said of it, so that
        an 80-column terminal wraps the prose, never an identifier."""
        parts: list[RenderableType] = [Text(f"slipway plan {self.stack}: {self.base} → working tree", style="bold")]
        if self.hazards:
            table = Table(title="hazards", title_justify="left", show_lines=True)
            table.add_column("hazard", style="red", max_width=16)
            table.add_column("resource: what happens", ratio=1)
            for h in self.hazards:
                table.add_row(h.title, _headed(h.resource, [h.detail]))
            parts.append(table)
        parts.append(Text(self.summary()))
        changed = [c for c in self.plan.changes if c.action != SAME]
        if changed:
            table = Table(title="changes", title_justify="left")
            table.add_column("action")
            table.add_column("resource: why, changed inputs", ratio=1)
            style = {CREATE: "green", UPDATE: "yellow", REPLACE: "magenta", DELETE: "red"}
            for c in sorted(changed, key=lambda c: (c.action, c.urn)):
                table.add_row(Text(c.action, style=style[c.action]), _headed(label(c), self.details(c)))
            parts.append(table)
            parts += [Text(line) for line in self.order_lines()]
        parts += [Text(f"warning: {w}", style="yellow") for w in self.plan.warnings]
        parts.append(Text(self.verdict, style="bold red" if self.exit_code else "bold"))
        return Group(*parts)

    def markdown(self, limit: int = MARKDOWN_LIMIT) -> str:
        """A pull-request comment: summary, hazards, then the details collapsed; under `limit` characters."""
        head = [
            f"### slipway plan `{self.stack}`",
            "",
            f"**{self.verdict}**",
            "",
            f"{self.summary()} · base: {_md(self.base)}",
            "",
        ]
        if self.hazards:
            head += ["#### Hazards", "", "| hazard | resource | detail |", "|---|---|---|"]
            head += [f"| {h.title} | `{h.resource}` | {_md(h.detail)} |" for h in self.hazards]
            head.append("")
        rows = [
            f"| {c.action} | `{label(c)}` | {'<br>'.join(_md(x) for x in self.details(c))} |"
            for c in sorted(self.plan.changes, key=lambda c: (c.action, c.urn))
            if c.action != SAME
        ]
        listed = self.order_lines()
        steps = [line for line in listed if line[:1].isdigit()]
        order = [f"- {_md(line)}" for line in listed if not line[:1].isdigit()] + [""] * bool(steps)
        order += [_md(line) for line in steps]
        sections = [
            (f"Changes ({len(rows)})", ["| action | resource | why / changed inputs |", "|---|---|---|"], rows),
            (f"Order and time ({minutes(self.schedule.total)})", [], order),
        ]
        text = "\n".join(head)
        for title, header, lines in sections:
            if not lines:
                continue
            opening = f"\n<details><summary>{title}</summary>\n\n" + "".join(h + "\n" for h in header)
            closing = "\n</details>\n"
            body = ""
            for kept, line in enumerate(lines):
                note = f"\n… {len(lines) - kept} more cut to fit GitHub's comment size; run `slipway plan` for all\n"
                if len(text) + len(opening) + len(body) + len(line) + len(note) + len(closing) + 200 > limit:
                    body += note
                    break
                body += line + "\n"
            text += opening + body + closing
        return text

    def as_dict(self) -> dict[str, Any]:
        """The JSON report."""
        return {
            "stack": self.stack,
            "base": self.base,
            "verdict": self.verdict,
            "exitCode": self.exit_code,
            "summary": {**self.plan.counts(), "minutes": round(self.schedule.total, 1)},
            "hazards": [h.as_dict() for h in self.hazards],
            "changes": [c.as_dict() for c in self.plan.changes if c.action != SAME],
            "schedule": self.schedule.as_dict(),
            "warnings": self.plan.warnings,
        }


def plural(title: str) -> str:
    """A hazard title for several: `node group rolls` → `node groups roll`, `ECR repository
    replaced` → `ECR repositories replaced`, `access gap` → `access gaps`."""
    words = title.split()
    verbs = [i for i, w in enumerate(words) if w in ("replaced", "deleted", "re-created", "changed", "rolls", "lost")]
    at = verbs[0] - 1 if verbs else len(words) - 1
    noun = words[at]
    if noun != "access":
        words[at] = noun[:-1] + "ies" if noun.endswith("y") and noun[-2:] != "ey" else noun + "s"
    return " ".join("roll" if w == "rolls" else w for w in words)


def _headed(heading: str, lines: list[str]) -> Text:
    text = Text(heading, style="bold")
    for line in lines:
        text.append("\n  " + line)
    return text


def minutes(value: float) -> str:
    """`~12 min`, or `<1 min`."""
    return f"~{value:.0f} min" if value >= 0.5 else "<1 min"


def _md(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ").replace("<", "&lt;")
