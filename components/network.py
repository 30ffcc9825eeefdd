"""`Network`: a VPC with public and private subnets per AZ, NAT, routes and the
subnet tags that EKS and the AWS Load Balancer Controller discover.

Subnet CIDRs are computed from the AZ's letter, not its position in a list, so
adding a third AZ never renumbers the subnets of the first two (a renumbered subnet
is a replaced subnet, and a replaced subnet takes its nodes and load balancers with it).

Over time (what the engine and AWS do; tests/test_graph.py, tests/test_pins.py):

- A subnet's `cidr_block` and `availability_zone` are ForceNew; a replaced subnet changes
  the node groups' `subnetIds`, also ForceNew. So the AZ list is pinned in the stack file
  (`slipway pin`), never re-derived from `state=available` on each run.
- The Load Balancer Controller creates ALBs (and their ENIs and security groups) in these
  subnets outside Pulumi; the VPC cannot be deleted while they exist. Every Ingress
  depends on the controller's release, so `pulumi destroy` deletes Ingresses first and
  the controller removes its ALBs before it goes.
- Nodes need the private routes and NAT (or endpoints) at boot: `egress` is what node
  groups depend on.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import pulumi
import pulumi_aws as aws

from slipway.components.validation import Issue, choice_issues, require_valid

NatStrategy = Literal["none", "single", "per-az"]

# Slots of the VPC split into eighths: eighths 0–5 are private subnets for AZ
# letters a–f (pods take their IPs from these with the VPC CNI, so they are large);
# eighth 7 is cut into 8 public subnets, one per AZ letter (only load balancers and
# NAT gateways live there).
PRIVATE_SPLIT = 3  # /16 → /19 private subnets (8,187 usable IPs each)
PUBLIC_SPLIT = 6  # /16 → /22 public subnets (1,019 usable IPs each)
PUBLIC_EIGHTH = 7

# Zone IDs EKS refuses for a cluster's subnets (UnsupportedAvailabilityZoneException), by
# region; AZ names map to zone IDs per account. Source: EKS user guide, "Subnet requirements
# for clusters" (https://docs.aws.amazon.com/eks/latest/userguide/network-reqs.html#cluster-subnets).
EKS_UNSUPPORTED_ZONE_IDS = {"use1-az3": "us-east-1", "usw1-az2": "us-west-1", "cac1-az3": "ca-central-1"}

# The subnet tag (value "1") by which the Load Balancer Controller picks a tier's subnets.
ROLE_TAGS = {"public": "kubernetes.io/role/elb", "private": "kubernetes.io/role/internal-elb"}


def az_slot(az: str) -> int:
    """The stable slot of an AZ: its letter (us-east-1c → 2)."""
    slot = ord(az[-1]) - ord("a")
    if not 0 <= slot <= 5:
        raise ValueError(f"AZ {az!r} must end in a letter a–f")
    return slot


def subnet_cidrs(vpc_cidr: str, azs: list[str]) -> dict[str, dict[str, str]]:
    """Public and private CIDR per AZ: {"public": {az: cidr}, "private": {az: cidr}}."""
    vpc = ipaddress.ip_network(vpc_cidr)
    private = list(vpc.subnets(prefixlen_diff=PRIVATE_SPLIT))
    public = list(private[PUBLIC_EIGHTH].subnets(prefixlen_diff=PUBLIC_SPLIT - PRIVATE_SPLIT))
    return {
        "public": {az: str(public[az_slot(az)]) for az in azs},
        "private": {az: str(private[az_slot(az)]) for az in azs},
    }


def discovery_tags(cluster_names: str | Sequence[str], tier: Literal["public", "private"]) -> dict[str, str]:
    """Tags the Load Balancer Controller uses to pick subnets for ALBs/NLBs, for every
    cluster the subnets serve.

    Without them it fails with "unable to discover at least one subnet"
    (kubernetes-sigs/aws-load-balancer-controller#3051, #2607). With several clusters in
    one VPC each cluster's controller filters subnets by its own
    `kubernetes.io/cluster/<name>` tag (`shared`: the subnet is not the cluster's alone).
    """
    names = [cluster_names] if isinstance(cluster_names, str) else list(cluster_names)
    return {ROLE_TAGS[tier]: "1", **{f"kubernetes.io/cluster/{n}": "shared" for n in sorted(names)}}


def nat_placement(strategy: NatStrategy, azs: list[str]) -> dict[str, str | None]:
    """Which AZ's NAT gateway each private subnet leaves through ({az: nat az or None})."""
    if strategy == "none":
        return {az: None for az in azs}
    if strategy == "single":
        return {az: azs[0] for az in azs}
    return {az: az for az in azs}


@dataclass(frozen=True, kw_only=True)
class NetworkArgs:
    """Inputs of a Network."""

    cidr: str
    """VPC IPv4 CIDR, /16 to /20."""
    availability_zones: list[str]
    """AZ names (2 or 3), e.g. ["us-east-1a", "us-east-1b"]."""
    cluster_name: str | None = None
    """The EKS cluster this VPC serves (`kubernetes.io/cluster/<name>` discovery tag)."""
    cluster_names: list[str] = field(default_factory=list[str])
    """Several clusters in one VPC: each gets its discovery tag on every subnet, so each
    cluster's Load Balancer Controller finds them. Adding one later is a tag update."""
    region: str
    """AWS region, for endpoint service names (com.amazonaws.<region>.<service>)."""
    nat_strategy: NatStrategy = "single"
    """`single`: one NAT gateway for all AZs (cheap); `per-az`: one per AZ (survives an AZ loss)."""
    interface_endpoints: list[str] = field(default_factory=list[str])
    """Interface endpoints (ecr.api, ecr.dkr, sts, logs, …) for nodes without internet egress."""
    tags: dict[str, str] = field(default_factory=dict[str, str])
    """Extra tags on every resource (Name tags are added per resource)."""
    karpenter_discovery: str | None = None
    """Tag the private subnets `karpenter.sh/discovery: <this>` (the cluster name), so that
    Karpenter's EC2NodeClass `subnetSelectorTerms` launch its nodes there and only there
    (karpenter-provider-aws getting-started: subnets and the node security group carry it).
    A tag: added or removed in place."""


def network_issues(args: NetworkArgs) -> list[Issue]:
    """Every mistake in a Network's inputs: field, value, problem and fix."""
    issues: list[Issue] = []
    try:
        net = ipaddress.ip_network(args.cidr, strict=True)
        if net.version != 4 or not 16 <= net.prefixlen <= 20:
            issues.append(Issue("cidr", args.cidr, "is not an IPv4 /16 to /20", "use e.g. 10.0.0.0/16"))
    except (TypeError, ValueError):
        issues.append(Issue("cidr", args.cidr, "is not a network CIDR", "write it like 10.0.0.0/16"))
    azs = args.availability_zones
    if isinstance(azs, str) or not isinstance(azs, list) or len(azs) < 2:
        issues.append(Issue("availability_zones", azs, "names fewer than 2 AZs",
                            "EKS needs subnets in at least two, e.g. ['us-east-1a', 'us-east-1b']"))  # fmt: skip
    else:
        for i, az in enumerate(azs):
            if not (isinstance(az, str) and az[-1:] in tuple("abcdef") and az[:-1] == args.region):
                issues.append(Issue(f"availability_zones[{i}]", az, f"is not an AZ of {args.region} lettered a–f",
                                    f"use e.g. {args.region}a"))  # fmt: skip
    if isinstance(args.cluster_names, str):
        issues.append(
            Issue("cluster_names", args.cluster_names, "is a string", f"pass a list: [{args.cluster_names!r}]")
        )
    elif not args.cluster_name and not args.cluster_names:
        issues.append(Issue("cluster_names", [], "names no cluster", "name the EKS clusters this VPC serves (their "
                            "load balancer controllers discover subnets by a tag per cluster)"))  # fmt: skip
    issues += choice_issues("nat_strategy", args.nat_strategy, ("none", "single", "per-az"), "a NAT strategy")
    return issues


class Network(pulumi.ComponentResource):
    """A VPC laid out for EKS: public and private subnets per AZ, NAT and endpoints."""

    vpc_id: pulumi.Output[str]
    cluster_names: list[str]
    """The clusters whose discovery tags the subnets carry."""
    public_subnet_ids: dict[str, pulumi.Output[str]]
    private_subnet_ids: dict[str, pulumi.Output[str]]
    egress: list[pulumi.Resource]
    """Routes, NAT gateways and endpoints the private subnets reach AWS and the internet
    through: nodes depend on them (at boot they pull images and call the EKS API)."""

    def __init__(self, name: str, args: NetworkArgs, opts: pulumi.ResourceOptions | None = None):
        require_valid(f"Network {name!r}", network_issues(args))  # before anything is registered
        super().__init__("slipway:network:Network", name, None, opts)
        self._name = name
        self._args = args
        self.cluster_names = sorted({*args.cluster_names, *([args.cluster_name] if args.cluster_name else [])})
        self._child = pulumi.ResourceOptions(parent=self)
        self._karpenter_tag = {"karpenter.sh/discovery": args.karpenter_discovery} if args.karpenter_discovery else {}
        self.egress = []
        self._public_subnets: dict[str, aws.ec2.Subnet] = {}  # filled by _create_public_tier
        cidrs = subnet_cidrs(args.cidr, args.availability_zones)

        self._vpc = self._create_vpc()
        igw = self._create_internet_gateway()
        self.public_subnet_ids = self._create_public_tier(cidrs["public"], igw)
        placement = nat_placement(args.nat_strategy, args.availability_zones)
        nats = self._create_nat_gateways(placement, igw)
        self.private_subnet_ids, private_route_tables = self._create_private_tier(cidrs["private"], placement, nats)
        self._create_endpoints(private_route_tables)

        self.vpc_id = self._vpc.id
        self.register_outputs(
            {
                "vpcId": self.vpc_id,
                "publicSubnetIds": self.public_subnet_ids,
                "privateSubnetIds": self.private_subnet_ids,
            }
        )

    def _tags(self, name: str, extra: dict[str, str] | None = None) -> dict[str, str]:
        return {**self._args.tags, **(extra or {}), "Name": name}

    def _create_vpc(self) -> aws.ec2.Vpc:
        # DNS hostnames and support are required for EKS private endpoint access
        # and for interface endpoints' private DNS.
        return aws.ec2.Vpc(
            f"{self._name}-vpc",
            cidr_block=self._args.cidr,
            enable_dns_support=True,
            enable_dns_hostnames=True,
            tags=self._tags(f"{self._name}-vpc"),
            opts=self._child,
        )

    def _create_internet_gateway(self) -> aws.ec2.InternetGateway:
        return aws.ec2.InternetGateway(
            f"{self._name}-igw", vpc_id=self._vpc.id, tags=self._tags(f"{self._name}-igw"), opts=self._child
        )

    def _create_public_tier(self, cidrs: dict[str, str], igw: aws.ec2.InternetGateway) -> dict[str, pulumi.Output[str]]:
        rt = aws.ec2.RouteTable(
            f"{self._name}-public-rt",
            vpc_id=self._vpc.id,
            tags=self._tags(f"{self._name}-public"),
            opts=self._child,
        )
        # Part of `egress`: a NAT gateway reaches the internet through this route, so what
        # needs egress (nodes at boot; on `pulumi destroy`, the controllers that delete ALBs
        # and terminate Karpenter's instances through AWS's APIs) must keep it until the end.
        self.egress.append(
            aws.ec2.Route(
                f"{self._name}-public-default",
                route_table_id=rt.id,
                destination_cidr_block="0.0.0.0/0",
                gateway_id=igw.id,
                opts=self._child,
            )
        )
        for az, cidr in cidrs.items():
            # Public IPs are given only to what is placed here on purpose (NAT gateways
            # and internet-facing load balancers); nodes live in the private tier.
            subnet = aws.ec2.Subnet(
                f"{self._name}-public-{az}",
                vpc_id=self._vpc.id,
                availability_zone=az,
                cidr_block=cidr,
                map_public_ip_on_launch=False,
                tags=self._tags(f"{self._name}-public-{az}", discovery_tags(self.cluster_names, "public")),
                opts=self._child,
            )
            aws.ec2.RouteTableAssociation(
                f"{self._name}-public-{az}", subnet_id=subnet.id, route_table_id=rt.id, opts=self._child
            )
            self._public_subnets[az] = subnet
        return {az: s.id for az, s in self._public_subnets.items()}

    def _create_nat_gateways(
        self, placement: dict[str, str | None], igw: aws.ec2.InternetGateway
    ) -> dict[str, aws.ec2.NatGateway]:
        nats: dict[str, aws.ec2.NatGateway] = {}
        # A public NAT gateway and its EIP need the VPC's internet gateway first
        # (AWS: "the VPC must have an internet gateway attached").
        after_igw = pulumi.ResourceOptions(parent=self, depends_on=[igw])
        for az in sorted({a for a in placement.values() if a}):
            eip = aws.ec2.Eip(
                f"{self._name}-nat-{az}",
                domain="vpc",
                tags=self._tags(f"{self._name}-nat-{az}"),
                opts=after_igw,
            )
            nats[az] = aws.ec2.NatGateway(
                f"{self._name}-nat-{az}",
                allocation_id=eip.id,
                subnet_id=self._public_subnets[az].id,
                connectivity_type="public",
                tags=self._tags(f"{self._name}-nat-{az}"),
                opts=after_igw,
            )
        return nats

    def _create_private_tier(
        self, cidrs: dict[str, str], placement: dict[str, str | None], nats: dict[str, aws.ec2.NatGateway]
    ) -> tuple[dict[str, pulumi.Output[str]], dict[str, aws.ec2.RouteTable]]:
        subnet_ids: dict[str, pulumi.Output[str]] = {}
        route_tables: dict[str, aws.ec2.RouteTable] = {}
        nats_in_egress: set[str] = set()
        for az, cidr in cidrs.items():
            subnet = aws.ec2.Subnet(
                f"{self._name}-private-{az}",
                vpc_id=self._vpc.id,
                availability_zone=az,
                cidr_block=cidr,
                map_public_ip_on_launch=False,
                tags=self._tags(
                    f"{self._name}-private-{az}",
                    {**discovery_tags(self.cluster_names, "private"), **self._karpenter_tag},
                ),
                opts=self._child,
            )
            # One route table per AZ even with a single NAT: switching to per-az
            # later then changes routes, not associations.
            rt = aws.ec2.RouteTable(
                f"{self._name}-private-{az}",
                vpc_id=self._vpc.id,
                tags=self._tags(f"{self._name}-private-{az}"),
                opts=self._child,
            )
            nat_az = placement[az]
            if nat_az:
                route = aws.ec2.Route(
                    f"{self._name}-private-{az}-default",
                    route_table_id=rt.id,
                    destination_cidr_block="0.0.0.0/0",
                    nat_gateway_id=nats[nat_az].id,
                    opts=self._child,
                )
                self.egress.append(route)
                if nat_az not in nats_in_egress:  # a single NAT gateway serves every AZ: list it once
                    nats_in_egress.add(nat_az)
                    self.egress.append(nats[nat_az])
            assoc = aws.ec2.RouteTableAssociation(
                f"{self._name}-private-{az}", subnet_id=subnet.id, route_table_id=rt.id, opts=self._child
            )
            self.egress.append(assoc)
            subnet_ids[az] = subnet.id
            route_tables[az] = rt
        return subnet_ids, route_tables

    def _create_endpoints(self, private_route_tables: dict[str, aws.ec2.RouteTable]) -> None:
        region = self._args.region
        # Gateway endpoints are free: image layers (ECR stores them in S3) and
        # artifacts stop paying NAT data processing ($0.045/GB).
        s3 = aws.ec2.VpcEndpoint(
            f"{self._name}-s3",
            vpc_id=self._vpc.id,
            service_name=f"com.amazonaws.{region}.s3",
            vpc_endpoint_type="Gateway",
            route_table_ids=[rt.id for _, rt in sorted(private_route_tables.items())],
            tags=self._tags(f"{self._name}-s3"),
            opts=self._child,
        )
        self.egress.append(s3)
        if not self._args.interface_endpoints:
            return
        sg = aws.ec2.SecurityGroup(
            f"{self._name}-endpoints",
            vpc_id=self._vpc.id,
            description="HTTPS from inside the VPC to AWS interface endpoints",
            ingress=[
                aws.ec2.SecurityGroupIngressArgs(
                    protocol="tcp",
                    from_port=443,
                    to_port=443,
                    cidr_blocks=[self._args.cidr],
                    description="HTTPS from the VPC",
                )
            ],
            tags=self._tags(f"{self._name}-endpoints"),
            opts=self._child,
        )
        for service in self._args.interface_endpoints:
            endpoint = aws.ec2.VpcEndpoint(
                f"{self._name}-{service.replace('.', '-')}",
                vpc_id=self._vpc.id,
                service_name=f"com.amazonaws.{region}.{service}",
                vpc_endpoint_type="Interface",
                private_dns_enabled=True,
                subnet_ids=[sid for _, sid in sorted(self.private_subnet_ids.items())],
                security_group_ids=[sg.id],
                tags=self._tags(f"{self._name}-{service}"),
                opts=self._child,
            )
            self.egress.append(endpoint)
