"""Specs several components share: where pods run (`Placement`, `Toleration`).

Plain frozen dataclasses with no Pulumi resources behind them; a component turns them
into manifest fields with `to_k8s()`. Their checks (`placement_issues`) follow
components/validation.py.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from slipway.components.validation import Issue, choice_issues, str_map_issues, type_issues, under

TaintEffect = Literal["NoSchedule", "PreferNoSchedule", "NoExecute"]
TAINT_EFFECT_NAMES: tuple[str, ...] = ("NoSchedule", "PreferNoSchedule", "NoExecute")


@dataclass(frozen=True, kw_only=True)
class Toleration:
    """Lets pods onto nodes with a matching taint (Kubernetes `tolerations[]`)."""

    key: str
    """The taint's key, e.g. `dedicated`."""
    operator: Literal["Equal", "Exists"] = "Equal"
    """`Equal` matches the taint's value; `Exists` any value of the key. Default Equal,
    Kubernetes's own default."""
    value: str | None = None
    """The taint's value, for `Equal` (None: the empty value). Must be None for `Exists`."""
    effect: TaintEffect | None = None
    """The taint effect tolerated; None (the default) tolerates every effect of the key."""

    @classmethod
    def for_taint(cls, key: str, value: str | None, effect: TaintEffect) -> Toleration:
        """What tolerates the taint `key=value:effect` (`Exists` when the taint has no value)."""
        if value:
            return cls(key=key, operator="Equal", value=value, effect=effect)
        return cls(key=key, operator="Exists", effect=effect)

    @classmethod
    def from_k8s(cls, toleration: Mapping[str, Any]) -> Toleration:
        """From a manifest's toleration (`{key, operator, value, effect}`)."""
        return cls(
            key=toleration.get("key", ""),
            operator=toleration.get("operator", "Equal"),
            value=toleration.get("value"),
            effect=toleration.get("effect"),
        )

    def to_k8s(self) -> dict[str, Any]:
        """As a manifest's toleration."""
        out: dict[str, Any] = {"key": self.key, "operator": self.operator}
        if self.value is not None:
            out["value"] = self.value
        if self.effect is not None:
            out["effect"] = self.effect
        return out


@dataclass(frozen=True, kw_only=True)
class Placement:
    """Which nodes pods run on: a node selector and the tolerations for those nodes' taints.

    The default (empty) lets the scheduler use any untainted node. For a slipway node pool
    select `{POOL_LABEL: <pool>}` (components/node_pools.py) and tolerate its taints.
    """

    node_selector: Mapping[str, str] = field(default_factory=dict[str, str])
    """Node labels the pods require (`nodeSelector`); empty: any node."""
    tolerations: Sequence[Toleration] = ()
    """Tolerations for the selected nodes' taints; empty: untainted nodes only."""

    @classmethod
    def from_k8s(cls, node_selector: Mapping[str, str], tolerations: Sequence[Mapping[str, Any]]) -> Placement:
        """From a pod spec's `nodeSelector` and `tolerations` as manifests write them."""
        return cls(node_selector=dict(node_selector), tolerations=tuple(Toleration.from_k8s(t) for t in tolerations))

    def k8s_tolerations(self) -> list[dict[str, Any]]:
        """The tolerations as a pod spec's `tolerations`."""
        return [t.to_k8s() for t in self.tolerations]


def toleration_issues(t: Any) -> list[Issue]:
    """A Toleration Kubernetes accepts (fields relative to it)."""
    if not isinstance(t, Toleration):
        return type_issues("", t, Toleration, "pass Toleration(key=..., effect=...)")
    issues = choice_issues("operator", t.operator, ("Equal", "Exists"), "a toleration operator")
    if t.effect is not None:
        issues += choice_issues("effect", t.effect, TAINT_EFFECT_NAMES, "a taint effect")
    if not isinstance(t.key, str) or (not t.key and t.operator != "Exists"):
        issues.append(
            Issue("key", t.key, "is not a taint key", "name the taint's key (only Exists may leave it empty)")
        )
    if t.operator == "Exists" and t.value is not None:
        issues.append(Issue("value", t.value, "is set with operator Exists", "remove the value, or use operator Equal"))
    return issues


def placement_issues(p: Any) -> list[Issue]:
    """A Placement whose selector and tolerations Kubernetes accepts (fields relative to it)."""
    if not isinstance(p, Placement):
        return type_issues("", p, Placement, "pass Placement(node_selector=..., tolerations=[...])")
    issues = str_map_issues("node_selector", p.node_selector, example="{'slipway.dev/pool': 'general'}")
    if isinstance(p.tolerations, str | Mapping) or not isinstance(p.tolerations, Sequence):
        return [*issues, Issue("tolerations", p.tolerations, "is not a list of Toleration", "pass a list")]
    for i, t in enumerate(p.tolerations):
        issues += under(f"tolerations[{i}]", toleration_issues(t))
    return issues


__all__ = ["TAINT_EFFECT_NAMES", "Placement", "TaintEffect", "Toleration", "placement_issues", "toleration_issues"]
