"""Guardrail module `quotas`: the AWS quotas and hard limits a stack's config can exceed.

Each check counts what the config and its capacity plan create and compares it with
AWS's number from `QUOTAS`, the one table of quota facts (`slipway doctor` reads its
codes too). Severity follows what the user can do about it:

- a hard limit (not adjustable), or IP addresses a subnet does not have: an **error**,
  since `pulumi up` (or the Load Balancer Controller, or the VPC CNI, later) would fail;
- an adjustable quota over its *default*: a **warning** naming the quota code and the
  `aws service-quotas request-service-quota-increase` command. Config time knows only
  the default; an account may have raised it, and an error would then block a stack
  that deploys fine (`slipway doctor` reads the applied value).
- per-Region quotas shared with whatever else runs in the account: counted over this
  stack and its siblings in `stacks/` in the same Region (and account, when the stack
  files say which), a warning when they alone exceed the default.
"""

from __future__ import annotations

import ipaddress
import math
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from slipway.components.app_spec import default_alb_group
from slipway.components.network import nat_placement, subnet_cidrs
from slipway.program.config.stack import default_cluster_name
from slipway.program.guardrails import Finding, Site, guardrail

if TYPE_CHECKING:
    from slipway.components.capacity.catalog import InstanceType
    from slipway.components.capacity.planner import PoolPlan
    from slipway.program.capacity import ClusterPlan
    from slipway.program.config import StackConfig

ELB_DOC = "https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-limits.html"
EKS_DOC = "https://docs.aws.amazon.com/general/latest/gr/eks.html#limits_eks"
VPC_DOC = "https://docs.aws.amazon.com/vpc/latest/userguide/amazon-vpc-limits.html"
EC2_DOC = (
    "https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/elastic-ip-addresses-eip.html#using-instance-addressing-limit"
)


@dataclass(frozen=True)
class Quota:
    """One AWS quota: its Service Quotas service and code, AWS's default, whether it can be raised."""

    service: str
    """Service Quotas service code (`elasticloadbalancing`, `eks`, `vpc`, `ec2`)."""
    code: str
    """Service Quotas quota code (L-…)."""
    name: str
    """The quota's name in Service Quotas and the AWS docs."""
    default: int
    adjustable: bool
    source: str
    """Where the number is documented."""

    def __str__(self) -> str:
        kind = "default quota" if self.adjustable else "hard limit"
        return f"'{self.name}' ({self.service} {self.code}, {kind} {self.default})"

    def increase(self, desired: int) -> str:
        """The CLI call that asks AWS for `desired` (adjustable quotas only)."""
        return (
            f"request an increase: aws service-quotas request-service-quota-increase --service-code "
            f"{self.service} --quota-code {self.code} --desired-value {desired}"
        )


# The quota facts slipway checks, in one place. Codes and defaults from the Service Quotas
# API (`aws service-quotas list-aws-default-service-quotas --service-code …`), cross-checked
# against each service's quota page (`source`).
QUOTAS: dict[str, Quota] = {
    # Elastic Load Balancing, per Application Load Balancer (an ingress group is one ALB).
    "alb-rules": Quota("elasticloadbalancing", "L-7EED9B64", "Rules per Application Load Balancer", 100, True, ELB_DOC),
    "alb-certificates": Quota("elasticloadbalancing", "L-9365A611", "Certificates per Application Load Balancer",
                              25, True, ELB_DOC),  # excluding the listener's default certificate
    "alb-target-groups": Quota("elasticloadbalancing", "L-822D1B1B", "Target Groups per Application Load Balancer",
                               100, False, ELB_DOC),
    "alb-targets": Quota("elasticloadbalancing", "L-7E6692B2", "Targets per Application Load Balancer",
                         1000, True, ELB_DOC),
    "albs": Quota("elasticloadbalancing", "L-53DA6B97", "Application Load Balancers per Region", 50, True, ELB_DOC),
    # EKS, per cluster.
    "node-groups": Quota("eks", "L-6D54EA21", "Managed node groups per cluster", 30, True, EKS_DOC),
    "nodes-per-group": Quota("eks", "L-BD136A63", "Nodes per managed node group", 450, True, EKS_DOC),
    "public-cidrs": Quota("eks", "L-93A74D60", "Public endpoint access CIDR ranges per cluster", 40, False, EKS_DOC),
    # VPC and EC2, per Region (NAT gateways: per AZ). Each NAT gateway holds one Elastic IP.
    "vpcs": Quota("vpc", "L-F678F1CE", "VPCs per Region", 5, True, VPC_DOC),
    "nat-per-az": Quota("vpc", "L-FE5A380F", "NAT gateways per Availability Zone", 5, True, VPC_DOC),
    "eips": Quota("ec2", "L-0263D0A3", "EC2-VPC Elastic IPs", 5, True, EC2_DOC),
}  # fmt: skip

