"""Doctor check: subnet tags the AWS Load Balancer Controller needs to discover subnets."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from slipway.cli.doctor._aws import _guarded, _needs, _tags, stack_vpcs
from slipway.cli.doctor.model import DoctorContext, Finding
from slipway.components.network import ROLE_TAGS

SCHEME_TIER = {"internet-facing": "public", "internal": "private"}
# The controller skips subnets with fewer free addresses than this (its subnet discovery docs).
MIN_FREE_IPS = 8


def public_subnets(route_tables: list[dict[str, Any]], subnet_ids: Iterable[str]) -> set[str]:
    """Subnets whose route table (explicit, else the VPC's main one) sends 0.0.0.0/0 to an internet gateway."""
    main, explicit = False, {}
    for rt in route_tables:
        to_igw = any(
            r.get("DestinationCidrBlock") == "0.0.0.0/0" and r.get("GatewayId", "").startswith("igw-")
            for r in rt.get("Routes", [])
        )
        for a in rt.get("Associations", []):
            if a.get("Main"):
                main = to_igw
            elif a.get("SubnetId"):
                explicit[a["SubnetId"]] = to_igw
    return {s for s in subnet_ids if explicit.get(s, main)}


@_guarded
def check_subnet_tags(ctx: DoctorContext) -> list[Finding]:
    """Public subnets carry `kubernetes.io/role/elb=1`, private ones `kubernetes.io/role/internal-elb=1`,
    and each load balancer scheme the stack uses finds subnets in enough AZs.

    Missing tags are the cause of the controller's "unable to discover at least one
    subnet" / "couldn't auto-discover subnets" (kubernetes-sigs/aws-load-balancer-controller#3051, #2607).
    """
    name, cluster = "subnet tags", ctx.cluster_name
    vpcs = stack_vpcs(ctx)
    if not vpcs:
        return [Finding(name, "skip", ctx.stack, "stack not deployed yet")]
    findings = []
    if len(vpcs) > 1:
        findings.append(
            Finding(
                name,
                "warn",
                ", ".join(vpcs),
                f"{len(vpcs)} VPCs carry slipway/stack={ctx.stack}; checked {vpcs[0]}",
                "delete VPCs left over from an earlier deploy of this stack",
            )
        )
    ec2, vpc = ctx.client("ec2"), vpcs[0]
    by_vpc = [{"Name": "vpc-id", "Values": [vpc]}]
    subnets = [s for page in ec2.get_paginator("describe_subnets").paginate(Filters=by_vpc) for s in page["Subnets"]]
    tables = [
        t for page in ec2.get_paginator("describe_route_tables").paginate(Filters=by_vpc) for t in page["RouteTables"]
    ]
    public = public_subnets(tables, (s["SubnetId"] for s in subnets))
    needs = _needs(ctx.cfg)
    tiers = {
        "public": [s for s in subnets if s["SubnetId"] in public],
        "private": [s for s in subnets if s["SubnetId"] not in public],
    }
    users = {t: [w for scheme, (_, who) in needs.items() if SCHEME_TIER[scheme] == t for w in who] for t in tiers}
    for tier, members in tiers.items():
        key, bad = ROLE_TAGS[tier], 0
        impact = (
            f"; {', '.join(users[tier])} cannot place a load balancer in it"
            if users[tier]
            else f"; no {tier} load balancer is asked for yet, the first one will not find it"
        )
        for s in sorted(members, key=lambda s: s["SubnetId"]):
            problem = _subnet_problem(s, key, cluster)
            if problem:
                bad += 1
                # A missing or wrong role tag is drift from what slipway deployed: always a failure.
                # The controller's other filters (cluster tag, free IPs) only matter once a load balancer asks.
                status = "fail" if users[tier] or key in problem else "warn"
                findings.append(
                    Finding(
                        name,
                        status,
                        s["SubnetId"],
                        f"{tier} subnet {_label(s)} {problem}{impact}",
                        _tag_fix(s["SubnetId"], key, cluster, problem),
                    )
                )
        if members and not bad:
            azs = sorted({s["AvailabilityZone"] for s in members})
            findings.append(
                Finding(name, "pass", f"{tier} subnets", f"{len(members)} tagged {key}=1 ({', '.join(azs)})")
            )
    for scheme, (need, who) in sorted(needs.items()):
        findings.append(_coverage(subnets, public, scheme, need, who, cluster))
    return findings


def _label(subnet: dict[str, Any]) -> str:
    named = _tags(subnet).get("Name")
    return f"{named} ({subnet['AvailabilityZone']})" if named else f"in {subnet['AvailabilityZone']}"


def _subnet_problem(subnet: dict[str, Any], key: str, cluster: str) -> str | None:
    """Why the controller would not use this subnet for its tier, or None."""
    value = _tags(subnet).get(key)
    if value is None:
        return f"has no {key} tag"
    if value not in ("1", ""):
        return f"has {key}={value!r}; the controller accepts only 1 or an empty value"
    return _ineligible(subnet, cluster)


def _ineligible(subnet: dict[str, Any], cluster: str) -> str | None:
    """The controller's filters after the role tag: the cluster tag and free addresses."""
    tags, own = _tags(subnet), f"kubernetes.io/cluster/{cluster}"
    others = sorted(k for k in tags if k.startswith("kubernetes.io/cluster/") and k != own)
    if others and own not in tags:
        return f"is tagged for another cluster ({others[0]}) but not {own}, so the controller skips it"
    if subnet.get("AvailableIpAddressCount", MIN_FREE_IPS) < MIN_FREE_IPS:
        return f"has {subnet['AvailableIpAddressCount']} free IP addresses; the controller needs {MIN_FREE_IPS}"
    return None


def _tag_fix(subnet_id: str, key: str, cluster: str, problem: str) -> str:
    # `pulumi up` diffs against its state, which still holds the tag: only a refresh sees it gone.
    restore = "or run `pulumi up --refresh`, which restores slipway's tags"
    if "free IP" in problem:
        return "free addresses in the subnet (delete unused ENIs or load balancers), or add AZs (network.azCount)"
    if "another cluster" in problem:
        return (
            f"aws ec2 create-tags --resources {subnet_id} --tags Key=kubernetes.io/cluster/{cluster},Value=shared "
            f"({restore})"
        )
    return f"aws ec2 create-tags --resources {subnet_id} --tags Key={key},Value=1 ({restore})"


def _coverage(
    subnets: list[dict[str, Any]], public: set[str], scheme: str, need: int, who: list[str], cluster: str
) -> Finding:
    """Where the controller would place a load balancer of `scheme`, in its own discovery order."""
    tier = SCHEME_TIER[scheme]
    key = ROLE_TAGS[tier]
    tagged = [s for s in subnets if _tags(s).get(key) in ("1", "")]
    # With no subnet carrying the role tag, controllers ≥ 2.12.1 fall back to route-table reachability.
    candidates = tagged or [s for s in subnets if (s["SubnetId"] in public) == (tier == "public")]
    usable = [s for s in candidates if _ineligible(s, cluster) is None]
    azs = sorted({s["AvailabilityZone"] for s in usable})
    subject = f"{scheme} load balancers"
    if len(azs) >= need:
        how = "" if tagged else f" (found by route table: no subnet carries {key}, which controllers < 2.12.1 need)"
        return Finding("subnet tags", "pass", subject, f"subnets in {', '.join(azs)} for {', '.join(who)}{how}")
    return Finding(
        "subnet tags",
        "fail",
        subject,
        f"{', '.join(who)} need{'s' if len(who) == 1 else ''} {tier} subnets tagged {key}=1 in at least "
        f"{need} AZs; found {len(azs)} ({', '.join(azs) or 'none'}): the controller reports \"couldn't "
        'auto-discover subnets" and the load balancer is never created',
        f"tag the {tier} subnets of {need} AZs with {key}=1 (see the subnet findings above), "
        "or run `pulumi up --refresh`",
    )
