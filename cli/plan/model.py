"""The plan's model: what `pulumi up` does to each resource (`ResourceChange`), the input paths
that change (`PropertyChange`), and the whole plan (`Plan`), as diff.py finds them and
hazards.py, order.py and report.py read them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

SECRET = "[secret]"
COMPUTED = "(known after apply)"
CREATE, UPDATE, REPLACE, DELETE, SAME = "create", "update", "replace", "delete", "same"
ACTIONS = (CREATE, UPDATE, REPLACE, DELETE, SAME)


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


def label(change: ResourceChange) -> str:
    """`<Type> <name>`, e.g. `ManagedNodeGroup cluster-general`."""
    return f"{change.type.split(':')[-1]} {change.name}"
