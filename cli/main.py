"""`slipway` command line: render, size, check and plan stacks offline; diagnose them on AWS.

Exit codes: 0 ok · 1 a check (or doctor) found a problem, a plan deletes or replaces a
protected resource, or AWS refused · 2 the stack config (or a flag) is wrong · 3 the render
itself failed (a mock is missing, a value is unknown).

This module holds the typer `app` and its small commands (`render`, `kubeconfig`); the
bigger ones live in their own modules and are registered here, in the order `--help`
lists them: check (cli/check_cmd.py), size (cli/size.py), doctor (cli/doctor_cmd.py),
plan (cli/plan/), pin (cli/pin.py), backend (cli/backend/), catalog (cli/catalog_cmd.py).
What they share — the consoles, the config-error exit, the render with exit codes, the
terminal's wrapping and the verdict line that ends every report — is cli/common.py.

Every command is registered with `cls=Command` (groups `cls=Group`), whose `--help` shows a
flag as a flag, and every command's help ends with examples.
"""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from slipway.cli.backend import backend_app
from slipway.cli.catalog_cmd import catalog_app
from slipway.cli.check_cmd import check
from slipway.cli.check_cmd import markdown as _markdown
from slipway.cli.common import Command, Group, Wrap, err, fail_config, out, render_or_exit, shown_path, verdict_line
from slipway.cli.doctor_cmd import doctor
from slipway.cli.pin import pin_command
from slipway.cli.plan.command import plan_command
from slipway.cli.render import ROOT
from slipway.cli.size import size
from slipway.program.config import ConfigError
from slipway.program.stackfile import stack_names

__all__ = ["app", "main", "out", "err", "_markdown"]

HELP = """`slipway` command line: render, size, check and plan stacks offline; diagnose them on AWS.

Exit codes: 0 ok · 1 a check found a problem or AWS refused · 2 the stack config or a flag
is wrong · 3 the render failed.

Examples:
  slipway check dev
  slipway plan dev --base origin/main
  slipway doctor prod
  slipway kubeconfig dev
"""

app = typer.Typer(add_completion=False, no_args_is_help=True, help=HELP, cls=Group)


@app.command(cls=Command)
def render(
    stacks: list[str] = typer.Argument(None, help="Stacks to render (names of stacks/Pulumi.<stack>.yaml)."),
    all_stacks: bool = typer.Option(False, "--all", help="Render every stack in stacks/."),
    out_dir: Path = typer.Option(None, "--out", help="Output folder (default build/<stack>/)."),
    mermaid: bool = typer.Option(
        False, "--mermaid", help="Also print the component tree's Mermaid diagram (always written to components.mmd)."
    ),
    # The names from before the diagram moved to its file: `plan` renders older bases with --no-diagram.
    diagram: bool | None = typer.Option(None, "--diagram/--no-diagram", hidden=True),
) -> None:
    """Run the program offline under mocks and write every resource, manifest and IAM document.

    The component tree goes to build/<stack>/components.mmd; --mermaid prints it too.

    Examples:
      slipway render dev
      slipway render --all --out /tmp/renders
      slipway render dev --mermaid
    """
    names = stack_names(ROOT) if all_stacks else (stacks or [])
    if not names:
        err.print(
            "error: name a stack (e.g. `slipway render dev`) or pass --all; "
            f"stacks here: {', '.join(stack_names(ROOT)) or '(none)'}"
        )
        raise typer.Exit(2)
    # `--mermaid false`: typer takes `false` for a stack name; say what happened instead.
    flag = next((n for n in names if n.lower() in ("true", "false", "yes", "no", "on", "off", "1", "0")
                 and n not in stack_names(ROOT)), None)  # fmt: skip
    if flag:
        err.print(f"error: {flag!r} is not a stack: flags take no value — write --mermaid, not --mermaid {flag}",
                  highlight=False)  # fmt: skip
        raise typer.Exit(2)
    if len(names) == 1:
        result = render_or_exit(names[0], out_dir)
        mmd = result.out_dir / "components.mmd"
        if mermaid or diagram:
            # Unwrapped: a Mermaid line broken at the terminal's width no longer parses.
            out.print("\n```mermaid\n" + mmd.read_text() + "```", markup=False, highlight=False, soft_wrap=True)
        else:
            out.print(Wrap(f"component diagram (Mermaid): {shown_path(mmd)} — --mermaid prints it"))
        out.print(verdict_line(True, f"rendered {len(result.records)} resources of {names[0]}"), highlight=False)
        return
    # One process per stack: the Pulumi SDK keeps global state (root stack, event
    # loop) that a second program run in the same process would inherit.
    import subprocess

    from rich.progress import Progress

    failed: list[str] = []
    with Progress(console=err, transient=False) as progress:
        task = progress.add_task("rendering", total=len(names))
        for name in names:
            progress.update(task, description=f"rendering {name}")
            cmd = [sys.executable, "-m", "slipway.cli.main", "render", name]
            if out_dir:
                cmd += ["--out", str(out_dir / name)]
            proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
            status = "ok" if proc.returncode == 0 else f"failed (exit {proc.returncode})"
            progress.console.print(f"  {name}: {status}")
            if proc.returncode:
                failed.append(name)
                progress.console.print(proc.stderr.strip() or proc.stdout.strip(), markup=False, highlight=False)
            progress.advance(task)
    if failed:
        err.print(f"render failed for: {', '.join(failed)}")
        out.print(verdict_line(False, f"{len(failed)} of {len(names)} stacks did not render"), highlight=False)
        raise typer.Exit(3)
    out.print(verdict_line(True, f"rendered {len(names)} stacks"), highlight=False)