# Addresses AWS keeps in every subnet: network, VPC router, DNS, future use, broadcast
# (https://docs.aws.amazon.com/vpc/latest/userguide/subnet-sizing.html).
AWS_RESERVED_IPS = 5
# The EKS control plane's cross-account ENIs in the cluster's subnets: "at least six IP
# addresses … we recommend at least 16" (EKS user guide, networking/network-reqs.adoc).
EKS_CONTROL_PLANE_IPS = 16
# An ALB needs "at least 8 free IP addresses" in each of its subnets to scale
# (https://docs.aws.amazon.com/elasticloadbalancing/latest/application/application-load-balancers.html#subnets-load-balancer).
ALB_FREE_IPS = 8
# Prefix delegation: each ENI slot holds a /28 (https://docs.aws.amazon.com/eks/latest/userguide/cni-increase-ip-addresses.html).
PREFIX_IPS = 16


def _over(q: Quota, path: str, value: object, problem: str, fix: str) -> Finding:
    """A finding over `q`: an error for a hard limit, a warning for an adjustable default."""
    return Finding("warning" if q.adjustable else "error", path, value, problem, fix)


# --------------------------------------------------------------------- IPs per subnet


def node_ips(t: InstanceType, pods: int, prefix_delegation: bool) -> tuple[int, str]:
    """VPC IPs one node of `t` holding `pods` pods takes from its subnet, and how.

    Secondary-IP mode: each ENI brings `ipv4_per_eni` addresses (its primary and the
    secondaries ipamd attaches whole), and WARM_ENI_TARGET=1 (the VPC CNI's default)
    keeps one more ENI attached than the pods use. Prefix delegation: each pod IP comes
    from a /28 prefix in an ENI slot, plus one warm prefix (slipway sets
    WARM_PREFIX_TARGET=1), plus each ENI's primary address. (aws/amazon-vpc-cni-k8s
    docs/eni-and-ip-target.md, docs/prefix-and-ip-target.md)
    """
    if not prefix_delegation:
        enis = min(t.max_enis, math.ceil(pods / (t.ipv4_per_eni - 1)) + 1)
        return (
            enis * t.ipv4_per_eni,
            f"{enis} ENI{'s' if enis > 1 else ''} × {t.ipv4_per_eni} IPs, the warm ENI included",
        )
    slots = t.ipv4_per_eni - 1
    prefixes = min(t.max_enis * slots, math.ceil(pods / PREFIX_IPS) + 1)
    enis = math.ceil(prefixes / slots)
    return (
        enis + prefixes * PREFIX_IPS,
        f"{prefixes} /28 prefixes, the warm one included, on {enis} ENI{'s' if enis > 1 else ''}",
    )


def pods_per_node(t: InstanceType, plan: PoolPlan | None, prefix_delegation: bool) -> int:
    """Pods with a VPC IP on one node at maxSize: as many as on the fullest planned node
    (nodes are added when pods no longer fit), plus one surge pod of a rolling update,
    at most what the type can address. The DaemonSets (aws-node, kube-proxy) use the host's."""
    placement = plan.placement if plan is not None else []
    fullest = max((sum(node.values()) for node in placement), default=0)
    return min(t.max_pods(prefix_delegation) - 2, fullest + 1)


@dataclass(frozen=True)
class PoolIps:
    """A pool's nodes in one AZ at maxSize, of its heaviest type, and the IPs each takes (and how)."""

    pool: str
    nodes: int
    type: str
    per_node: int
    how: str


