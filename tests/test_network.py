"""Network: subnet layout, discovery tags, NAT and routes per strategy."""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given
from hypothesis import strategies as st

from slipway.components.network import Network, NetworkArgs, az_slot, discovery_tags, nat_placement, subnet_cidrs
from slipway.testing import require_known

AZS3 = ["us-east-1a", "us-east-1b", "us-east-1c"]


def build_network(mocked, strategy="single", azs=AZS3, endpoints=()) -> Network:
    """Build one Network ("net", 10.20.0.0/16, cluster "demo") under `mocked`; return it."""
    holder: dict[str, Network] = {}

    def program():
        net = holder["net"] = Network(
            "net",
            NetworkArgs(
                cidr="10.20.0.0/16",
                availability_zones=list(azs),
                cluster_name="demo",
                region="us-east-1",
                nat_strategy=strategy,
                interface_endpoints=list(endpoints),
            ),
        )
        return require_known(net.vpc_id, *net.private_subnet_ids.values(), *net.public_subnet_ids.values())

    mocked.build(program)
    return holder["net"]


def test_subnets_per_az_inside_vpc_and_disjoint():
    cidrs = subnet_cidrs("10.20.0.0/16", AZS3)
    vpc = ipaddress.ip_network("10.20.0.0/16")
    nets = [ipaddress.ip_network(c) for tier in cidrs.values() for c in tier.values()]
    assert len(nets) == 6
    assert all(n.subnet_of(vpc) for n in nets)
    assert all(not a.overlaps(b) for i, a in enumerate(nets) for b in nets[i + 1 :])
    assert cidrs["private"]["us-east-1a"] == "10.20.0.0/19"
    assert cidrs["public"]["us-east-1a"] == "10.20.224.0/22"


def test_adding_an_az_never_renumbers_another():
    two = subnet_cidrs("10.20.0.0/16", AZS3[:2])
    three = subnet_cidrs("10.20.0.0/16", AZS3)
    for tier in ("public", "private"):
        for az, cidr in two[tier].items():
            assert three[tier][az] == cidr


@given(
    prefix=st.integers(min_value=16, max_value=20),
    letters=st.lists(st.sampled_from("abcdef"), min_size=2, max_size=3, unique=True),
)
def test_layout_property(prefix, letters):
    vpc = ipaddress.ip_network(f"10.0.0.0/{prefix}")
    azs = [f"eu-west-1{x}" for x in letters]
    cidrs = subnet_cidrs(str(vpc), azs)
    nets = [ipaddress.ip_network(c) for tier in cidrs.values() for c in tier.values()]
    assert all(n.subnet_of(vpc) for n in nets)
    assert all(not a.overlaps(b) for i, a in enumerate(nets) for b in nets[i + 1 :])


def test_az_slot_rejects_unknown_letters():
    assert az_slot("us-east-1f") == 5
    with pytest.raises(ValueError):
        az_slot("us-east-1g")


def test_discovery_tags():
    assert discovery_tags("demo", "public") == {"kubernetes.io/role/elb": "1", "kubernetes.io/cluster/demo": "shared"}
    assert discovery_tags("demo", "private") == {
        "kubernetes.io/role/internal-elb": "1",
        "kubernetes.io/cluster/demo": "shared",
    }


def test_nat_placement():
    assert nat_placement("single", AZS3) == dict.fromkeys(AZS3, "us-east-1a")
    assert nat_placement("per-az", AZS3) == {az: az for az in AZS3}
    assert nat_placement("none", AZS3) == dict.fromkeys(AZS3)


def test_vpc_and_subnets_rendered(mocked):
    build_network(mocked)
    vpc = mocked.one("aws:ec2/vpc:Vpc", "net-vpc")
    assert vpc.inputs["cidrBlock"] == "10.20.0.0/16"
    assert vpc.inputs["enableDnsHostnames"] is True and vpc.inputs["enableDnsSupport"] is True
    subnets = mocked.of_type("aws:ec2/subnet:Subnet")
    assert len(subnets) == 6
    for s in subnets:
        tier = "public" if "-public-" in s.name else "private"
        for k, v in discovery_tags("demo", tier).items():
            assert s.inputs["tags"][k] == v, s.urn
        assert s.inputs["mapPublicIpOnLaunch"] is False, s.urn
        assert s.inputs["availabilityZone"] in s.name, s.urn


