"""The quota guardrails (`slipway.program.guardrails.quotas`): what a config makes, against AWS's numbers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from slipway.program.capacity import plan_cluster
from slipway.program.config import ConfigError, parse_config_values
from slipway.program.guardrails import Finding, Site
from slipway.program.guardrails import quotas as q
from slipway.program.stackfile import load_stack_file

from tests.helpers import project_copy

REGION = "us-east-1"
ZONES = ["us-east-1a", "us-east-1b"]
ROOT = Path(__file__).resolve().parent.parent
CERT = "arn:aws:acm:us-east-1:123456789012:certificate/00000000-0000-4000-8000-{:012d}"


def findings(values: dict[str, Any], check, site: Site | None = None) -> list[Finding]:
    cfg = parse_config_values(values, region=REGION, stack="t")
    plan = plan_cluster(cfg, REGION, zones=cfg.network.availability_zones, stack="t")
    return check(cfg, plan, site or Site(stack="t", region=REGION))


def one(found: list[Finding]) -> Finding:
    assert len(found) == 1, [str(f) for f in found]
    return found[0]


def m5_pool(cidr: str = "10.0.0.0/20", max_size: int = 60, pd: bool = False) -> dict[str, Any]:
    return {
        "network": {"cidr": cidr, "availabilityZones": ZONES},
        "cluster": {"prefixDelegation": pd},
        "nodePools": {"general": {"instanceType": "m5.large", "desiredSize": 4, "maxSize": max_size}},
    }


def app(**ingress: Any) -> dict[str, Any]:
    return {
        "image": {"repository": "web", "tag": "1.0.0"},
        "replicas": 1,
        "ports": [{"name": "http", "containerPort": 8080}],
        "resources": {"requests": {"cpu": "10m", "memory": "16Mi"}, "limits": {"memory": "32Mi"}},
        "probes": {"readiness": {"httpGet": {"path": "/ready", "port": "http"}}},
        "ingress": {"enabled": True, "scheme": "internal", **ingress},
    }


def with_apps(apps: dict[str, Any]) -> dict[str, Any]:
    return {
        "network": {"availabilityZones": ZONES},
        "nodePools": {"general": {"instanceType": "m5.4xlarge", "desiredSize": 3, "maxSize": 6}},
        "apps": apps,
    }


# ------------------------------------------------------------------ the table


def test_the_table_holds_the_documented_numbers_and_codes():
    got = {k: (v.service, v.code, v.default, v.adjustable) for k, v in q.QUOTAS.items()}
    assert got["alb-rules"] == ("elasticloadbalancing", "L-7EED9B64", 100, True)
    assert got["alb-certificates"] == ("elasticloadbalancing", "L-9365A611", 25, True)
    assert got["alb-target-groups"] == ("elasticloadbalancing", "L-822D1B1B", 100, False)
    assert got["alb-targets"] == ("elasticloadbalancing", "L-7E6692B2", 1000, True)
    assert got["albs"] == ("elasticloadbalancing", "L-53DA6B97", 50, True)
    assert got["node-groups"] == ("eks", "L-6D54EA21", 30, True)
    assert got["nodes-per-group"] == ("eks", "L-BD136A63", 450, True)
    assert got["public-cidrs"] == ("eks", "L-93A74D60", 40, False)
    assert got["vpcs"] == ("vpc", "L-F678F1CE", 5, True)
    assert got["nat-per-az"] == ("vpc", "L-FE5A380F", 5, True)
    assert got["eips"] == ("ec2", "L-0263D0A3", 5, True)
    assert all(v.source.startswith("https://docs.aws.amazon.com/") for v in q.QUOTAS.values())


# ------------------------------------------------------------------ IPs per subnet


def test_a_small_vpc_cannot_hold_the_pools_at_max_size():
    f = one(findings(m5_pool(max_size=60), q.subnet_ips))
    # /20 → /23 private subnets: 512 − 5 reserved. 60 nodes over 2 AZs = 30 in each, each with
    # its pods' ENI and the warm one (2 × 10 IPs), plus 16 for the control plane's ENIs.
    assert f.severity == "error" and f.path == "network.cidr"
    assert str(f).startswith(
        "network.cidr: '10.0.0.0/20' leaves 507 usable IPs in each private subnet (/23), but the plan needs 616 "
        "in us-east-1a at maxSize (30 × m5.large of pool general: 20 IPs each = 2 ENIs × 10 IPs, the warm ENI "
        "included; 16 for the EKS control plane's ENIs) — use a larger VPC (a /16 leaves 8,187 IPs per private "
        "subnet) or lower nodePools.general.maxSize"
    ), str(f)


def test_the_same_pool_fits_a_larger_vpc_or_fewer_nodes():
    assert findings(m5_pool(cidr="10.0.0.0/16"), q.subnet_ips) == []
    assert findings(m5_pool(max_size=48), q.subnet_ips) == []  # 24 × 20 + 16 = 496 ≤ 507


def test_prefix_delegation_counts_prefixes_and_the_warm_one():
    # 40 nodes: 20 per AZ × 20 IPs + 16 = 416 fits; with prefix delegation each node holds
    # 2 /28 prefixes (its pods' and the warm one) and its ENI's primary: 33 × 20 + 16 = 676.
    assert findings(m5_pool(max_size=40), q.subnet_ips) == []
    f = one(findings(m5_pool(max_size=40, pd=True), q.subnet_ips))
    assert "the plan needs 676 in us-east-1a" in f.problem
    assert "33 IPs each = 2 /28 prefixes, the warm one included, on 1 ENI" in f.problem
    assert "turn cluster.prefixDelegation off" in f.fix


def test_node_ips_follow_the_vpc_cni_modes():
    from slipway.components.capacity.catalog import load_catalog

    m5 = load_catalog().get("m5.large")
    assert q.node_ips(m5, 0, False) == (10, "1 ENI × 10 IPs, the warm ENI included")
    assert q.node_ips(m5, 9, False)[0] == 20  # one ENI in use (9 secondaries), one warm
    assert q.node_ips(m5, 27, False)[0] == 30  # every ENI
    assert q.node_ips(m5, 17, True)[0] == 1 + 3 * 16  # 2 prefixes in use, 1 warm
    assert q.node_ips(m5, 108, True)[0] == 1 + 8 * 16  # 7 + 1 warm, in one ENI's 9 slots


# ------------------------------------------------------------------ ALBs


def test_an_ingress_group_past_100_rules_names_the_group_and_the_quota():
    hosts = [f"h{i}.example.com" for i in range(11)]
    paths = [f"/p{i}" for i in range(10)]
    f = one(findings(with_apps({"web": app(hosts=hosts, paths=paths, group="shop")}), q.alb_limits))
    assert (f.severity, f.path, f.value) == ("warning", "apps.web.ingress.group", "shop")
    assert f.problem == (
        "puts 110 listener rules (hosts × paths) on ALB group shop (apps.web.ingress), over 'Rules per Application "
        "Load Balancer' (elasticloadbalancing L-7EED9B64, default quota 100)"
    )
    assert f.fix.startswith(
        "request an increase: aws service-quotas request-service-quota-increase --service-code "
        "elasticloadbalancing --quota-code L-7EED9B64 --desired-value 110, or split the group"
    )
    assert findings(with_apps({"web": app(hosts=hosts[:10], paths=paths)}), q.alb_limits) == []  # 100 rules


def test_more_than_25_extra_certificates_on_one_alb():
    apps = {f"a{i}": app(scheme="internet-facing", hosts=[f"a{i}.example.com"], certificateArn=CERT.format(i))
            for i in range(27)}  # fmt: skip
    f = one(findings(with_apps(apps), q.alb_limits))
    assert f.path == "apps.a0.ingress.certificateArn" and f.severity == "warning"
    assert "gives 27 certificates (26 besides the default) to ALB group slipway-t-internet-facing" in f.problem
    assert "--quota-code L-9365A611 --desired-value 26" in f.fix and "wildcard" in f.fix
    del apps["a26"]
    assert findings(with_apps(apps), q.alb_limits) == []


def test_more_than_100_target_groups_is_a_hard_error():
    apps = {f"a{i}": app(paths=[f"/a{i}"]) for i in range(101)}
    rules, f = findings(with_apps(apps), q.alb_limits)  # 101 apps with a path each: 101 rules too
    assert rules.severity == "warning" and "puts 101 listener rules" in rules.problem
    assert (f.severity, f.path) == ("error", "apps.a0.ingress.group")
    assert "makes 101 target groups (one per app) in ALB group slipway-t-internal" in f.problem
    assert "hard limit 100" in f.problem and f.fix.startswith("split the group")


def test_targets_count_pods_at_max_replicas():
    big = app()
    big["autoscaling"] = {"minReplicas": 2, "maxReplicas": 1000}
    f = one(findings(with_apps({"api": big, "web": app(paths=["/web"])}), q.alb_limits))
    assert "registers up to 1001 pods (at maxReplicas)" in f.problem and "L-7E6692B2" in f.fix


# ------------------------------------------------------------------ EKS


def test_31_pools_are_over_the_node_group_quota():
    pools = {f"p{i:02d}": {"instanceType": "m5.large", "desiredSize": 2, "maxSize": 2} for i in range(31)}
    f = one(findings({"network": {"availabilityZones": ZONES}, "nodePools": pools}, q.eks_limits))
    assert (f.severity, f.path) == ("warning", "nodePools")
    assert f.problem == (
        "makes 31 managed node groups in one cluster, over 'Managed node groups per cluster' "
        "(eks L-6D54EA21, default quota 30)"
    )
    assert "--service-code eks --quota-code L-6D54EA21 --desired-value 31" in f.fix
    del pools["p30"]
    assert findings({"network": {"availabilityZones": ZONES}, "nodePools": pools}, q.eks_limits) == []


def test_more_than_40_public_endpoint_cidrs_is_a_hard_error():
    cidrs = [f"198.51.{i}.0/24" for i in range(41)]
    values = {"network": {"availabilityZones": ZONES},
              "cluster": {"endpoint": {"publicAccess": True, "publicAccessCidrs": cidrs}}}  # fmt: skip
    f = one(findings(values, q.eks_limits))
    assert (f.severity, f.path, f.value) == ("error", "cluster.endpoint.publicAccessCidrs", "41 CIDRs")
    assert "L-93A74D60, hard limit 40" in f.problem
    values["cluster"]["endpoint"]["publicAccessCidrs"] = cidrs[:40]
    assert findings(values, q.eks_limits) == []


# ------------------------------------------------------------------ per Region, across stacks


def test_stacks_in_one_region_share_vpcs_and_elastic_ips(tmp_path):
    root = project_copy(tmp_path, stack="dev")
    text = (root / "stacks" / "Pulumi.dev.yaml").read_text()
    site = Site(stack="dev", region=REGION, root=root)
    cfg = load_stack_file("dev", root).parse()
    plan = plan_cluster(cfg, REGION, zones=cfg.network.availability_zones, stack="dev")
    for i in range(4):  # 5 stacks + the default VPC = 6 VPCs; 5 single NAT gateways = 5 Elastic IPs
        (root / "stacks" / f"Pulumi.s{i}.yaml").write_text(text)
    found = q.region_limits(cfg, plan, site)
    f = one(found)
    assert f.severity == "warning" and f.path == "network"
    assert "stacks dev, s0, s1, s2, s3 in us-east-1 need 6 with the default VPC" in f.problem
    assert "--quota-code L-F678F1CE --desired-value 8" in f.fix
    (root / "stacks" / "Pulumi.s4.yaml").write_text(text)  # a 6th NAT gateway in us-east-1a
    site = Site(stack="dev", region=REGION, root=root)  # each validation reads the stacks afresh
    paths = sorted((f.path, f.problem.split(":")[0]) for f in q.region_limits(cfg, plan, site))
    assert [p for p, _ in paths] == ["network", "network.natStrategy", "network.natStrategy"]
    # Another account (aws:allowedAccountIds on both) is another set of quotas.
    (root / "stacks" / "Pulumi.s4.yaml").write_text(
        text.replace("config:\n", "config:\n  aws:allowedAccountIds: ['111111111111']\n", 1)
    )
    site = Site(stack="dev", region=REGION, root=root, account="222222222222")
    assert [f.path for f in q.region_limits(cfg, plan, site)] == ["network"]


# ------------------------------------------------------------------ through the one validation path


def test_the_ip_error_stops_the_stack(tmp_path):
    def small(config: dict[str, Any]) -> None:
        config["slipway:network"]["cidr"] = "10.20.0.0/20"
        config["slipway:nodePools"]["general"]["maxSize"] = 140

    root = project_copy(tmp_path, stack="dev", edit=small)
    with pytest.raises(ConfigError) as exc:
        load_stack_file("dev", root).checked()
    assert any(m.startswith("network.cidr: '10.20.0.0/20' leaves 507 usable IPs") for m in exc.value.messages)


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_the_shipped_stacks_are_within_every_quota(stack):
    sf = load_stack_file(stack, ROOT)
    v = sf.checked()
    site = Site(stack=stack, region=sf.region, root=ROOT)
    for check in (q.subnet_ips, q.alb_limits, q.eks_limits, q.region_limits):
        assert check(v.cfg, v.plan, site) == [], check.__name__
