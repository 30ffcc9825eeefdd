"""`slipway catalog …`: the instance catalog the capacity planner reads.

`catalog refresh --region R` rebuilds it from EC2 DescribeInstanceTypes/Offerings and the
Pricing API (components/capacity/refresh.py does the reading); cli/main.py mounts
`catalog_app` on the `slipway` app.
"""

# typer declares arguments and options as call defaults by design (as in cli/main.py).
# ruff: noqa: B008

from __future__ import annotations

import json
from pathlib import Path

import typer

from slipway.cli.common import err, out

catalog_app = typer.Typer(help="The instance catalog the capacity planner uses.", no_args_is_help=True)


@catalog_app.command("refresh")
def catalog_refresh(
    region: str = typer.Option(..., "--region", help="Region to read instance types, offerings and prices for."),
    out_file: Path = typer.Option(None, "--out", help="Where to write (default: the catalog slipway ships)."),
    profile: str = typer.Option(None, "--profile", help="AWS profile (default: the environment's credentials)."),
) -> None:
    """Rebuild the catalog from EC2 DescribeInstanceTypes/Offerings and the Pricing API."""
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError
    from rich.progress import Progress

    from slipway.components.capacity.catalog import DATA_FILE
    from slipway.components.capacity.refresh import refresh_catalog
    from slipway.program.config import EKS_REGIONS

    if region not in EKS_REGIONS:
        err.print(f"error: --region {region!r} is not a region EKS serves — use e.g. us-east-1")
        raise typer.Exit(2)
    session = boto3.Session(profile_name=profile, region_name=region)
    target = out_file or DATA_FILE
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
        err.print(f"error: AWS refused the catalog refresh: {exc} — check credentials (aws sts get-caller-identity) "
                  "and that they allow ec2:DescribeInstanceTypes, ec2:DescribeInstanceTypeOfferings, "
                  "ec2:DescribeAvailabilityZones and pricing:GetProducts")  # fmt: skip
        raise typer.Exit(1) from None
    target.write_text(json.dumps(doc, indent=1, sort_keys=True) + "\n")
    priced = sum(1 for t in doc["types"].values() if t.get("hourlyUsd"))
    out.print(f"wrote {len(doc['types'])} instance types ({priced} priced) for {region} to {target}")
