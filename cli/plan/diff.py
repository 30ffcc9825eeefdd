"""The diff of two renders: what `pulumi up` will do to each resource going from the base
render (what runs) to the head render (what the working tree would deploy).

Per URN: **create**, **delete**, **update** (the input paths that differ, old → new, list
items by index, secrets still "[secret]"), **replace** (the changed paths that force it, from
the shipped replacement facts, and whether the old one is deleted first) or no-op.
Components (not custom, not remote) are not reported: the engine does nothing to them.

Two things the renders cannot show by themselves, and this module adds:

- **Values that change on apply.** A replaced resource gets new ids and ARNs, and a launch
  template update gets a new version; the renders show neither (mock ids are hashed from
  names). So, in dependency order, every input of a dependent that carries such a value
  (found by asking the shared mocks what the resource outputs) is marked "(known after
  apply)" and weighed against the facts like any change: a replaced cluster replaces the
  node groups that name it, as `pulumi preview` shows.
- **Aliases.** A head resource whose `aliases` name a base URN is that resource, updated,
  not a delete and a create.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SECRET = "[secret]"
COMPUTED = "(known after apply)"
CREATE, UPDATE, REPLACE, DELETE, SAME = "create", "update", "replace", "delete", "same"
ACTIONS = (CREATE, UPDATE, REPLACE, DELETE, SAME)
_STACK_PREFIX = "pulumi:pulumi:Stack$"

# A launch template update writes a new version only when one of these changes; tags and the
# default-version settings are changed in place (terraform-provider-aws
# internal/service/ec2/ec2_launch_template.go, resourceLaunchTemplateUpdate's `updateKeys`).
LAUNCH_TEMPLATE_VERSIONED = frozenset({
    "blockDeviceMappings", "capacityReservationSpecification", "cpuOptions", "creditSpecification", "description",
    "disableApiStop", "disableApiTermination", "ebsOptimized", "elasticGpuSpecifications",
    "elasticInferenceAccelerator", "enclaveOptions", "hibernationOptions", "iamInstanceProfile", "imageId",
    "instanceInitiatedShutdownBehavior", "instanceMarketOptions", "instanceRequirements", "instanceType", "kernelId",
    "keyName", "licenseSpecifications", "maintenanceOptions", "metadataOptions", "monitoring", "networkInterfaces",
    "placement", "privateDnsNameOptions", "ramDiskId", "securityGroupNames", "tagSpecifications", "userData",
    "vpcSecurityGroupIds",
})  # fmt: skip
LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
CLUSTER_TYPES = frozenset({"eks:index:Cluster", "aws:eks/cluster:Cluster"})
K8S_PROVIDER = "pulumi:providers:kubernetes"


# ---------------------------------------------------------------------------- the model


@dataclass(frozen=True)
class PropertyChange:
    """One changed input: its path (`spec.selector.matchLabels["app"]`, `instanceTypes[0]`),
    the old and new value (None where `kind` is "add" or "remove"), and for a "computed"
    change the URN whose replacement or new version makes it change."""

    path: str
    old: Any
    new: Any
    kind: str  # "add" | "remove" | "change" | "computed"
    cause: str = ""

    def as_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "path": self.path,
            "old": self.old,
            "new": self.new,
            "kind": self.kind,
            **({"cause": self.cause} if self.cause else {}),
        }


@dataclass
class ResourceChange:
    """What `pulumi up` does to one resource (custom or remote), with the evidence."""

    urn: str
    type: str
    name: str
    action: str
    changes: list[PropertyChange] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)
    """For a replace: the changed paths (or causes) that force it."""
    delete_before_replace: bool = False
    protected: bool = False
    """`protect` on the base resource: `pulumi up` refuses to delete or replace it."""
    old_urn: str | None = None
    """The base URN when an alias carried the resource over from another URN."""
    base: dict[str, Any] | None = None
    head: dict[str, Any] | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def record(self) -> dict[str, Any]:
        """The head record, or the base one for a delete."""
        return self.head or self.base or {}

    @property
    def retained(self) -> bool:
        """`retainOnDelete` on the base resource: a delete only drops it from the state."""
        return bool(((self.base or {}).get("options") or {}).get("retainOnDelete"))

    @property
    def paths(self) -> list[str]:
        """The changed input paths."""
        return [c.path for c in self.changes]

    def as_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "urn": self.urn,
            "type": self.type,
            "name": self.name,
            "action": self.action,
            "changes": [c.as_dict() for c in self.changes],
            "reasons": self.reasons,
            "deleteBeforeReplace": self.delete_before_replace,
            "protected": self.protected,
            **({"oldUrn": self.old_urn} if self.old_urn else {}),
            **({"notes": self.notes} if self.notes else {}),
        }


@dataclass
class Plan:
    """Every resource's change between two renders, sorted by URN (no-ops included)."""

    changes: list[ResourceChange]
    base: list[dict[str, Any]]
    head: list[dict[str, Any]]
    warnings: list[str] = field(default_factory=list)

    def of(self, *actions: str) -> list[ResourceChange]:
        """The changes whose action is one of `actions`."""
        return [c for c in self.changes if c.action in actions]

    def counts(self) -> dict[str, int]:
        """How many resources each action touches."""
        return {a: len(self.of(a)) for a in ACTIONS}

    @property
    def empty(self) -> bool:
        """True when `pulumi up` would change nothing."""
        return not any(c.action != SAME for c in self.changes)


