"""Components check their own inputs: every problem at once, before any resource exists.

A component's constructor starts with::

    require_valid(f"App {name!r}", app_args_issues(name, args))

The `*_issues` function is pure (tests call it without Pulumi) and returns `Issue`s;
`require_valid` raises one `ArgsError` carrying all of them, before `super().__init__`,
so a mistake never leaves half a component registered. Each issue reads like the
stack-config errors, `<field path>: <bad value> <problem> — <fix>`::

    node_pools.gpu.taints[0].effect: 'NoSchedulee' is not a taint effect — did you mean 'NoSchedule'?
    (allowed: NoSchedule, PreferNoSchedule, NoExecute)

Field paths are the Args' own (snake_case, as a Python caller wrote them); values are
shown as Python reprs. The checkers below (`int_issues`, `choice_issues`, …) give the
common mistakes one wording across components.
"""

from __future__ import annotations

import difflib
import ipaddress
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast


class Verbatim:
    """An Issue's value shown as this text, unquoted: a summary of a long value, or a mask."""

    def __init__(self, text: str):
        self.text = text

    def __repr__(self) -> str:
        return self.text


HIDDEN = Verbatim("(value hidden)")
"""Pass as an Issue's value instead of a secret (or what may be one): it shows as `(value hidden)`."""


def show(value: Any) -> str:
    """A value as a Python caller wrote it (its repr; the empty string spelled out)."""
    if isinstance(value, str) and not value:
        return "'' (empty)"
    return repr(value)


@dataclass(frozen=True)
class Issue:
    """One mistake in a component's inputs."""

    field: str
    """Where, from the Args: `spec.ports[0].name`, `node_pools.gpu.instance_types`."""
    value: Any
    """What was given (None when the value is missing; HIDDEN for a secret)."""
    problem: str
    """What is wrong, as the rest of the sentence after the value ("is not a port name")."""
    fix: str
    """What to write instead."""

    def __str__(self) -> str:
        where = f"{self.field}: " if self.field else ""
        return f"{where}{show(self.value)} {self.problem} — {self.fix}"


class ArgsError(ValueError):
    """A component's inputs are wrong; `issues` lists every mistake, str() is the user-facing text."""

    def __init__(self, what: str, issues: Sequence[Issue]):
        self.what: str = what
        self.issues: tuple[Issue, ...] = tuple(issues)
        super().__init__(self._text())

    @property
    def messages(self) -> list[str]:
        """One line per issue: `<field path>: <bad value> <problem> — <fix>`."""
        return [str(i) for i in self.issues]

    def _text(self) -> str:
        n = len(self.issues)
        lines = "\n".join(f"  - {m}" for m in self.messages)
        return f"{n} input error{'s' if n != 1 else ''} in {self.what}:\n{lines}"

    def __str__(self) -> str:
        return self._text()


def require_valid(what: str, issues: Iterable[Issue]) -> None:
    """Raise ArgsError naming `what` (e.g. "App 'api'") if there is any issue."""
    found = list(issues)
    if found:
        raise ArgsError(what, found)


def under(prefix: str, issues: Iterable[Issue]) -> list[Issue]:
    """`issues` with field paths below `prefix` (`node_pools.gpu` + `taints[0]` → `node_pools.gpu.taints[0]`)."""
    return [Issue(join(prefix, i.field), i.value, i.problem, i.fix) for i in issues]


def join(prefix: str, field: str) -> str:
    """A field path below `prefix`: `a` + `b` → `a.b`, `a` + `[0]` → `a[0]`, `a` + `` → `a`."""
    if not field:
        return prefix
    if not prefix:
        return field
    return f"{prefix}{field}" if field.startswith("[") else f"{prefix}.{field}"


# --------------------------------------------------------------------------- checkers


def is_int(value: Any) -> bool:
    """A whole number (bool is not one, though Python says it is an int)."""
    return isinstance(value, int) and not isinstance(value, bool)


def int_issues(field: str, value: Any, *, minimum: int | None = None, maximum: int | None = None) -> list[Issue]:
    """`value` is an int within [minimum, maximum]."""
    if not is_int(value):
        return [Issue(field, value, "is not a whole number", "pass an int")]
    if minimum is not None and value < minimum:
        return [Issue(field, value, "is out of range", f"use a value ≥ {minimum}")]
    if maximum is not None and value > maximum:
        return [Issue(field, value, "is out of range", f"use a value ≤ {maximum}")]
    return []


