"""Shared helpers of the AWS doctor checks: the AccessDenied guard, the stack's AZs and VPCs, tags.

Each check takes a `DoctorContext` and returns `Finding`s; none changes anything in
the account. A check whose API call is refused (AccessDenied, UnauthorizedOperation)
returns one `warn` naming the IAM action to allow, instead of raising.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from typing import Any

from botocore.exceptions import ClientError

from slipway.cli.aws_errors import REFUSED, error_code
from slipway.cli.doctor.model import DoctorContext, Finding
from slipway.cli.doctor.run import Check, check_name
from slipway.program.config import StackConfig, usable_zones

# IAM service prefix of each API operation these checks call, for "allow <action>".
_IAM_PREFIX = {
    **dict.fromkeys(
        [
            "DescribeAvailabilityZones",
            "DescribeInstanceTypeOfferings",
            "DescribeVpcs",
            "DescribeSubnets",
            "DescribeRouteTables",
            "DescribeAddresses",
        ],
        "ec2",
    ),
    **dict.fromkeys(["DescribeRepositories", "DescribeImages"], "ecr"),
    **dict.fromkeys(
        ["DescribeLoadBalancers", "DescribeTags", "DescribeTargetGroups", "DescribeTargetHealth"],
        "elasticloadbalancing",
    ),
    **dict.fromkeys(["GetServiceQuota", "GetAWSDefaultServiceQuota"], "servicequotas"),
    "DescribeCluster": "eks",
}


def denied_action(exc: ClientError) -> str | None:
    """The IAM action AWS refused (`ec2:DescribeVpcs`), or None if `exc` is not a refusal."""
    if error_code(exc) not in REFUSED:
        return None
    said = re.search(r"not authorized to perform: ([\w-]+:\w+)", str(exc))
    if said:
        return said.group(1)
    op = exc.operation_name
    return f"{_IAM_PREFIX.get(op, '<service>')}:{op}"


def _guarded(check: Check) -> Check:
    """Turn a refused API call into one `warn` naming the IAM action; other errors propagate."""

    @functools.wraps(check)
    def run(ctx: DoctorContext) -> list[Finding]:
        try:
            return check(ctx)
        except ClientError as exc:
            action = denied_action(exc)
            if action is None:
                raise
            return [
                Finding(
                    check_name(check),
                    "warn",
                    action,
                    f"AWS refused {action}, so this check did not run",
                    f"allow {action} to the identity running slipway doctor (`aws sts get-caller-identity` "
                    "shows which one)",
                )
            ]

    return run


def _tags(resource: dict[str, Any]) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in resource.get("Tags") or []}


def _chunks(items: list[str], size: int) -> Iterable[list[str]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def stack_azs(ctx: DoctorContext) -> list[str]:
    """The AZs `pulumi up` uses: mirrors `slipway.program.main.availability_zones` (may return too few).

    Only real Availability Zones count: an opted-in Local Zone (`us-west-2-lax-1a`) also ends
    in a letter, and would sort before `us-west-2a`. Zones EKS refuses are left out (`usable_zones`).
    """
    if ctx.cfg.network.availability_zones:
        return list(ctx.cfg.network.availability_zones)
    zones = ctx.client("ec2").describe_availability_zones(
        Filters=[
            {"Name": "zone-type", "Values": ["availability-zone"]},
            {"Name": "state", "Values": ["available"]},
        ]
    )
    # The provider's get_availability_zones lists zones sorted by name.
    named = sorted(
        (z["ZoneName"], z.get("ZoneId", ""))
        for z in zones["AvailabilityZones"]
        if z.get("ZoneType", "availability-zone") == "availability-zone"
    )
    return usable_zones(named)[: ctx.cfg.network.az_count]


def zone_ids(ctx: DoctorContext, azs: list[str]) -> dict[str, str]:
    """{AZ name: zone ID} of `azs` in this account (names map to physical zones per account)."""
    if not azs:
        return {}
    zones = ctx.client("ec2").describe_availability_zones(Filters=[{"Name": "zone-name", "Values": azs}])
    return {z["ZoneName"]: z["ZoneId"] for z in zones["AvailabilityZones"] if z.get("ZoneId")}


def stack_vpcs(ctx: DoctorContext) -> list[str]:
    """The stack's VPC: the cluster's, else those tagged `slipway/stack=<stack>` ([] before deploy)."""
    if "aws_checks.vpcs" not in ctx._cache:
        cluster = ctx.cluster()
        vpc_cfg = (cluster or {}).get("resourcesVpcConfig", {})
        if vpc_cfg.get("vpcId"):
            found = [vpc_cfg["vpcId"]]
        elif vpc_cfg.get("subnetIds"):
            subnets = ctx.client("ec2").describe_subnets(SubnetIds=vpc_cfg["subnetIds"][:1])["Subnets"]
            found = [s["VpcId"] for s in subnets]
        else:
            tagged = ctx.client("ec2").describe_vpcs(Filters=[{"Name": "tag:slipway/stack", "Values": [ctx.stack]}])
            found = sorted(v["VpcId"] for v in tagged["Vpcs"])
        ctx._cache["aws_checks.vpcs"] = found
    return ctx._cache["aws_checks.vpcs"]


def _needs(cfg: StackConfig) -> dict[str, tuple[int, list[str]]]:
    """Load balancer schemes the stack asks for: {scheme: (AZs needed, [who asks])}."""
    needs: dict[str, tuple[int, list[str]]] = {}

    def add(scheme: str, azs: int, who: str) -> None:
        have, names = needs.get(scheme, (0, []))
        needs[scheme] = (max(have, azs), [*names, who])

    for app_name, app in sorted(cfg.apps.items()):
        if app.ingress.enabled:
            add(app.ingress.scheme, 2, f"apps.{app_name}.ingress")  # an ALB spans at least two AZs
        if app.service and app.service.type == "LoadBalancer":
            add(app.service.scheme, 1, f"apps.{app_name}.service")  # an NLB needs one subnet
    if cfg.argo.enabled and cfg.argo.ingress.enabled:
        add(cfg.argo.ingress.scheme, 2, "argo.ingress")
    return needs