class Facts:
    """The replacement facts the diff consults: per-type facts (`TypeFacts` of
    slipway.cli.plan.facts: force_new, delete_before_replace, name_field) and the rule that
    turns changed paths into the ones forcing replacement. Tests pass their own."""

    def __init__(
        self,
        types: Mapping[str, Any],
        reasons: Callable[[str, Sequence[str]], list[str]],
        unknown: tuple[type[BaseException], ...] = (KeyError,),
        conditional: Callable[[str, Sequence[str]], list[tuple[str, str]]] | None = None,
    ):
        """`types` maps a type token to its facts; `reasons(type_, paths)` raises one of `unknown`
        for a type without facts; `conditional(type_, paths)`, if given, names the changed paths
        that replace only under a condition the provider decides at apply time, and why."""
        self.types = types
        self._reasons = reasons
        self._unknown = unknown
        self._conditional = conditional

    @classmethod
    def shipped(cls) -> Facts:
        """The facts shipped with slipway (cli/plan/facts.py and its data)."""
        from slipway.cli.plan import facts

        conditional = getattr(facts, "conditional_reasons", None)
        return cls(facts.load_facts(), facts.replacement_reasons, (facts.UnknownType,), conditional)

    def maybe(self, type_: str, paths: Sequence[str]) -> list[tuple[str, str]]:
        """(path, condition) for changed paths that replace only under a provider-side condition."""
        if self._conditional is None:
            return []
        try:
            return list(self._conditional(type_, list(paths)))
        except self._unknown:
            return []

    def replacement(self, type_: str, paths: Sequence[str]) -> list[str] | None:
        """The paths among `paths` that force a replacement; None for a type without facts."""
        try:
            return list(self._reasons(type_, list(paths)))
        except self._unknown:
            return None

    def delete_first(self, type_: str, head: Mapping[str, Any], base: Mapping[str, Any]) -> bool:
        """Whether the provider deletes the old resource before creating its replacement."""
        facts = self.types.get(type_)
        mode = getattr(facts, "delete_before_replace", "never")
        if mode == "always":
            return True
        if mode == "when-named":  # the bridge: an explicit (not auto-) name would collide
            name_field = getattr(facts, "name_field", None)
            return bool(name_field and get_path(head.get("inputs", {}), name_field))
        if mode == "named-object":
            # pulumi-kubernetes provider.go Diff: delete first when the object is named (not
            # auto-named) and keeps its name and namespace, since the new one would collide.
            meta_new = (head.get("inputs") or {}).get("metadata") or {}
            meta_old = (base.get("inputs") or {}).get("metadata") or {}
            return bool(meta_new.get("name")) and (meta_new.get("name"), meta_new.get("namespace")) == (
                meta_old.get("name"),
                meta_old.get("namespace"),
            )
        return False


