"""`slipway` command line: render, size, check and plan stacks offline; diagnose them on AWS.

Exit codes: 0 ok · 1 a check (or doctor) found a problem, a plan deletes or replaces a
protected resource, or AWS refused · 2 the stack config (or a flag) is wrong · 3 the render
itself failed (a mock is missing, a value is unknown).

This module holds the typer `app` and its small commands (`render`, `kubeconfig`); the
bigger ones live in their own modules and are registered here, in the order `--help`
lists them: check (cli/check_cmd.py), size (cli/size.py), doctor (cli/doctor_cmd.py),
plan (cli/plan/), pin (cli/pin.py), backend (cli/backend/), catalog (cli/catalog_cmd.py).
What they share — the consoles, the config-error exit, the render with exit codes — is
cli/common.py.
"""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from slipway.cli.backend import backend_app
from slipway.cli.catalog_cmd import catalog_app
from slipway.cli.check_cmd import check
from slipway.cli.check_cmd import markdown as _markdown
from slipway.cli.common import err, fail_config, out, render_or_exit
from slipway.cli.doctor_cmd import doctor
from slipway.cli.pin import pin_command
from slipway.cli.plan.command import plan_command
from slipway.cli.render import ROOT
from slipway.cli.size import size
from slipway.program.config import ConfigError
from slipway.program.stackfile import stack_names

__all__ = ["app", "main", "out", "err", "_markdown"]

app = typer.Typer(add_completion=False, no_args_is_help=True, help=__doc__.splitlines()[0])


@app.command()
def render(
    stacks: list[str] = typer.Argument(None, help="Stacks to render (names of stacks/Pulumi.<stack>.yaml)."),
    all_stacks: bool = typer.Option(False, "--all", help="Render every stack in stacks/."),
    out_dir: Path = typer.Option(None, "--out", help="Output folder (default build/<stack>/)."),
    diagram: bool = typer.Option(True, help="Print the component tree as a Mermaid diagram."),
) -> None:
    """Run the program offline under mocks and write every resource, manifest and IAM document."""
    names = stack_names(ROOT) if all_stacks else (stacks or [])
    if not names:
        err.print(
            "error: name a stack (e.g. `slipway render dev`) or pass --all; "
            f"stacks here: {', '.join(stack_names(ROOT)) or '(none)'}"
        )
        raise typer.Exit(2)
    if len(names) == 1:
        result = render_or_exit(names[0], out_dir)
        if diagram:
            out.print("\n```mermaid\n" + (result.out_dir / "components.mmd").read_text() + "```", markup=False)
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
            cmd = [sys.executable, "-m", "slipway.cli.main", "render", name, "--no-diagram"]
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
        raise typer.Exit(3)


app.command()(check)
app.command()(size)
app.command()(doctor)
app.command("plan")(plan_command)


@app.command()
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
    """Write a kubeconfig that authenticates as the stack's slipway:identity (not your shell's credentials)."""
    from slipway.cli.kubeconfig import kubeconfig_command

    try:
        kubeconfig_command(stack, out_file, context, print_only, root=ROOT, out=out, err=err)
    except ConfigError as exc:
        fail_config(exc, stack)


app.add_typer(backend_app, name="backend")
app.command("pin")(pin_command)
app.add_typer(catalog_app, name="catalog")


def main() -> None:
    """Console-script entry point."""
    try:
        app()
    except KeyboardInterrupt:  # pragma: no cover
        sys.exit(130)


if __name__ == "__main__":  # pragma: no cover
    main()
