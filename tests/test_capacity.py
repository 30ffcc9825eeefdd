"""Capacity planner: EKS node formulas, plans, errors, determinism, and every pod fits."""

from __future__ import annotations

import json
import math
import random

import boto3
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from moto import mock_aws

from slipway.components.capacity.catalog import (
    InstanceType,
    kube_reserved_cpu_millicores,
    kube_reserved_memory_mib,
    load_catalog,
    max_pods,
)
from slipway.components.capacity.planner import (
    DEFAULT_DAEMONSETS,
    PoolDemand,
    Workload,
    plan_on,
    plan_pool,
)
from slipway.components.capacity.quantity import cpu_millicores, memory_mib
from slipway.components.capacity.refresh import on_demand_price, pricing_filters, refresh_catalog
from slipway.program.capacity import candidates, plan_cluster, system_pool
from slipway.program.config import ConfigError, parse_config_values

from tests.helpers import slipway_cli, slipway_in_process, stubbed_client

CATALOG = load_catalog()
REGION = "us-east-1"


def t(name: str) -> InstanceType:
    return CATALOG.get(name)


# ------------------------------------------------------------------ EKS formulas


@pytest.mark.parametrize(
    "name, pods", [("t3.micro", 4), ("t3.small", 11), ("t3.medium", 17), ("t3.large", 35), ("m5.large", 29),
                   ("m6i.large", 29), ("m5.xlarge", 58)],
)  # fmt: skip
def test_max_pods_without_prefix_delegation(name, pods):
    assert t(name).max_pods() == pods


def test_max_pods_with_prefix_delegation():
    assert t("m5.large").max_pods(prefix_delegation=True) == 110
    assert t("t3.micro").max_pods(prefix_delegation=True) == 2 * (1 * 16) + 2  # 34: below the cap
    assert t("m6i.16xlarge").max_pods(prefix_delegation=True) == 250  # > 30 vCPU: cap 250
    assert max_pods(3, 10, 2, prefix_delegation=True) == 110


def test_kube_reserved_memory():
    assert kube_reserved_memory_mib(17) == 11 * 17 + 255 == 442
    assert kube_reserved_memory_mib(110) == 1465


@pytest.mark.parametrize("vcpu, millis", [(1, 60), (2, 70), (3, 75), (4, 80), (8, 90), (16, 110), (64, 230)])
def test_kube_reserved_cpu(vcpu, millis):
    assert kube_reserved_cpu_millicores(vcpu) == millis


def test_allocatable_t3_medium():
    cpu, mem, pods = t("t3.medium").allocatable()
    assert cpu == 2000 - 70
    assert mem == math.floor(4096 * 0.925) - 442 - 100
    assert pods == 17


def test_quantities():
    assert cpu_millicores("250m") == 250 and cpu_millicores("1") == 1000 and cpu_millicores(0.5) == 500
    assert memory_mib("64Mi") == 64 and memory_mib("1Gi") == 1024 and memory_mib("500M") == 477
    with pytest.raises(ValueError):
        cpu_millicores("a lot")
    with pytest.raises(ValueError):
        memory_mib("1GB")


# ------------------------------------------------------------------ plans

SMALL = PoolDemand("p", (Workload("app", 2, 250, 64, max_surge=1),), az_count=2)


def test_t3_micro_holds_two_pods_per_node_next_to_the_daemonsets():
    plan = plan_on(t("t3.micro"), SMALL)
    assert plan.nodes == 2  # 4 slots − aws-node − kube-proxy = 2 pods per node
    assert all(sum(node.values()) <= 2 for node in plan.placement)


def test_surge_needs_room():
    # 2 nodes × 2 slots hold 4 replicas but leave no room for a rolling update's surge pod.
    four = PoolDemand("p", (Workload("app", 4, 100, 64, max_surge=1),), az_count=2)
    assert plan_on(t("t3.micro"), four).nodes == 3
    no_surge = PoolDemand("p", (Workload("app", 4, 100, 64, max_surge=0),), az_count=2)
    assert plan_on(t("t3.micro"), no_surge).nodes == 2


