"""`slipway plan <stack> --base <git ref | render dir | none>`: render the stack at the base and
at the working tree, diff the two renders and report what `pulumi up` would do (cli/plan/).

The base is, in this order:

- `none`: nothing runs yet (a fresh stack: the plan creates everything);
- a folder holding `resources.json` (a `slipway render --out` folder), or `<stack>/resources.json`;
- a git ref of the repository holding the project. It is checked out with `git worktree add
  --detach` into a temporary folder and rendered there *with its own program and stack file*,
  in a subprocess whose `slipway.*` packages are that tree's folders (as pyproject.toml's
  `package-dir` maps them), while the working tree renders in this process. A tree without
  slipway's code (a project that installs slipway) renders its stack file with this slipway.
  A base from before the `slipway` namespace (pyproject `packages = ["components", "infra", …]`)
  runs as `python -m infra.cli`. Older layouts are refused: render such a base by hand and pass
  the folder. Either way the base's code runs with the dependencies installed here.

Exit codes: 0 the plan is reported · 1 it deletes or replaces a protected resource · 2 a bad
flag, base or stack config · 3 a render (the working tree's or the base's) failed.
"""

# typer declares arguments and options as call defaults by design (as in cli/main.py).
# ruff: noqa: B008

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import typer

from slipway.cli.common import err, out, render_or_exit
from slipway.cli.plan.diff import diff_renders, load_render
from slipway.cli.plan.report import Report
from slipway.cli.render import ROOT

FORMATS = ("table", "markdown", "json")


class BaseError(Exception):
    """The --base cannot be used (exit 2), or its render failed (exit 3)."""

    def __init__(self, message: str, code: int = 2):
        """`message` for the user; `code` the exit code."""
        super().__init__(message)
        self.code = code


def plan_command(
    stack: str = typer.Argument(..., help="Stack to plan (stacks/Pulumi.<stack>.yaml)."),
    base: str = typer.Option(
        ...,
        "--base",
        help="What runs now: a git ref (rendered with its own code), a render folder holding resources.json, "
        "or `none` (a fresh stack).",
    ),
    fmt: str = typer.Option("table", "--format", help="table | markdown | json"),
    as_json: bool = typer.Option(False, "--json", help="Same as --format json."),
) -> None:
    """What `pulumi up` would do, offline: hazards first, then each change, the order and the time.

    Exit 1 when the plan deletes or replaces a protected resource.

    Examples:
      slipway plan dev --base origin/main
      slipway plan prod --base build/prod --format markdown
      slipway plan dev --base none --json
    """
    if as_json and fmt not in ("table", "json"):
        err.print(f"error: --json and --format {fmt} both given — drop one of them")
        raise typer.Exit(2)
    fmt = "json" if as_json else fmt
    if fmt not in FORMATS:
        err.print(f"error: --format {fmt!r} is not supported — use table, markdown or json")
        raise typer.Exit(2)
    try:
        with tempfile.TemporaryDirectory(prefix="slipway-plan-") as tmp, err.status("rendering") as status:
            work = Path(tmp)
            with base_render(base, stack, ROOT, work) as pending:
                status.update(f"rendering {stack} at the working tree" + (f" and at {base}" if pending.busy else ""))
                head = render_or_exit(stack, work / "head", quiet=True)
                status.update(f"rendering {stack} at {base}")
                base_records = pending.result()
            status.update("diffing")
            report = Report.build(stack, pending.label, diff_renders(base_records, load_render(head.out_dir)))
    except BaseError as exc:
        err.print(f"[bold red]{'error' if exc.code == 2 else 'render failed'}:[/] {exc}", highlight=False)
        raise typer.Exit(exc.code) from None
    if fmt == "json":
        print(json.dumps(report.as_dict(), indent=2, sort_keys=True, default=str))
    elif fmt == "markdown":
        print(report.markdown())
    else:
        out.print(report.table())
    if report.exit_code:
        raise typer.Exit(report.exit_code)


# ---------------------------------------------------------------------------- the base render


@dataclass
class Pending:
    """The base's render: already loaded, or running in a subprocess."""

    label: str
    records: list[dict[str, Any]] | None = None
    proc: subprocess.Popen[str] | None = None
    out_dir: Path | None = None

    @property
    def busy(self) -> bool:
        """True while a subprocess renders the base."""
        return self.proc is not None

    def result(self) -> list[dict[str, Any]]:
        """The base's resources (waits for its render); BaseError(code 3) if that failed."""
        if self.proc is not None:
            stdout, stderr = self.proc.communicate()
            if self.proc.returncode != 0:
                raise BaseError(
                    f"the base ({self.label}) did not render (exit {self.proc.returncode}):\n"
                    + (stderr.strip() or stdout.strip())[-4000:],
                    code=3,
                )
            assert self.out_dir is not None
            self.records = load_render(self.out_dir)
        return self.records or []


