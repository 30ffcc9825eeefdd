"""Types shared by the rules (a violation, a per-resource rule, a whole-stack rule) and
the helpers every rule reads properties with.

In a real `pulumi preview --policy-pack policies`, pulumi-policy hands the rules the
properties wrapped in its unknown-checking proxies: objects are `_DictProxy` (a
`Mapping`, not a `dict`), arrays `_ListProxy` (a `Sequence`, not a `list`), and numbers
are floats (a protobuf Struct has only doubles). Reading a value that is unknown during
preview raises `UnknownValueError`, which the analyzer turns into an advisory "can't run
policy" diagnostic: rules let it propagate and never catch broad exceptions. Offline,
`slipway check` passes plain dicts and lists. So rules never test `isinstance(x, dict)`
or `list`, never concatenate a property with a list, and read properties through these
helpers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal

Enforcement = Literal["mandatory", "advisory"]
Props = Mapping[str, Any]
"""A resource's properties: a dict offline, pulumi-policy's `_DictProxy` in a preview."""

_EMPTY: Mapping[str, Any] = MappingProxyType({})


def as_mapping(value: Any) -> Mapping[str, Any]:
    """`value` if it is an object (a dict or a proxy of one), else an empty mapping (None, a string, ...)."""
    return value if isinstance(value, Mapping) else _EMPTY


def is_sequence(value: Any) -> bool:
    """Is `value` an array (a list or a proxy of one)? Strings are not."""
    return isinstance(value, Sequence) and not isinstance(value, str | bytes)


def as_list(value: Any) -> list[Any]:
    """The items of an array as a new list ([] for anything else). Reads every item, so an unknown
    item raises UnknownValueError here."""
    return list(value) if is_sequence(value) else []


def get_in(value: Any, *keys: str) -> Any:
    """The value at a path of object keys (None where the path breaks): get_in(props, "spec", "selector")."""
    for key in keys:
        value = as_mapping(value).get(key)
    return value


def one_or_many(value: Any) -> list[Any]:
    """A value that may be one item or an array of them (IAM's Action, Resource, Principal): as a list."""
    if value is None:
        return []
    return as_list(value) if is_sequence(value) else [value]


def mappings(value: Any) -> list[Mapping[str, Any]]:
    """The objects in an array (containers, statements, network interfaces, ...), skipping anything else."""
    return [item for item in as_list(value) if isinstance(item, Mapping)]


def number(value: Any) -> str:
    """A number for a message: 2 rather than the 2.0 a protobuf Struct delivers."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


@dataclass(frozen=True)
class Violation:
    """A rule's finding: what is wrong and how to fix it."""

    message: str
    fix: str


@dataclass(frozen=True)
class Resource:
    """What a rule sees of a resource, offline (component inputs) or in a preview (props)."""

    urn: str
    type: str
    props: Props
    options: Mapping[str, Any] = field(default_factory=dict)
    """protect / retainOnDelete where known."""


@dataclass(frozen=True)
class Rule:
    """A guardrail evaluated on one resource at a time."""

    name: str
    description: str
    enforcement: Enforcement
    types: frozenset[str] | None
    """Resource types it applies to (None: every type; the check filters)."""
    check: Callable[[str, Props, Mapping[str, Any], Mapping[str, Any]], Iterable[Violation]]
    config_defaults: dict[str, Any] = field(default_factory=dict)

    def evaluate(
        self, type_: str, props: Props, config: Mapping[str, Any] | None = None, options: Mapping | None = None
    ) -> list[Violation]:
        if self.types is not None and type_ not in self.types:
            return []
        return list(self.check(type_, props or {}, {**self.config_defaults, **(config or {})}, options or {}))


@dataclass(frozen=True)
class StackRule:
    """A guardrail that needs to see several resources (e.g. a Deployment and its PDB)."""

    name: str
    description: str
    enforcement: Enforcement
    check: Callable[[list[Resource], Mapping[str, Any]], Iterable[tuple[str, Violation]]]
    config_defaults: dict[str, Any] = field(default_factory=dict)

    def evaluate(
        self, resources: list[Resource], config: Mapping[str, Any] | None = None
    ) -> list[tuple[str, Violation]]:
        return list(self.check(resources, {**self.config_defaults, **(config or {})}))