def choice_issues(field: str, value: Any, allowed: Sequence[str], what: str) -> list[Issue]:
    """`value` is one of `allowed` (the problem says it is not `what`; the fix guesses the typo)."""
    if isinstance(value, str) and value in allowed:
        return []
    names = ", ".join(allowed)
    lowered = {a.lower(): a for a in allowed}  # `spot` → SPOT: a case slip is a typo too
    close = difflib.get_close_matches(value.lower(), list(lowered), n=1) if isinstance(value, str) else []
    fix = f"did you mean {lowered[close[0]]!r}? (allowed: {names})" if close else f"use one of {names}"
    return [Issue(field, value, f"is not {what}", fix)]


def str_list_issues(field: str, value: Any, *, example: str, allow_empty: bool = False) -> list[Issue]:
    """`value` is a list (or tuple) of non-empty strings — never one string, which Python
    would happily iterate character by character."""
    if isinstance(value, str):
        return [Issue(field, value, "is a string, not a list of strings", f"write [{value!r}]")]
    if not isinstance(value, Sequence):
        return [Issue(field, value, "is not a list of strings", f"write a list, e.g. [{example!r}]")]
    items = cast("Sequence[Any]", value)
    if not items and not allow_empty:
        return [Issue(field, list(items), "is empty", f"give at least one, e.g. [{example!r}]")]
    return [
        Issue(f"{field}[{i}]", item, "is not a non-empty string", f"write a string, e.g. {example!r}")
        for i, item in enumerate(items)
        if not isinstance(item, str) or not item
    ]


def str_map_issues(field: str, value: Any, *, example: str) -> list[Issue]:
    """`value` is a mapping of strings to strings."""
    if not isinstance(value, Mapping):
        return [Issue(field, value, "is not a mapping of strings", f"write a dict, e.g. {example}")]
    pairs = cast("Mapping[Any, Any]", value)
    return [
        Issue(f"{field}.{k}", v, "is not a string", f"write it as a string, e.g. {str(v)!r}")
        for k, v in pairs.items()
        if not isinstance(k, str) or not isinstance(v, str)
    ]


def pattern_issues(field: str, value: Any, pattern: re.Pattern[str], problem: str, fix: str) -> list[Issue]:
    """`value` is a string matching `pattern` in full."""
    if isinstance(value, str) and pattern.fullmatch(value):
        return []
    return [Issue(field, value, problem, fix)]


def cidr_list_issues(field: str, value: Any) -> list[Issue]:
    """`value` is a list of CIDR blocks (IPv4 or IPv6) written as their network address."""
    issues = str_list_issues(field, value, example="203.0.113.0/24", allow_empty=True)
    if issues:
        return issues
    for i, cidr in enumerate(value):
        try:
            ipaddress.ip_network(cidr, strict=True)
        except ValueError as e:
            if "host bits" in str(e):
                net = str(ipaddress.ip_network(cidr, strict=False))
                issues.append(Issue(f"{field}[{i}]", cidr, "has host bits set", f"write its network, {net!r}"))
            else:
                issues.append(Issue(f"{field}[{i}]", cidr, "is not a CIDR block", "write one like '203.0.113.0/24'"))
    return issues


def type_issues(field: str, value: Any, kind: type | tuple[type, ...], fix: str) -> list[Issue]:
    """`value` is an instance of `kind` (the spec's own dataclass, not a dict that looks like one)."""
    if isinstance(value, kind):
        return []
    names = " or ".join(k.__name__ for k in (kind if isinstance(kind, tuple) else (kind,)))
    return [Issue(field, value, f"is not {'an' if names[0] in 'AEIOU' else 'a'} {names}", fix)]


__all__ = [
    "HIDDEN",
    "ArgsError",
    "Issue",
    "Verbatim",
    "choice_issues",
    "cidr_list_issues",
    "int_issues",
    "is_int",
    "join",
    "pattern_issues",
    "require_valid",
    "show",
    "str_list_issues",
    "str_map_issues",
    "type_issues",
    "under",
]