@pytest.mark.parametrize("strategy, nats", [("none", 0), ("single", 1), ("per-az", 3)])
def test_nat_count_and_private_routes(mocked, strategy, nats):
    build_network(mocked, strategy=strategy)
    assert mocked.count("aws:ec2/natGateway:NatGateway") == nats
    assert mocked.count("aws:ec2/eip:Eip") == nats
    nat_ids = {r.name: r.id for r in mocked.of_type("aws:ec2/natGateway:NatGateway")}
    routes = {r.name: r for r in mocked.of_type("aws:ec2/route:Route")}
    assert routes["net-public-default"].inputs["destinationCidrBlock"] == "0.0.0.0/0"
    assert "gatewayId" in routes["net-public-default"].inputs
    for az in AZS3:
        name = f"net-private-{az}-default"
        if strategy == "none":
            assert name not in routes
            continue
        nat_az = "us-east-1a" if strategy == "single" else az
        assert routes[name].inputs["natGatewayId"] == nat_ids[f"net-nat-{nat_az}"], name


def test_each_private_subnet_has_its_route_table(mocked):
    build_network(mocked, strategy="per-az")
    assocs = mocked.of_type("aws:ec2/routeTableAssociation:RouteTableAssociation")
    assert len(assocs) == 6
    tables = {r.name: r.id for r in mocked.of_type("aws:ec2/routeTable:RouteTable")}
    for az in AZS3:
        assoc = mocked.one("aws:ec2/routeTableAssociation:RouteTableAssociation", f"net-private-{az}")
        assert assoc.inputs["routeTableId"] == tables[f"net-private-{az}"]


def test_s3_gateway_endpoint_on_private_route_tables(mocked):
    build_network(mocked)
    ep = mocked.one("aws:ec2/vpcEndpoint:VpcEndpoint", "net-s3")
    assert ep.inputs["serviceName"] == "com.amazonaws.us-east-1.s3"
    assert ep.inputs["vpcEndpointType"] == "Gateway"
    assert len(ep.inputs["routeTableIds"]) == 3


def test_interface_endpoints(mocked):
    build_network(mocked, endpoints=["ecr.api", "ecr.dkr", "sts"])
    eps = {r.name: r for r in mocked.of_type("aws:ec2/vpcEndpoint:VpcEndpoint")}
    assert set(eps) == {"net-s3", "net-ecr-api", "net-ecr-dkr", "net-sts"}
    dkr = eps["net-ecr-dkr"]
    assert dkr.inputs["serviceName"] == "com.amazonaws.us-east-1.ecr.dkr"
    assert dkr.inputs["privateDnsEnabled"] is True and len(dkr.inputs["subnetIds"]) == 3
    sg = mocked.one("aws:ec2/securityGroup:SecurityGroup", "net-endpoints")
    assert sg.inputs["ingress"][0]["cidrBlocks"] == ["10.20.0.0/16"]


def test_nat_waits_for_the_internet_gateway(mocked):
    build_network(mocked, strategy="per-az")
    igw = mocked.one("aws:ec2/internetGateway:InternetGateway", "net-igw")
    for r in mocked.of_type("aws:ec2/natGateway:NatGateway") + mocked.of_type("aws:ec2/eip:Eip"):
        assert igw.urn in r.dependencies, r.urn


def test_egress_lists_what_nodes_need(mocked):
    net = build_network(mocked, strategy="per-az", endpoints=["sts"])

    def names(resources):
        return sorted({r._name for r in resources})

    egress = names(net.egress)
    for az in AZS3:
        assert f"net-private-{az}-default" in egress and f"net-nat-{az}" in egress and f"net-private-{az}" in egress
    assert "net-s3" in egress and "net-sts" in egress
    assert "net-public-default" in egress  # NAT reaches the internet through it (kept until the end on destroy)
