"""The diff of two renders: what `pulumi up` will do to each resource going from the base
render (what runs) to the head render (what the working tree would deploy).

Per URN: **create**, **delete**, **update** (the input paths that differ, old → new, list
items by index, secrets still "[secret]"), **replace** (the changed paths that force it, from
the shipped replacement facts, and whether the old one is deleted first) or no-op.
Components (not custom, not remote) are not reported: the engine does nothing to them.

Two things the renders cannot show by themselves, and the diff adds:

- **Values that change on apply** (tracing.py): a replaced resource's new ids and ARNs, a
  launch template's new version, marked "(known after apply)" in its dependents, in
  dependency order (graph.py), and weighed against the facts like any change.
- **Aliases.** A head resource whose `aliases` name a base URN is that resource, updated,
  not a delete and a create.

The model it builds is in model.py; the input paths and values in values.py.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from slipway.cli.plan.graph import alias_urns, dependency_map, norm, reported, topological
from slipway.cli.plan.model import CREATE, DELETE, REPLACE, SAME, UPDATE, Plan, ResourceChange
from slipway.cli.plan.tracing import CLUSTER_TYPES, K8S_PROVIDER, computed, region_of, replaced_provider
from slipway.cli.plan.values import diff_values, get_path, ignored


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

    def child_replacements(self, type_: str, paths: Sequence[str]) -> list[tuple[str, tuple[str, ...]]]:
        """(input, children it replaces) for a component's changed inputs that replace a child."""
        facts = self.types.get(type_)
        out = []
        for key, children in getattr(facts, "child_replacements", ()) or ():
            if any(p == key or p.startswith((f"{key}.", f"{key}[")) for p in paths):
                out.append((key, tuple(children)))
        return out

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


# ---------------------------------------------------------------------------- the diff


def load_render(path: Path) -> list[dict[str, Any]]:
    """The resources of a render: `path` is its folder (holding resources.json) or the file."""
    file = path / "resources.json" if path.is_dir() else path
    data = json.loads(file.read_text())
    if not isinstance(data, list):
        raise ValueError(f"{file} holds no list of resources")
    return data


def diff_renders(base: Sequence[dict[str, Any]], head: Sequence[dict[str, Any]], facts: Facts | None = None) -> Plan:
    """The plan from `base` to `head` (resources.json lists), weighed against `facts`
    (default: the shipped ones)."""
    facts = facts or Facts.shipped()
    base_by = {r["urn"]: r for r in base}
    base_norm = {norm(u): u for u in base_by}
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
    region = region_of(base or head)
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
    changes = [c for c in diff_values(b.get("inputs"), r.get("inputs")) if not ignored(c.path, ignore)]
    seen = {c.path for c in changes}
    for c in computed(r, b, deps, done, region):
        if c.path not in seen and not ignored(c.path, ignore):
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
    provider = replaced_provider(r, deps, done)
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
    for key, children in facts.child_replacements(r["type"], out.paths):
        if r["type"] in CLUSTER_TYPES and key == "vpcId" and key not in reasons:
            # pulumi-eks creates the cluster's security group in the VPC (vpcId ForceNew), and
            # EKS cannot move a cluster to another VPC: the cluster itself must be replaced.
            reasons.append(key)
            out.notes.append("a cluster cannot move to another VPC: its security group and the cluster are replaced")
        elif key not in reasons:
            out.notes.append(f"{key} replaces {', '.join(children)}")
    replace_on = options.get("replaceOnChanges") or []
    reasons += [p for p in out.paths if ("*" in replace_on or ignored(p, replace_on)) and p not in reasons]
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
