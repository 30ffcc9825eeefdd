"""Assertions over what a program registered, in the spirit of aws-cdk's `assertions.Template`.

    template = Template.from_monitor()          # after the program ran under mocks
    template.resource_count_is("eks:index:ManagedNodeGroup", 2)
    template.has_resource_properties("aws:iam/role:Role", {"assumeRolePolicy": Match.serialized_json(
        {"Statement": [{"Principal": {"Service": "ec2.amazonaws.com"}}]})})
    template.depends_on(ingress, controller_release)
    template.has_options(key, protect=True)

Properties are the *inputs* the engine received (secrets masked as "[secret]", a reference
to a resource as `{"$ref": urn}`); patterns match partially (see `slipway.testing.match`).
Dependencies are what the engine waits for, as `pulumi up` does: `dependsOn`, the resources
an input refers to, and a component's whole subtree.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterable, Iterator
from typing import Any, cast

import pulumi
from pulumi.runtime import mocks as pulumi_mocks

from slipway.testing.match import mismatches
from slipway.testing.monitor import Recorded
from slipway.testing.shim import recording_of

RecordRef = Recorded | str
"""A recorded resource, or its URN."""

_UNSET: Any = object()

# has_options keyword → the recorded option (RegisterResource's field name) and its default.
_OPTIONS: dict[str, tuple[str, Any]] = {
    "protect": ("protect", False),
    "retain_on_delete": ("retainOnDelete", False),
    "delete_before_replace": ("deleteBeforeReplace", False),
    "ignore_changes": ("ignoreChanges", []),
    "aliases": ("aliases", []),
    "provider": ("provider", ""),
}


def refs(value: Any) -> set[str]:
    """The URNs of the resources `value` refers to (`{"$ref": urn}` anywhere inside it).

    The SDK leaves these out of a remote component's `dependencies`, but the component's
    children (built in its provider's process, e.g. pulumi-eks's) are made from the referenced
    resource's outputs, so the engine waits for them all the same.
    """
    if isinstance(value, dict):
        mapping = cast(dict[str, Any], value)
        if "$ref" in mapping:
            return {str(mapping["$ref"])}
        return set[str]().union(*(refs(v) for v in mapping.values()))
    if isinstance(value, list):
        return set[str]().union(*(refs(v) for v in cast(list[Any], value)))
    return set()


def _show(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=repr)


class Template:
    """The registrations of one program run, with queries and assertions over them.

    Build it from a monitor (`Template.from_monitor()`), a `mocked()` run
    (`mocked.template`), or any list of `Recorded` (the offline render's records).
    Assertion methods raise `AssertionError` with the URNs involved and what differs.
    """

    def __init__(self, records: Iterable[Recorded]):
        """A template over `records` (kept sorted by URN)."""
        self._records = sorted(records, key=lambda r: r.urn)
        self._by_urn = {r.urn: r for r in self._records}
        self._children: dict[str, list[str]] | None = None

    @classmethod
    def from_monitor(cls, monitor: pulumi_mocks.MockMonitor | None = None) -> Template:
        """The registrations `monitor` recorded (default: the one `set_mocks` installed last).

        Works for a `RecordingMonitor` and for the SDK's MockMonitor answering for
        `SlipwayMocks` (plain `pulumi.runtime.set_mocks(SlipwayMocks())`). Read it after the
        program ran (after the `@pulumi.runtime.test` function returned): registrations
        complete asynchronously.
        """
        if monitor is None:
            current = pulumi.runtime.settings.get_monitor()
            if not isinstance(current, pulumi_mocks.MockMonitor):
                raise ValueError("no mocks are installed: call pulumi.runtime.set_mocks(SlipwayMocks()) first")
            monitor = current
        recording = recording_of(monitor)
        if recording is None:
            raise ValueError(
                f"{type(monitor.mocks).__name__} records no registrations: use slipway.testing.SlipwayMocks "
                "(or a RecordingMonitor) to assert on what the program registered"
            )
        return cls(list(recording.records.values()))

    # ------------------------------------------------------------------ queries
    @property
    def records(self) -> list[Recorded]:
        """Every recorded resource, sorted by URN."""
        return list(self._records)

    def __iter__(self) -> Iterator[Recorded]:
        """The records, sorted by URN."""
        return iter(self._records)

    def __len__(self) -> int:
        """How many resources were recorded."""
        return len(self._records)

    def get(self, ref: RecordRef) -> Recorded:
        """The record of `ref` (a record or a URN); AssertionError naming close URNs if none."""
        if isinstance(ref, Recorded):
            return ref
        found = self._by_urn.get(ref)
        if found is None:
            close = difflib.get_close_matches(ref, list(self._by_urn), n=3, cutoff=0.5)
            raise AssertionError(f"no resource has the URN {ref}" + (f"; did you mean {close}?" if close else ""))
        return found

    def find(self, type_: str, props: Any = None) -> list[Recorded]:
        """The resources of `type_` (a type token) whose inputs match the partial `props`."""
        of_type = [r for r in self._records if r.type == type_]
        return of_type if props is None else [r for r in of_type if not mismatches(r.inputs, props)]

    def one(self, type_: str, name: str | None = None, *, props: Any = None) -> Recorded:
        """The one resource of `type_` named `name` (and/or matching `props`); fails unless exactly one."""
        found = [r for r in self.find(type_, props) if name is None or r.name == name]
        if len(found) != 1:
            what = type_ + (f" named {name!r}" if name is not None else "") + (f" with {_show(props)}" if props else "")
            names = sorted(r.name for r in self.find(type_))
            raise AssertionError(
                f"expected one {what}, found {len(found)}"
                + (f": {[r.urn for r in found]}" if found else "")
                + f" (names of this type: {names or 'none'})"
            )
        return found[0]

    def waits_for(self, ref: RecordRef) -> set[str]:
        """The URNs `ref` waits for directly: its `dependsOn` and the resources its inputs refer to."""
        r = self.get(ref)
        return set(r.dependencies) | refs(r.inputs)

    def ancestors(self, ref: RecordRef) -> set[str]:
        """Every URN `ref` waits for, transitively: what it waits for, what those wait for, and
        the whole subtree of each component among them (the engine waits for a component's
        children)."""
        children = self._child_map()
        seen: set[str] = set()
        todo = list(self.waits_for(ref))
        while todo:
            urn = todo.pop()
            if urn in seen:
                continue
            seen.add(urn)
            todo += children.get(urn, [])
            if urn in self._by_urn:
                todo += self.waits_for(urn)
        return seen

    def _child_map(self) -> dict[str, list[str]]:
        if self._children is None:
            self._children = {}
            for r in self._records:
                self._children.setdefault(r.parent, []).append(r.urn)
        return self._children

    # ------------------------------------------------------------------ assertions
    def resource_count_is(self, type_: str, count: int, props: Any = None) -> None:
        """Assert that exactly `count` resources of `type_` (matching `props`, if given) exist."""
        found = self.find(type_, props)
        if len(found) != count:
            which = f" with {_show(props)}" if props is not None else ""
            raise AssertionError(
                f"expected {count} {type_}{which}, found {len(found)}: {[r.name for r in found]}"
                + ("" if found or type_ in {r.type for r in self._records} else self._types_hint(type_))
            )

    def has_resource_properties(self, type_: str, props: Any) -> list[Recorded]:
        """Assert that some resource of `type_` has inputs matching the partial `props`; return
        the ones that do. The failure names the closest candidates and where each differs."""
        of_type = self.find(type_)
        if not of_type:
            raise AssertionError(f"no resource of type {type_}" + self._types_hint(type_))
        scored = [(mismatches(r.inputs, props), r) for r in of_type]
        found = [r for diff, r in scored if not diff]
        if found:
            return found
        scored.sort(key=lambda pair: (len(pair[0]), pair[1].urn))
        lines = [f"no {type_} has the properties {_show(props)}; {len(of_type)} of this type, the closest:"]
        for diff, r in scored[:3]:
            lines.append(f"  {r.urn}")
            lines += [f"    - {d}" for d in diff[:5]] + ([f"    ... {len(diff) - 5} more"] if len(diff) > 5 else [])
        raise AssertionError("\n".join(lines))

    def depends_on(self, ref: RecordRef, on: RecordRef, *, direct: bool = False) -> None:
        """Assert that `ref` waits for `on` before it is created (and so is deleted before it):
        transitively (see `ancestors`), or only through its own `dependsOn` and inputs if `direct`."""
        r, target = self.get(ref), self.get(on)
        waits = self.waits_for(r) if direct else self.ancestors(r)
        if target.urn not in waits:
            how = "directly " if direct else ""
            raise AssertionError(
                f"{r.urn} does not {how}wait for {target.urn}; it waits for {sorted(self.waits_for(r)) or 'nothing'}"
                + ("" if direct else " and what those wait for")
                + " (add depends_on=[...] or pass the resource as an input)"
            )

    def has_options(
        self,
        ref: RecordRef,
        *,
        protect: Any = _UNSET,
        retain_on_delete: Any = _UNSET,
        delete_before_replace: Any = _UNSET,
        ignore_changes: Any = _UNSET,
        aliases: Any = _UNSET,
        provider: Any = _UNSET,
    ) -> None:
        """Assert the resource options `ref` was registered with (only those given are checked;
        a pattern such as `Match.array_with([...])` is allowed). `provider` is the provider's name."""
        r = self.get(ref)
        given = {
            "protect": protect,
            "retain_on_delete": retain_on_delete,
            "delete_before_replace": delete_before_replace,
            "ignore_changes": ignore_changes,
            "aliases": aliases,
            "provider": provider,
        }
        diff: list[str] = []
        for keyword, expected in given.items():
            if expected is _UNSET:
                continue
            option, default = _OPTIONS[keyword]
            diff += mismatches(r.options.get(option, default), expected, keyword)
        if diff:
            raise AssertionError(f"{r.urn}: options differ: " + "; ".join(diff) + f" (recorded: {_show(r.options)})")

    def _types_hint(self, type_: str) -> str:
        close = difflib.get_close_matches(type_, sorted({r.type for r in self._records}), n=3, cutoff=0.6)
        return f"; did you mean {close}?" if close else ""
