"""`slipway plan` speed: two renders, the diff, and the whole command.

    .venv/bin/python -m benchmarks.plan_speed [STACK] [--base REF] [--repeat N]

Issue #13's budget: a plan costs no more than two renders plus a small diff. This times each
part (best of N): rendering the stack twice in this process, diffing the two renders against
the shipped replacement facts, weighing hazards and the schedule, writing the three formats,
and then `slipway plan STACK --base REF` end to end in a fresh process (there the base renders
in a subprocess while the working tree renders, so the two overlap). The pair diffed is the
stack's render and the render of a fresh stack (every resource created), the largest plan the
stack gives. Not a test: it measures, it does not assert.
"""

from __future__ import annotations

import argparse
import io
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from slipway.cli.plan.diff import Facts, diff_renders, load_render
from slipway.cli.plan.report import Report
from slipway.cli.render import ROOT, render_stack


def as_text(report: Report) -> str:
    """The terminal table as text, 160 columns wide."""
    console = Console(file=io.StringIO(), width=160)
    console.print(report.table())
    return console.file.getvalue()  # type: ignore[attr-defined]


def best(repeat: int, work: Callable[[], Any]) -> tuple[float, Any]:
    """The fastest of `repeat` runs of `work`, in seconds, and its last result."""
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = work()
        times.append(time.perf_counter() - start)
    return min(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("stack", nargs="?", default="dev", help="stack to plan (default dev)")
    parser.add_argument("--base", default="HEAD", help="git ref for the end-to-end run (default HEAD)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per step; the best time is reported")
    args = parser.parse_args()
    console = Console()
    try:
        facts = Facts.shipped()
        note = ""
    except ImportError:  # cli/plan/facts.py not there yet: time the diff without replacement facts
        facts = Facts({}, lambda type_, paths: [], ())
        note = " (no replacement facts found: diffed without them)"

    with tempfile.TemporaryDirectory(prefix="plan-speed-") as tmp:
        out = Path(tmp)
        render_a, a = best(args.repeat, lambda: render_stack(args.stack, out / "a"))
        render_b, b = best(args.repeat, lambda: render_stack(args.stack, out / "b"))
        base, head = load_render(a.out_dir), load_render(b.out_dir)
        same, _ = best(args.repeat, lambda: diff_renders(base, head, facts))
        fresh, plan = best(args.repeat, lambda: diff_renders([], head, facts))
        weigh, report = best(args.repeat, lambda: Report.build(args.stack, "none", plan))
        write, _ = best(args.repeat, lambda: (report.markdown(), json.dumps(report.as_dict()), as_text(report)))
        render_cmd = [
            sys.executable,
            "-m",
            "slipway.cli.main",
            "render",
            args.stack,
            "--out",
            str(out / "c"),
            "--no-diagram",
        ]
        cold, _ = best(args.repeat, lambda: subprocess.run(render_cmd, capture_output=True, text=True, cwd=ROOT))
        cmd = [sys.executable, "-m", "slipway.cli.main", "plan", args.stack, "--base", args.base, "--format", "json"]
        e2e, proc = best(args.repeat, lambda: subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT))

    rows = [
        ("render (base)", render_a),
        ("render (head)", render_b),
        ("diff: same tree", same),
        (f"diff: fresh stack ({len(head)} resources)", fresh),
        ("hazards and schedule", weigh),
        ("markdown and JSON", write),
    ]
    table = Table(title=f"slipway plan {args.stack}: best of {args.repeat}{note}", title_justify="left")
    for col in ("step", "seconds", "of two renders"):
        table.add_column(col, justify="right" if col != "step" else "left")
    renders = render_a + render_b
    for step, seconds in rows:
        table.add_row(step, f"{seconds:.3f}", f"{seconds / renders:.1%}")
    table.add_row("`slipway render` in a fresh process", f"{cold:.3f}", f"{cold / renders:.0%}")
    table.add_row(f"`slipway plan --base {args.base}` (exit {proc.returncode})", f"{e2e:.3f}", f"{e2e / renders:.0%}")
    console.print(table)
    overhead = fresh + weigh + write
    console.print(
        f"in one process: two renders {renders:.2f} s, then diff + hazards + schedule + output of the largest "
        f"plan {overhead:.3f} s ({overhead / renders:.1%} of them). From the shell: `slipway render` {cold:.2f} s "
        f"(interpreter and imports included), `slipway plan` {e2e:.2f} s = {e2e / (2 * cold):.0%} of two such "
        "renders (the base renders in a subprocess beside the head's, in a git worktree)"
    )


if __name__ == "__main__":
    main()