# ---------------------------------------------------------------------------- reading renders


def load_render(path: Path) -> list[dict[str, Any]]:
    """The resources of a render: `path` is its folder (holding resources.json) or the file."""
    file = path / "resources.json" if path.is_dir() else path
    data = json.loads(file.read_text())
    if not isinstance(data, list):
        raise ValueError(f"{file} holds no list of resources")
    return data


def reported(record: Mapping[str, Any]) -> bool:
    """Whether the engine acts on this resource itself: custom ones and remote components
    (pulumi-eks's, which stand for the resources they create). Plain components are not."""
    return bool(record.get("custom") or record.get("remote"))


# ---------------------------------------------------------------------------- paths and values

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def join(path: str, key: str | int) -> str:
    """`path` extended by a key or an index, as Pulumi writes property paths."""
    if isinstance(key, int):
        return f"{path}[{key}]"
    if _IDENT.match(key):
        return f"{path}.{key}" if path else key
    return f"{path}[{json.dumps(key)}]"


def get_path(value: Any, path: str) -> Any:
    """The value at a dotted path (`metadata.name`), or None."""
    for part in path.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def _at(value: Any, path: str) -> Any:
    """The value at a path written by `join` (None when absent)."""
    for key in re.findall(r'\.?([A-Za-z_][A-Za-z0-9_]*)|\[(\d+)\]|\[("(?:[^"\\]|\\.)*")\]', path):
        name, index, quoted = key
        if index:
            value = value[int(index)] if isinstance(value, list) and int(index) < len(value) else None
        else:
            value = value.get(json.loads(quoted) if quoted else name) if isinstance(value, dict) else None
    return value


def diff_values(old: Any, new: Any, path: str = "") -> list[PropertyChange]:
    """The leaf-level differences between two input trees; lists are compared item by item."""
    if old == new:
        return []
    if isinstance(old, dict) and isinstance(new, dict) and "$ref" not in old and "$ref" not in new:
        out: list[PropertyChange] = []
        for key in sorted(set(old) | set(new)):
            sub = join(path, key)
            if key not in old:
                out.append(PropertyChange(sub, None, new[key], "add"))
            elif key not in new:
                out.append(PropertyChange(sub, old[key], None, "remove"))
            else:
                out += diff_values(old[key], new[key], sub)
        return out
    if isinstance(old, list) and isinstance(new, list):
        out = []
        for i in range(max(len(old), len(new))):
            sub = join(path, i)
            if i >= len(old):
                out.append(PropertyChange(sub, None, new[i], "add"))
            elif i >= len(new):
                out.append(PropertyChange(sub, old[i], None, "remove"))
            else:
                out += diff_values(old[i], new[i], sub)
        return out
    return [PropertyChange(path or "(inputs)", old, new, "change")]


def _ignored(path: str, ignore: Iterable[str]) -> bool:
    return any(path == p or path.startswith((p + ".", p + "[")) for p in ignore)


