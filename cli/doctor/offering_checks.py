"""Doctor check: each node pool's instance types are offered in every AZ of the stack."""

from __future__ import annotations

from slipway.cli.doctor._aws import _guarded, stack_azs, zone_ids
from slipway.cli.doctor.model import DoctorContext, Finding
from slipway.program.capacity import plan_cluster
from slipway.program.config import EKS_UNSUPPORTED_ZONE_IDS, ConfigError, StackConfig


@_guarded
def check_instance_offerings(ctx: DoctorContext) -> list[Finding]:
    """Each node pool's instance types are offered in every AZ of the stack (preflight).

    AZ names are mapped to physical zones per account (us-east-1e in one account is
    not us-east-1e in another), so slipway's catalog cannot know this: only the
    account's own DescribeInstanceTypeOfferings can.
    """
    name, cfg = "instance offerings", ctx.cfg
    azs = stack_azs(ctx)
    if len(azs) < cfg.network.az_count:
        return [
            Finding(
                name,
                "fail",
                "network.azCount",
                f"azCount is {cfg.network.az_count} but this account sees "
                f"only {len(azs)} available AZs ({', '.join(azs) or 'none'})",
                "lower slipway:network.azCount, or list slipway:network.availabilityZones",
            )
        ]
    findings = _eks_zone_findings(ctx, azs)
    planned, pools = _pool_types(ctx, cfg, azs)
    findings += planned
    wanted = sorted({t for types in pools.values() for t in types})
    offered: dict[str, set[str]] = {t: set() for t in wanted}
    if wanted:
        pages = (
            ctx.client("ec2")
            .get_paginator("describe_instance_type_offerings")
            .paginate(
                LocationType="availability-zone",
                Filters=[{"Name": "instance-type", "Values": wanted}, {"Name": "location", "Values": azs}],
            )
        )
        for page in pages:
            for o in page["InstanceTypeOfferings"]:
                offered.setdefault(o["InstanceType"], set()).add(o["Location"])
    for pool, types in sorted(pools.items()):
        findings.append(_offering_finding(ctx, pool, types, azs, offered))
    return findings


def _eks_zone_findings(ctx: DoctorContext, azs: list[str]) -> list[Finding]:
    """A fail for each AZ whose zone ID EKS does not support for the cluster's subnets."""
    ids = zone_ids(ctx, azs)
    return [
        Finding(
            "instance offerings",
            "fail",
            az,
            f"{az} is zone {ids[az]} in this account, where EKS does not support cluster subnets: creating the "
            "cluster fails with UnsupportedAvailabilityZoneException",
            "set slipway:network.availabilityZones to other zones (`aws ec2 describe-availability-zones --query "
            f"'AvailabilityZones[].[ZoneName,ZoneId]'` maps names to zone IDs; avoid {ids[az]})",
        )
        for az in azs
        if ids.get(az) in EKS_UNSUPPORTED_ZONE_IDS
    ]


def _pool_types(ctx: DoctorContext, cfg: StackConfig, azs: list[str]) -> tuple[list[Finding], dict[str, list[str]]]:
    """The instance types each pool's node group gets: its named types, else the planner's choice."""
    pools = {n: p.types for n, p in cfg.node_pools.items() if p.types}
    auto = sorted(n for n, p in cfg.node_pools.items() if not p.types)
    if not auto:
        return [], pools
    try:
        sizes = plan_cluster(cfg, ctx.region, zones=azs, stack=ctx.stack).sizes(cfg)
    except ConfigError as exc:
        sizes, errors = {}, exc.messages
    else:
        errors = []
    findings = []
    for pool in auto:
        if pool in sizes:
            pools[pool] = sizes[pool][0]
            continue
        msg = next((m for m in errors if m.startswith(f"nodePools.{pool}")), "no plan")
        problem, _, fix = msg.partition(" — ")
        findings.append(
            Finding(
                "instance offerings",
                "fail",
                f"nodePools.{pool}",
                f"the capacity planner chose no instance type: {problem}",
                fix or f"run `slipway size {ctx.stack}` to see why",
            )
        )
    return findings, pools


def _offering_finding(
    ctx: DoctorContext, pool: str, types: list[str], azs: list[str], offered: dict[str, set[str]]
) -> Finding:
    name, subject = "instance offerings", f"nodePools.{pool}"
    missing = {t: [az for az in azs if az not in offered.get(t, set())] for t in types}
    if not any(missing.values()):
        return Finding(name, "pass", subject, f"{', '.join(types)} offered in {', '.join(azs)}")
    gaps = "; ".join(f"{t} not in {', '.join(m)}" for t, m in missing.items() if m)
    uncovered = [az for az in azs if all(az in m for m in missing.values())]
    cfg_pool = ctx.cfg.node_pools[pool]
    # Name the key the user wrote: `instanceTypes` (a list) or `instanceType`.
    key = "instanceTypes" if cfg_pool.instance_types is not None else "instanceType"
    what = "types offered" if key == "instanceTypes" else "a type offered"
    fix = (
        f"refresh the planner's offerings for this account (`slipway catalog refresh --region {ctx.region}`) "
        "or set slipway:network.availabilityZones to zones that offer it"
        if not cfg_pool.types
        else f"set slipway:nodePools.{pool}.{key} to {what} in every AZ (`aws ec2 describe-instance-type-"
        f"offerings --location-type availability-zone --filters Name=location,Values={azs[0]}`), "
        "or set slipway:network.availabilityZones to zones that offer it"
    )
    if uncovered:
        return Finding(
            name,
            "fail",
            subject,
            f"{gaps}: the node group cannot launch nodes in "
            f'{", ".join(uncovered)} ("instance type is not supported in your requested Availability '
            'Zone")',
            fix,
        )
    return Finding(name, "warn", subject, f"{gaps}; the other types of the pool cover those AZs", fix)