@contextmanager
def base_render(base: str, stack: str, root: Path, work: Path) -> Iterator[Pending]:
    """The base's render for `stack`, started (a git ref renders in the background while the
    caller renders the head); a git worktree is removed on the way out."""
    if base.lower() == "none":
        yield Pending("none (fresh stack)", records=[])
        return
    folder = Path(base)
    if folder.exists():
        yield Pending(str(folder), records=_load_folder(folder, stack))
        return
    top, sha = _resolve_ref(base, root, stack)
    tree = work / "base-tree"
    added = _git(top, "worktree", "add", "--detach", "--quiet", str(tree), sha)
    if added.returncode:
        raise BaseError(f"git worktree add {base} failed: {added.stderr.strip()}", code=3)
    pending: Pending | None = None
    try:
        pending = _start(tree, tree / root.resolve().relative_to(top), base, sha, stack, work)
        yield pending
    finally:
        if pending is not None and pending.proc is not None and pending.proc.poll() is None:
            pending.proc.kill()
            pending.proc.communicate()
        _git(top, "worktree", "remove", "--force", str(tree))


def _load_folder(folder: Path, stack: str) -> list[dict[str, Any]]:
    for candidate in (folder, folder / "resources.json", folder / stack / "resources.json"):
        if candidate.is_file():
            try:
                return load_render(candidate)
            except (ValueError, OSError) as exc:
                raise BaseError(f"--base {folder}: {candidate} is not a render's resources.json ({exc})") from None
    raise BaseError(
        f"--base {folder}: no resources.json in it (nor {stack}/resources.json); pass a render folder "
        f"(`slipway render {stack} --out DIR`), a git ref (e.g. origin/main) or `none` for a fresh stack"
    )


def _git(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", "-C", str(cwd), *args], capture_output=True, text=True)


def _resolve_ref(ref: str, root: Path, stack: str) -> tuple[Path, str]:
    """The repository's top folder and the commit `ref` names; BaseError if neither exists."""
    top = _git(root, "rev-parse", "--show-toplevel")
    if top.returncode:
        raise BaseError(f"--base {ref!r} is not a folder, and {root} is not in a git repository to find it as a ref")
    sha = _git(root, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
    if sha.returncode:
        raise BaseError(
            f"--base {ref!r} is neither a render folder (holding resources.json) nor a git ref of "
            f"{top.stdout.strip()}; e.g. --base origin/main, --base HEAD~1, --base build/{stack}"
        )
    return Path(top.stdout.strip()).resolve(), sha.stdout.strip()


def _start(tree: Path, base_root: Path, ref: str, sha: str, stack: str, work: Path) -> Pending:
    """Start rendering `stack` in the checked-out base `tree` with that tree's own code."""
    label = f"{ref} ({sha[:7]})"
    if not (base_root / "stacks" / f"Pulumi.{stack}.yaml").is_file():
        return Pending(f"{label}: no stack file there, so a fresh stack", records=[])
    module, pythonpath = _code_of(tree, work, sha)
    env = {**os.environ, "SLIPWAY_ROOT": str(base_root), "COLUMNS": "160"}
    if pythonpath:
        env["PYTHONPATH"] = os.pathsep.join([pythonpath, *filter(None, [os.environ.get("PYTHONPATH")])])
    else:
        label += " with this slipway's code"
    out_dir = work / "base"
    proc = subprocess.Popen(
        [sys.executable, "-m", module, "render", stack, "--out", str(out_dir), "--no-diagram"],
        cwd=work,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    return Pending(label, proc=proc, out_dir=out_dir)


def _code_of(tree: Path, work: Path, sha: str) -> tuple[str, str | None]:
    """The module that renders in `tree` and the PYTHONPATH that makes it use the tree's code.

    The current layout maps `slipway.<room>` to a folder (pyproject `package-dir`): a folder of
    symlinks, `slipway/<room>` → the tree's folder, put first on the path, makes that code win
    over this checkout's editable install (its finder comes after the path's)."""
    pyproject = tree / "pyproject.toml"
    setup: dict[str, Any] = {}
    if pyproject.is_file():
        setup = tomllib.loads(pyproject.read_text()).get("tool", {}).get("setuptools", {})
    rooms = {k: v for k, v in (setup.get("package-dir") or {}).items() if k.startswith("slipway.")}
    if rooms:
        shim = work / "base-code" / "slipway"
        shim.mkdir(parents=True)
        for package, folder in rooms.items():
            (shim / package.removeprefix("slipway.")).symlink_to(tree / folder, target_is_directory=True)
        return "slipway.cli.main", str(shim.parent)
    if "infra" in (setup.get("packages") or []) and (tree / "infra" / "cli.py").is_file():
        return "infra.cli", str(tree)  # before the `slipway` namespace: top-level packages
    if (tree / "infra").is_dir() or (tree / "components").is_dir():
        raise BaseError(
            f"the base ({sha[:7]}) has slipway's code in a layout `slipway plan` cannot run; render it by hand "
            "(git worktree add DIR REF; run its render with --out OUT) and pass --base OUT"
        )
    return "slipway.cli.main", None  # a project that installs slipway: its stack file, this code
