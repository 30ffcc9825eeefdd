"""Issue 15: the planner and the autoscaler agree.

Each pool is planned for the steady state (every HPA at minReplicas) and for the peak
(every HPA at maxReplicas, surge included) on its own instance type; the pool's ceiling
(node group maxSize under the Cluster Autoscaler, the NodePool limits under Karpenter)
must hold the peak, or the config is refused naming the app and the pods that would
stay Pending. Without an autoscaler the same gap is a warning.
"""

from __future__ import annotations

import json

import pytest

from slipway.cli.render import ROOT
from slipway.program.config import ConfigError, parse_config_values
from slipway.program.stackfile import load_stack_file
from slipway.program.validate import validate
from slipway.program.wiring import node_pool_args

from tests.helpers import project_copy, slipway_cli


def prod_values(**changes) -> dict:
    """prod's stack file as the engine hands it over, with `slipway:` keys changed."""
    stack = load_stack_file("prod", ROOT)
    values = dict(stack.values)
    for key, value in changes.items():
        values[f"slipway:{key}"] = value
    return values


def prod_pools(**general) -> dict:
    pools = json.loads(json.dumps(load_stack_file("prod", ROOT).values["slipway:nodePools"]))
    pools["general"].update(general)
    for key in [k for k, v in general.items() if v is None]:
        del pools["general"][key]
    return pools


def checked(values: dict):
    return validate(values, stack="prod", root=None, secret_keys=load_stack_file("prod", ROOT).secret_keys)


def test_without_an_autoscaler_an_hpa_beyond_the_plan_is_warned():
    v = checked(prod_values(autoscaling={"provider": "none"}))
    assert v.cfg.autoscaling.provider == "none"
    (warning,) = [w for w in v.warnings if "maxReplicas" in w]
    assert warning.startswith(
        "apps.api.autoscaling.maxReplicas: 20 with every HPA of pool general at its maximum needs 15 × m6a.large, "
        "but the pool is fixed at 5 nodes (slipway:autoscaling.provider is none): "
    )
    assert "of api's 20" in warning and "of web's 12" in warning
    assert warning.endswith(
        "— set slipway:autoscaling.provider: karpenter (or cluster-autoscaler), or lower maxReplicas"
    )


def test_a_ceiling_below_the_peak_is_an_error_naming_the_app_and_the_pending_pods():
    values = prod_values(autoscaling={"provider": "cluster-autoscaler"}, nodePools=prod_pools(maxSize=12))
    with pytest.raises(ConfigError) as exc:
        checked(values)
    (message,) = [m for m in exc.value.messages if "maxReplicas" in m]
    assert message.startswith(
        "apps.api.autoscaling.maxReplicas: 20 with every HPA of pool general at its maximum needs 15 × m6a.large "
        "(surge included), but the pool's ceiling is 12 nodes (cluster-autoscaler): "
    )
    pending = message.split("cluster-autoscaler): ", 1)[1].split(" pods would stay Pending")[0]
    assert pending == "4 of api's 20, 2 of web's 12"  # the largest equal share of both HPAs' growth that fits
    assert message.endswith("— raise nodePools.general.maxSize to 15 (or remove it: slipway then sizes the ceiling "
                            "for the peak), or lower maxReplicas")  # fmt: skip


def test_the_cluster_autoscaler_grows_node_groups_from_the_steady_plan_to_the_peak():
    values = prod_values(autoscaling={"provider": "cluster-autoscaler"}, nodePools=prod_pools(maxSize=None))
    v = checked(values)
    assert not [w for w in v.warnings if "maxReplicas" in w]
    types, low, desired, high = v.plan.sizes(v.cfg)["general"]
    assert (types, low, desired, high) == (["m6a.large"], 3, 5, 15)  # min: one node per AZ (3)
    args = node_pool_args(v.cfg, v.plan)
    assert args["general"].external_autoscaler  # desiredSize is the autoscaler's (ignore_scaling_changes)
    assert args["general"].max_size == 15 and args["general"].min_size == 3
    # Pools without HPAs keep headroom for bursts: 1.5 × their steady count.
    assert v.plan.sizes(v.cfg)["argo"][3] == 5 and args["argo"].external_autoscaler


def test_a_pool_that_opts_out_stays_fixed_and_is_warned():
    pools = prod_pools(maxSize=None, autoscaler="none")
    v = checked(prod_values(autoscaling={"provider": "cluster-autoscaler"}, nodePools=pools))
    (warning,) = [w for w in v.warnings if "maxReplicas" in w]
    assert "fixed at 5 nodes (nodePools.general.autoscaler is none)" in warning
    assert not node_pool_args(v.cfg, v.plan)["general"].external_autoscaler


