"""What must never change by itself: pinned AZs and instance types, node versions, and
what rolls the nodes. Each test names the real-engine behaviour it guards."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml
from moto import mock_aws

from infra.capacity import plan_cluster
from infra.config import ConfigError, parse_config_values
from infra.pin import pin
from infra.program import unpinned_issues
from infra.render import ROOT, run_program, write_render
from infra.stackfile import load_stack_file

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


def _project(tmp_path: Path, edit=None) -> Path:
    """A copy of the project's dev stack file under tmp_path, optionally edited (a dict edit)."""
    root = tmp_path / "proj"
    (root / "stacks").mkdir(parents=True)
    text = (ROOT / "stacks" / "Pulumi.dev.yaml").read_text()
    if edit:
        doc = yaml.safe_load(text)
        edit(doc["config"])
        text = yaml.safe_dump(doc, sort_keys=False)
    (root / "stacks" / "Pulumi.dev.yaml").write_text(text)
    return root


def _unpin(config: dict) -> None:
    del config["slipway:network"]["availabilityZones"]
    del config["slipway:nodePools"]["general"]["pinnedInstanceType"]


def test_the_program_refuses_an_unpinned_stack(tmp_path):
    root = _project(tmp_path, _unpin)
    stack = load_stack_file("dev", root)
    stack.validate()  # the config itself is fine; what is missing is the pins
    with pytest.raises(ConfigError) as err:
        run_program(stack)
    assert [m.split(" — ")[0] for m in err.value.messages] == [
        "network.availabilityZones: is not set",
        "nodePools.general.pinnedInstanceType: is not set while instanceType is auto",
    ]


def test_pin_writes_zones_and_types_keeping_comments(tmp_path):
    root = _project(tmp_path)
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


def test_pin_asks_aws_for_usable_zones(tmp_path, monkeypatch):
    root = _project(tmp_path, _unpin)
    for var in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        import boto3

        zones = boto3.client("ec2", region_name="us-east-1").describe_availability_zones()["AvailabilityZones"]
        refused = {z["ZoneName"] for z in zones if z["ZoneId"] == "use1-az3"}
        changes = pin("dev", root, None, replan=False, profile=None, dry_run=True)
    azs = changes[0].new
    assert len(azs) == 2 and not set(azs) & refused  # EKS refuses use1-az3 for cluster subnets
    assert "availabilityZones" not in (root / "stacks" / "Pulumi.dev.yaml").read_text()  # dry run


def test_pinned_zones_are_never_changed_by_pin(tmp_path):
    root = _project(tmp_path)
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


def test_pin_replan_switches_and_says_it_replaces(tmp_path):
    def grow(config):
        config["slipway:nodePools"]["general"]["pods"] = [
            {"name": "big", "replicas": 2, "cpu": "3", "memory": "6Gi", "maxSurge": 0}
        ]
        config["slipway:nodePools"]["general"]["maxSize"] = 12

    root = _project(tmp_path, grow)
    with pytest.raises(ConfigError):  # t3a.small cannot hold 3-vCPU pods: the pin refuses, never re-picks
        load_stack_file("dev", root).validate()
    (change,) = pin("dev", root, None, replan=True, profile=None, dry_run=False)
    assert change.path == "nodePools.general.pinnedInstanceType" and change.old == "t3a.small"
    assert change.note == "replaces the node group (new nodes first, then the old drain)"
    load_stack_file("dev", root).validate()


@pytest.mark.parametrize(
    ("pool", "message"),
    [
        ({"version": "1.35"}, 'nodePools.general.version: \'1.35\' is newer than the control plane (1.34); EKS '
         'refuses nodes ahead of it — use "1.34" or remove version'),
        ({"version": "1.30"}, "nodePools.general.version: '1.30' is 4 minors behind the control plane (1.34); "
         'kubelets may lag at most 3 — upgrade the pool first (at least "1.31"), or remove version'),
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

    root = _project(tmp_path, lag)
    stack = load_stack_file("dev", root)
    stack.validate()
    result = write_render(stack, run_program(stack), tmp_path / "out")
    (group,) = result.by_type("eks:index:ManagedNodeGroup")
    assert group.inputs["version"] == "1.33"


def _render_dev(tmp_path: Path, name: str, edit) -> dict:
    root = _project(tmp_path / name, edit)
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
