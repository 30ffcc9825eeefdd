"""URNs and the dependency graph of a render: which resources the engine acts on, the URNs an
alias names, what each resource waits for, and an order that respects it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

_STACK_PREFIX = "pulumi:pulumi:Stack$"


def reported(record: Mapping[str, Any]) -> bool:
    """Whether the engine acts on this resource itself: custom ones and remote components
    (pulumi-eks's, which stand for the resources they create). Plain components are not."""
    return bool(record.get("custom") or record.get("remote"))


def norm(urn: str) -> str:
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
            out.append(norm(alias))
            continue
        if alias.get("urn"):
            out.append(norm(alias["urn"]))
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
            direct |= {provider_urn(provider)} if provider.startswith("urn:") else set(providers.get(provider, []))
        deps[r["urn"]] = set().union(*(expand(d) for d in direct)) - {r["urn"]} if direct else set()
    return deps


def provider_urn(ref: str) -> str:
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