def _examples(command, *lines: str) -> str | None:
    """An `Examples:` epilog for a command registered here whose docstring has none."""
    if "Example" in (command.__doc__ or ""):
        return None
    # The leading newline keeps the examples' indent (typer dedents the epilog from its 2nd line).
    return "\nExamples:\n" + "\n".join(f"  {line}" for line in lines)


app.command(cls=Command)(check)
app.command(cls=Command, epilog=_examples(size, "slipway size dev", "slipway size prod --json"))(size)
app.command(
    cls=Command, epilog=_examples(doctor, "slipway doctor dev", "slipway doctor prod --only subnet-tags --json")
)(doctor)
app.command("plan", cls=Command)(plan_command)


@app.command(cls=Command)
def kubeconfig(
    stack: str = typer.Argument(..., help="Stack whose EKS cluster to write a kubeconfig for."),
    out_file: Path = typer.Option(
        None,
        "--out",
        help="Kubeconfig to write or merge into (default: first file in $KUBECONFIG, else ~/.kube/config).",
    ),
    context: str = typer.Option(None, "--context", help="Context name (default: the cluster name)."),
    print_only: bool = typer.Option(False, "--print", help="Print a standalone kubeconfig to stdout; write no file."),
) -> None:
    """Write a kubeconfig that authenticates as the stack's slipway:identity (not your shell's credentials).

    It asks AWS (eks:DescribeCluster) for the cluster's endpoint and CA certificate.

    Examples:
      slipway kubeconfig dev
      slipway kubeconfig prod --context prod --out ~/.kube/prod
      slipway kubeconfig dev --print > kubeconfig
    """
    from slipway.cli.kubeconfig import kubeconfig_command

    try:
        kubeconfig_command(stack, out_file, context, print_only, root=ROOT, out=out, err=err)
    except ConfigError as exc:
        fail_config(exc, stack)


app.add_typer(backend_app, name="backend")
app.command("pin", cls=Command)(pin_command)
app.add_typer(catalog_app, name="catalog")


def main() -> None:
    """Console-script entry point."""
    try:
        app()
    except KeyboardInterrupt:  # pragma: no cover
        sys.exit(130)


if __name__ == "__main__":  # pragma: no cover
    main()
