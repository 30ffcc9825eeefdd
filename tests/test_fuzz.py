"""Property-based fuzzing of the shipped stack files (issue 14).

Hypothesis mutates `stacks/Pulumi.<stack>.yaml` the ways people get a stack file wrong —
delete, duplicate, retype and misspell keys at every depth, swap values between fields,
empty and huge values — and runs what `slipway render`/`check`/`pulumi up` run: the one
validation path, then the program under the mock monitor. Every run must end as the CLI
ends it, exit 0 (accepted) or 2 (refused, with `path: … — fix` messages), and never with
a traceback. Where a mutation must not change what the stack means (a misspelled schema
key, a duplicated key, a value re-typed as YAML reads it), the run must refuse it or
produce the same parsed config: never a silent change of meaning.

Examples are derandomized (the same inputs on every run, so CI is stable) and the
number of examples per property keeps the file at a few seconds.
"""

from __future__ import annotations

import collections
import copy
import io
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from slipway.cli.render import ROOT, RenderError, run_program
from slipway.components.validation import ArgsError
from slipway.program.config import ConfigError, StackConfig
from slipway.program.config.errors import _allowed_fields  # pyright: ignore[reportPrivateUsage]
from slipway.program.stackfile import load_stack_file

STACKS = ("dev", "prod")
FUZZ = settings(
    # SLIPWAY_FUZZ_EXAMPLES=500 ./dev test tests/test_fuzz.py fuzzes deeper (the suite keeps it short).
    max_examples=int(os.environ.get("SLIPWAY_FUZZ_EXAMPLES", "15")),
    deadline=None,
    # Deterministic in the suite; a deeper run (SLIPWAY_FUZZ_EXAMPLES set) explores new inputs each time.
    derandomize="SLIPWAY_FUZZ_EXAMPLES" not in os.environ,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def _config(stack: str) -> dict[str, Any]:
    return yaml.safe_load((ROOT / "stacks" / f"Pulumi.{stack}.yaml").read_text())["config"]


ORIGINAL = {s: _config(s) for s in STACKS}

Path_ = tuple[str | int, ...]


def _nodes(value: Any, path: Path_ = ()) -> list[Path_]:
    """Every path into a config mapping (full keys first: `slipway:apps`, then nested keys/indexes)."""
    out: list[Path_] = []
    if isinstance(value, dict):
        for k, v in value.items():
            out.append((*path, k))
            out += _nodes(v, (*path, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out.append((*path, i))
            out += _nodes(v, (*path, i))
    return out


PATHS = {s: [p for p in _nodes(ORIGINAL[s]) if str(p[0]).startswith("slipway:")] for s in STACKS}


def _get(doc: Any, path: Path_) -> Any:
    for part in path:
        doc = doc[part]
    return doc


def _schema_key(stack: str, path: Path_) -> bool:
    """Is the last part of `path` a key of a slipway model (not a user's map key such as an app name or a tag)?"""
    if not isinstance(path[-1], str):
        return False
    if len(path) == 1:  # a top-level `slipway:<key>`: schema keys are StackConfig fields
        return path[0].split(":", 1)[1] in {f.alias or n for n, f in StackConfig.model_fields.items()}
    loc = (path[0].split(":", 1)[1], *path[1:])
    return path[-1] in _allowed_fields(StackConfig, loc)


_RAN: set[tuple[str, str]] = set()
_BUDGET: collections.Counter[str] = collections.Counter()
PROGRAM_RUNS = int(os.environ.get("SLIPWAY_FUZZ_PROGRAM_RUNS", "4"))


def caller() -> str:
    """The test function running (program runs are budgeted per property)."""
    return os.environ.get("PYTEST_CURRENT_TEST", "").split(" ")[0]


@dataclass
class Outcome:
    code: int
    message: str
    cfg: StackConfig | None


def run(stack: str, root: Path) -> Outcome:
    """What the CLI does with the stack file under `root`, as (exit code, message, parsed config).

    Any exception other than the two the CLI reports as config errors escapes: the test fails with it.
    """
    try:
        stackfile = load_stack_file(stack, root)
        validated = stackfile.checked(require_pins=True)
        key = (stack, validated.cfg.model_dump_json())
        # The same config runs the same program: once is enough. The program runs for the
        # first PROGRAM_RUNS accepted configs of each property (it takes ~0.2 s a run).
        if key not in _RAN and _BUDGET[caller()] < PROGRAM_RUNS:
            _BUDGET[caller()] += 1
            run_program(stackfile)
            _RAN.add(key)
    except (ConfigError, ArgsError) as exc:
        return Outcome(2, str(exc), None)
    except RenderError as exc:  # pragma: no cover - a mock gap or unknown value: a bug, not a user error
        pytest.fail(f"render failed (not a user error): {exc}")
    return Outcome(0, "", validated.cfg)


def write(tmp_path: Path, stack: str, config: dict[str, Any] | str) -> Path:
    root = tmp_path / "proj"
    (root / "stacks").mkdir(parents=True, exist_ok=True)
    text = config if isinstance(config, str) else yaml.safe_dump({"config": config}, sort_keys=False)
    (root / "stacks" / f"Pulumi.{stack}.yaml").write_text(text)
    return root


def assert_reported(outcome: Outcome) -> None:
    """Exit 0, or exit 2 with messages that each name a field (`path: … — fix`)."""
    assert outcome.code in (0, 2)
    if outcome.code == 2:
        lines = [ln.strip()[2:] for ln in outcome.message.splitlines()[1:] if ln.strip().startswith("- ")]
        assert lines, outcome.message
        for line in lines:
            assert ": " in line, f"message names no field: {line!r}"


def same_meaning(stack: str, path: Path_, outcome: Outcome) -> None:
    """Refused, or exactly the config the unmutated stack file means.

    Inside an IAM statement (`serviceAccount.policyStatements`) a string and a one-element
    list are the same document (IAM's grammar: `"Action": "s3:GetObject"` ≡ `["s3:GetObject"]`),
    so there only the statement's own normal form is compared."""
    if outcome.code == 2:
        return
    baseline = load_stack_file(stack, ROOT).parse().model_dump()
    assert outcome.cfg is not None
    got = outcome.cfg.model_dump()
    if "policyStatements" in path:
        got, baseline = _iam_normal(got), _iam_normal(baseline)
    assert got == baseline, f"{'.'.join(map(str, path))}: accepted with a different meaning"


def _iam_normal(value: Any) -> Any:
    """One-element lists as their element, everywhere (IAM reads both alike)."""
    if isinstance(value, dict):
        return {k: _iam_normal(v) for k, v in value.items()}
    if isinstance(value, list):
        return _iam_normal(value[0]) if len(value) == 1 else [_iam_normal(v) for v in value]
    return value


@pytest.fixture(scope="module")
def baselines() -> dict[str, Outcome]:
    return {s: run(s, ROOT) for s in STACKS}


def test_the_shipped_stacks_pass(baselines: dict[str, Outcome]):
    assert all(o.code == 0 for o in baselines.values()), {s: o.message for s, o in baselines.items()}


def _mutate(stack: str, path: Path_, fn: Any) -> dict[str, Any]:
    doc = copy.deepcopy(ORIGINAL[stack])
    parent = _get(doc, path[:-1])
    fn(parent, path[-1])
    return doc


stacks = st.sampled_from(STACKS)


@FUZZ
@given(data=st.data())
def test_deleting_any_key_is_reported_or_accepted(tmp_path_factory: pytest.TempPathFactory, data: st.DataObject):
    stack = data.draw(stacks)
    path = data.draw(st.sampled_from(PATHS[stack]))
    doc = _mutate(stack, path, lambda parent, key: parent.pop(key))
    assert_reported(run(stack, write(tmp_path_factory.mktemp("f"), stack, doc)))


def _misspellings(key: str) -> st.SearchStrategy[str]:
    """Typos: a dropped, doubled or swapped letter, or a letter in the wrong case."""

    def typo(pair: tuple[int, int]) -> str:
        kind, i = pair
        i %= len(key)
        if kind == 0:
            return key[:i] + key[i + 1 :]
        if kind == 1:
            return key[:i] + key[i] + key[i:]
        if kind == 2 and i + 1 < len(key):
            return key[:i] + key[i + 1] + key[i] + key[i + 2 :]
        return key[:i] + key[i].swapcase() + key[i + 1 :]

    return st.tuples(st.integers(0, 3), st.integers(0, 200)).map(typo).filter(lambda k: k != key and bool(k))


@FUZZ
@given(data=st.data())
def test_a_misspelled_schema_key_is_refused(tmp_path_factory: pytest.TempPathFactory, data: st.DataObject):
    stack = data.draw(stacks)
    path = data.draw(st.sampled_from([p for p in PATHS[stack] if _schema_key(stack, p)]))
    key = str(path[-1])
    wrong = data.draw(_misspellings(key.split(":", 1)[-1]))
    if len(path) == 1:
        wrong = f"slipway:{wrong}"
    parent_keys = set(_get(ORIGINAL[stack], path[:-1]))
    loc = (*(((path[0].split(":", 1)[1],) + path[1:-1]) if len(path) > 1 else ()), wrong)
    allowed = (
        {f.alias or n for n, f in StackConfig.model_fields.items()}
        if len(path) == 1
        else set(_allowed_fields(StackConfig, loc))
    )
    if wrong.split(":", 1)[-1] in allowed or wrong in parent_keys:
        return  # the typo is another real key: not a misspelling
    doc = _mutate(stack, path, lambda parent, k: parent.__setitem__(wrong, parent.pop(k)))
    outcome = run(stack, write(tmp_path_factory.mktemp("f"), stack, doc))
    assert outcome.code == 2, f"{'.'.join(map(str, path))} misspelled as {wrong!r} was accepted"
    assert_reported(outcome)


def _retyped(value: Any) -> list[Any]:
    """The same value as YAML might read it after a quoting slip: quoted, unquoted, listed, unlisted."""
    out: list[Any] = []
    if isinstance(value, (bool, int | float)):
        out.append(str(value).lower() if isinstance(value, bool) else str(value))
    if isinstance(value, str):
        try:
            unquoted = yaml.safe_load(io.StringIO(value))
        except yaml.YAMLError:
            unquoted = value  # not a YAML scalar unquoted: quoting it was needed
        if not isinstance(unquoted, str | dict | list | type(None)):
            out.append(unquoted)
        if value in ("true", "false"):
            out.append(value == "true")
    if isinstance(value, str | int | float | bool):
        out.append([value])
    if isinstance(value, list) and len(value) == 1:
        out.append(value[0])
    if isinstance(value, dict):
        out.append([value])
    return out


@FUZZ
@given(data=st.data())
def test_a_retyped_value_is_refused_or_means_the_same(tmp_path_factory: pytest.TempPathFactory, data: st.DataObject):
    stack = data.draw(stacks)
    path = data.draw(st.sampled_from([p for p in PATHS[stack] if _retyped(_get(ORIGINAL[stack], p))]))
    new = data.draw(st.sampled_from(_retyped(_get(ORIGINAL[stack], path))))
    doc = _mutate(stack, path, lambda parent, k: parent.__setitem__(k, new))
    outcome = run(stack, write(tmp_path_factory.mktemp("f"), stack, doc))
    assert_reported(outcome)
    same_meaning(stack, path, outcome)


@FUZZ
@given(data=st.data())
def test_swapped_values_are_reported_or_accepted(tmp_path_factory: pytest.TempPathFactory, data: st.DataObject):
    stack = data.draw(stacks)
    maps = [p for p in [(), *PATHS[stack]] if isinstance(_get(ORIGINAL[stack], p), dict)]
    where = data.draw(st.sampled_from(maps))
    keys = list(_get(ORIGINAL[stack], where))
    if len(keys) < 2:
        return
    a, b = data.draw(st.lists(st.sampled_from(keys), min_size=2, max_size=2, unique=True))
    doc = copy.deepcopy(ORIGINAL[stack])
    parent = _get(doc, where)
    parent[a], parent[b] = parent[b], parent[a]
    assert_reported(run(stack, write(tmp_path_factory.mktemp("f"), stack, doc)))


EXTREMES: list[Any] = ["", [], {}, None, 0, -1, 10**12, "x" * 5000, ["x"] * 300, {"k": "v"}, "ü∆\x00", 1.5e300]


@FUZZ
@given(data=st.data())
def test_empty_and_huge_values_are_reported_or_accepted(tmp_path_factory: pytest.TempPathFactory, data: st.DataObject):
    stack = data.draw(stacks)
    path = data.draw(st.sampled_from(PATHS[stack]))
    new = data.draw(st.sampled_from(EXTREMES))
    doc = _mutate(stack, path, lambda parent, k: parent.__setitem__(k, new))
    assert_reported(run(stack, write(tmp_path_factory.mktemp("f"), stack, doc)))


def _with_duplicate(stack: str, path: Path_) -> str:
    """The stack file's text with the mapping entry at `path` written twice (as a copy-paste does)."""
    node = yaml.compose((ROOT / "stacks" / f"Pulumi.{stack}.yaml").read_text())
    current = node
    for part in ("config", *path[:-1]):
        current = current.value[part] if isinstance(part, int) else next(v for k, v in current.value if k.value == part)
    entry = next((k, v) for k, v in current.value if k.value == path[-1])
    current.value.append(entry)
    return yaml.serialize(node)


@FUZZ
@given(data=st.data())
def test_a_duplicated_key_is_refused_naming_it(tmp_path_factory: pytest.TempPathFactory, data: st.DataObject):
    stack = data.draw(stacks)
    path = data.draw(st.sampled_from([p for p in PATHS[stack] if isinstance(p[-1], str)]))
    text = _with_duplicate(stack, path)
    outcome = run(stack, write(tmp_path_factory.mktemp("f"), stack, text))
    assert outcome.code == 2, f"{path} written twice was accepted"
    assert str(path[-1]).split(":", 1)[-1] in outcome.message and "line" in outcome.message


# Inputs the fuzzing found crashing (a traceback, or a crash inside the program after the
# config passed); each is now a config error naming its field.
FOUND = [
    (("slipway:apps", "web", "ingress", "hosts"), -1, "apps.web.ingress.hosts: -1 is not a list"),
    (("slipway:apps", "web", "probes", "readiness", "httpGet"), None, "apps.web.probes.readiness: "),
    (("slipway:apps", "web", "namespace"), "kube-public", "apps.web.namespace: 'kube-public' is not a namespace"),
    (("slipway:argo", "namespace"), "kube-node-lease", "argo.namespace: 'kube-node-lease' is not a namespace"),
]


@pytest.mark.parametrize(("path", "value", "said"), FOUND, ids=[".".join(p[1:]) for p, _, _ in FOUND])
def test_what_the_fuzzing_found_is_a_config_error(tmp_path: Path, path: Path_, value: Any, said: str):
    doc = _mutate("dev", path, lambda parent, k: parent.__setitem__(k, value))
    outcome = run("dev", write(tmp_path, "dev", doc))
    assert outcome.code == 2 and said in outcome.message, outcome.message


def test_a_listed_sso_key_is_a_config_error(tmp_path: Path):
    doc = copy.deepcopy(ORIGINAL["prod"])
    doc["slipway:argo"]["sso"]["clientIdKey"] = ["argoSsoClientId"]
    outcome = run("prod", write(tmp_path, "prod", doc))
    assert outcome.code == 2 and "argo.sso.clientIdKey: [" in outcome.message, outcome.message
