"""`slipway check <stack>`: render the stack, run the checks of cli/checks.py over it and
report the findings as a table, a GitHub-comment-sized Markdown table, or JSON.

The terminal report reads top-down as a review does: the findings first, then what was
rendered, then the counts and, last, the verdict. Identifiers (check ids, resource names,
paths) wrap only at their separators; `--format json` (a list of findings, each with its
full names) is the machine's view. Exit 1 when a finding is mandatory; the checks
themselves live in cli/checks.py.
"""

# typer declares arguments and options as call defaults by design (as in cli/main.py).
# ruff: noqa: B008

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import typer
from rich.table import Table
from rich.text import Text

from slipway.cli.common import Wrap, err, out, print_render_summary, render_or_exit, verdict_line
from slipway.cli.render import ROOT
from slipway.program.config import ConfigError

FORMATS = ("table", "markdown", "json")
# GitHub rejects comments over 65,536 characters; the rest of a comment needs some room.
MARKDOWN_LIMIT = 60000
STYLES = {"mandatory": "red", "advisory": "yellow"}


def check(
    stack: str = typer.Argument(..., help="Stack to render and check."),
    out_dir: Path = typer.Option(None, "--out", help="Render folder (default build/<stack>/)."),
    fmt: str = typer.Option("table", "--format", help="table | markdown | json"),
    as_json: bool = typer.Option(False, "--json", help="Same as --format json."),
) -> None:
    """Render a stack, then validate manifests (kubernetes-validate) and IAM policies (parliament).

    Also the policy pack's rules, whether the declared deployer reaches the API server, and
    the stack's config warnings. Exit 1 when a finding is mandatory.

    Examples:
      slipway check dev
      slipway check prod --format markdown >> "$GITHUB_STEP_SUMMARY"
      slipway check dev --json
    """
    if as_json and fmt not in ("table", "json"):
        err.print(f"error: --json and --format {fmt} both given — drop one of them")
        raise typer.Exit(2)
    fmt = "json" if as_json else fmt
    if fmt not in FORMATS:
        err.print(f"error: --format {fmt!r} is not supported — use table, markdown or json")
        raise typer.Exit(2)
    from slipway.cli.checks import run_checks
    from slipway.policies.rules import stack_policy_config
    from slipway.program.stackfile import load_stack_file

    # The config warnings are findings here (check `config`): not printed twice. A refused config
    # still gives markdown/JSON output (see `refused_report`).
    refused = None if fmt == "table" else (lambda exc: refused_report(stack, fmt, exc))
    result = render_or_exit(stack, out_dir, quiet=True, warn=False, refused=refused)
    cfg = load_stack_file(stack, ROOT).parse()
    findings = run_checks(
        result, cfg.cluster.version, stack_policy_config(cfg.environment, cfg.cluster.prefix_delegation), cfg=cfg
    )
    blocking = [f for f in findings if f.severity == "mandatory"]
    if fmt == "json":
        print(json.dumps([f.as_dict() for f in findings], indent=2))
    elif fmt == "markdown":
        print(markdown(stack, findings, len(result.records)))
    else:
        if findings:
            out.print(findings_table(stack, findings))
        print_render_summary(result)
        out.print(counts_line(findings, len(result.records)), highlight=False)
        out.print(verdict(findings), style="bold red" if blocking else "bold", highlight=False)
    if blocking:
        raise typer.Exit(1)


def counts_line(findings, resources: int) -> str:
    """`0 mandatory, 3 advisory, 1 info finding(s) over 95 resources`."""
    counts = Counter(f.severity for f in findings)
    return (
        f"{counts['mandatory']} mandatory, {counts['advisory']} advisory, {counts['info']} info finding(s) "
        f"over {resources} resources"
    )


def verdict(findings) -> str:
    """The last line of the report: FAIL when a mandatory finding blocks the change, else PASS."""
    counts = Counter(f.severity for f in findings)
    if counts["mandatory"]:
        return verdict_line(False, f"{counts['mandatory']} mandatory finding(s) block this change")
    return verdict_line(True, f"0 mandatory, {counts['advisory']} advisory, {counts['info']} info")


def findings_table(stack: str, findings) -> Table:
    """The findings as a terminal table: severity; check id over resource; message over fix.

    Three columns rather than five, so that an 80-column terminal still gives the prose room;
    identifiers wrap only at their separators (`Wrap`)."""
    table = Table(title=f"checks for {stack}", title_justify="left")
    table.add_column("severity")
    table.add_column("check · resource", max_width=40)
    table.add_column("finding · fix", ratio=1)
    for f in findings:
        ident = Text(f.check, style="bold") + Text("\n") + Text(f.resource)
        said = Text(f.message) + (Text(f"\nfix: {f.fix}", style="dim") if f.fix not in ("", "-") else Text())
        table.add_row(Text(f.severity, style=STYLES.get(f.severity, "dim")), Wrap(ident), Wrap(said))
    return table


def markdown(stack: str, findings, resources: int | None = None) -> str:
    """The findings as a Markdown table for a pull-request comment, cut to fit GitHub's size
    limit, ending with the counts and the verdict line."""
    lines = [
        f"### slipway check `{stack}`",
        "",
        "| check | severity | resource | message | fix |",
        "|---|---|---|---|---|",
    ]
    tail = ["", counts_line(findings, resources) if resources is not None else "", "", f"**{verdict(findings)}**"]
    room = MARKDOWN_LIMIT - sum(len(x) + 1 for x in tail) - 200
    shown = 0
    for f in findings:
        row = f"| {f.check} | {f.severity} | `{f.resource}` | {f.message} | {f.fix} |".replace("\n", " ")
        if sum(len(x) + 1 for x in lines) + len(row) > room:
            break
        lines.append(row)
        shown += 1
    if shown < len(findings):
        lines.append(f"\n… {len(findings) - shown} more finding(s) not shown (comment size limit).")
    if not findings:
        lines.append("| – | – | – | no findings | – |")
    return "\n".join(lines + [t for t in tail if t is not None])


def refused_report(stack: str, fmt: str, exc: ConfigError) -> None:
    """With --format markdown/json, a refused config still yields a report (its errors as
    mandatory `config` findings, and the verdict) before the exit 2: `>> $GITHUB_STEP_SUMMARY`
    and PR comments never come out empty."""
    from slipway.cli.checks import config_findings

    findings = config_findings(exc.messages, severity="mandatory")
    if fmt == "json":
        print(json.dumps([f.as_dict() for f in findings], indent=2))
    else:
        print(markdown(stack, findings))
