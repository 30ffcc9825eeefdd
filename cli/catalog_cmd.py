"""`slipway catalog …`: the instance catalog the capacity planner reads.

`catalog refresh --region R` rebuilds it from EC2 DescribeInstanceTypes/Offerings and the
Pricing API (components/capacity/refresh.py does the reading); cli/main.py mounts
`catalog_app` on the `slipway` app.

Where it writes: `--out FILE`, or by default the shipped catalog only when that file is
part of this project (a source checkout of slipway, where it is
`components/data/instances.json`). Installed from a wheel, the shipped catalog lives in
site-packages, which a command never writes into: there `--out` is required.
"""

# typer declares arguments and options as call defaults by design (as in cli/main.py).
# ruff: noqa: B008

from __future__ import annotations

import json
from pathlib import Path

import typer

from slipway.cli.common import (
    Command,
    Group,
    Wrap,
    cannot_reach,
    credentials_failure,
    err,
    log_in,
    network_failure,
    out,
    shown_path,
    verdict_line,
)
from slipway.cli.render import ROOT

catalog_app = typer.Typer(
    help="The instance catalog the capacity planner uses.\n\n"
    "Example: slipway catalog refresh --region eu-west-1 --out catalog-eu-west-1.json",
    no_args_is_help=True,
    cls=Group,
)


def default_target(shipped: Path, root: Path) -> Path | None:
    """Where `refresh` writes without --out: the shipped catalog when it is a file of the
    project at `root` (a source checkout), else nowhere (installed: it is in site-packages)."""
    shipped, root = shipped.resolve(), root.resolve()
    installed = {"site-packages", "dist-packages"} & set(shipped.parts)
    return shipped if shipped.is_relative_to(root) and not installed else None


@catalog_app.command("refresh", cls=Command)
def catalog_refresh(
    region: str = typer.Option(..., "--region", help="Region to read instance types, offerings and prices for."),
    out_file: Path = typer.Option(
        None,
        "--out",
        help="Where to write (default: components/data/instances.json in a source checkout of slipway; "
        "required when slipway is installed, so nothing is written into site-packages).",
    ),
    profile: str = typer.Option(None, "--profile", help="AWS profile (default: the environment's credentials)."),
) -> None:
    """Rebuild the catalog from EC2 DescribeInstanceTypes/Offerings and the Pricing API.

    Without --out it rewrites the shipped catalog, and only in a source checkout of slipway.

    Examples:
      slipway catalog refresh --region us-east-1
      slipway catalog refresh --region eu-west-1 --out eu-west-1.json
    """
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError
    from rich.progress import Progress

    from slipway.components.capacity.catalog import DATA_FILE
    from slipway.components.capacity.refresh import refresh_catalog
    from slipway.program.config import EKS_REGIONS

    if region not in EKS_REGIONS:
        err.print(f"error: --region {region!r} is not a region EKS serves — use e.g. us-east-1")
        raise typer.Exit(2)
    target = out_file or default_target(DATA_FILE, ROOT)
    if target is None:
        err.print(
            f"error: --out is required: the shipped catalog ({DATA_FILE}) is inside the installed package, "
            f"which slipway never writes into — e.g. --out catalog-{region}.json",
            highlight=False,
        )
        raise typer.Exit(2)
    session = boto3.Session(profile_name=profile, region_name=region)
    try:
        with Progress(console=err) as progress:
            task = progress.add_task("instance types", total=None)

            def report(what: str, done: int, total: int) -> None:
                progress.update(task, description=what, completed=done, total=total)

            doc = refresh_catalog(
                region,
                session.client("ec2"),
                # The Pricing API is served from us-east-1 for every region.
                session.client("pricing", region_name="us-east-1"),
                progress=report,
            )
    except (BotoCoreError, ClientError) as exc:
        if network_failure(exc):
            err.print(f"error: {cannot_reach(exc)}", highlight=False)
        elif credentials_failure(exc):
            err.print(f"error: no usable AWS credentials ({exc}) — {log_in(profile)}", highlight=False)
        else:
            err.print(f"error: AWS refused the catalog refresh: {exc} — check credentials (aws sts "
                      "get-caller-identity) and that they allow ec2:DescribeInstanceTypes, "
                      "ec2:DescribeInstanceTypeOfferings, ec2:DescribeAvailabilityZones and pricing:GetProducts",
                      highlight=False)  # fmt: skip
        raise typer.Exit(1) from None
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(doc, indent=1, sort_keys=True) + "\n")
    priced = sum(1 for t in doc["types"].values() if t.get("hourlyUsd"))
    out.print(Wrap(f"wrote {len(doc['types'])} instance types ({priced} priced) for {region} to {shown_path(target)}"))
    out.print(verdict_line(True, f"{len(doc['types'])} instance types for {region}, {priced} priced"), highlight=False)
