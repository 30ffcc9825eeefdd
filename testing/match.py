"""Partial matching of recorded properties, in the spirit of aws-cdk's `assertions.Match`.

A pattern is a plain value or a `Matcher`:

- a **dict** matches a dict that has each of its keys with a matching value; other keys
  are allowed, at every depth (aws-cdk's `objectLike`);
- a **list** matches a list of the same length whose items match in order (use
  `Match.array_with` for "contains");
- anything else matches an equal value (`1 == 1.0`, as JSON has one number type);
- a `Matcher` decides for itself: `Match.absent()`, `Match.any_value()`, `Match.exact(v)`,
  `Match.array_with([...])`, `Match.string_like_regexp(r"...")`, `Match.serialized_json(p)`.

`mismatches(actual, pattern)` lists every difference as `"<path>: <what differs>"`; an
empty list is a match.
"""

from __future__ import annotations

import json
import re
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from typing import Any, cast

_MISSING: Any = object()
"""Stands for a key the actual mapping does not have."""


def _show(value: Any) -> str:
    if value is _MISSING:
        return "nothing (the key is absent)"
    text = json.dumps(value, sort_keys=True, default=repr) if not isinstance(value, Matcher) else repr(value)
    return text if len(text) <= 160 else text[:157] + "..."


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


class Matcher(ABC):
    """A pattern that decides for itself whether a value matches."""

    @abstractmethod
    def mismatches(self, actual: Any, path: str) -> list[str]:
        """Every difference between `actual` (found at `path`; a missing key is passed as a
        private sentinel) and this pattern; [] if it matches."""


class _Absent(Matcher):
    def mismatches(self, actual: Any, path: str) -> list[str]:
        return [] if actual is _MISSING else [f"{path}: expected the key to be absent, found {_show(actual)}"]

    def __repr__(self) -> str:
        return "Match.absent()"


class _AnyValue(Matcher):
    def mismatches(self, actual: Any, path: str) -> list[str]:
        return [f"{path}: expected any value, found {_show(actual)}"] if actual in (_MISSING, None) else []

    def __repr__(self) -> str:
        return "Match.any_value()"


class _Exact(Matcher):
    def __init__(self, pattern: Any):
        self.pattern = pattern

    def mismatches(self, actual: Any, path: str) -> list[str]:
        return _compare(actual, self.pattern, path, partial=False)

    def __repr__(self) -> str:
        return f"Match.exact({_show(self.pattern)})"


class _ArrayWith(Matcher):
    def __init__(self, items: Sequence[Any]):
        self.items = list(items)

    def mismatches(self, actual: Any, path: str) -> list[str]:
        if not isinstance(actual, list):
            return [f"{path}: expected a list containing {_show(self.items)}, found {_show(actual)}"]
        found: list[Any] = actual  # pyright: ignore[reportUnknownVariableType]
        start = 0
        for n, pattern in enumerate(self.items):
            hit = next((i for i in range(start, len(found)) if not _compare(found[i], pattern, "", True)), None)
            if hit is None:
                return [f"{path}: no item (after index {start - 1}) matches item {n} of the pattern, {_show(pattern)}"]
            start = hit + 1
        return []

    def __repr__(self) -> str:
        return f"Match.array_with({_show(self.items)})"


class _Regexp(Matcher):
    def __init__(self, pattern: str):
        self.pattern = re.compile(pattern)

    def mismatches(self, actual: Any, path: str) -> list[str]:
        if isinstance(actual, str) and self.pattern.search(actual):
            return []
        return [f"{path}: expected a string matching /{self.pattern.pattern}/, found {_show(actual)}"]

    def __repr__(self) -> str:
        return f"Match.string_like_regexp({self.pattern.pattern!r})"


class _SerializedJson(Matcher):
    def __init__(self, pattern: Any):
        self.pattern = pattern

    def mismatches(self, actual: Any, path: str) -> list[str]:
        try:
            parsed = json.loads(actual) if isinstance(actual, str) else _MISSING
        except ValueError:
            parsed = _MISSING
        if parsed is _MISSING:
            return [f"{path}: expected a JSON document, found {_show(actual)}"]
        return _compare(parsed, self.pattern, f"{path}<json>", partial=True)

    def __repr__(self) -> str:
        return f"Match.serialized_json({_show(self.pattern)})"


class Match:
    """Factories of the matchers a pattern may hold (aws-cdk's `Match`, in snake_case)."""

    @staticmethod
    def absent() -> Matcher:
        """The key must not be there."""
        return _Absent()

    @staticmethod
    def any_value() -> Matcher:
        """The key must be there, with any value but None."""
        return _AnyValue()

    @staticmethod
    def exact(pattern: Any) -> Matcher:
        """Equal to `pattern`, with no extra keys at any depth (aws-cdk's `objectEquals`)."""
        return _Exact(pattern)

    @staticmethod
    def array_with(items: Sequence[Any]) -> Matcher:
        """A list in which the patterns `items` match distinct items, in this order."""
        return _ArrayWith(items)

    @staticmethod
    def string_like_regexp(pattern: str) -> Matcher:
        """A string in which the regular expression `pattern` is found (`re.search`)."""
        return _Regexp(pattern)

    @staticmethod
    def serialized_json(pattern: Any) -> Matcher:
        """A JSON string whose parsed value matches `pattern` (an IAM policy document, say)."""
        return _SerializedJson(pattern)


def _compare(actual: Any, pattern: Any, path: str, partial: bool) -> list[str]:
    where = path or "(the value)"
    if isinstance(pattern, Matcher):
        return pattern.mismatches(actual, where)
    if actual is _MISSING:
        return [f"{where}: missing, expected {_show(pattern)}"]
    if isinstance(pattern, Mapping):
        if not isinstance(actual, Mapping):
            return [f"{where}: expected a mapping, found {_show(actual)}"]
        found: Mapping[str, Any] = actual  # pyright: ignore[reportUnknownVariableType]
        wanted: Mapping[str, Any] = pattern  # pyright: ignore[reportUnknownVariableType]
        out: list[str] = []
        for key, sub in wanted.items():
            out += _compare(found.get(key, _MISSING), sub, _join(path, str(key)), partial)
        if not partial:
            extra = [(k, v) for k, v in found.items() if k not in wanted]
            out += [f"{_join(path, str(k))}: unexpected key (value {_show(v)})" for k, v in extra]
        return out
    if isinstance(pattern, list | tuple):
        items = cast(Sequence[Any], pattern)
        if not isinstance(actual, list | tuple):
            return [f"{where}: expected a list, found {_show(actual)}"]
        got = cast(Sequence[Any], actual)
        if len(got) != len(items):
            return [f"{where}: expected {len(items)} item(s), found {len(got)}: {_show(list(got))}"]
        out = []
        for i, (a, p) in enumerate(zip(got, items, strict=True)):
            out += _compare(a, p, f"{path}[{i}]", partial)
        return out
    # True is not 1 in a resource's properties (JSON keeps them apart), though Python says so.
    equal = actual is pattern if isinstance(actual, bool) or isinstance(pattern, bool) else actual == pattern
    if equal:
        return []
    return [f"{where}: expected {_show(pattern)}, found {_show(actual)}"]


def mismatches(actual: Any, pattern: Any, path: str = "") -> list[str]:
    """Every difference between `actual` and the partial `pattern` (see the module docstring),
    each as `"<path>: <what differs>"`, `path` prefixed; [] when it matches."""
    return _compare(actual, pattern, path, partial=True)


def matches(actual: Any, pattern: Any) -> bool:
    """Whether `actual` matches the partial `pattern`."""
    return not _compare(actual, pattern, "", partial=True)
