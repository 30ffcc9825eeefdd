"""Reading `stacks/Pulumi.<stack>.yaml` the way the Pulumi CLI hands it to a program.

The CLI passes every config value to the program as a string (objects and lists as
JSON) and names the keys that are secrets. The offline render does the same from
the stack file. Values stored encrypted (`secure: v1:…`) cannot be decrypted
offline; they are replaced by a placeholder and the key is marked secret, so the
render shows where secrets flow without ever holding one.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from slipway.program.config import NAMESPACE, ConfigError, StackConfig, default_cluster_name, parse_config_values
from slipway.program.guardrails import Finding

if TYPE_CHECKING:
    from slipway.program.capacity import ClusterPlan
    from slipway.program.validate import Validated


def _has_secure(value: Any) -> bool:
    if isinstance(value, dict):
        return set(value) == {"secure"} or any(_has_secure(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_secure(v) for v in value)
    return False


def _placeholder(value: Any, key: str) -> Any:
    if isinstance(value, dict):
        if set(value) == {"secure"}:
            return f"<secret {key}>"
        return {k: _placeholder(v, f"{key}.{k}") for k, v in value.items()}
    if isinstance(value, list):
        return [_placeholder(v, f"{key}[{i}]") for i, v in enumerate(value)]
    return value


def _as_config_string(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    return json.dumps(value)


@dataclass
class StackFile:
    """One stack's config as the program will receive it."""

    name: str
    path: Path
    values: dict[str, Any]
    """Full keys (`aws:region`, `slipway:network`) → YAML values, secure ones replaced."""
    secret_keys: list[str] = field(default_factory=list)
    root: Path | None = None
    """The project folder holding stacks/ (guardrails compare the stack with its siblings)."""

    @property
    def region(self) -> str:
        return str(self.values.get("aws:region", ""))

    @property
    def aws_profile(self) -> str | None:
        """`aws:profile`, the profile `pulumi up` deploys with (None: the environment's credentials)."""
        value = self.values.get("aws:profile")
        return str(value) if value else None

    def namespace(self) -> dict[str, Any]:
        """The `slipway:` keys, without the prefix."""
        return {k.split(":", 1)[1]: v for k, v in self.values.items() if k.split(":", 1)[0] == NAMESPACE}

    def pulumi_config(self) -> dict[str, str]:
        """The config map as the CLI passes it (all values strings)."""
        return {k: _as_config_string(v) for k, v in sorted(self.values.items())}

    def checked(self, require_pins: bool = False) -> Validated:
        """The one validation path (`slipway.program.validate`): schema, pins (when
        `require_pins`, as for a render or deploy), capacity plan and guardrails.
        ConfigError lists every error; the result carries the warnings."""
        from slipway.program.validate import validate

        return validate(self.values, stack=self.name, root=self.root, secret_keys=self.secret_keys,
                        require_pins=require_pins)  # fmt: skip

    def validate(self) -> StackConfig:
        """Validate the stack (pins aside) and return its config; ConfigError lists every issue."""
        return self.checked().cfg

    def plan(self) -> tuple[StackConfig, ClusterPlan]:
        """The validated config and its pools' capacity plan; ConfigError lists every issue."""
        v = self.checked()
        return v.cfg, v.plan

    def parse(self) -> StackConfig:
        """Parse the `slipway:` namespace only; raises ConfigError listing every issue."""
        return parse_config_values(
            self.namespace(),
            region=self.region,
            stack=self.name,
            aws_profile=self.values.get("aws:profile"),
            secret_keys=self.secret_keys,
        )


def stack_names(root: Path) -> list[str]:
    """The stacks under `root`: the `<name>` of each `stacks/Pulumi.<name>.yaml`, sorted."""
    return sorted(p.name[len("Pulumi.") : -len(".yaml")] for p in (root / "stacks").glob("Pulumi.*.yaml"))


class StackFileLoader(yaml.SafeLoader):
    """PyYAML's SafeLoader that refuses a mapping key written twice, at any depth.

    `yaml.safe_load` keeps the last of two `replicas:` lines silently (YAML 1.1 leaves it
    to the loader), so an edit to the first one would do nothing. Merge keys (`<<:`) may
    still be overridden: that is what they are for.
    """

    def duplicate_keys(self, node: yaml.Node | None) -> list[tuple[str, yaml.Node, yaml.Node]]:
        """(key path, first key node, repeated key node) of every key written twice under `node`."""
        out: list[tuple[str, yaml.Node, yaml.Node]] = []
        seen: set[int] = set()

        def walk(node: yaml.Node | None, path: str) -> None:
            if node is None or id(node) in seen:
                return  # an alias: walked where its anchor is
            seen.add(id(node))
            if isinstance(node, yaml.SequenceNode):
                for i, item in enumerate(node.value):
                    walk(item, f"{path}[{i}]")
            elif isinstance(node, yaml.MappingNode):
                first: dict[tuple[str, str], yaml.Node] = {}
                for key, value in node.value:
                    if key.tag == "tag:yaml.org,2002:merge" or not isinstance(key, yaml.ScalarNode):
                        continue
                    child = f"{path}.{key.value}" if path else str(key.value)
                    if (key.tag, key.value) in first:
                        out.append((child, first[(key.tag, key.value)], key))
                    else:
                        first[(key.tag, key.value)] = key
                    walk(value, child)

        walk(node, "")
        return out


