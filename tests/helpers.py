"""Helpers shared by slipway's own test files (not for users: those are in `slipway.testing`).

- `slipway_cli(...)`: the `slipway` command in a subprocess, against a project root;
- `project_copy(...)`: a project holding an (edited) copy of a shipped stack file;
- `stubbed_client(...)`: a boto3 client with a botocore Stubber, never reaching AWS;
- `stack_version`, `shipped_stacks`, `check_settings`: facts of the shipped stacks.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import boto3
import yaml
from botocore.stub import Stubber

from slipway.cli.render import ROOT


def slipway_cli(
    *args: str,
    root: Path | None = None,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    timeout: float | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run `slipway <args>` in a fresh interpreter (exit code, stdout, stderr as text).

    `root` is the project (SLIPWAY_ROOT, default this checkout); `env` replaces the
    inherited environment; output is 160 columns wide, so tables do not wrap mid-word.
    """
    base = {**(os.environ if env is None else env), "SLIPWAY_ROOT": str(root or ROOT)}
    base.setdefault("COLUMNS", "160")
    return subprocess.run(
        [sys.executable, "-m", "slipway.cli.main", *args],
        capture_output=True,
        text=True,
        env=base,
        cwd=cwd,
        timeout=timeout,
    )


def project_copy(
    tmp_path: Path,
    *,
    stack: str = "dev",
    text: Callable[[str], str] | None = None,
    append: str = "",
    edit: Callable[[dict[str, Any]], None] | None = None,
) -> Path:
    """A project root, `tmp_path/proj`, holding a copy of the shipped `stacks/Pulumi.<stack>.yaml`.

    The copy is changed, in this order, by `text` (a function of the file's text), by
    `append` (added at the end, inside `config:`) and by `edit` (a function that edits the
    parsed `config:` mapping in place; the file is then written back as YAML, comments lost).
    """
    root = tmp_path / "proj"
    (root / "stacks").mkdir(parents=True, exist_ok=True)
    content = (ROOT / "stacks" / f"Pulumi.{stack}.yaml").read_text()
    if text is not None:
        content = text(content)
    content += append
    if edit is not None:
        doc = yaml.safe_load(content)
        edit(doc["config"])
        content = yaml.safe_dump(doc, sort_keys=False)
    (root / "stacks" / f"Pulumi.{stack}.yaml").write_text(content)
    return root


def stubbed_client(service: str, region: str = "us-east-1") -> tuple[Any, Stubber]:
    """A boto3 client for `service` with dummy credentials, and a Stubber over it (not yet
    activated: use `with stub:`). Nothing reaches AWS or moto."""
    client = boto3.client(service, region_name=region, aws_access_key_id="x", aws_secret_access_key="x")
    return client, Stubber(client)


def stack_version(stack: str) -> str:
    """The Kubernetes version a shipped stack pins (manifests are validated against it)."""
    from slipway.program.stackfile import load_stack_file

    return load_stack_file(stack, ROOT).parse().cluster.version


def shipped_stacks() -> list[str]:
    """The stacks in stacks/Pulumi.<stack>.yaml."""
    from slipway.program.stackfile import stack_names

    return stack_names(ROOT)


def check_settings(stack: str) -> tuple[str, dict[str, dict[str, Any]]]:
    """What `slipway check <stack>` derives from the stack file (cli/main.py `check`): the
    Kubernetes version to validate manifests against and the policy pack's configuration."""
    from slipway.policies.rules import stack_policy_config
    from slipway.program.stackfile import load_stack_file

    cfg = load_stack_file(stack, ROOT).parse()
    return cfg.cluster.version, stack_policy_config(cfg.environment, cfg.cluster.prefix_delegation)