def test_replicas_are_spread_over_nodes():
    demand = PoolDemand("p", (Workload("api", 3, 100, 64), Workload("web", 3, 100, 64)), az_count=3)
    plan = plan_on(t("m6i.large"), demand)
    assert plan.nodes == 3
    assert all(node == {"api": 1, "web": 1} for node in plan.placement)


def test_at_least_one_node_per_az():
    demand = PoolDemand("p", (Workload("app", 1, 100, 64),), az_count=3)
    assert plan_on(t("m6i.xlarge"), demand).nodes == 3


def test_surviving_an_az_loss_costs_nodes():
    work = (Workload("app", 6, 1500, 2048, max_surge=0),)
    plain = plan_on(t("m6i.large"), PoolDemand("p", work, az_count=3))
    safe = plan_on(t("m6i.large"), PoolDemand("p", work, az_count=3, survive_az_loss=True))
    assert safe.nodes > plain.nodes
    lost = safe.nodes - math.ceil(safe.nodes / 3)
    cpu_room = t("m6i.large").allocatable()[0] - sum(d.cpu_m for d in DEFAULT_DAEMONSETS)
    assert lost * (cpu_room // 1500) >= 6  # what is left after losing the fullest AZ holds every pod


def test_plan_pool_picks_the_cheapest_and_reports_alternatives():
    x86 = [c for c in CATALOG.types.values() if c.architecture == "x86_64" and not c.burstable]
    result = plan_pool(PoolDemand("p", (Workload("app", 4, 500, 512, max_surge=1),), az_count=2), x86)
    costs = [result.plan.monthly_usd] + [a.monthly_usd for a in result.alternatives]
    assert costs == sorted(costs) and len(result.alternatives) == 3
    for c in x86:  # nothing cheaper exists among the candidates
        other = plan_on(c, result.demand)
        if not isinstance(other, str):
            assert other.monthly_usd >= result.plan.monthly_usd - 1e-9, c.name
    # Proved: the cheapest any candidate could do is this plan's cost.
    assert result.proven and result.bound_usd == pytest.approx(result.plan.monthly_usd) and result.gap == 0


def test_plans_are_deterministic():
    demand = PoolDemand("p", tuple(Workload(f"s{i}", 2 + i % 3, 100 * (1 + i % 5), 128 * (1 + i % 4),
                                            max_surge=1) for i in range(20)), az_count=3)  # fmt: skip
    cands = list(CATALOG.types.values())
    first = plan_pool(demand, cands)
    shuffled = cands[:]
    random.Random(3).shuffle(shuffled)
    second = plan_pool(demand, shuffled)
    assert first.plan.as_dict() == second.plan.as_dict()
    assert first.plan.placement == second.plan.placement
    assert [a.as_dict() for a in first.alternatives] == [a.as_dict() for a in second.alternatives]


workload_st = st.builds(
    Workload,
    name=st.sampled_from([f"w{i}" for i in range(12)]),
    replicas=st.integers(1, 6),
    cpu_m=st.sampled_from([50, 100, 250, 500, 1000, 1500]),
    memory_mib=st.sampled_from([64, 128, 256, 512, 1024, 2048, 3072]),
    max_surge=st.integers(0, 2),
    spread=st.booleans(),
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    workloads=st.lists(workload_st, min_size=1, max_size=8, unique_by=lambda w: w.name),
    azs=st.integers(2, 3),
    survive=st.booleans(),
    prefix=st.booleans(),
    type_name=st.sampled_from(["t3.medium", "t3.large", "m6i.large", "c6i.xlarge", "r6i.large", "m7g.large"]),
)
def test_every_pod_of_every_plan_fits_on_its_node(workloads, azs, survive, prefix, type_name):
    demand = PoolDemand("p", tuple(workloads), az_count=azs, survive_az_loss=survive, prefix_delegation=prefix)
    plan = plan_on(t(type_name), demand)
    if isinstance(plan, str):
        return  # infeasible on this type: nothing placed, nothing to check
    cpu, mem, pods = t(type_name).allocatable(prefix)
    ds_cpu, ds_mem = sum(d.cpu_m for d in demand.daemonsets), sum(d.memory_mib for d in demand.daemonsets)
    by_name = {w.name: w for w in workloads}
    assert len(plan.placement) == plan.nodes >= azs
    for node in plan.placement:
        assert sum(by_name[n].cpu_m * k for n, k in node.items()) + ds_cpu <= cpu
        assert sum(by_name[n].memory_mib * k for n, k in node.items()) + ds_mem <= mem
        assert sum(node.values()) + len(demand.daemonsets) <= pods
        for n, k in node.items():
            w = by_name[n]
            if w.spread:
                assert k <= math.ceil(w.replicas / plan.nodes)
    for w in workloads:
        assert sum(node.get(w.name, 0) for node in plan.placement) == w.replicas


# ------------------------------------------------------------------ config wiring


def cfg(pools: dict, **extra):
    return parse_config_values({"nodePools": pools, **extra}, region=REGION)


def test_named_type_too_small_is_a_config_error():
    pods = [{"name": "web", "replicas": 6, "cpu": "100m", "memory": "64Mi"}]
    with pytest.raises(ConfigError) as exc:
        plan_cluster(cfg({"general": {"instanceType": "t3.micro", "desiredSize": 2, "pods": pods}}), REGION)
    assert exc.value.messages == [
        # 6 web + CoreDNS ×2 + Load Balancer Controller ×2 on the only pool
        "nodePools.general: t3.micro allows 4 pods per node; this pool needs 7 on every node (aws-node, "
        "kube-proxy, and 5 of its 10 pods on each of 2 nodes) — smallest type that fits: t3.small"
    ]


def test_named_type_without_sizes_gets_its_node_count():
    pods = [{"name": "web", "replicas": 6, "cpu": "100m", "memory": "64Mi"}]
    plan = plan_cluster(cfg({"general": {"instanceType": "t3.micro", "pods": pods}}), REGION)
    types, low, want, high = plan.sizes(cfg({"general": {"instanceType": "t3.micro", "pods": pods}}))["general"]
    assert types == ["t3.micro"] and want == plan.pools["general"].plan.nodes >= 5


def test_every_type_of_a_multi_type_pool_must_hold_its_pods():
    pods = [{"name": "web", "replicas": 6, "cpu": "100m", "memory": "64Mi"}]
    pool = {"instanceTypes": ["m6i.large", "t3.micro"], "capacityType": "SPOT", "desiredSize": 2, "pods": pods}
    with pytest.raises(ConfigError) as exc:
        plan_cluster(cfg({"general": pool}), REGION)
    (msg,) = exc.value.messages
    assert msg.startswith("nodePools.general.instanceTypes[1]: t3.micro allows 4 pods per node")
    # Without a fixed size, the pool gets the node count its smallest type needs.
    pods = [{"name": "web", "replicas": 16, "cpu": "100m", "memory": "64Mi"}]
    sized = {"instanceTypes": ["m6i.xlarge", "t3.small"], "capacityType": "SPOT", "pods": pods}
    plan = plan_cluster(cfg({"general": sized}), REGION).pools["general"].plan
    alone = plan_cluster(cfg({"general": {"instanceType": "t3.small", "pods": pods}}), REGION).pools["general"].plan
    big = plan_cluster(cfg({"general": {"instanceType": "m6i.xlarge", "pods": pods}}), REGION).pools["general"].plan
    assert alone.nodes > big.nodes and plan.nodes == alone.nodes


def test_cpu_misfit_message():
    pods = [{"name": "api", "replicas": 4, "cpu": "1500m", "memory": "256Mi"}]
    with pytest.raises(ConfigError) as exc:
        plan_cluster(cfg({"general": {"instanceType": "m6i.large", "desiredSize": 2, "pods": pods}}), REGION)
    (msg,) = exc.value.messages
    assert msg.startswith("nodePools.general: m6i.large offers 1805m CPU per node after kube-reserved and DaemonSets")
    # 2 × m6i.xlarge hold the 6.2 vCPU of requests, but a rolling update of api needs
    # a free 1500m slot that neither node has left: the next size up does.
    assert msg.endswith("— smallest type that fits: m6i.2xlarge")


def test_auto_respects_architecture_families_and_burstable():
    stack = cfg({"general": {"families": ["m6i", "m7i"], "allowBurstable": True}})
    pool = stack.node_pools["general"]
    assert {c.family for c in candidates(stack, pool, CATALOG, REGION, None)} == {"m6i", "m7i"}
    prod = parse_config_values({"environment": "prod"}, region=REGION)
    assert not any(c.burstable for c in candidates(prod, prod.node_pools["general"], CATALOG, REGION, None))
    arm = cfg({"general": {"amiType": "AL2023_ARM_64_STANDARD"}})
    assert {c.architecture for c in candidates(arm, arm.node_pools["general"], CATALOG, REGION, None)} == {"arm64"}


def test_auto_needs_types_offered_in_every_zone():
    stack = cfg({"general": {}})
    pool = stack.node_pools["general"]
    assert candidates(stack, pool, CATALOG, REGION, ["us-east-1a", "us-east-1b"])
    # us-east-1e (an old AZ) offers none of the catalog's current types.
    assert candidates(stack, pool, CATALOG, REGION, ["us-east-1a", "us-east-1e"]) == []
    bad = parse_config_values({"network": {"availabilityZones": ["us-east-1a", "us-east-1e"]}}, region=REGION)
    with pytest.raises(ConfigError) as exc:
        plan_cluster(bad, REGION, zones=["us-east-1a", "us-east-1e"])
    assert exc.value.messages[0].startswith(
        "nodePools.general: no candidate instance type is offered in every AZ used (us-east-1a, us-east-1e; "
        "missing in us-east-1e)"
    )


def test_auto_plans_every_pool_and_puts_addons_on_the_system_pool():
    stack = cfg({"general": {"pods": [{"name": "web", "replicas": 2, "cpu": "250m", "memory": "256Mi"}]},
                 "system": {"system": True}})  # fmt: skip
    assert system_pool(stack) == "system"
    plan = plan_cluster(stack, REGION)
    assert {w.name for w in plan.pools["system"].demand.workloads} == {"coredns", "aws-load-balancer-controller"}
    assert {w.name for w in plan.pools["general"].demand.workloads} == {"web"}


def test_auto_pool_config_errors():
    with pytest.raises(ConfigError) as exc:
        cfg({"general": {"desiredSize": 3}, "other": {"instanceType": "m6i.large", "instanceTypes": ["m5.large"]}})
    text = "\n".join(exc.value.messages)
    assert "nodePools.general.desiredSize: 3 is computed when instanceType is auto" in text
    assert "nodePools.other.instanceType: 'm6i.large' and instanceTypes are both set" in text


def test_unknown_named_type_is_a_config_error():
    with pytest.raises(ConfigError) as exc:
        plan_cluster(cfg({"general": {"instanceType": "z9.huge"}}), REGION)
    assert "is not in slipway's instance catalog" in exc.value.messages[0]


def test_impossible_auto_pool():
    pods = [{"name": "huge", "replicas": 1, "cpu": "90", "memory": "1Gi"}]
    with pytest.raises(ConfigError) as exc:
        plan_cluster(cfg({"general": {"pods": pods}}), REGION)
    assert exc.value.messages[0].startswith("nodePools.general: no instance type among")


# ------------------------------------------------------------------ catalog refresh


def _price_product(price: float) -> str:
    return json.dumps({"terms": {"OnDemand": {"T": {"priceDimensions": {"D": {"pricePerUnit": {"USD": str(price)}}}}}}})


def test_on_demand_price_parsing():
    assert on_demand_price([_price_product(0.0416)]) == 0.0416
    assert on_demand_price([]) is None


def test_catalog_refresh_against_moto_and_a_stubbed_pricing_api():
    with mock_aws():
        ec2 = boto3.client("ec2", region_name=REGION)
        pricing, stub = stubbed_client("pricing")
        names = ["t3.2xlarge", "t3.large", "t3.medium", "t3.micro", "t3.small", "t3.xlarge"]
        prices = {"t3.micro": 0.0104, "t3.small": 0.0208, "t3.medium": 0.0416, "t3.large": 0.0832}
        for name in names:  # GetProducts is called once per type, in name order
            listing = [_price_product(prices[name])] if name in prices else []
            stub.add_response(
                "get_products",
                {"PriceList": listing, "FormatVersion": "aws_v1"},
                {"ServiceCode": "AmazonEC2", "Filters": pricing_filters(REGION, name), "FormatVersion": "aws_v1",
                 "MaxResults": 10},
            )  # fmt: skip
        seen = []
        with stub:
            doc = refresh_catalog(REGION, ec2, pricing, families=["t3"], progress=lambda w, d, n: seen.append(w))
        stub.assert_no_pending_responses()
    types = doc["types"]
    assert sorted(types) == names  # nano skipped
    assert types["t3.medium"] == {
        "vcpu": 2, "memoryMiB": 4096, "maxEnis": 3, "ipv4PerEni": 6, "architecture": "x86_64",
        "currentGeneration": True, "burstable": True, "hourlyUsd": 0.0416,
        "zones": ["us-east-1a", "us-east-1b", "us-east-1c", "us-east-1d", "us-east-1f"],
    }  # fmt: skip
    assert "hourlyUsd" not in types["t3.xlarge"]  # no price returned: left unpriced, never guessed
    assert doc["region"] == REGION and any(w.startswith("offerings in us-east-1") for w in seen)


# ------------------------------------------------------------------ CLI


def test_size_json_matches_the_render_plan(prod):
    proc = slipway_in_process("size", "prod", "--json")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert set(doc["pools"]) == {"general", "system", "argo"}
    groups = {g.inputs["labels"]["slipway.dev/pool"]: g.inputs for g in prod.by_type("eks:index:ManagedNodeGroup")}
    assert set(groups) == set(doc["pools"])
    for name, pool in doc["pools"].items():
        scaling = groups[name]["scalingConfig"]
        sizes = {k: pool[k] for k in ("minSize", "desiredSize", "maxSize")}
        assert sizes == scaling, name
        assert groups[name]["instanceTypes"] == [pool["instanceType"]], name
    general = doc["pools"]["general"]
    assert general["desiredSize"] >= 3 and len(general["alternatives"]) == 3  # one node per AZ at least
    assert general["bound"]["monthlyUsd"] <= general["monthlyUsd"]
    assert general["bound"]["proven"] == (general["bound"]["gap"] == 0)
    assert general["mixing"]["outcome"] in {"mix", "proved-none", "none-found"}
    assert doc["totalMonthlyUsd"] == pytest.approx(sum(p["monthlyUsd"] for p in doc["pools"].values()), abs=0.02)
    assert doc["catalog"] == {"region": "us-east-1", "priceDate": CATALOG.price_date}


def test_size_table():
    proc = slipway_cli("size", "dev")
    assert proc.returncode == 0, proc.stderr
    assert "pool general:" in proc.stdout and "(chosen)" in proc.stdout
    assert "optimal for this pool" in " ".join(proc.stdout.split())
    assert "$/month" in proc.stdout
    assert "pool general runs" in proc.stdout  # what the plan counted, before the plan
    assert proc.stdout.splitlines()[-1].startswith("verdict: PASS — 1 pool holds its pods; $")


def test_catalog_refresh_rejects_a_bad_region():
    proc = slipway_cli("catalog", "refresh", "--region", "us-east1")
    assert proc.returncode == 2 and "--region 'us-east1' is not a region EKS serves" in proc.stderr
