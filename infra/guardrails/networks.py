"""Guardrails on the VPC's address range, compared with the other stacks' and the API allow-list.

- **Overlaps.** Two VPCs whose ranges overlap can never be peered (AWS refuses the peering
  connection) or routed to each other through a transit gateway or a VPN (a route table
  holds one route per destination). A stack copied from another keeps its `network.cidr`, and the
  range cannot change later without replacing the VPC and everything in it, so this is
  said before the first `pulumi up` — with ranges no stack uses. Regions and accounts do
  not matter: peering and transit gateways reach across both.
- **Allow-list.** `cluster.endpoint.publicAccessCidrs` admits *public* source addresses to
  the public endpoint. From inside a VPC the API is reached through the private endpoint
  (or, through NAT, from the NAT gateway's public address), so an entry covering a VPC's
  range admits nothing from it: whoever relies on it cannot reach the API.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from ipaddress import IPv4Network
from typing import TYPE_CHECKING

from slipway.program.guardrails import Finding, Site, guardrail

if TYPE_CHECKING:
    from slipway.program.capacity import ClusterPlan
    from slipway.program.config import StackConfig

# RFC 1918 private ranges: where a VPC range is best taken from.
PRIVATE_RANGES = tuple(ipaddress.IPv4Network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"))
# Never suggested: Docker's default bridge network. A host running Docker (a build runner,
# a laptop) routes 172.17.0.0/16 to its bridge, so it could never reach a VPC there.
AVOID = (ipaddress.IPv4Network("172.17.0.0/16"),)
SUGGESTED = 3
"""How many free ranges a finding lists."""


def _net(cidr: str) -> IPv4Network | None:
    try:
        net = ipaddress.ip_network(cidr, strict=False)
    except ValueError:
        return None
    return net if isinstance(net, IPv4Network) else None


def free_ranges(taken: Iterable[IPv4Network], prefixlen: int, near: IPv4Network | None = None) -> list[IPv4Network]:
    """The first free blocks of size `/prefixlen` that overlap none of `taken`.

    Searched in the RFC 1918 range holding `near` (the stack's own range) first, then in
    the others; at most `SUGGESTED` of them.
    """
    used = [*taken, *AVOID]
    ranges = sorted(PRIVATE_RANGES, key=lambda r: not (near is not None and near.subnet_of(r)))
    out: list[IPv4Network] = []
    for parent in ranges:
        if prefixlen < parent.prefixlen:
            continue
        for block in parent.subnets(new_prefix=prefixlen):
            if not any(block.overlaps(u) for u in used):
                out.append(block)
                if len(out) == SUGGESTED:
                    return out
    return out


def _sibling_networks(site: Site) -> list[tuple[str, IPv4Network]]:
    """(stack, VPC range) of every other stack that parses."""
    out = []
    for sibling, config in site.siblings:
        net = _net(config.network.cidr)
        if net is not None:
            out.append((sibling.name, net))
    return out


def _private_allow_list(cfg: StackConfig, own: IPv4Network) -> list[tuple[int, IPv4Network]]:
    """(index, range) of the allow-list entries that hold only private addresses (RFC 1918,
    or inside the VPC's own range): no packet reaching the public endpoint comes from them.
    A wider entry (0.0.0.0/0) does admit the internet, and is the schema's business."""
    if not cfg.cluster.endpoint.public_access:
        return []  # EKS ignores the list without a public endpoint
    nets = [(i, _net(c)) for i, c in enumerate(cfg.cluster.endpoint.public_access_cidrs)]
    return [(i, n) for i, n in nets if n is not None and any(n.subnet_of(r) for r in (*PRIVATE_RANGES, own))]


def _suggestion(free: list[IPv4Network]) -> str:
    if not free:
        return "a range no other stack uses"
    return f"a range no other stack uses, e.g. {free[0]} (free: {', '.join(map(str, free))})"


@guardrail
def network_overlaps(cfg: StackConfig, plan: ClusterPlan, site: Site) -> list[Finding]:
    """The VPC range overlapping another stack's, or an entry of the public endpoint's allow-list."""
    own = _net(cfg.network.cidr)
    if own is None:
        return []
    others = _sibling_networks(site)
    allowed = _private_allow_list(cfg, own)
    taken = [own, *(n for _, n in others), *(n for _, n in allowed)]
    # Free ranges avoid every stack's VPC (this one's too: it moves) and the allow-list.
    free = free_ranges(taken, own.prefixlen, near=own)
    out: list[Finding] = []
    for stack, net in others:
        if own.overlaps(net):
            out.append(
                Finding(
                    "warning",
                    "network.cidr",
                    cfg.network.cidr,
                    f"overlaps stack {stack}'s VPC ({net}): VPCs with overlapping ranges can never be peered or "
                    "routed to each other (transit gateway, VPN)",
                    f"before the first `pulumi up` (a new range replaces the VPC and everything in it), use "
                    f"{_suggestion(free)}",
                )
            )
    vpcs = [("this stack's VPC", own), *((f"stack {s}'s VPC", n) for s, n in others)]
    for i, entry in allowed:
        hit = [(who, n) for who, n in vpcs if entry.overlaps(n)]
        if not hit:
            continue
        who, net = hit[0]
        move = f"; if the entry is a network of yours elsewhere, move the VPC to {_suggestion(free)}"
        out.append(
            Finding(
                "warning",
                f"cluster.endpoint.publicAccessCidrs[{i}]",
                str(cfg.cluster.endpoint.public_access_cidrs[i]),
                f"covers {who} ({net}), but the public endpoint only sees public source addresses: from a VPC the "
                "API is reached through its private endpoint or a NAT gateway's address, so this entry admits "
                "nothing from it",
                "list the public (NAT or VPN egress) addresses instead, and put runners inside the VPC in "
                "slipway:deploy.privateCidrs" + (move if net == own else ""),
            )
        )
    return out