def test_under_karpenter_the_node_groups_stay_at_the_steady_plan():
    v = checked(prod_values(autoscaling={"provider": "karpenter"}, nodePools=prod_pools(maxSize=None)))
    peaks = v.plan.peaks(v.cfg)
    # api is a canary: its peak counts a second set of pods (a full canary at weight 100).
    assert (peaks["general"].steady.nodes, peaks["general"].peak.nodes, peaks["general"].ceiling) == (5, 15, 15)
    assert v.plan.sizes(v.cfg)["general"][2] == 5
    assert not node_pool_args(v.cfg, v.plan)["general"].external_autoscaler


@pytest.mark.parametrize(
    ("autoscaling", "expected"),
    [
        ({"provider": "cluster-autoscaler", "karpenter": {"capacityTypes": ["spot"]}},
         "autoscaling.karpenter: {\"capacityTypes\": [\"spot\"]} is set but provider is 'cluster-autoscaler', so it "
         "would be ignored — set "
         "provider: karpenter, or remove karpenter"),
        ({"provider": "karpenter", "karpenter": {"expireAfter": "30 days"}},
         "autoscaling.karpenter.expireAfter: '30 days' is not a duration — write it like 30s, 5m or 720h (or Never)"),
        ({"provider": "karpenter", "karpenter": {"instanceCategories": ["m", "q"]}},
         "autoscaling.karpenter.instanceCategories[1]: 'q' is not an EC2 instance category"),
        ({"provider": "autoscaler"}, "autoscaling.provider: 'autoscaler' is not allowed"),
    ],
)  # fmt: skip
def test_autoscaling_mistakes_name_field_value_and_fix(autoscaling, expected):
    with pytest.raises(ConfigError) as exc:
        parse_config_values({"autoscaling": autoscaling}, region="us-east-1")
    assert any(m.startswith(expected) for m in exc.value.messages), exc.value.messages


def test_size_reports_the_floor_and_the_ceiling(tmp_path):
    root = project_copy(tmp_path, stack="prod")
    proc = slipway_cli("size", "prod", "--json", root=root)
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    general = doc["pools"]["general"]["peak"]
    assert general["nodes"] == 15 and general["hpas"][0] == {"app": "api", "minReplicas": 3, "maxReplicas": 20}
    assert doc["floorMonthlyUsd"] == doc["totalMonthlyUsd"] < doc["ceilingMonthlyUsd"]
    per_node = doc["pools"]["general"]["monthlyUsd"] / doc["pools"]["general"]["nodes"]
    assert doc["ceilingMonthlyUsd"] == pytest.approx(doc["floorMonthlyUsd"] + 10 * per_node, abs=0.05)
    assert "at peak" in doc["verdict"]


# ------------------------------------------------------------------ ordering, on the rendered graphs

NODE_POOL = "kubernetes:karpenter.sh/v1:NodePool"


def _deployment(t, hpa):
    """What an HPA scales: the Deployment, or the Argo Rollout of its kind."""
    ref = hpa.inputs["spec"]["scaleTargetRef"]
    kind = {"Deployment": "kubernetes:apps/v1:Deployment", "Rollout": "kubernetes:argoproj.io/v1alpha1:Rollout"}
    (d,) = [r for r in t.find(kind[ref["kind"]]) if r.inputs["metadata"]["name"] == ref["name"]]
    return d


def _autoscaling_apps(t):
    return [r for r in t.find("kubernetes:autoscaling/v2:HorizontalPodAutoscaler")]


def test_apps_that_autoscale_wait_for_the_autoscaler(dev, prod):
    """`pulumi up` creates an app with an HPA only once nodes can be added for its peak."""
    from slipway.testing import Template

    for result, waited in ((prod, "karpenter"), (dev, "cluster-autoscaler")):
        t = Template(result.records)
        releases = [r for r in t.find("kubernetes:helm.sh/v3:Release") if r.inputs["name"] == waited]
        assert len(releases) == 1, waited
        hpas = _autoscaling_apps(t)
        assert hpas or result is dev
        for hpa in hpas:
            deployment = _deployment(t, hpa)
            assert releases[0].urn in t.ancestors(deployment), f"{deployment.name} does not wait for {waited}"
        if result is prod:
            pools = t.find(NODE_POOL)
            assert {p.inputs["metadata"]["name"] for p in pools} == {"argo", "general", "system"}
            for hpa in hpas:
                assert {p.urn for p in pools} <= t.ancestors(_deployment(t, hpa))


