"""Types shared by the rules: a violation, a per-resource rule, a whole-stack rule."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

Enforcement = Literal["mandatory", "advisory"]


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
    props: dict[str, Any]
    options: dict[str, Any] = field(default_factory=dict)
    """protect / retainOnDelete where known."""


@dataclass(frozen=True)
class Rule:
    """A guardrail evaluated on one resource at a time."""

    name: str
    description: str
    enforcement: Enforcement
    types: frozenset[str] | None
    """Resource types it applies to (None: every type; the check filters)."""
    check: Callable[[str, dict[str, Any], dict[str, Any], dict[str, Any]], Iterable[Violation]]
    config_defaults: dict[str, Any] = field(default_factory=dict)

    def evaluate(
        self, type_: str, props: dict[str, Any], config: dict[str, Any] | None = None, options: dict | None = None
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
    check: Callable[[list[Resource], dict[str, Any]], Iterable[tuple[str, Violation]]]
    config_defaults: dict[str, Any] = field(default_factory=dict)

    def evaluate(self, resources: list[Resource], config: dict[str, Any] | None = None) -> list[tuple[str, Violation]]:
        return list(self.check(resources, {**self.config_defaults, **(config or {})}))
