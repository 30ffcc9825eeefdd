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

On a stack that already runs, the pins come from what runs — the AZs of the cluster's
subnets, each pool's node group type, the installed add-on versions — so pinning
changes nothing; where `auto` would now choose another type, the table says so and
`--replan` is the deliberate way to switch. Add-on versions are pinned too
(`cluster.addonVersions`): EKS's default version for a minor is AWS's to move.

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

from slipway.program.config import ConfigError, StackConfig
from slipway.program.stackfile import StackFile, load_stack_file


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


@dataclass(frozen=True)
class Running:
    """What AWS says about the stack: its cluster (if it exists) and what pins would keep it."""

    exists: bool
    zones: list[str]
    """The cluster's AZs (its subnets'), or, before it exists, the region's usable ones."""
    pool_types: dict[str, str]
    """Instance type of each running node group, by its `slipway.dev/pool` label."""
    addon_versions: dict[str, str]
    """Installed add-on versions, or, before the cluster exists, EKS's default for the version."""


def query_running(ctx: Any, cfg: StackConfig) -> Running:
    """Ask AWS (a doctor context: boto3 clients with the stack's region and profile)."""
    from slipway.cli.doctor._aws import stack_azs
    from slipway.components.cluster import POOL_LABEL
    from slipway.components.cluster_args import EKS_ADDONS

    eks, cluster = ctx.client("eks"), ctx.cluster()
    if cluster is None:
        defaults = {}
        for addon in EKS_ADDONS:
            found = eks.describe_addon_versions(addonName=addon, kubernetesVersion=cfg.cluster.version)
            for info in (v for a in found.get("addons", []) for v in a.get("addonVersions", [])):
                if any(c.get("defaultVersion") for c in info.get("compatibilities", [])):
                    defaults[addon] = info["addonVersion"]
                    break
        return Running(False, stack_azs(ctx), {}, defaults)
    subnet_ids = cluster.get("resourcesVpcConfig", {}).get("subnetIds", [])
    subnets = ctx.client("ec2").describe_subnets(SubnetIds=subnet_ids)["Subnets"] if subnet_ids else []
    zones = sorted({s["AvailabilityZone"] for s in subnets})
    types: dict[str, str] = {}
    for page in eks.get_paginator("list_nodegroups").paginate(clusterName=ctx.cluster_name):
        for group in page["nodegroups"]:
            info = eks.describe_nodegroup(clusterName=ctx.cluster_name, nodegroupName=group)["nodegroup"]
            pool = (info.get("labels") or {}).get(POOL_LABEL)
            if pool and info.get("instanceTypes"):
                types[pool] = info["instanceTypes"][0]
    versions = {}
    for addon in EKS_ADDONS:
        try:
            versions[addon] = eks.describe_addon(clusterName=ctx.cluster_name, addonName=addon)["addon"]["addonVersion"]
        except eks.exceptions.ResourceNotFoundException:
            continue
    return Running(True, zones, types, versions)