def test_karpenter_nodes_go_before_the_network_on_destroy(prod):
    """`pulumi destroy` deletes in reverse dependency order, and pulumi-kubernetes waits until a
    deleted NodePool is gone — which Karpenter allows only after terminating its instances
    (NodeClaims are owned by the NodePool with blockOwnerDeletion and carry the termination
    finalizer). So every NodePool must depend on the NAT routes, subnets and VPC, and on the node
    groups and the controller that drains them: it is then deleted first, and no instance it
    launched is left holding an ENI in a subnet Pulumi is deleting."""
    from slipway.testing import Template

    t = Template(prod.records)
    pools = t.find(NODE_POOL)
    assert pools
    must_outlive = [
        *t.find("aws:ec2/vpc:Vpc"), *t.find("aws:ec2/subnet:Subnet"), *t.find("aws:ec2/natGateway:NatGateway"),
        *t.find("aws:ec2/route:Route"), *t.find("eks:index:ManagedNodeGroup"),
        *[r for r in t.find("kubernetes:helm.sh/v3:Release") if r.inputs["name"] == "karpenter"],
    ]  # fmt: skip
    private = [s for s in t.find("aws:ec2/subnet:Subnet") if "private" in s.name]
    assert private and all(s.inputs["tags"]["karpenter.sh/discovery"] == "slipway-prod" for s in private)
    for pool in pools:
        ancestors = t.ancestors(pool)
        missing = [r.urn for r in must_outlive if r.urn not in ancestors]
        assert not missing, f"{pool.name} would outlive {missing[:3]} on destroy"


def test_karpenter_limits_are_the_room_between_the_steady_plan_and_the_ceiling(prod):
    from slipway.testing import Template

    t = Template(prod.records)
    (general,) = [p for p in t.find(NODE_POOL) if p.inputs["metadata"]["name"] == "general"]
    # 15 − 5 m6a.large (2 vCPU, 8 GiB) between the steady state and the peak.
    assert general.inputs["spec"]["limits"] == {"cpu": "20000m", "memory": "81920Mi"}
    # Only types of the planned shape (2 vCPU, 8 GiB, ≥ its pods per node) within the pool's
    # families: the limits then buy the capacity the peak plan counted.
    (types,) = [r["values"] for r in general.inputs["spec"]["template"]["spec"]["requirements"]
                if r["key"] == "node.kubernetes.io/instance-type"]  # fmt: skip
    assert types == ["m6a.large", "m6i.large", "m7i.large"]
    labels = general.inputs["spec"]["template"]["metadata"]["labels"]
    assert labels["slipway.dev/pool"] == "general"


def test_karpenter_on_a_config_map_cluster_is_refused():
    cluster = {**load_stack_file("prod", ROOT).values["slipway:cluster"], "authenticationMode": "CONFIG_MAP"}
    with pytest.raises(ConfigError) as exc:
        checked(prod_values(cluster=cluster))
    assert (
        "autoscaling.provider: 'karpenter' needs EKS access entries (its nodes join through one of type "
        "EC2_LINUX), but cluster.authenticationMode is CONFIG_MAP — set cluster.authenticationMode: "
        "API_AND_CONFIG_MAP (or API), or provider: cluster-autoscaler" in exc.value.messages
    )


def test_karpenter_without_room_to_add_nodes_is_refused():
    pools = prod_pools()
    for pool in pools.values():
        pool["autoscaler"] = "none"
    with pytest.raises(ConfigError) as exc:
        checked(prod_values(nodePools=pools))
    assert (
        "autoscaling.provider: 'karpenter' has no pool to extend: every autoscaled pool's ceiling (maxSize) "
        "equals its steady plan, so Karpenter could add no node — remove maxSize from the pools (slipway then "
        "sizes the ceiling for the peak) or raise it, or use provider: none" in exc.value.messages
    )


def test_the_price_expander_is_refused_with_why():
    with pytest.raises(ConfigError) as exc:
        parse_config_values({"autoscaling": {"provider": "cluster-autoscaler", "clusterAutoscaler":
                                             {"expander": "price"}}}, region="us-east-1")  # fmt: skip
    assert any(m.startswith("autoscaling.clusterAutoscaler.expander: 'price' has no price model on AWS")
               for m in exc.value.messages), exc.value.messages  # fmt: skip


def test_karpenter_node_access_waits_for_the_cluster(prod):
    """CreateAccessEntry fails on a cluster still being created: the entry must wait for it."""
    from slipway.testing import Template

    t = Template(prod.records)
    (entry,) = [e for e in t.find("aws:eks/accessEntry:AccessEntry") if e.inputs.get("type") == "EC2_LINUX"]
    assert t.one("eks:index:Cluster").urn in t.ancestors(entry)