def private_ip_demand(cfg: StackConfig, plan: ClusterPlan, prefix_delegation: bool) -> list[PoolIps]:
    """Per pool: its nodes in one AZ at maxSize and what each takes (the heaviest of its types).

    A managed node group's Auto Scaling group balances nodes over its subnets (one per
    AZ), so an AZ holds at most ⌈maxSize / AZs⌉ of them.
    """
    azs = cfg.network.az_count
    out: list[PoolIps] = []
    for name, (types, _low, _desired, high) in sorted(plan.sizes(cfg).items()):
        result = plan.pools[name].plan
        best: tuple[int, str, str] | None = None
        for type_name in types:
            t = plan.catalog.get(type_name)
            if t is None:
                continue  # the planner already refused it
            ips, how = node_ips(t, pods_per_node(t, result, prefix_delegation), prefix_delegation)
            if best is None or ips > best[0]:
                best = (ips, type_name, how)
        if best is not None:
            out.append(PoolIps(name, math.ceil(high / azs), best[1], best[0], best[2]))
    return out


def _zones(cfg: StackConfig, region: str) -> list[str]:
    """The stack's AZs: pinned, else the region's first `azCount` (what `slipway pin` would write)."""
    return cfg.network.availability_zones or [f"{region}{chr(ord('a') + i)}" for i in range(cfg.network.az_count)]


@guardrail
def subnet_ips(cfg: StackConfig, plan: ClusterPlan, site: Site) -> list[Finding]:
    """The nodes every pool can scale to, with their pods' IPs and the VPC CNI's warm pool, fit their
    AZ's private subnet; the NAT gateway and internet-facing ALBs fit the public one."""
    net, azs = cfg.network, _zones(cfg, site.region)
    cidrs = subnet_cidrs(net.cidr, azs)
    private_net = ipaddress.ip_network(cidrs["private"][azs[0]])
    private = private_net.num_addresses - AWS_RESERVED_IPS
    public = ipaddress.ip_network(cidrs["public"][azs[0]]).num_addresses - AWS_RESERVED_IPS
    groups = alb_groups(cfg, site.stack)
    internal = sum(1 for g in groups.values() if g.scheme == "internal")
    fixed = EKS_CONTROL_PLANE_IPS + len(net.interface_endpoints) + internal * ALB_FREE_IPS
    pd = cfg.cluster.prefix_delegation
    pools = private_ip_demand(cfg, plan, pd)
    need = fixed + sum(p.nodes * p.per_node for p in pools)
    findings: list[Finding] = []
    if need > private:
        parts = [f"{p.nodes} × {p.type} of pool {p.pool}: {p.per_node} IPs each = {p.how}" for p in pools]
        parts.append(f"{EKS_CONTROL_PLANE_IPS} for the EKS control plane's ENIs")
        if net.interface_endpoints:
            parts.append(f"{len(net.interface_endpoints)} for interface endpoints")
        if internal:
            parts.append(f"{internal * ALB_FREE_IPS} for {internal} internal ALB(s)")
        fixes = ["use a larger VPC (a /16 leaves 8,187 IPs per private subnet)"] if private_net.prefixlen > 19 else []
        if fixed + sum(p.nodes * p.per_node for p in private_ip_demand(cfg, plan, not pd)) <= private:
            fixes.append(f"turn cluster.prefixDelegation {'off' if pd else 'on'}")
        biggest = max(pools, key=lambda p: p.nodes * p.per_node)
        fixes.append(f"lower nodePools.{biggest.pool}.maxSize")
        findings.append(Finding(
            "error", "network.cidr", net.cidr,
            f"leaves {private:,} usable IPs in each private subnet (/{private_net.prefixlen}), but the plan needs "
            f"{need:,} in {azs[0]} at maxSize ({'; '.join(parts)})",
            f"{', '.join(fixes[:-1])}{' or ' if len(fixes) > 1 else ''}{fixes[-1]}; pods would otherwise stay "
            "ContainerCreating with 'failed to assign an IP address'",
        ))  # fmt: skip
    nats = 1 if azs[0] in nat_placement(net.nat_strategy, azs).values() else 0
    facing = len(groups) - internal
    public_need = EKS_CONTROL_PLANE_IPS + nats + facing * ALB_FREE_IPS
    if public_need > public:
        findings.append(Finding(
            "error", "network.cidr", net.cidr,
            f"leaves {public} usable IPs in each public subnet, but {facing} internet-facing ALB(s) need "
            f"{ALB_FREE_IPS} free each, the NAT gateway {nats} and the EKS control plane's ENIs "
            f"{EKS_CONTROL_PLANE_IPS} ({public_need} in {azs[0]})",
            "use a larger VPC, or put apps in fewer ingress groups",
        ))  # fmt: skip
    return findings


