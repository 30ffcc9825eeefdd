"""What the `slipway` commands share: the two consoles, the exit for a bad stack config,
and the offline render that maps its failures to the CLI's exit codes (2 config, 3 render).

The commands live in their own modules (cli/main.py registers them on the one typer
`app`), so these helpers sit here rather than in cli/main.py, which each of them would
otherwise have to import back.
"""

from __future__ import annotations

from pathlib import Path
from typing import NoReturn

import typer
from rich.console import Console
from rich.table import Table

from slipway.cli.render import ROOT, RenderError, RenderResult, render_stack, summary
from slipway.components.validation import ArgsError
from slipway.program.config import ConfigError

out = Console()
err = Console(stderr=True)


def fail_config(exc: ConfigError, stack: str) -> NoReturn:
    """Print the config errors of `stack` (unless `exc` names another) and exit 2."""
    exc.stack = exc.stack or stack
    err.print(f"[bold red]error:[/] {exc}", markup=True, highlight=False)
    raise typer.Exit(2)


def summary_table(result: RenderResult) -> Table:
    """Resources per component of a render, with their types: what `render` and `check` print first."""
    table = Table(title=f"stack {result.stack}: {len(result.records)} resources", title_justify="left")
    table.add_column("component")
    table.add_column("resources", justify="right")
    table.add_column("types")
    for comp, types in summary(result.records).items():
        table.add_row(comp, str(sum(types.values())), ", ".join(f"{n}×{t.split(':')[-1]}" for t, n in types.items()))
    return table


def print_warnings(warnings: list[str], stack: str) -> None:
    """A stack's config warnings, on stderr (they never change the exit code)."""
    for w in warnings:
        err.print(f"[bold yellow]warning:[/] stack {stack!r}: {w}", markup=True, highlight=False)


def render_or_exit(stack: str, out_dir: Path | None, quiet: bool = False) -> RenderResult:
    """Render `stack` offline and (unless `quiet`) print its summary; exit 2 or 3 when that fails."""
    try:
        result = render_stack(stack, out_dir)
    except ConfigError as exc:
        fail_config(exc, stack)
    except ArgsError as exc:  # a component refused what the program gave it: still the stack's config
        err.print(f"[bold red]error:[/] stack {stack!r}: {exc}", markup=True, highlight=False)
        raise typer.Exit(2) from None
    except RenderError as exc:
        err.print(f"[bold red]render failed:[/] {exc}", highlight=False)
        raise typer.Exit(3) from None
    print_warnings(result.warnings, stack)
    if not quiet:
        out.print(summary_table(result))
        rel = result.out_dir.relative_to(ROOT) if result.out_dir.is_relative_to(ROOT) else result.out_dir
        out.print(f"wrote {len(result.files)} files to {rel}/ (deterministic; diff it in review)")
    return result
