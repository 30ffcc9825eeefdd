"""Helpers shared by slipway's own test files (not for users: those are in `slipway.testing`).

- `slipway_cli(...)`: the `slipway` command in a subprocess, against a project root;
- `slipway_in_process(...)`: the same command in this process, on this checkout's stacks;
- `project_copy(...)`: a project holding an (edited) copy of a shipped stack file;
- `stubbed_client(...)`: a boto3 client with a botocore Stubber, never reaching AWS;
- `stack_version`, `shipped_stacks`, `check_settings`: facts of the shipped stacks.
"""

from __future__ import annotations

import json
import locale
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
    fresh: bool = False,
) -> subprocess.CompletedProcess[str]:
    """Run `slipway <args>` in a process of its own (exit code, stdout, stderr as text).

    `root` is the project (SLIPWAY_ROOT, default this checkout); `env` replaces the
    inherited environment; output is 160 columns wide, so tables do not wrap mid-word.

    The process is forked from a warm interpreter (tests/cli_server.py: third-party libraries
    imported, slipway not) and runs `slipway.cli.main` as `python -m` does, with this
    environment, folder, argv and stdio; `fresh=True` (or SLIPWAY_TEST_FRESH_CLI=1 for every
    command) starts a new interpreter instead, for a test about separate interpreters (each
    with its own hash seed).
    """
    base = {**(os.environ if env is None else env), "SLIPWAY_ROOT": str(root or ROOT)}
    base.setdefault("COLUMNS", "160")
    command = [sys.executable, "-m", "slipway.cli.main", *args]
    fresh = fresh or os.environ.get("SLIPWAY_TEST_FRESH_CLI") == "1"
    if not fresh and (server := _cli_server()) is not None:
        return server.run(command, base, Path.cwd() if cwd is None else cwd, timeout)
    return subprocess.run(command, capture_output=True, text=True, env=base, cwd=cwd, timeout=timeout)


# Third-party packages a command imports (their modules loaded in this process are imported
# by the server before it forks); slipway and the test tools (pytest, moto, …) never are.
_PRELOAD = {
    "boto3", "botocore", "click", "google", "grpc", "jsonschema", "jsonschema_specifications",
    "kubernetes_validate", "parliament", "pkg_resources", "pulumi", "pulumi_aws", "pulumi_eks",
    "pulumi_kubernetes", "pydantic", "pydantic_core", "referencing", "requests", "rich", "ruamel",
    "semver", "typer", "urllib3", "yaml",
}  # fmt: skip


class _Server:
    """This process's tests/cli_server.py: one command at a time (a test runs one at a time)."""

    def __init__(self) -> None:
        import importlib.util

        lazy = importlib.util._LazyModule  # pyright: ignore[reportAttributeAccessIssue]
        # In the order this process imported them (a lazily imported module: where it was
        # registered, so before its submodules; the server runs it there).
        loaded = [
            name
            for name, module in list(sys.modules.items())
            if name.split(".")[0] in _PRELOAD and module is not None and not isinstance(module, lazy)
        ]
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.cli_server", *sorted(_PRELOAD), *loaded],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            cwd=ROOT,
        )

    def run(
        self, command: list[str], env: Mapping[str, str], cwd: Path, timeout: float | None
    ) -> subprocess.CompletedProcess[str]:
        import select
        import signal
        import tempfile

        assert self.proc.stdin is not None and self.proc.stdout is not None
        with tempfile.TemporaryDirectory(prefix="slipway-cli-") as tmp:
            out, err = Path(tmp) / "stdout", Path(tmp) / "stderr"
            request = {"args": command[3:], "env": dict(env), "cwd": str(cwd), "stdout": str(out), "stderr": str(err)}
            self.proc.stdin.write((json.dumps(request) + "\n").encode())
            self.proc.stdin.flush()
            pid = int(self.proc.stdout.readline())
            ready, _, _ = select.select([self.proc.stdout], [], [], timeout)
            if not ready:
                os.kill(pid, signal.SIGKILL)
            code = int(self.proc.stdout.readline())
            stdout, stderr = (_text(p) for p in (out, err))
        if not ready:
            raise subprocess.TimeoutExpired(command, timeout or 0, stdout, stderr)
        return subprocess.CompletedProcess(command, code, stdout, stderr)


def _text(path: Path) -> str:
    """A file's text as `subprocess.run(text=True)` reads a pipe (universal newlines)."""
    with open(path, encoding=locale.getpreferredencoding(False)) as f:  # noqa: PTH123
        return f.read()


_server: list[_Server] = []


def _cli_server() -> _Server | None:
    """This process's command server, started on first use; None where there is no fork."""
    if not hasattr(os, "fork"):
        return None
    if not _server or _server[0].proc.poll() is not None:
        _server[:] = [_Server()]
    return _server[0]


def slipway_in_process(*args: str) -> subprocess.CompletedProcess[str]:
    """Run `slipway <args>` in this process (typer's runner), as `slipway_cli` reports it.

    For commands on this checkout's stacks (the project root is fixed at import) whose output
    does not depend on the terminal's width (JSON, exit codes, messages compared with their
    line breaks made spaces): no interpreter start-up and no cold render. An exception the
    command does not turn into an exit code is raised here (a subprocess would print its
    traceback and exit 1).
    """
    from typer.testing import CliRunner

    from slipway.cli.main import app

    result = CliRunner().invoke(app, list(args))
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return subprocess.CompletedProcess(["slipway", *args], result.exit_code, result.stdout, result.stderr)


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