def _walk(value: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    yield path, value
    if isinstance(value, dict) and "$ref" not in value:
        for key, sub in value.items():
            yield from _walk(sub, join(path, key))
    elif isinstance(value, list):
        for i, sub in enumerate(value):
            yield from _walk(sub, join(path, i))


# ---------------------------------------------------------------------------- URNs and the graph


def _norm(urn: str) -> str:
    """A URN without the root Stack in its type chain (the mock monitor writes it for top-level
    components, the engine does not), so an alias computed either way finds its resource."""
    parts = urn.split("::", 3)
    if len(parts) == 4 and parts[2].startswith(_STACK_PREFIX):
        parts[2] = parts[2][len(_STACK_PREFIX) :]
    return "::".join(parts)


def alias_urns(record: Mapping[str, Any]) -> list[str]:
    """The URNs a record's `aliases` option names (a URN, or a spec of name/type/parent/stack/project)."""
    parts = record["urn"].split("::", 3)
    stack, project = parts[0].removeprefix("urn:pulumi:"), parts[1]
    out: list[str] = []
    for alias in (record.get("options") or {}).get("aliases") or []:
        if isinstance(alias, str):
            out.append(_norm(alias))
            continue
        if alias.get("urn"):
            out.append(_norm(alias["urn"]))
            continue
        parent = "" if alias.get("noParent") else alias.get("parentUrn") or alias.get("parent") or record.get("parent")
        chain = parent.split("::", 3)[2] if parent and parent.count("::") >= 3 else ""
        chain = "" if chain == "pulumi:pulumi:Stack" else chain.removeprefix(_STACK_PREFIX)
        type_ = alias.get("type") or record["type"]
        qualified = f"{chain}${type_}" if chain else type_
        out.append(
            f"urn:pulumi:{alias.get('stack', stack)}::{alias.get('project', project)}::{qualified}::"
            f"{alias.get('name', record['name'])}"
        )
    return out


def refs(value: Any) -> set[str]:
    """The URNs `value` refers to as `{"$ref": urn}` (see slipway.testing.refs)."""
    from slipway.testing import refs as testing_refs

    return testing_refs(value)


def dependency_map(records: Sequence[Mapping[str, Any]]) -> dict[str, set[str]]:
    """For each reported resource, the reported resources it waits for: its `dependencies`,
    the resources its inputs `$ref`, its provider, and a component among those stands for
    every reported resource in its subtree (the engine waits for a component's children)."""
    by_urn = {r["urn"]: r for r in records}
    children: dict[str, list[str]] = {}
    for r in records:
        children.setdefault(r.get("parent") or "", []).append(r["urn"])
    providers: dict[str, list[str]] = {}
    for r in records:
        if r["type"].startswith("pulumi:providers:"):
            providers.setdefault(r["name"], []).append(r["urn"])

    def expand(urn: str) -> set[str]:
        record = by_urn.get(urn)
        if record is None:
            return set()
        if reported(record):
            return {urn}
        out: set[str] = set()
        for child in children.get(urn, []):
            out |= expand(child)
        return out

    deps: dict[str, set[str]] = {}
    for r in records:
        if not reported(r):
            continue
        direct = set(r.get("dependencies") or []) | refs(r.get("inputs"))
        provider = (r.get("options") or {}).get("provider")
        if isinstance(provider, str) and provider:
            direct |= {_provider_urn(provider)} if provider.startswith("urn:") else set(providers.get(provider, []))
        deps[r["urn"]] = set().union(*(expand(d) for d in direct)) - {r["urn"]} if direct else set()
    return deps


def _provider_urn(ref: str) -> str:
    """A provider reference `<urn>::<id>` without its id."""
    return ref.rsplit("::", 1)[0] if ref.count("::") >= 4 else ref


def topological(deps: Mapping[str, set[str]]) -> list[str]:
    """The URNs in an order where each comes after everything it waits for (ties by URN)."""
    import heapq

    waiting = {u: {d for d in ds if d in deps} for u, ds in deps.items()}
    dependents: dict[str, list[str]] = {}
    for u, ds in waiting.items():
        for d in ds:
            dependents.setdefault(d, []).append(u)
    ready = [u for u, ds in waiting.items() if not ds]
    heapq.heapify(ready)
    order: list[str] = []
    while ready:
        u = heapq.heappop(ready)
        order.append(u)
        for v in dependents.get(u, []):
            waiting[v].discard(u)
            if not waiting[v]:
                heapq.heappush(ready, v)
    return order + sorted(set(deps) - set(order))  # a cycle (never rendered) keeps its members, last


# ---------------------------------------------------------------------------- values that change on apply


def _region(records: Sequence[Mapping[str, Any]]) -> str:
    text = json.dumps([r.get("inputs") for r in records[:200]])
    found = re.search(r"arn:aws:[a-z0-9-]+:([a-z]{2}-[a-z]+-\d):", text)
    return found.group(1) if found else "us-east-1"


def replaced_values(record: Mapping[str, Any], region: str) -> set[str]:
    """The values a new copy of `record` gets that the old one had different: its id and the
    outputs the provider computes (ARNs, endpoints, auto-names), as slipway's mocks give them.
    Values that merely echo an input (an explicit name) stay, so they are left out."""
    import pulumi

    from slipway.testing.mocks import SlipwayMocks

    inputs = dict(record.get("inputs") or {})
    try:
        rid, outputs = SlipwayMocks(region=region).new_resource(
            pulumi.runtime.MockResourceArgs(record["type"], record["name"], inputs, custom=bool(record.get("custom")))
        )
    except Exception:  # a type the mocks do not model: nothing to trace
        return set()
    echoed = {v for _, v in _walk(inputs) if isinstance(v, str)}
    found = {rid} | {v for k, v in outputs.items() if k not in inputs and isinstance(v, str)}
    return {v for v in found if isinstance(v, str) and len(v) >= 8 and v not in echoed and v != SECRET}


def _paths_carrying(inputs: Any, needles: set[str], urns: set[str]) -> list[str]:
    """Input paths whose value is one of `needles`, contains one (an ARN in a JSON policy), or
    refers to one of `urns`."""
    long = [n for n in needles if len(n) >= 12]
    out: list[str] = []
    for path, value in _walk(inputs):
        referred = isinstance(value, dict) and value.get("$ref") in urns
        carried = isinstance(value, str) and (value in needles or any(n in value for n in long))
        if referred or carried:
            out.append(path or "(inputs)")
    return out


# ---------------------------------------------------------------------------- the diff


def diff_renders(base: Sequence[dict[str, Any]], head: Sequence[dict[str, Any]], facts: Facts | None = None) -> Plan:
    """The plan from `base` to `head` (resources.json lists), weighed against `facts`
    (default: the shipped ones)."""
    facts = facts or Facts.shipped()
    base_by = {r["urn"]: r for r in base}
    base_norm = {_norm(u): u for u in base_by}
    head_by = {r["urn"]: r for r in head}
    pairs: dict[str, str] = {u: u for u in head_by if u in base_by}
    for urn, r in sorted(head_by.items()):
        if urn in pairs:
            continue
        for alias in alias_urns(r):
            old = base_norm.get(alias)
            if old and old not in head_by and old not in pairs.values():
                pairs[urn] = old
                break
    region = _region(base or head)
    deps = dependency_map(head)
    result: dict[str, ResourceChange] = {}
    warnings: list[str] = []
    for urn in topological(deps):
        r = head_by[urn]
        old_urn = pairs.get(urn)
        if old_urn is None:
            result[urn] = ResourceChange(urn, r["type"], r["name"], CREATE, head=r)
            continue
        b = base_by[old_urn]
        change = _weigh(r, b, deps[urn], result, facts, region, warnings)
        change.old_urn = old_urn if old_urn != urn else None
        result[urn] = change
    paired = set(pairs.values())
    for urn, b in base_by.items():
        if reported(b) and urn not in paired:
            result[urn] = ResourceChange(
                urn, b["type"], b["name"], DELETE, base=b, protected=bool((b.get("options") or {}).get("protect"))
            )
    return Plan(sorted(result.values(), key=lambda c: c.urn), list(base), list(head), warnings)


def _weigh(
    r: dict[str, Any],
    b: dict[str, Any],
    deps: set[str],
    done: Mapping[str, ResourceChange],
    facts: Facts,
    region: str,
    warnings: list[str],
) -> ResourceChange:
    """One resource present on both sides: update, replace or no-op, and why."""
    options = r.get("options") or {}
    ignore = options.get("ignoreChanges") or []
    changes = [c for c in diff_values(b.get("inputs"), r.get("inputs")) if not _ignored(c.path, ignore)]
    seen = {c.path for c in changes}
    for c in _computed(r, b, deps, done, region):
        if c.path not in seen and not _ignored(c.path, ignore):
            changes.append(c)
            seen.add(c.path)
    out = ResourceChange(
        r["urn"],
        r["type"],
        r["name"],
        SAME,
        changes,
        head=r,
        base=b,
        protected=bool((b.get("options") or {}).get("protect")),
    )
    provider = _replaced_provider(r, deps, done)
    if not changes and not provider:
        return out
    reasons = facts.replacement(r["type"], out.paths) if changes else []
    if reasons is None:
        reasons = []
        out.notes.append("no replacement facts for this type: shown as an update, may be a replace")
        warnings.append(f"no replacement facts for {r['type']} ({r['urn']})")
    if r["type"] == K8S_PROVIDER and "kubeconfig" in out.paths and "kubeconfig" not in reasons:
        # pulumi-kubernetes provider.go DiffConfig: a kubeconfig not known until apply (or
        # naming another cluster) replaces the provider, and with it everything it manages.
        reasons.append("kubeconfig")
    replace_on = options.get("replaceOnChanges") or []
    reasons += [p for p in out.paths if ("*" in replace_on or _ignored(p, replace_on)) and p not in reasons]
    if provider:
        reasons.append(f"provider {provider} replaced")
    if reasons:
        out.action, out.reasons = REPLACE, reasons
        # A replacement the provider asked for follows its delete-first rule; one caused by a
        # replaced provider is the engine's own, which honours only the option.
        own = len(reasons) > (1 if provider else 0)
        out.delete_before_replace = bool(options.get("deleteBeforeReplace")) or (
            own and facts.delete_first(r["type"], r, b)
        )
    else:
        out.action = UPDATE
        out.notes += [f"may replace: {path}, {why}" for path, why in facts.maybe(r["type"], out.paths)]
    return out


def _computed(
    r: dict[str, Any],
    b: dict[str, Any],
    deps: set[str],
    done: Mapping[str, ResourceChange],
    region: str,
) -> list[PropertyChange]:
    """The inputs of `r` that change at apply time because something it waits for is replaced
    (new ids, ARNs) or is a launch template given a new version."""
    inputs, old_inputs = r.get("inputs") or {}, b.get("inputs") or {}
    out: list[PropertyChange] = []
    for dep in sorted(deps):
        ch = done.get(dep)
        if ch is None:
            continue
        if ch.action == REPLACE and ch.base is not None and ch.head is not None:
            needles = replaced_values(ch.base, region) | replaced_values(ch.head, region)
            for path in _paths_carrying(inputs, needles, {dep, ch.old_urn or dep}):
                out.append(PropertyChange(path, _at(old_inputs, path), COMPUTED, "computed", dep))
        elif ch.action == UPDATE and ch.type == LAUNCH_TEMPLATE and new_launch_template_version(ch):
            ids = {i for i in replaced_values(ch.head or {}, region) if i.startswith("lt-")}
            for path in _paths_carrying(inputs, ids, set()):
                if path.endswith(".id") and isinstance(_at(inputs, path[:-3]), dict):
                    version = path[:-3] + ".version"
                    out.append(PropertyChange(version, _at(old_inputs, version), COMPUTED, "computed", dep))
    if r["type"] == K8S_PROVIDER:
        # Its kubeconfig is a secret built from the cluster beside it (same component): the
        # render cannot compare it, so a replaced sibling cluster is taken to change it.
        for ch in done.values():
            if ch.type in CLUSTER_TYPES and ch.action == REPLACE and (ch.head or {}).get("parent") == r.get("parent"):
                out.append(PropertyChange("kubeconfig", SECRET, COMPUTED, "computed", ch.urn))
                break
    return out


def new_launch_template_version(change: ResourceChange) -> bool:
    """Whether a launch template update writes a new version (so node groups using it roll)."""
    return any(p.split(".")[0].split("[")[0] in LAUNCH_TEMPLATE_VERSIONED for p in change.paths)


def _replaced_provider(r: Mapping[str, Any], deps: set[str], done: Mapping[str, ResourceChange]) -> str | None:
    provider = (r.get("options") or {}).get("provider")
    if not provider:
        return None
    for dep in deps:
        ch = done.get(dep)
        provider_replaced = ch is not None and ch.type.startswith("pulumi:providers:") and ch.action == REPLACE
        if ch is not None and provider_replaced and _provider_urn(provider) in (ch.name, ch.urn):
            return ch.name
    return None
