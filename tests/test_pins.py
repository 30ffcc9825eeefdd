"""What must never change by itself: pinned AZs and instance types, node versions, and
what rolls the nodes. Each test names the real-engine behaviour it guards."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from slipway.cli.pin import Running, pin
from slipway.cli.render import ROOT, run_program, write_render
from slipway.program.capacity import plan_cluster
from slipway.program.config import ConfigError, parse_config_values
from slipway.program.stackfile import load_stack_file
from slipway.program.wiring import unpinned_issues

from tests.helpers import project_copy, stubbed_client

POOLS = {"general": {"instanceType": "auto", "pods": [{"name": "web", "replicas": 4, "cpu": "500m", "memory": "1Gi"}]}}


def _cfg(**values):
    return parse_config_values(values, region="us-east-1", stack="t")


def test_unpinned_zones_and_types_are_refused_before_any_resource():
    cfg = _cfg(nodePools=POOLS)
    assert unpinned_issues(cfg, "t") == [
        "network.availabilityZones: is not set — AZs are chosen once and pinned in the stack file (re-derived on "
        "every run, an AZ incident would replace subnets and node groups); run `slipway pin t` (asks AWS for 2 "
        "usable zones) or list them",
        "nodePools.general.pinnedInstanceType: is not set while instanceType is auto — a type change replaces the "
        "node group, so slipway never makes it implicitly; run `slipway pin t` to write the planner's choice "
        "(`slipway size t` shows it)",
    ]
    pinned = _cfg(
        network={"availabilityZones": ["us-east-1a", "us-east-1b"]},
        nodePools={"general": {**POOLS["general"], "pinnedInstanceType": "m6i.large"}},
    )
    assert unpinned_issues(pinned, "t") == []


def _unpin(config: dict) -> None:
    del config["slipway:network"]["availabilityZones"]
    del config["slipway:nodePools"]["general"]["pinnedInstanceType"]


def test_the_program_refuses_an_unpinned_stack(tmp_path):
    root = project_copy(tmp_path, edit=_unpin)
    stack = load_stack_file("dev", root)
    stack.validate()  # the config itself is fine; what is missing is the pins
    with pytest.raises(ConfigError) as err:
        run_program(stack)
    assert [m.split(" — ")[0] for m in err.value.messages] == [
        "network.availabilityZones: is not set",
        "nodePools.general.pinnedInstanceType: is not set while instanceType is auto",
    ]


def test_pin_writes_zones_and_types_keeping_comments(tmp_path):
    root = project_copy(tmp_path)
    path = root / "stacks" / "Pulumi.dev.yaml"
    text = path.read_text()
    for line in ("    availabilityZones:\n", "      - us-east-1a\n", "      - us-east-1b\n",
                 "      pinnedInstanceType: t3a.small\n"):  # fmt: skip
        text = text.replace(line, "", 1)
    path.write_text(text)
    changes = pin("dev", root, ["us-east-1a", "us-east-1b"], replan=False, profile=None, dry_run=False)
    assert [(c.path, c.old, c.new) for c in changes] == [
        ("network.availabilityZones", None, ["us-east-1a", "us-east-1b"]),
        ("nodePools.general.pinnedInstanceType", None, "t3a.small"),
    ]
    written = path.read_text()
    assert written == (ROOT / "stacks" / "Pulumi.dev.yaml").read_text()  # comments, layout, nulls kept
    assert pin("dev", root, None, replan=False, profile=None, dry_run=False) == []  # idempotent: no AWS call


def _context(cfg, clients: dict):
    from slipway.cli.doctor.model import DoctorContext

    ctx = DoctorContext(stack="dev", region="us-east-1", cfg=cfg, cluster_name="slipway-dev", session=None)
    ctx._clients.update(clients)
    return ctx


def _addon_versions(addon: str, default: str) -> dict:
    return {"addons": [{"addonName": addon, "addonVersions": [
        {"addonVersion": f"{default}-newer", "compatibilities": [{"clusterVersion": "1.34", "defaultVersion": False}]},
        {"addonVersion": default, "compatibilities": [{"clusterVersion": "1.34", "defaultVersion": True}]},
    ]}]}  # fmt: skip


def test_query_before_the_cluster_exists_takes_usable_zones_and_default_addons(tmp_path):
    from slipway.cli.pin import query_running

    cfg = load_stack_file("dev", project_copy(tmp_path, edit=_unpin)).parse()
    eks, eks_stub = stubbed_client("eks")
    ec2, ec2_stub = stubbed_client("ec2")
    eks_stub.add_client_error("describe_cluster", "ResourceNotFoundException", http_status_code=404)
    for addon, default in (("coredns", "v1.12.4-eksbuild.1"), ("kube-proxy", "v1.34.1-eksbuild.2"),
                           ("vpc-cni", "v1.20.4-eksbuild.1")):  # fmt: skip
        eks_stub.add_response("describe_addon_versions", _addon_versions(addon, default),
                              {"addonName": addon, "kubernetesVersion": "1.34"})  # fmt: skip
    zones = [("us-east-1a", "use1-az6"), ("us-east-1b", "use1-az3"), ("us-east-1c", "use1-az1")]
    ec2_stub.add_response(
        "describe_availability_zones",
        {
            "AvailabilityZones": [
                {"ZoneName": n, "ZoneId": i, "ZoneType": "availability-zone", "State": "available"} for n, i in zones
            ]
        },
    )
    with eks_stub, ec2_stub:
        running = query_running(_context(cfg, {"eks": eks, "ec2": ec2}), cfg)
        eks_stub.assert_no_pending_responses()
        ec2_stub.assert_no_pending_responses()
    assert running.exists is False
    assert running.zones[:2] == ["us-east-1a", "us-east-1c"]  # use1-az3 is refused by EKS
    assert running.addon_versions == {"coredns": "v1.12.4-eksbuild.1", "kube-proxy": "v1.34.1-eksbuild.2",
                                      "vpc-cni": "v1.20.4-eksbuild.1"}  # fmt: skip


def test_query_a_running_cluster_reads_what_runs():
    from slipway.cli.pin import query_running

    cfg = load_stack_file("dev", ROOT).parse()
    eks, eks_stub = stubbed_client("eks")
    ec2, ec2_stub = stubbed_client("ec2")
    eks_stub.add_response("describe_cluster", {"cluster": {"name": "slipway-dev", "resourcesVpcConfig": {
        "subnetIds": ["subnet-1", "subnet-2"]}}})  # fmt: skip
    ec2_stub.add_response(
        "describe_subnets",
        {
            "Subnets": [
                {"SubnetId": "subnet-1", "AvailabilityZone": "us-east-1d"},
                {"SubnetId": "subnet-2", "AvailabilityZone": "us-east-1b"},
            ]
        },
        {"SubnetIds": ["subnet-1", "subnet-2"]},
    )
    eks_stub.add_response("list_nodegroups", {"nodegroups": ["cluster-general-abc1234"]})
    eks_stub.add_response("describe_nodegroup", {"nodegroup": {
        "nodegroupName": "cluster-general-abc1234", "instanceTypes": ["t3.medium"],
        "labels": {"slipway.dev/pool": "general"}}})  # fmt: skip
    eks_stub.add_response("describe_addon", {"addon": {"addonName": "coredns", "addonVersion": "v1.11.4-eksbuild.2"}})
    eks_stub.add_client_error("describe_addon", "ResourceNotFoundException", http_status_code=404)
    eks_stub.add_response("describe_addon", {"addon": {"addonName": "vpc-cni", "addonVersion": "v1.19.2-eksbuild.1"}})
    with eks_stub, ec2_stub:
        running = query_running(_context(cfg, {"eks": eks, "ec2": ec2}), cfg)
        eks_stub.assert_no_pending_responses()
    assert running == Running(True, ["us-east-1b", "us-east-1d"], {"general": "t3.medium"},
                              {"coredns": "v1.11.4-eksbuild.2", "vpc-cni": "v1.19.2-eksbuild.1"})  # fmt: skip


def test_pin_on_a_running_stack_keeps_what_runs(tmp_path, monkeypatch):
    """A stack deployed before pins existed: pinning must change nothing that runs."""
    root = project_copy(tmp_path, edit=_unpin)
    running = Running(True, ["us-east-1b", "us-east-1d"], {"general": "t3.medium"}, {"coredns": "v1.11.4-eksbuild.2"})
    monkeypatch.setattr("slipway.cli.pin.query_running", lambda ctx, cfg: running)
    monkeypatch.setattr("slipway.cli.doctor.run.build_context", lambda *a, **k: None)
    changes = pin("dev", root, None, replan=False, profile=None, dry_run=False)
    assert [(c.path, c.new, c.note) for c in changes] == [
        ("network.availabilityZones", ["us-east-1b", "us-east-1d"], "what the cluster runs in"),
        ("nodePools.general.pinnedInstanceType", "t3.medium",
         "what the node group runs; auto would choose t3a.small (--replan replaces the group)"),
        ("cluster.addonVersions.coredns", "v1.11.4-eksbuild.2", "installed"),
    ]  # fmt: skip
    cfg = load_stack_file("dev", root).parse()
    assert cfg.node_pools["general"].pinned_instance_type == "t3.medium"
    assert cfg.cluster.addon_versions == {"coredns": "v1.11.4-eksbuild.2"}


def test_pinned_zones_are_never_changed_by_pin(tmp_path):
    root = project_copy(tmp_path)
    with pytest.raises(ConfigError) as err:
        pin("dev", root, ["us-east-1c", "us-east-1d"], replan=False, profile=None, dry_run=True)
    assert err.value.messages == [
        "network.availabilityZones: already pinned to us-east-1a, us-east-1b — changing them replaces subnets and "
        "every node group; edit the stack file by hand if you mean it"
    ]


def test_a_pinned_type_stays_until_replanned():
    heavy = {"name": "web", "replicas": 4, "cpu": "1500m", "memory": "3Gi"}
    cfg = _cfg(
        network={"availabilityZones": ["us-east-1a", "us-east-1b"]},
        nodePools={"general": {"instanceType": "auto", "pinnedInstanceType": "m6i.xlarge", "pods": [heavy]}},
    )
    pinned = plan_cluster(cfg, "us-east-1", zones=["us-east-1a", "us-east-1b"], stack="t")
    fresh = plan_cluster(cfg, "us-east-1", zones=["us-east-1a", "us-east-1b"], stack="t", ignore_pins=True)
    assert pinned.pools["general"].plan.instance_type.name == "m6i.xlarge"  # the node count follows, the type not
    assert fresh.pools["general"].plan.instance_type.name != "m6i.xlarge"  # what `slipway size` proposes
    too_small = _cfg(
        network={"availabilityZones": ["us-east-1a", "us-east-1b"]},
        nodePools={
            "general": {"instanceType": "auto", "pinnedInstanceType": "t3.small", "maxSize": 3, "pods": [heavy]}
        },
    )
    with pytest.raises(ConfigError) as err:
        plan_cluster(too_small, "us-east-1", zones=["us-east-1a", "us-east-1b"], stack="t")
    (message,) = err.value.messages
    assert message.startswith("nodePools.general.pinnedInstanceType: t3.small ")
    assert message.endswith(
        "re-plan with `slipway pin t --replan` (it replaces the node group; nodes roll onto the new type)"
    )


def test_pin_replan_switches_and_says_it_replaces(tmp_path, monkeypatch):
    def grow(config):
        config["slipway:nodePools"]["general"]["pods"] = [
            {"name": "big", "replicas": 2, "cpu": "3", "memory": "6Gi", "maxSurge": 0}
        ]
        config["slipway:nodePools"]["general"]["maxSize"] = 12

    root = project_copy(tmp_path, edit=grow)
    with pytest.raises(ConfigError):  # t3a.small cannot hold 3-vCPU pods: the pin refuses, never re-picks
        load_stack_file("dev", root).validate()
    monkeypatch.setattr("slipway.cli.pin.query_running", lambda ctx, cfg: Running(True, ["us-east-1a", "us-east-1b"],
                                                                             {"general": "t3a.small"}, {}))  # fmt: skip
    monkeypatch.setattr("slipway.cli.doctor.run.build_context", lambda *a, **k: None)
    (change,) = pin("dev", root, None, replan=True, profile=None, dry_run=False)
    assert change.path == "nodePools.general.pinnedInstanceType" and change.old == "t3a.small"
    assert change.note == "replaces the node group (new nodes first, then the old drain)"
    load_stack_file("dev", root).validate()


@pytest.mark.parametrize(
    ("pool", "message"),
    [
        ({"version": "1.35"}, 'nodePools.general.version: \'1.35\' is newer than the control plane (1.34); EKS '
         'refuses nodes ahead of it — use "1.34" or remove version'),
        ({"version": "1.32"}, "nodePools.general.version: '1.32' is 2 minors behind the control plane (1.34); "
         "EKS upgrades the control plane one minor at a time, and only while node groups match it — hold a pool "
         'back by one minor at most (at least "1.33"), or remove version'),
        ({"releaseVersion": "1.33.5-20251112"}, "nodePools.general.releaseVersion: '1.33.5-20251112' is not an AMI "
         "release of Kubernetes 1.34 (the pool's version) — use a 1.34.x release (aws ssm get-parameter --name "
         "/aws/service/eks/optimized-ami/1.34/amazon-linux-2023/x86_64/standard/recommended/release_version) or "
         "remove releaseVersion"),
        ({"instanceType": "m6i.large", "pinnedInstanceType": "m6i.large"}, "nodePools.general.pinnedInstanceType: "
         "'m6i.large' only applies to instanceType: auto — remove pinnedInstanceType (the named type is already "
         "pinned)"),
    ],
)  # fmt: skip
def test_node_pool_version_and_pin_errors(pool, message):
    with pytest.raises(ConfigError) as err:
        _cfg(cluster={"version": "1.34"}, nodePools={"general": pool})
    assert err.value.messages == [message]


def test_a_lagging_pool_renders_its_own_version(tmp_path):
    def lag(config):
        config["slipway:nodePools"]["general"]["version"] = "1.33"

    root = project_copy(tmp_path, edit=lag)
    stack = load_stack_file("dev", root)
    stack.validate()
    result = write_render(stack, run_program(stack), tmp_path / "out")
    (group,) = result.by_type("eks:index:ManagedNodeGroup")
    assert group.inputs["version"] == "1.33"


def _render_dev(tmp_path: Path, name: str, edit) -> dict:
    root = project_copy(tmp_path / name, edit=edit)
    stack = load_stack_file("dev", root)
    stack.validate()
    result = write_render(stack, run_program(stack), tmp_path / name / "out")
    return {r.urn: r for r in result.records}


def test_editing_stack_tags_rolls_no_node(tmp_path):
    """Launch template data is versioned: a change there is a new version, which rolls every
    node of the group. `slipway:tags` must only update tags in place."""

    def retag(config):
        config["slipway:tags"] = {**config["slipway:tags"], "cost-center": "research", "owner": "data"}

    before = _render_dev(tmp_path, "a", None)
    after = _render_dev(tmp_path, "b", retag)
    for urn, r in before.items():
        if r.type in ("aws:ec2/launchTemplate:LaunchTemplate", "eks:index:ManagedNodeGroup"):
            strip = {k: v for k, v in r.inputs.items() if k != "tags"}
            assert strip == {k: v for k, v in after[urn].inputs.items() if k != "tags"}, urn
            assert r.inputs["tags"] != after[urn].inputs["tags"]  # the tags themselves do change, in place


def test_node_tags_are_the_deliberate_way_to_tag_instances(tmp_path):
    def node_tags(config):
        config["slipway:nodeTags"] = {"cost-center": "engineering"}

    after = _render_dev(tmp_path, "n", node_tags)
    (lt,) = [r for r in after.values() if r.type == "aws:ec2/launchTemplate:LaunchTemplate"]
    assert lt.inputs["tagSpecifications"][0]["tags"]["cost-center"] == "engineering"


def test_shipped_stacks_are_pinned():
    for name in ("dev", "prod"):
        cfg = load_stack_file(name, ROOT).parse()
        assert unpinned_issues(cfg, name) == [], name


@pytest.fixture(autouse=True)
def _no_stray_build(tmp_path):
    yield
    shutil.rmtree(tmp_path / "proj", ignore_errors=True)