def plan_pins(
    stackfile: StackFile, cfg: StackConfig, zones: list[str] | None, replan: bool, running: Running | None = None
) -> tuple[list[Change], dict[str, str]]:
    """The changes `pin` would make (zones, pools, add-ons) and the planner's choices.

    `zones` are the ones the user passed (offline); `running` what AWS said.
    """
    from slipway.program.capacity import plan_cluster

    changes: list[Change] = []
    azs = list(cfg.network.availability_zones or [])
    live = running is not None and running.exists
    if not azs:
        found = running.zones if running is not None else zones
        if not found:
            raise ConfigError(["network.availabilityZones: no zones to pin — pass --zones or let slipway ask AWS"])
        if not live and len(found) < cfg.network.az_count:
            raise ConfigError([f"network.availabilityZones: only {len(found)} usable zones ({', '.join(found)}) for "
                               f"azCount {cfg.network.az_count} — lower azCount or choose another region"])  # fmt: skip
        azs = found if live else found[: cfg.network.az_count]
        changes.append(Change("network.availabilityZones", None, azs, "what the cluster runs in" if live else ""))
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
            now = running.pool_types.get(name) if live else None
            if replan and (old or now) and (old or now) != chosen:
                changes.append(Change(f"nodePools.{name}.pinnedInstanceType", old or now, chosen,
                                      "replaces the node group (new nodes first, then the old drain)"))  # fmt: skip
            elif old is None and now:
                note = "what the node group runs" + (f"; auto would choose {chosen} (--replan replaces the group)"
                                                     if now != chosen else "")  # fmt: skip
                changes.append(Change(f"nodePools.{name}.pinnedInstanceType", None, now, note))
            elif old is None:
                changes.append(Change(f"nodePools.{name}.pinnedInstanceType", None, chosen))
    if running is not None:
        for addon, version in sorted(running.addon_versions.items()):
            if addon not in cfg.cluster.addon_versions:
                note = "installed" if live else f"EKS's default for {cfg.cluster.version}"
                changes.append(Change(f"cluster.addonVersions.{addon}", None, version, note))
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
    """Compute and (unless `dry_run`) write the pins of `stack`; returns the changes.

    Without `zones` it asks AWS (the running stack, or the region's usable AZs); with
    them it works offline and pins no add-on versions. Nothing to do and no `zones`
    asks nothing.
    """
    stackfile = load_stack_file(stack, root)
    cfg = stackfile.parse()
    running = None
    unpinned = not cfg.network.availability_zones or any(
        p.is_auto and p.pinned_instance_type is None for p in cfg.node_pools.values()
    )
    if zones is None and (unpinned or replan):
        from slipway.cli.doctor.run import build_context

        running = query_running(build_context(stack, root, profile), cfg)
    changes, _ = plan_pins(stackfile, cfg, zones, replan, running)
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

    Asks AWS for the region's usable zones (or what a running cluster uses); --zones works offline.

    Examples:
      slipway pin dev
      slipway pin dev --zones us-east-1a,us-east-1b
      slipway pin prod --replan --dry-run
    """
    from botocore.exceptions import BotoCoreError, ClientError, ProfileNotFound

    from slipway.cli.aws_errors import error_code
    from slipway.cli.common import Wrap, cannot_reach, credentials_failure, log_in, network_failure
    from slipway.cli.render import ROOT

    out, err = Console(), Console(stderr=True)
    wanted = [z.strip() for z in zones.split(",") if z.strip()] if zones else None
    try:
        changes = pin(stack, ROOT, wanted, replan, profile, dry_run)
    except ConfigError as exc:
        exc.stack = exc.stack or stack
        err.print(f"[bold red]error:[/] {exc}", highlight=False)
        raise typer.Exit(2) from None
    except (ProfileNotFound, BotoCoreError) as exc:
        if network_failure(exc):
            said = cannot_reach(exc)
        elif isinstance(exc, ProfileNotFound):
            said = f"{exc} — fix --profile, slipway:identity.profile or aws:profile"
        elif credentials_failure(exc):
            said = f"could not ask AWS about the stack ({exc}) — {log_in(profile)}"
        else:
            said = f"could not ask AWS about the stack ({exc})"
        err.print(f"error: {said}; or pin offline with --zones <az>,<az> (then nothing is compared with a "
                  "running cluster)", highlight=False)  # fmt: skip
        raise typer.Exit(2) from None
    except ClientError as exc:
        if credentials_failure(exc):
            err.print(f"error: AWS rejected the credentials ({error_code(exc)}) — {log_in(profile)}; or pin "
                      "offline with --zones <az>,<az>", highlight=False)  # fmt: skip
            raise typer.Exit(2) from None
        err.print(f"error: AWS refused {exc.operation_name} ({error_code(exc)}) — allow it to this identity "
                  "(`aws sts get-caller-identity`), or pin offline with --zones <az>,<az>")  # fmt: skip
        raise typer.Exit(2) from None
    table = Table(title=f"pins for {stack}", title_justify="left")
    for col in ("setting", "was", "now", "effect"):
        table.add_column(col)
    for c in changes:
        now = ", ".join(c.new) if isinstance(c.new, list) else str(c.new)
        table.add_row(Wrap(c.path), Wrap("—" if c.old is None else str(c.old)), Wrap(now), Wrap(c.note or "first pin"))
    if changes:
        out.print(table)
    if wanted:
        out.print("zones given offline: nothing was compared with a running cluster, and add-on versions stay EKS's "
                  "default for the cluster version (run without --zones to pin them)")  # fmt: skip
    verb = "would write" if dry_run else "wrote"
    verdict = f"{verb} {len(changes)} pin(s) to stacks/Pulumi.{stack}.yaml" if changes else "nothing to pin"
    out.print(f"verdict: {verdict}", highlight=False)
