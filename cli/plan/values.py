"""Input trees as Pulumi sees them: property paths (`spec.selector.matchLabels["app"]`,
`instanceTypes[0]`), the value at a path, the leaf-level differences between two trees, and a
value shown on one short line."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from typing import Any

from slipway.cli.plan.model import COMPUTED, PropertyChange

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


def at(value: Any, path: str) -> Any:
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


def ignored(path: str, ignore: Iterable[str]) -> bool:
    """Whether `path` is one of `ignore` or lies under one (`ignoreChanges`, `replaceOnChanges`)."""
    return any(path == p or path.startswith((p + ".", p + "[")) for p in ignore)


def walk(value: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    """Every (path, value) of a tree, the root first; a `{"$ref": urn}` is a leaf."""
    yield path, value
    if isinstance(value, dict) and "$ref" not in value:
        for key, sub in value.items():
            yield from walk(sub, join(path, key))
    elif isinstance(value, list):
        for i, sub in enumerate(value):
            yield from walk(sub, join(path, i))


def show(value: Any, width: int = 60) -> str:
    """`value` as JSON on one line, cut to `width` characters ("(known after apply)" as is)."""
    text = value if value == COMPUTED else json.dumps(value, sort_keys=True, default=str)
    return text if len(text) <= width else text[: width - 1] + "…"
