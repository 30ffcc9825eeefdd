"""One VPC, several clusters: each cluster's discovery tag on every subnet, and clear
errors for what a caller can get wrong."""

from __future__ import annotations

import pytest

from slipway.components.network import Network, NetworkArgs, discovery_tags
from slipway.components.validation import ArgsError


def test_discovery_tags_for_every_cluster():
    assert discovery_tags(["blue", "green"], "private") == {
        "kubernetes.io/role/internal-elb": "1",
        "kubernetes.io/cluster/blue": "shared",
        "kubernetes.io/cluster/green": "shared",
    }
    assert discovery_tags("blue", "public") == discovery_tags(["blue"], "public")


def test_every_subnet_carries_each_cluster_tag(mocked):
    def build():
        Network(
            "net",
            NetworkArgs(
                cidr="10.40.0.0/16",
                availability_zones=["us-east-1a", "us-east-1b"],
                region="us-east-1",
                cluster_names=["blue", "green"],
            ),  # fmt: skip
        )

    mocked.build(build)
    subnets = mocked.of_type("aws:ec2/subnet:Subnet")
    assert len(subnets) == 4
    for s in subnets:
        tags = s.inputs["tags"]
        assert tags["kubernetes.io/cluster/blue"] == tags["kubernetes.io/cluster/green"] == "shared", s.urn


def test_network_refuses_bad_inputs_all_at_once(mocked):
    args = NetworkArgs(cidr="10.40.0.0/8", availability_zones=["us-east-1a", "eu-west-1b"], region="us-east-1",
                       cluster_names="blue", nat_strategy="sometimes")  # type: ignore[arg-type]  # fmt: skip
    with pytest.raises(ArgsError) as err:
        mocked.build(lambda: Network("net", args))
    assert err.value.messages == [
        "cidr: '10.40.0.0/8' is not a network CIDR — write it like 10.0.0.0/16",
        "availability_zones[1]: 'eu-west-1b' is not an AZ of us-east-1 lettered a–f — use e.g. us-east-1a",
        "cluster_names: 'blue' is a string — pass a list: ['blue']",
        "nat_strategy: 'sometimes' is not a NAT strategy — use one of none, single, per-az",
    ]
    assert mocked.records == []  # nothing registered