# --------------------------------------------------------------------- ALBs (ingress groups)


@dataclass
class AlbGroup:
    """One ALB the Load Balancer Controller makes for an ingress group, as the config builds it."""

    name: str
    scheme: str
    members: list[str]
    """Config paths of the Ingresses in it (`apps.<name>.ingress`, `argo.ingress`)."""
    rules: int = 0
    certificates: set[str] = field(default_factory=set[str])
    targets: int = 0

    @property
    def target_groups(self) -> int:
        # One target group per (Ingress, Service, port): each member routes to one Service port.
        return len(self.members)


def alb_groups(cfg: StackConfig, stack: str) -> dict[str, AlbGroup]:
    """The ALBs the config's Ingresses make, by group name (apps and argo-server)."""
    cluster = default_cluster_name(cfg.cluster_name, stack)
    groups: dict[str, AlbGroup] = {}

    def add(path: str, scheme: str, group: str | None, hosts: int, paths: int, cert: str | None, pods: int) -> None:
        key = group or default_alb_group(cluster, scheme)
        g = groups.setdefault(key, AlbGroup(key, scheme, []))
        g.members.append(path)
        # One listener rule per (host, path) of each Ingress, on the listener that serves it;
        # with a certificate the HTTP listener only redirects (its default action, no rules).
        # (aws-load-balancer-controller pkg/ingress/model_build_listener_rules.go)
        g.rules += max(hosts, 1) * paths
        g.certificates |= {cert} if cert else set()
        g.targets += pods  # IP targets: one per pod

    for name, app in sorted(cfg.apps.items()):
        i = app.ingress
        if i.enabled:
            most = app.autoscaling.max_replicas if app.autoscaling else app.replicas
            add(f"apps.{name}.ingress", i.scheme, i.group, len(i.hosts), len(i.paths), i.certificate_arn, most)
    a = cfg.argo.ingress
    if cfg.argo.enabled and a.enabled:
        add("argo.ingress", a.scheme, None, 1 if a.host else 0, 1, a.certificate_arn, 1)
    return groups


def _members(g: AlbGroup) -> str:
    shown = ", ".join(g.members[:4]) + (f" and {len(g.members) - 4} more" if len(g.members) > 4 else "")
    return f"ALB group {g.name} ({shown})"


@guardrail
def alb_limits(cfg: StackConfig, plan: ClusterPlan, site: Site) -> list[Finding]:
    """Rules, certificates, target groups and targets of each ALB; ALBs in the Region."""
    findings: list[Finding] = []
    groups = alb_groups(cfg, site.stack)
    split = "or split the group: give some apps another ingress.group (each group is an ALB of its own)"
    for g in groups.values():
        where, certs = f"{g.members[0]}.group", len(g.certificates)
        checks = [
            ("alb-rules", g.rules, where, g.name, f"puts {g.rules} listener rules (hosts × paths) on"),
            # The HTTPS listener's default certificate is not counted.
            ("alb-certificates", certs - 1, f"{g.members[0]}.certificateArn", None,
             f"gives {certs} certificates ({certs - 1} besides the default) to"),
            ("alb-target-groups", g.target_groups, where, g.name,
             f"makes {g.target_groups} target groups (one per app) in"),
            ("alb-targets", g.targets, where, g.name, f"registers up to {g.targets} pods (at maxReplicas) with"),
        ]  # fmt: skip
        for key, used, path, value, what in checks:
            q = QUOTAS[key]
            if used > q.default:
                fix = f"{q.increase(used)}, {split}" if q.adjustable else split[3:]
                if key == "alb-certificates":
                    fix = f"use a wildcard or multi-name certificate, {fix}"
                findings.append(_over(q, path, value, f"{what} {_members(g)}, over {q}", fix))
    q = QUOTAS["albs"]
    if len(groups) > q.default:
        findings.append(_over(q, "apps", f"{len(groups)} ingress groups",
                              f"make {len(groups)} ALBs in {site.region}, over {q} before anything else in the account",
                              f"{q.increase(len(groups) + 5)}, or use fewer ingress groups"))  # fmt: skip
    return findings