def _twice(loader: StackFileLoader, node: yaml.Node | None, filename: str) -> list[Finding]:
    # Keys under `config:` are named as `pulumi config` names them (slipway:apps.web).
    return [
        Finding("error", key.removeprefix("config."), None,
                f"is written twice in {filename}, on lines {a.start_mark.line + 1} and {b.start_mark.line + 1}, "
                "and YAML silently keeps the last", "keep one")
        for key, a, b in loader.duplicate_keys(node)
    ]  # fmt: skip


def duplicate_keys(path: Path) -> list[Finding]:
    """Every key written twice in the YAML file `path`, as errors naming both lines ([] if it is not YAML).

    `load_stack_file` refuses such a file; under `pulumi up` the engine reads the stack's
    file itself, so the guardrail `stack_file_keys` asks here.
    """
    loader = StackFileLoader(path.read_text())
    try:
        return _twice(loader, loader.get_single_node(), path.name)
    except yaml.YAMLError:
        return []
    finally:
        loader.dispose()


def read_yaml(path: Path, stack: str) -> Any:
    """The YAML document in `path`; ConfigError naming every key written twice (both lines)."""
    loader = StackFileLoader(path.read_text())
    try:
        node = loader.get_single_node()
        twice = _twice(loader, node, path.name)
        if twice:
            raise ConfigError([str(f) for f in twice], stack)
        return loader.construct_document(node) if node is not None else None
    finally:
        loader.dispose()


def load_stack_file(name: str, root: Path) -> StackFile:
    """Read `stacks/Pulumi.<name>.yaml` under `root`."""
    path = root / "stacks" / f"Pulumi.{name}.yaml"
    if not path.exists():
        known = stack_names(root)
        raise ConfigError(
            [
                f"stack: {name!r} has no file {path.relative_to(root)} — use one of {', '.join(known) or '(none)'} "
                f"or create it with `pulumi stack init {name}`"
            ],
        )
    try:
        doc = read_yaml(path, name) or {}
    except yaml.YAMLError as e:
        raise ConfigError([f"{path.name}: is not valid YAML ({e}) — fix the indentation or quoting"], name) from None
    if not isinstance(doc, dict):
        raise ConfigError([f"{path.name}: is a YAML {type(doc).__name__}, not a stack file — write a mapping with a "
                           "`config:` key (see stacks/Pulumi.dev.yaml)"], name)  # fmt: skip
    raw = doc.get("config") or {}
    if not isinstance(raw, dict):
        raise ConfigError([f"{path.name}: `config` must be a mapping of keys to values"], name)
    values: dict[str, Any] = {}
    secrets: list[str] = []
    problems: list[str] = []
    for key, value in raw.items():
        full = config_key(str(key))
        if full is None:
            # Pulumi's stack-file reader refuses such a key (sdk/go/common/resource/config/key.go
            # ParseKey: "configuration keys should be of the form `<namespace>:<name>`"), so
            # `pulumi up` would fail where the offline render would silently guess.
            problems.append(f"{path.name}: key {key!r} has no namespace, and Pulumi only reads "
                            f"`<namespace>:<name>` keys — write it as `{NAMESPACE}:{key}` (or `aws:{key}` for the AWS "
                            "provider)")  # fmt: skip
            continue
        if full in values:
            problems.append(f"{path.name}: {full} is set twice (as {key!r} too) and one would silently win — keep one")
            continue
        if _has_secure(value):
            secrets.append(full)
            value = _placeholder(value, full)
        values[full] = value
    if problems:
        raise ConfigError(problems, name)
    return StackFile(name=name, path=path, values=values, secret_keys=sorted(secrets), root=root)


def config_key(key: str) -> str | None:
    """`namespace:name` as Pulumi reads a stack file's key (`ns:config:name` is the old form of
    `ns:name`); None for a key Pulumi refuses."""
    parts = key.split(":")
    if len(parts) == 2 and all(parts):
        return key
    if len(parts) == 3 and parts[1] == "config" and parts[0] and parts[2]:
        return f"{parts[0]}:{parts[2]}"
    return None


@dataclass(frozen=True)
class StackTarget:
    """A stack as `slipway doctor` and `slipway kubeconfig` reach it: its cluster and AWS identity."""

    stackfile: StackFile
    cfg: StackConfig
    cluster_name: str
    profile: str | None
    """`slipway:identity.profile`, else `aws:profile` (None: the environment's credentials)."""


def load_stack_target(name: str, root: Path) -> StackTarget:
    """Read and parse stack `name` (ConfigError if invalid) and resolve its cluster name and profile."""
    stackfile = load_stack_file(name, root)
    cfg = stackfile.parse()
    return StackTarget(
        stackfile=stackfile,
        cfg=cfg,
        cluster_name=default_cluster_name(cfg.cluster_name, name),
        profile=cfg.identity.profile or stackfile.aws_profile,
    )
