"""`slipway pin <stack>`: write the choices that must never change by themselves into the
stack file — the availability zones and the instance type of every `auto` pool.

Both are inputs that replace resources when they change (`subnetIds` and
`instanceTypes` are ForceNew for a managed node group), so `pulumi up` reads them from
the stack file and never re-derives them (see infra/config/lifecycle.py). Choosing
them is this command's job:

- zones: the region's first `azCount` usable AZs, asked of AWS (`--zones` to give
  them), skipping zones that are not `available` now and zone IDs EKS refuses;
- types: the capacity planner's choice for each `auto` pool without a pin, or for
  every `auto` pool with `--replan` (a changed type replaces the node group: new nodes
  come up first, then the old group is drained and deleted).

The file is edited in place with its comments and layout kept (ruamel.yaml round-trip).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.table import Table
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap

from infra.config import ConfigError, StackConfig
from infra.stackfile import StackFile, load_stack_file


@dataclass(frozen=True)
class Change:
    """One pinned value: where in the stack file, what it was, what it is now."""

    path: str
    old: Any
    new: Any
    note: str = ""


def _yaml() -> YAML:
    y = YAML()  # round-trip: comments, key order and quoting survive
    y.preserve_quotes = True
    y.indent(mapping=2, sequence=4, offset=2)
    y.width = 4096
    # Keep `key: null` as written (the default representer drops the word).
    y.representer.add_representer(type(None), lambda r, _: r.represent_scalar("tag:yaml.org,2002:null", "null"))
    return y


def zones_from_aws(stack: str, root: Path, profile: str | None) -> list[str]:
    """The stack region's usable AZs in this account, in order (an AWS call)."""
    from infra.doctor._aws import stack_azs
    from infra.doctor.run import build_context

    return stack_azs(build_context(stack, root, profile))


def plan_pins(
    stackfile: StackFile, cfg: StackConfig, zones: list[str] | None, replan: bool
) -> tuple[list[Change], dict[str, str]]:
    """The changes `pin` would make (zones first, then one per pool) and the chosen types."""
    from infra.capacity import plan_cluster

    changes: list[Change] = []
    azs = list(cfg.network.availability_zones or [])
    if not azs:
        if not zones:
            raise ConfigError(["network.availabilityZones: no zones to pin — pass --zones or let slipway ask AWS"])
        if len(zones) < cfg.network.az_count:
            raise ConfigError([f"network.availabilityZones: only {len(zones)} usable zones ({', '.join(zones)}) for "
                               f"azCount {cfg.network.az_count} — lower azCount or choose another region"])  # fmt: skip
        azs = zones[: cfg.network.az_count]
        changes.append(Change("network.availabilityZones", None, azs))
    elif zones and list(zones) != azs:
        raise ConfigError([f"network.availabilityZones: already pinned to {', '.join(azs)} — changing them replaces "
                           "subnets and every node group; edit the stack file by hand if you mean it"])  # fmt: skip
    auto = {n: p for n, p in cfg.node_pools.items() if p.is_auto}
    types: dict[str, str] = {}
    if auto:
        proposal = plan_cluster(cfg, stackfile.region, zones=azs, stack=stackfile.name, ignore_pins=True)
        for name in sorted(auto):
            chosen = proposal.pools[name].plan.instance_type.name
            types[name] = chosen
            old = auto[name].pinned_instance_type
            if old is None or (replan and old != chosen):
                note = "" if old is None else "replaces the node group (new nodes first, then the old drain)"
                changes.append(Change(f"nodePools.{name}.pinnedInstanceType", old, chosen, note))
    return changes, types


def write_pins(path: Path, changes: list[Change]) -> None:
    """Apply `changes` to the stack file, keeping its comments and layout."""
    y = _yaml()
    doc = y.load(path.read_text())
    config = doc["config"]
    for change in changes:
        section, *rest = change.path.split(".")
        key = f"slipway:{section}"
        if key not in config or config[key] is None:
            config[key] = CommentedMap()
        node = config[key]
        for part in rest[:-1]:
            if node.get(part) is None:
                node[part] = CommentedMap()
            node = node[part]
        node[rest[-1]] = change.new
    with path.open("w") as fh:
        y.dump(doc, fh)


def pin(stack: str, root: Path, zones: list[str] | None, replan: bool, profile: str | None, dry_run: bool):
    """Compute and (unless `dry_run`) write the pins of `stack`; returns the changes."""
    stackfile = load_stack_file(stack, root)
    cfg = stackfile.parse()
    if not cfg.network.availability_zones and not zones:
        zones = zones_from_aws(stack, root, profile)
    changes, _ = plan_pins(stackfile, cfg, zones, replan)
    if changes and not dry_run:
        write_pins(stackfile.path, changes)
        load_stack_file(stack, root).validate()  # what was written parses and plans
    return changes


def pin_command(
    stack: str = typer.Argument(..., help="Stack whose zones and auto instance types to pin."),
    zones: str = typer.Option(None, "--zones", help="Comma-separated AZs to pin instead of asking AWS."),
    replan: bool = typer.Option(False, "--replan", help="Re-pin auto pools to today's plan (replaces node groups)."),
    profile: str = typer.Option(None, "--profile", help="AWS profile for the zone lookup (default: the stack's)."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Show what would be pinned; write nothing."),
) -> None:
    """Pin the stack's availability zones and the instance type of each `auto` pool in its stack file.

    Example: slipway pin dev --zones us-east-1a,us-east-1b
    """
    from botocore.exceptions import BotoCoreError, NoCredentialsError, ProfileNotFound

    from infra.render import ROOT

    out, err = Console(), Console(stderr=True)
    wanted = [z.strip() for z in zones.split(",") if z.strip()] if zones else None
    try:
        changes = pin(stack, ROOT, wanted, replan, profile, dry_run)
    except ConfigError as exc:
        exc.stack = exc.stack or stack
        err.print(f"[bold red]error:[/] {exc}", highlight=False)
        raise typer.Exit(2) from None
    except (NoCredentialsError, ProfileNotFound, BotoCoreError) as exc:
        err.print(f"error: could not ask AWS for the zones ({exc}) — pass them: --zones <az>,<az>")
        raise typer.Exit(2) from None
    table = Table(title=f"pins for {stack}", title_justify="left")
    for col in ("setting", "was", "now", "effect"):
        table.add_column(col, overflow="fold")
    for c in changes:
        table.add_row(c.path, "—" if c.old is None else str(c.old), ", ".join(c.new) if isinstance(c.new, list)
                      else str(c.new), c.note or "first pin")  # fmt: skip
    if changes:
        out.print(table)
    verb = "would write" if dry_run else "wrote"
    verdict = f"{verb} {len(changes)} pin(s) to stacks/Pulumi.{stack}.yaml" if changes else "nothing to pin"
    out.print(f"verdict: {verdict}")
