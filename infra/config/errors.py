"""Config errors as users read them: `path: value problem — fix`, every one at once.

Shape errors (types, unknown keys, enum values, ranges) come from pydantic and are
rephrased here; rules written for slipway raise `problems(...)`, which carries
several issues at once so that one model reports all of its own mistakes together.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_core import InitErrorDetails, PydanticCustomError


class Issue(dict):
    """One config mistake: where (relative to the model raising it), value, problem, fix."""

    def __init__(self, path: str, value: Any, problem: str, fix: str):
        super().__init__(path=path, value=value, problem=problem, fix=fix)


def problems(issues: Iterable[Issue]) -> PydanticCustomError:
    """An error that carries several issues at once (raised from validators)."""
    issues = list(issues)
    return PydanticCustomError(
        "slipway", "{summary}", {"issues": issues, "summary": "; ".join(i["problem"] for i in issues)}
    )


def invalid(problem: str, fix: str) -> PydanticCustomError:
    """A single-field error from a field validator: `<value> <problem> — <fix>`."""
    return PydanticCustomError("slipway", "{problem} — {fix}", {"problem": problem, "fix": fix})


def merged(exc: ValidationError, issues: list[Issue], data: Any) -> ValidationError:
    """`exc`'s errors plus `issues`, as one ValidationError (so nothing is reported late)."""
    details: list[InitErrorDetails] = []
    for e in exc.errors(include_url=False):
        ctx = e.get("ctx")
        if e["type"] == "slipway":
            details.append(InitErrorDetails(type=PydanticCustomError("slipway", e["msg"], ctx), loc=e["loc"],
                                            input=e["input"]))  # fmt: skip
        else:
            details.append(InitErrorDetails(type=e["type"], loc=e["loc"], input=e["input"], ctx=ctx or {}))
    details.append(InitErrorDetails(type=problems(issues), loc=(), input=data))
    return ValidationError.from_exception_data(exc.title, details)


def show(value: Any) -> str:
    """A value as the user wrote it in YAML: strings quoted, others as JSON."""
    if isinstance(value, str):
        return repr(value) if value else "'' (empty)"
    try:
        return json.dumps(value, sort_keys=True, default=str)
    except TypeError:  # pragma: no cover - defensive
        return repr(value)


class ConfigError(Exception):
    """Raised with every issue found in a stack's config; str() is the user-facing text."""

    def __init__(self, messages: list[str], stack: str | None = None):
        self.messages = messages
        self.stack = stack
        super().__init__(self._text())

    def _text(self) -> str:
        where = f" in stack {self.stack!r}" if self.stack else ""
        n = len(self.messages)
        return f"{n} config error{'s' if n != 1 else ''}{where}:\n" + "\n".join(f"  - {m}" for m in self.messages)

    def __str__(self) -> str:
        return self._text()


def _path(loc: Iterable[Any]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, str) and part.startswith("function-"):
            continue  # validator names pydantic puts in some locations
        out += f"[{part}]" if isinstance(part, int) else ("." if out else "") + str(part)
    return out


def _allowed_fields(model: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    """The camelCase keys valid at `loc` (for 'did you mean' on unknown keys)."""
    current: Any = model
    in_mapping = False  # the previous step entered a dict[str, X]: this part is one of its keys
    for part in loc[:-1]:
        if isinstance(part, int) or in_mapping:
            in_mapping = False
            continue
        if isinstance(current, type) and issubclass(current, BaseModel):
            field = next((f for n, f in current.model_fields.items() if (f.alias or n) == part), None)
            if field is None:
                return []
            current = field.annotation
        # dict[str, X] / list[X] / X | None: step into the model type inside
        while not (isinstance(current, type) and issubclass(current, BaseModel)):
            if getattr(current, "__origin__", None) is dict:
                in_mapping = True
            args = [a for a in getattr(current, "__args__", ()) if a is not type(None)]
            if not args:
                return []
            current = args[-1]
    if in_mapping:  # loc ends at a mapping's own key (a pool's or an app's name): any key is allowed
        return []
    return [f.alias or n for n, f in current.model_fields.items()]


_TYPE_WORDS = {
    "int": "a whole number",
    "bool": "true or false",
    "string": "a text value",
    "dict": "a mapping (key: value lines)",
    "list": "a list",
    "float": "a number",
}


def format_errors(exc: ValidationError, model: type[BaseModel]) -> list[str]:
    """Turn a pydantic ValidationError into `path: value problem — fix` lines."""
    messages: list[str] = []
    for err in exc.errors(include_url=False):
        loc = tuple(err["loc"])
        path = _path(loc)
        ctx = err.get("ctx") or {}
        kind = err["type"]
        if kind == "slipway" and "issues" in ctx:
            for issue in ctx["issues"]:
                sub = issue["path"]
                full = f"{path}.{sub}" if path and sub and not sub.startswith("[") else f"{path}{sub}"
                messages.append(f"{full}: {show(issue['value'])} {issue['problem']} — {issue['fix']}")
        elif kind == "slipway":
            messages.append(f"{path}: {show(err['input'])} {err['msg']}")
        elif kind == "extra_forbidden":
            allowed = _allowed_fields(model, loc)
            guess = difflib.get_close_matches(str(loc[-1]), allowed, n=1)
            hint = f"did you mean {guess[0]!r}?" if guess else f"allowed keys: {', '.join(allowed)}"
            messages.append(f"{path}: unknown key — remove it ({hint})")
        elif kind == "literal_error":
            messages.append(f"{path}: {show(err['input'])} is not allowed — use one of {ctx.get('expected')}")
        elif kind == "missing":
            messages.append(f"{path}: is required — add it to the stack file")
        elif kind in ("greater_than_equal", "less_than_equal", "greater_than", "less_than"):
            op = {"greater_than_equal": "≥", "less_than_equal": "≤", "greater_than": ">", "less_than": "<"}[kind]
            bound = next(iter(ctx.values()))
            messages.append(f"{path}: {show(err['input'])} is out of range — use a value {op} {bound}")
        elif kind == "model_type":
            keys = _allowed_fields(model, (*loc, "_"))
            fix = f"write it as a mapping with keys {', '.join(keys)}" if keys else "write a mapping here"
            messages.append(f"{path}: {show(err['input'])} is not a mapping (key: value lines) — {fix}")
        elif kind.endswith(("_type", "_parsing")):
            want = next((w for k, w in _TYPE_WORDS.items() if kind.startswith(k)), kind.split("_")[0])
            messages.append(f"{path}: {show(err['input'])} is not {want} — write {want} here")
        else:
            messages.append(f"{path}: {show(err['input'])} is invalid ({err['msg']}) — fix its type or value")
    return messages
