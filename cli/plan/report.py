"""The report of a plan for one stack and base: its hazards (hazards.py), the counts, each
change with its evidence, the order and time (order.py), and the verdict — as a terminal table
(hazards first), a pull-request comment (Markdown, within GitHub's comment size) or JSON.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from slipway.cli.common import Wrap
from slipway.cli.plan.hazards import Hazard, hazards
from slipway.cli.plan.model import CREATE, DELETE, REPLACE, SAME, UPDATE, Plan, ResourceChange, label
from slipway.cli.plan.order import Schedule, schedule
from slipway.cli.plan.values import show

# GitHub rejects comments over 65,536 characters; the rest of a comment needs some room.
MARKDOWN_LIMIT = 60000
_SHOWN_CHANGES = 8  # changed paths listed per resource in the table and the comment


@dataclass
class Report:
    """A plan with its hazards and schedule, for one stack and base."""

    stack: str
    base: str
    plan: Plan
    hazards: list[Hazard]
    schedule: Schedule

    @classmethod
    def build(cls, stack: str, base: str, plan: Plan) -> Report:
        """Weigh `plan`: hazards and schedule."""
        return cls(stack, base, plan, hazards(plan), schedule(plan))

    @property
    def exit_code(self) -> int:
        """1 when a blocking hazard (a protected resource deleted or replaced) is in the plan."""
        return 1 if any(h.blocking for h in self.hazards) else 0

    @property
    def verdict(self) -> str:
        """One line: no changes, the hazards by kind, or the count of changes without hazards."""
        if self.plan.empty:
            return "verdict: no changes"
        if not self.hazards:
            n = sum(1 for c in self.plan.changes if c.action != SAME)
            return f"verdict: {n} change{'s' * (n != 1)}, no hazards"
        titles = Counter(h.title for h in self.hazards)
        parts = [f"{n} {plural(t) if n > 1 else t}" for t, n in titles.items()]
        blocked = " — `pulumi up` refuses: protected resources" if self.exit_code else ""
        n = len(self.hazards)
        return f"verdict: {n} hazard{'s' * (n != 1)} — {', '.join(parts)}{blocked}"

    def summary(self) -> str:
        """Counts per action and the estimated time."""
        counts = self.plan.counts()
        first = sum(1 for c in self.plan.of(REPLACE) if c.delete_before_replace)
        parts = [
            f"{counts[CREATE]} to create",
            f"{counts[UPDATE]} to update",
            f"{counts[REPLACE]} to replace" + (f" ({first} delete-first)" if first else ""),
            f"{counts[DELETE]} to delete",
            f"{counts[SAME]} unchanged",
        ]
        if not self.plan.empty:
            what = "fresh stack" if self.schedule.fresh else "`pulumi up`"
            parts.append(f"{minutes(self.schedule.total)} ({what}, critical path)")
        return " · ".join(parts)

    def details(self, change: ResourceChange) -> list[str]:
        """The lines that explain one change: why it is replaced, then the changed paths."""
        lines: list[str] = []
        if change.action == REPLACE:
            lines.append(
                f"forced by {', '.join(change.reasons)}"
                + (" · delete-before-replace" if change.delete_before_replace else "")
            )
        if change.old_urn:
            lines.append(f"alias of {change.old_urn}")
        if change.action == DELETE and change.retained:
            lines.append("retainOnDelete: dropped from the state, left in the cloud")
        for p in change.changes[:_SHOWN_CHANGES]:
            cause = f" (after {p.cause.rsplit('::', 1)[-1]})" if p.kind == "computed" else ""
            lines.append(f"{p.path}: {show(p.old)} → {show(p.new)}{cause}")
        if len(change.changes) > _SHOWN_CHANGES:
            lines.append(f"… {len(change.changes) - _SHOWN_CHANGES} more")
        lines += change.notes
        return lines

    def order_lines(self) -> list[str]:
        """The critical chain, what runs beside it, and the steps in order (wave by wave)."""
        sch = self.schedule
        if not sch.steps:
            return []
        chain = " → ".join(f"{s.type.split(':')[-1]} {s.name} ({s.action}, {s.minutes:g} min)" for s in sch.critical)
        lines = [f"critical path ({minutes(sch.total)}): {chain}"]
        if sch.parallel:
            first = sch.parallel[:12]
            shown = ", ".join(f"{s.type.split(':')[-1]} {s.name} ({slack:.0f} min slack)" for s, slack in first)
            more = f", … {len(sch.parallel) - 12} more" if len(sch.parallel) > 12 else ""
            lines.append(f"in parallel with it: {shown}{more}")
        waves: dict[tuple[str, int], list[str]] = {}
        for s in sch.steps:
            phase = "delete" if s.action in ("delete", "delete-replaced") else "apply"
            action = "delete, then create" if s.delete_first else s.action
            waves.setdefault((phase, s.wave), []).append(f"{action} {s.type.split(':')[-1]} {s.name}")
        for i, ((phase, _), names) in enumerate(waves.items(), 1):
            lines.append(f"{i}. {'(deletes, at the end) ' if phase == 'delete' else ''}{', '.join(names)}")
        return lines

    # ------------------------------------------------------------------ formats
    def table(self) -> RenderableType:
        """The terminal report: hazards, summary, details, order and time, verdict.

        Each resource's `<Type> <name>` heads its own line, above what is said of it, so that
        an 80-column terminal wraps the prose, never an identifier."""
        parts: list[RenderableType] = [Text(f"slipway plan {self.stack}: {self.base} → working tree", style="bold")]
        if self.hazards:
            table = Table(title="hazards", title_justify="left", show_lines=True)
            table.add_column("hazard", style="red", max_width=16)
            table.add_column("resource: what happens", ratio=1)
            for h in self.hazards:
                table.add_row(Wrap(h.title), Wrap(_headed(h.resource, [h.detail])))
            parts.append(table)
        parts.append(Text(self.summary()))
        changed = [c for c in self.plan.changes if c.action != SAME]
        if changed:
            table = Table(title="changes", title_justify="left")
            table.add_column("action")
            table.add_column("resource: why, changed inputs", ratio=1)
            style = {CREATE: "green", UPDATE: "yellow", REPLACE: "magenta", DELETE: "red"}
            for c in sorted(changed, key=lambda c: (c.action, c.urn)):
                table.add_row(Text(c.action, style=style[c.action]), Wrap(_headed(label(c), self.details(c))))
            parts.append(table)
            parts += [Wrap(line) for line in self.order_lines()]
        parts += [Wrap(f"warning: {w}", style="yellow") for w in self.plan.warnings]
        parts.append(Text(self.verdict, style="bold red" if self.exit_code else "bold"))
        return Group(*parts)

    def markdown(self, limit: int = MARKDOWN_LIMIT) -> str:
        """A pull-request comment: verdict, summary, hazards, then the details collapsed, and the
        verdict again as its last line (where a reader of a long comment ends up); under `limit`."""
        head = [
            f"### slipway plan `{self.stack}`",
            "",
            f"**{self.verdict}**",
            "",
            f"{self.summary()} · base: {_md(self.base)}",
            "",
        ]
        if self.hazards:
            head += ["#### Hazards", "", "| hazard | resource | detail |", "|---|---|---|"]
            head += [f"| {h.title} | `{h.resource}` | {_md(h.detail)} |" for h in self.hazards]
            head.append("")
        rows = [
            f"| {c.action} | `{label(c)}` | {'<br>'.join(_md(x) for x in self.details(c))} |"
            for c in sorted(self.plan.changes, key=lambda c: (c.action, c.urn))
            if c.action != SAME
        ]
        listed = self.order_lines()
        steps = [line for line in listed if line[:1].isdigit()]
        order = [f"- {_md(line)}" for line in listed if not line[:1].isdigit()] + [""] * bool(steps)
        order += [_md(line) for line in steps]
        sections = [
            (f"Changes ({len(rows)})", ["| action | resource | why / changed inputs |", "|---|---|---|"], rows),
            (f"Order and time ({minutes(self.schedule.total)})", [], order),
        ]
        text = "\n".join(head)
        last = f"\n**{self.verdict}**\n"
        limit -= len(last)
        for title, header, lines in sections:
            if not lines:
                continue
            opening = f"\n<details><summary>{title}</summary>\n\n" + "".join(h + "\n" for h in header)
            closing = "\n</details>\n"
            body = ""
            for kept, line in enumerate(lines):
                note = f"\n… {len(lines) - kept} more cut to fit GitHub's comment size; run `slipway plan` for all\n"
                if len(text) + len(opening) + len(body) + len(line) + len(note) + len(closing) + 200 > limit:
                    body += note
                    break
                body += line + "\n"
            text += opening + body + closing
        return text + last

    def as_dict(self) -> dict[str, Any]:
        """The JSON report."""
        return {
            "stack": self.stack,
            "base": self.base,
            "verdict": self.verdict,
            "exitCode": self.exit_code,
            "summary": {**self.plan.counts(), "minutes": round(self.schedule.total, 1)},
            "hazards": [h.as_dict() for h in self.hazards],
            "changes": [c.as_dict() for c in self.plan.changes if c.action != SAME],
            "schedule": self.schedule.as_dict(),
            "warnings": self.plan.warnings,
        }


def plural(title: str) -> str:
    """A hazard title for several: `node group rolls` → `node groups roll`, `ECR repository
    replaced` → `ECR repositories replaced`, `access gap` → `access gaps`."""
    words = title.split()
    verbs = [i for i, w in enumerate(words) if w in ("replaced", "deleted", "re-created", "changed", "rolls", "lost")]
    at = verbs[0] - 1 if verbs else len(words) - 1
    noun = words[at]
    if noun != "access":
        words[at] = noun[:-1] + "ies" if noun.endswith("y") and noun[-2:] != "ey" else noun + "s"
    return " ".join("roll" if w == "rolls" else w for w in words)


def _headed(heading: str, lines: list[str]) -> Text:
    text = Text(heading, style="bold")
    for line in lines:
        text.append("\n  " + line)
    return text


def minutes(value: float) -> str:
    """`~12 min`, or `<1 min`."""
    return f"~{value:.0f} min" if value >= 0.5 else "<1 min"


def _md(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ").replace("<", "&lt;")
