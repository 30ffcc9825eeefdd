"""`slipway check <stack>`: render the stack, run the checks of cli/checks.py over it and
report the findings as a table, a GitHub-comment-sized Markdown table, or JSON.

Exit 1 when a finding is mandatory; the checks themselves live in cli/checks.py.
"""

# typer declares arguments and options as call defaults by design (as in cli/main.py).
# ruff: noqa: B008

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.table import Table

from slipway.cli.common import err, out, render_or_exit
from slipway.cli.render import ROOT

FORMATS = ("table", "markdown", "json")
# GitHub rejects comments over 65,536 characters; the rest of a comment needs some room.
MARKDOWN_LIMIT = 60000


def check(
    stack: str = typer.Argument(..., help="Stack to render and check."),
    out_dir: Path = typer.Option(None, "--out", help="Render folder (default build/<stack>/)."),
    fmt: str = typer.Option("table", "--format", help="table | markdown | json"),
) -> None:
    """Render a stack, then validate manifests (kubernetes-validate) and IAM policies (parliament)."""
    if fmt not in FORMATS:
        err.print(f"error: --format {fmt!r} is not supported — use table, markdown or json")
        raise typer.Exit(2)
    from slipway.cli.checks import run_checks
    from slipway.policies.rules import stack_policy_config
    from slipway.program.stackfile import load_stack_file

    result = render_or_exit(stack, out_dir, quiet=fmt != "table")
    cfg = load_stack_file(stack, ROOT).parse()
    findings = run_checks(
        result, cfg.cluster.version, stack_policy_config(cfg.environment, cfg.cluster.prefix_delegation), cfg=cfg
    )
    blocking = [f for f in findings if f.severity == "mandatory"]
    if fmt == "json":
        print(json.dumps([f.as_dict() for f in findings], indent=2))
    elif fmt == "markdown":
        print(markdown(stack, findings))
    else:
        if findings:
            out.print(findings_table(stack, findings))
        out.print(
            f"{len(blocking)} mandatory, {len(findings) - len(blocking)} other finding(s) "
            f"over {len(result.records)} resources"
        )
    if blocking:
        raise typer.Exit(1)


def findings_table(stack: str, findings) -> Table:
    """The findings as a terminal table, severities coloured."""
    table = Table(title=f"checks for {stack}", title_justify="left")
    for col in ("check", "severity", "resource", "message", "fix"):
        table.add_column(col, overflow="fold")
    for f in findings:
        style = {"mandatory": "red", "advisory": "yellow"}.get(f.severity, "dim")
        table.add_row(f.check, f"[{style}]{f.severity}[/]", f.resource, f.message, f.fix)
    return table


def markdown(stack: str, findings) -> str:
    """The findings as a Markdown table for a pull-request comment, cut to fit GitHub's size limit."""
    lines = [
        f"### slipway check `{stack}`",
        "",
        "| check | severity | resource | message | fix |",
        "|---|---|---|---|---|",
    ]
    shown = 0
    for f in findings:
        row = f"| {f.check} | {f.severity} | `{f.resource}` | {f.message} | {f.fix} |".replace("\n", " ")
        if sum(len(x) + 1 for x in lines) + len(row) > MARKDOWN_LIMIT:
            break
        lines.append(row)
        shown += 1
    if shown < len(findings):
        lines.append(f"\n… {len(findings) - shown} more finding(s) not shown (comment size limit).")
    if not findings:
        lines.append("| – | – | – | no findings | – |")
    return "\n".join(lines)