# --------------------------------------------------------------------- EKS


@guardrail
def eks_limits(cfg: StackConfig, plan: ClusterPlan, site: Site) -> list[Finding]:
    """Node groups per cluster, public endpoint CIDRs. (Nodes per node group: the schema caps
    minSize/desiredSize/maxSize at the default 450, and the planner stays below it.)"""
    findings: list[Finding] = []
    q = QUOTAS["node-groups"]
    if len(cfg.node_pools) > q.default:
        findings.append(_over(q, "nodePools", sorted(cfg.node_pools)[:3] + ["…"],
                              f"makes {len(cfg.node_pools)} managed node groups in one cluster, over {q}",
                              f"{q.increase(len(cfg.node_pools))}, or merge pools (labels and taints "
                              "can share a pool)"))  # fmt: skip
    q = QUOTAS["public-cidrs"]
    cidrs = cfg.cluster.endpoint.public_access_cidrs
    if cfg.cluster.endpoint.public_access and len(cidrs) > q.default:
        findings.append(_over(q, "cluster.endpoint.publicAccessCidrs", f"{len(cidrs)} CIDRs",
                              f"lists more ranges than the {q} allows",
                              "merge adjacent ranges into larger prefixes, or reach the API privately "
                              "(publicAccess: false, from inside the VPC or over a VPN)"))  # fmt: skip
    return findings


# --------------------------------------------------------------------- VPCs, NAT gateways, Elastic IPs


def _neighbours(site: Site) -> list[tuple[str, StackConfig]]:
    """This stack's siblings that may share its Region and account (parsed; unreadable ones skipped)."""
    from slipway.program.validate import account_of

    out: list[tuple[str, StackConfig]] = []
    for s, config in site.siblings:
        other = account_of(s.values)
        if s.region != site.region or (site.account and other and other != site.account):
            continue
        out.append((s.name, config))
    return out


@guardrail
def region_limits(cfg: StackConfig, plan: ClusterPlan, site: Site) -> list[Finding]:
    """VPCs, Elastic IPs (one per NAT gateway) and NAT gateways per AZ of this stack and
    its siblings in the same Region (and account, when the stack files say so)."""
    stacks = [(site.stack, cfg), *_neighbours(site)]
    names = ", ".join(n for n, _ in stacks)
    scope = f"stacks {names} in {site.region}" if len(stacks) > 1 else f"stack {site.stack} in {site.region}"
    same = " (if they share an account: set aws:allowedAccountIds to tell)" if len(stacks) > 1 else ""
    findings: list[Finding] = []
    nat_azs: Counter[str] = Counter()
    eips = 0
    for _, c in stacks:
        placed = {az for az in nat_placement(c.network.nat_strategy, _zones(c, site.region)).values() if az}
        nat_azs.update(placed)
        eips += len(placed)
    q = QUOTAS["vpcs"]
    vpcs = len(stacks) + 1  # and the Region's default VPC, unless someone deleted it
    if vpcs > q.default:
        findings.append(_over(q, "network", None,
                              f"makes one VPC per stack: {scope} need {vpcs} with the default VPC, over {q}{same}",
                              f"{q.increase(vpcs + 2)}, or delete the default VPC"))  # fmt: skip
    q = QUOTAS["eips"]
    if eips > q.default:
        findings.append(_over(q, "network.natStrategy", cfg.network.nat_strategy,
                              f"gives each NAT gateway an Elastic IP: {scope} need {eips}, over {q}{same}",
                              f"{q.increase(eips + 2)}, or use natStrategy single in the stacks that can"))  # fmt: skip
    q = QUOTAS["nat-per-az"]
    for az, count in sorted(nat_azs.items()):
        if count > q.default:
            findings.append(_over(q, "network.natStrategy", cfg.network.nat_strategy,
                                  f"puts {count} NAT gateways in {az} over {scope}, over {q}{same}",
                                  f"{q.increase(count)}, or share a VPC"))  # fmt: skip
    return findings
