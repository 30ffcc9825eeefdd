"""`slipway plan`: fixture pairs of stack changes and the plans they give (cli/plan/).

Each pair is the shipped stack's render (the session `dev`/`prod` fixtures: the base) and the
render of an edited copy of its stack file (the head), or a JSON edit where the stack config
cannot express the change (a Deployment selector, a deleted cluster). The plans are weighed
against the shipped replacement facts (cli/plan/facts.py), which spell a changed path without
list indices (`instanceTypes`, not `instanceTypes[0]`).
"""

from __future__ import annotations

import copy
import json
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from slipway.cli.main import app
from slipway.cli.plan.command import base_render
from slipway.cli.plan.diff import Facts, diff_renders, load_render
from slipway.cli.plan.graph import alias_urns
from slipway.cli.plan.model import CREATE, DELETE, REPLACE, SAME, UPDATE, Plan, ResourceChange
from slipway.cli.plan.order import rolls
from slipway.cli.plan.report import Report
from slipway.cli.plan.values import diff_values
from slipway.cli.render import ROOT, RenderResult, render_stack

from tests.helpers import project_copy, slipway_cli

# ---------------------------------------------------------------------------- facts


@pytest.fixture
def facts() -> Facts:
    """The shipped replacement facts (cli/plan/facts.py and its data)."""
    return Facts.shipped()


# ---------------------------------------------------------------------------- fixture pairs


def records(render: RenderResult) -> list[dict[str, Any]]:
    """A render's resources.json."""
    return load_render(render.out_dir)


def head(tmp_path: Path, stack: str, edit: Callable[[dict[str, Any]], None]) -> list[dict[str, Any]]:
    """The render of the shipped `stack` with its config edited by `edit`."""
    root = project_copy(tmp_path, stack=stack, edit=edit)
    return records(render_stack(stack, tmp_path / "head", root=root))


def plan(base: list[dict[str, Any]], head_: list[dict[str, Any]], facts: Facts, stack: str = "dev") -> Report:
    """The report of the plan from `base` to `head_`."""
    return Report.build(stack, "base", diff_renders(base, head_, facts))


def one(p: Plan, type_: str, name: str) -> ResourceChange:
    """The change of the one resource of `type_` named `name`."""
    found = [c for c in p.changes if c.type == type_ and c.name == name]
    assert len(found) == 1, f"{type_} {name}: {[c.urn for c in found]}"
    return found[0]


def acted(p: Plan) -> dict[str, list[str]]:
    """Resource names per action, no-ops left out (for readable failures)."""
    out: dict[str, list[str]] = {}
    for c in p.changes:
        if c.action != SAME:
            out.setdefault(c.action, []).append(f"{c.type.split(':')[-1]} {c.name}")
    return out


DEPLOYMENT, JOB, NODE_GROUP = "kubernetes:apps/v1:Deployment", "kubernetes:batch/v1:Job", "eks:index:ManagedNodeGroup"
SUBNET, CLUSTER = "aws:ec2/subnet:Subnet", "eks:index:Cluster"
ASSOCIATION = "aws:eks/accessPolicyAssociation:AccessPolicyAssociation"
INGRESS = "kubernetes:networking.k8s.io/v1:Ingress"


# ---------------------------------------------------------------------------- the pairs


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_two_renders_of_the_same_tree_plan_nothing(stack: str, request: pytest.FixtureRequest, tmp_path, facts):
    again = records(render_stack(stack, tmp_path / "again"))
    report = plan(records(request.getfixturevalue(stack)), again, facts, stack)
    assert report.plan.empty, acted(report.plan)
    assert report.verdict == "verdict: no changes"
    assert (report.hazards, report.exit_code, report.schedule.steps) == ([], 0, [])
    assert "**verdict: no changes**" in report.markdown()


def test_adding_an_app_only_creates(dev, tmp_path, facts):
    app = {"image": {"repository": "worker", "tag": "1.8.3"}, "replicas": 1, "disruptionBudget": None,
           "resources": {"requests": {"cpu": "50m", "memory": "64Mi"}, "limits": {"memory": "128Mi"}},
           "probes": {"readiness": {"exec": {"command": ["/app/healthcheck"]}},
                      "liveness": {"exec": {"command": ["/app/healthcheck"]}}}}  # fmt: skip
    report = plan(records(dev), head(tmp_path, "dev", lambda c: c["slipway:apps"].update(reports=app)), facts)
    assert set(acted(report.plan)) == {CREATE}, acted(report.plan)
    assert "Deployment reports-deployment" in acted(report.plan)[CREATE]
    assert report.hazards == [] and report.verdict.endswith("changes, no hazards")


def test_an_image_tag_updates_the_deployment_and_replaces_the_migration_job(dev, tmp_path, facts):
    def bump(cfg: dict[str, Any]) -> None:
        cfg["slipway:apps"]["worker"]["image"]["tag"] = "1.8.4"

    p = plan(records(dev), head(tmp_path, "dev", bump), facts).plan
    deployment = one(p, DEPLOYMENT, "worker-deployment")
    assert deployment.action == UPDATE
    image = next(c for c in deployment.changes if c.path == "spec.template.spec.containers[0].image")
    assert (image.old.rsplit(":", 1)[1], image.new.rsplit(":", 1)[1]) == ("1.8.3", "1.8.4")
    job = one(p, JOB, "worker-migrate")  # its name carries a hash of the tag: a new Job
    assert job.action == REPLACE and "metadata.name" in job.reasons
    assert not job.delete_before_replace, "a renamed object is created before the old one is deleted"
    assert not [c for c in p.changes if c.action in (REPLACE, DELETE) and c.urn != job.urn], acted(p)
    assert Report.build("dev", "base", p).hazards == []


def test_a_selector_change_replaces_the_deployment_and_flags_it(dev, facts):
    edited = copy.deepcopy(records(dev))
    web = next(r for r in edited if r["type"] == DEPLOYMENT and r["name"] == "web-deployment")
    web["inputs"]["spec"]["selector"]["matchLabels"]["tier"] = "frontend"  # the config cannot: a JSON edit
    web["inputs"]["spec"]["template"]["metadata"]["labels"]["tier"] = "frontend"
    report = plan(records(dev), edited, facts)
    change = one(report.plan, DEPLOYMENT, "web-deployment")
    assert change.action == REPLACE and change.reasons == ["spec.selector.matchLabels.tier"]
    assert change.delete_before_replace, "same name and namespace: pulumi-kubernetes deletes it first"
    [hazard] = report.hazards
    assert (hazard.kind, hazard.title) == ("immutable", "Kubernetes object replaced")
    assert "down until the new one is ready" in hazard.detail and report.exit_code == 0


ROLLOUT = "kubernetes:argoproj.io/v1alpha1:Rollout"


def as_rollout(deployment: dict[str, Any]) -> dict[str, Any]:
    """The record of `deployment` converted to a Rollout as docs/migrating.md does it (a JSON edit:
    what an app with a progressive strategy renders is not in this tree yet)."""
    r = copy.deepcopy(deployment)
    name = r["name"].replace("-deployment", "-rollout")
    r.update(type=ROLLOUT, name=name, urn=r["urn"].replace(f"{DEPLOYMENT}::{deployment['name']}", f"{ROLLOUT}::{name}"))
    r["inputs"].update(apiVersion="argoproj.io/v1alpha1", kind="Rollout")
    r["inputs"]["spec"]["strategy"] = {"canary": {"steps": [{"setWeight": 20}, {"pause": {}}]}}
    return r


def test_a_deployment_switched_to_a_rollout_is_a_delete_and_create_flagged_with_the_safe_path(dev, facts):
    base = records(dev)
    edited = [as_rollout(r) if r["type"] == DEPLOYMENT and r["name"] == "web-deployment" else r for r in base]
    report = plan(base, edited, facts)
    assert acted(report.plan) == {CREATE: ["Rollout web-rollout"], DELETE: ["Deployment web-deployment"]}
    [hazard] = report.hazards
    assert (hazard.kind, hazard.title, hazard.resource) == (
        "workload", "Deployment replaced by a Rollout", "Deployment web-deployment")  # fmt: skip
    assert hazard.detail.startswith("web/web: Deployment replaced by a Rollout — ")
    assert "deletes the Deployment, its pods with it, before the Rollout's are ready" in hazard.detail
    assert "`workloadRef: {apiVersion: apps/v1, kind: Deployment, name: web, scaleDown: progressively}`" in (
        hazard.detail)  # fmt: skip
    assert (
        "remove the Deployment in a later update, once `kubectl argo rollouts status web -n web` reports "
        "Healthy" in hazard.detail
    )
    assert report.verdict == "verdict: 1 hazard — 1 Deployment replaced by a Rollout" and report.exit_code == 0
    assert "Deployment replaced by a Rollout" in report.markdown()

    # Back again: the Rollout deleted for a Deployment is the same hazard the other way round.
    back = plan(edited, base, facts)
    [hazard] = back.hazards
    assert (hazard.title, hazard.resource) == ("Rollout replaced by a Deployment", "Rollout web-rollout")
    assert "selects only the Rollout's pods until it is gone" in hazard.detail
    assert "first add the Deployment beside the Rollout" in hazard.detail

    # The safe path's second step: the Rollout already runs, only the Deployment goes — no hazard.
    both = [*base, as_rollout(next(r for r in base if r["name"] == "web-deployment"))]
    assert plan(both, edited, facts).hazards == []


def test_a_third_az_adds_subnets_and_renumbers_none(dev, tmp_path, facts):
    def third(cfg: dict[str, Any]) -> None:
        cfg["slipway:network"]["azCount"] = 3
        cfg["slipway:network"]["availabilityZones"].append("us-east-1c")

    p = plan(records(dev), head(tmp_path, "dev", third), facts).plan
    subnets = {c.name: c.action for c in p.changes if c.type == SUBNET}
    assert subnets == {
        "network-private-us-east-1a": SAME, "network-private-us-east-1b": SAME, "network-private-us-east-1c": CREATE,
        "network-public-us-east-1a": SAME, "network-public-us-east-1b": SAME, "network-public-us-east-1c": CREATE,
    }  # fmt: skip
    network = [c for c in p.changes if c.type.startswith("aws:ec2/") and c.action in (REPLACE, DELETE)]
    assert not network, "no route table, route or association of the first two AZs is renumbered"


def test_a_new_cluster_name_replaces_the_cluster_and_flags_it(dev, tmp_path, facts):
    report = plan(
        records(dev), head(tmp_path, "dev", lambda c: c.update({"slipway:clusterName": "slipway-dev2"})), facts
    )
    cluster = one(report.plan, CLUSTER, "cluster-eks")
    assert cluster.action == REPLACE and "name" in cluster.reasons
    assert ("stateful", "cluster replaced") in {(h.kind, h.title) for h in report.hazards}
    group = one(report.plan, NODE_GROUP, "cluster-general")
    assert group.action == REPLACE, "a node group names its cluster: a new cluster, a new group"
    assert report.exit_code == 0, "dev protects nothing"
    assert report.verdict.startswith("verdict: ") and "cluster replaced" in report.verdict


def test_a_new_instance_type_replaces_the_node_group_and_names_the_pods_that_move(dev, tmp_path, facts):
    def bigger(cfg: dict[str, Any]) -> None:
        cfg["slipway:nodePools"]["general"]["pinnedInstanceType"] = "t3a.medium"

    report = plan(records(dev), head(tmp_path, "dev", bigger), facts)
    group = one(report.plan, NODE_GROUP, "cluster-general")
    assert group.action == REPLACE and group.reasons == ["instanceTypes"]
    [hazard] = [h for h in report.hazards if h.kind == "nodes"]
    assert hazard.title == "node group replaced"
    for pod in ("Deployment api/api", "Deployment web/web", "Deployment worker/worker"):
        assert pod in hazard.detail
    steps = [(s.action, s.name) for s in report.schedule.steps]
    assert steps == [(REPLACE, "cluster-general"), ("delete-replaced", "cluster-general")], "new group first"
    assert report.verdict == "verdict: 1 hazard — 1 node group replaced"


def test_stack_tags_roll_no_nodes(dev, tmp_path, facts):
    report = plan(records(dev), head(tmp_path, "dev", lambda c: c["slipway:tags"].update(team="data")), facts)
    p = report.plan
    assert set(acted(p)) == {UPDATE}, acted(p)
    launch_template = one(p, "aws:ec2/launchTemplate:LaunchTemplate", "cluster-general")
    assert launch_template.paths == ["tags.team"], "a launch template's own tags write no new version"
    assert not any(rolls(c) for c in p.changes) and report.hazards == []


def test_node_tags_roll_the_pool(dev, tmp_path, facts):
    report = plan(
        records(dev), head(tmp_path, "dev", lambda c: c.update({"slipway:nodeTags": {"owner": "ops"}})), facts
    )
    group = one(report.plan, NODE_GROUP, "cluster-general")
    assert group.action == UPDATE and rolls(group)
    [version] = group.changes
    assert (version.path, version.kind) == ("launchTemplate.version", "computed")
    [hazard] = report.hazards
    assert (
        hazard.title == "node group rolls"
        and "new launch template version (tagSpecifications changed)" in hazard.detail
    )
    assert "3 nodes" in hazard.detail and "~12 min" in hazard.detail  # 3 nodes, one at a time, ~4 min each


def test_narrowing_a_principals_namespaces_replaces_its_association_delete_first(prod, tmp_path, facts):
    def narrow(cfg: dict[str, Any]) -> None:
        oncall = next(p for p in cfg["slipway:access"]["principals"] if p["arn"].endswith("/oncall"))
        oncall["namespaces"] = ["api", "web"]

    report = plan(records(prod), head(tmp_path, "prod", narrow), facts, "prod")
    association = one(report.plan, ASSOCIATION, "cluster-access-123456789012-role-oncall")
    assert association.action == REPLACE and association.delete_before_replace
    assert association.reasons == ["accessScope.namespaces"]
    assert acted(report.plan) == {REPLACE: ["AccessPolicyAssociation cluster-access-123456789012-role-oncall"]}
    [hazard] = report.hazards
    assert (hazard.title, hazard.blocking) == ("access gap", False)
    assert "delete-before-replace: seconds without access" in hazard.detail
    assert report.exit_code == 0


def test_deleting_prods_protected_cluster_fails_the_plan(prod, facts):
    edited = [copy.deepcopy(r) for r in records(prod) if r["type"] != CLUSTER]  # cluster gone, protect removed
    for r in edited:
        r["options"].pop("protect", None)
    report = plan(records(prod), edited, facts, "prod")
    cluster = one(report.plan, CLUSTER, "cluster-eks")
    assert cluster.action == DELETE and cluster.protected, "protect is judged on the base"
    blocking = [h for h in report.hazards if h.blocking]
    assert [(h.title, h.resource) for h in blocking] == [("protected resource deleted", "Cluster cluster-eks")]
    assert report.hazards[0] is blocking[0], "hazards first, the protected ones first of all"
    assert report.exit_code == 1 and report.verdict.endswith("`pulumi up` refuses: protected resources")


def test_a_moved_ingress_and_a_removed_association_are_flagged(dev, facts):
    edited = [copy.deepcopy(r) for r in records(dev) if r["name"] != "cluster-access-123456789012-role-developers"
              or r["type"] != ASSOCIATION]  # fmt: skip
    web = next(r for r in edited if r["type"] == INGRESS and r["name"] == "web-ingress")
    web["inputs"]["metadata"]["annotations"]["alb.ingress.kubernetes.io/group.name"] = "slipway-dev-web"
    report = plan(records(dev), edited, facts)
    found = {(h.kind, h.title, h.resource) for h in report.hazards}
    assert found == {
        ("access", "access lost", "AccessPolicyAssociation cluster-access-123456789012-role-developers"),
        ("load-balancer", "ingress group changed", "Ingress web-ingress"),
    }
    moved = next(h for h in report.hazards if h.kind == "load-balancer")
    assert '"slipway-dev-internal" → "slipway-dev-web"' in moved.detail
    assert report.verdict == "verdict: 2 hazards — 1 access lost, 1 ingress group changed"


def test_an_alias_is_an_update_of_the_old_resource_not_a_delete_and_create(dev, facts):
    base = copy.deepcopy(records(dev))
    addon = next(r for r in base if r["type"] == "aws:eks/addon:Addon")
    [old_urn] = alias_urns(addon)
    addon["urn"], addon["name"], addon["parent"] = (
        old_urn,
        "cluster-eks-coredns",
        addon["options"]["aliases"][0]["parentUrn"],
    )
    p = plan(base, records(dev), facts).plan
    assert p.empty, acted(p)
    change = one(p, "aws:eks/addon:Addon", "cluster-coredns")
    assert change.old_urn == old_urn


def test_diffs_list_items_by_index_and_keep_secrets_masked():
    changes = diff_values({"l": [1, 2], "s": "[secret]", "t": "a"}, {"l": [1, 3, 4], "s": "[secret]", "t": "[secret]"})
    assert [(c.path, c.old, c.new, c.kind) for c in changes] == [
        ("l[1]", 2, 3, "change"), ("l[2]", None, 4, "add"), ("t", "a", "[secret]", "change"),
    ]  # fmt: skip
    assert [c.path for c in diff_values({"m": {"a.b/c": 1}}, {"m": {"a.b/c": 2}})] == ['m["a.b/c"]']


def test_deletes_come_last_dependents_first(dev, facts):
    kept = [r for r in records(dev) if not r["name"].startswith("web-")]
    report = plan(records(dev), kept, facts)
    steps = {s.name: s for s in report.schedule.steps if s.action == DELETE}
    assert {"web-ingress", "web-service", "web-deployment", "web-config"} <= set(steps)
    applied = max((s.finish for s in report.schedule.steps if s.action != DELETE), default=0.0)
    assert all(s.start >= applied for s in steps.values()), "Pulumi deletes after every create and update"
    assert steps["web-service"].start >= steps["web-ingress"].finish, "the Ingress waits for the Service: goes first"


def test_a_fresh_stack_takes_the_control_plane_and_what_waits_for_it(dev, facts):
    report = plan([], records(dev), facts)
    sch = report.schedule
    assert sch.fresh and set(acted(report.plan)) == {CREATE} and sch.delete_minutes == 0
    chain = [s.type for s in sch.critical]
    assert chain.index(CLUSTER) < chain.index(NODE_GROUP), chain
    assert 15 <= sch.total <= 30, f"EKS 12 + node group 2.5 + …: {sch.total}"
    by_name = {(s.type, s.name): s for s in sch.steps}
    vpc = by_name[("aws:ec2/vpc:Vpc", "network-vpc")]
    assert all(s.start >= vpc.finish for s in sch.steps if s.type == SUBNET)
    assert "fresh stack" in report.summary()


def test_the_comment_fits_githubs_size_and_keeps_hazards_first(prod, facts):
    report = plan([], records(prod), facts, "prod")
    full = report.markdown()
    assert len(full) < 65536 and full.index("**verdict") < full.index("<details>")
    cut = report.markdown(limit=3000)
    assert len(cut) <= 3000 and "more cut to fit GitHub's comment size" in cut
    assert cut.count("<details>") == cut.count("</details>")


def test_the_json_report_is_deterministic(dev, facts):
    base = [r for r in records(dev) if r["type"] != NODE_GROUP]
    first = json.dumps(plan(base, records(dev), facts).as_dict(), sort_keys=True)
    assert first == json.dumps(plan(base, records(dev), facts).as_dict(), sort_keys=True)


# ---------------------------------------------------------------------------- the command


def invoke(*args: str) -> tuple[int, str, Any]:
    """`slipway <args>` in this process: the exit code, the output with its line breaks (rich
    wraps at 80 columns here) made spaces, and the result."""
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, " ".join(result.output.split()), result


def test_the_command_refuses_a_bad_format_or_base(tmp_path):
    code, said, _ = invoke("plan", "dev", "--base", "none", "--format", "yaml")
    assert code == 2 and "--format 'yaml' is not supported — use table, markdown or json" in said
    code, said, _ = invoke("plan", "dev", "--base", "no-such-ref-or-folder")
    assert code == 2 and "is neither a render folder (holding resources.json) nor a git ref" in said
    code, said, _ = invoke("plan", "dev", "--base", str(tmp_path))
    assert code == 2 and "no resources.json in it (nor dev/resources.json)" in said
    code, said, _ = invoke("plan", "nosuch", "--base", "none")
    assert code == 2 and said.startswith("error:"), said


def test_none_is_a_fresh_stack(tmp_path):
    with base_render("none", "dev", ROOT, tmp_path) as pending:
        assert (pending.label, pending.busy, pending.result()) == ("none (fresh stack)", False, [])


def test_the_command_plans_a_fresh_stack_as_json(tmp_path):
    (tmp_path / "resources.json").write_text("[]\n")  # an empty render: nothing runs yet (as --base none)
    code, said, result = invoke("plan", "dev", "--base", str(tmp_path), "--format", "json")
    assert code == 0, said
    doc = json.loads(result.stdout[result.stdout.index("{") :])
    assert doc["summary"]["create"] > 50 and doc["summary"]["update"] == 0 and doc["exitCode"] == 0
    assert doc["schedule"]["fresh"] and doc["schedule"]["totalMinutes"] > 12


def test_the_command_exits_1_when_a_protected_resource_goes(prod, tmp_path):
    base = copy.deepcopy(records(prod))  # what runs: prod with a cluster of another name
    for r in base:
        if r["type"] == CLUSTER:
            r["inputs"]["name"] = "slipway-prod-old"
    (tmp_path / "resources.json").write_text(json.dumps(base))
    code, said, _ = invoke("plan", "prod", "--base", str(tmp_path))
    assert code == 1, said
    assert "protected resource replaced" in said and "`pulumi up` refuses: protected resources" in said


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_a_git_ref_base_renders_with_its_own_code_in_a_worktree_removed_after(tmp_path):
    repo = tmp_path / "repo"
    git = ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run(["git", "clone", "--quiet", "--shared", str(ROOT), str(repo)], check=True)
    # The base commit's own code tags resources differently; the working tree bumps an image tag.
    wiring = repo / "infra" / "wiring.py"
    wiring.write_text(wiring.read_text().replace('"managed-by": "pulumi"}', '"managed-by": "pulumi-base"}'))
    subprocess.run([*git, "commit", "--quiet", "--all", "--message", "base code"], check=True)
    stack_file = repo / "stacks" / "Pulumi.dev.yaml"
    stack_file.write_text(stack_file.read_text().replace('tag: "1.8.3"', 'tag: "1.8.4"'))

    result = slipway_cli("plan", "dev", "--base", "HEAD", "--format", "json", root=repo, timeout=300)
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["base"].startswith("HEAD (") and "this slipway's code" not in doc["base"]
    retagged = {c["name"] for c in doc["changes"] for p in c["changes"] if p["old"] == "pulumi-base"}
    assert {"network-vpc", "cluster-eks"} <= retagged, "the base rendered with its own code"
    assert {c["name"] for c in doc["changes"] if c["action"] == REPLACE} == {"worker-migrate"}, "and its stack file"
    worktrees = subprocess.run([*git, "worktree", "list"], capture_output=True, text=True, check=True)
    assert len(worktrees.stdout.splitlines()) == 1, worktrees.stdout


def test_a_new_vpc_cidr_replaces_the_cluster_and_prod_refuses(tmp_path, prod, facts):
    """Review finding: EKS cannot move a cluster to another VPC (pulumi-eks's cluster security
    group has vpcId ForceNew): a CIDR change replaces the cluster, and prod's is protected.
    And the account id in every ARN is not a value a replaced subnet changes."""

    def recidr(config: dict[str, Any]) -> None:
        config["slipway:network"]["cidr"] = "10.99.0.0/16"

    report = plan(records(prod), head(tmp_path, "prod", recidr), facts, stack="prod")
    cluster = one(report.plan, CLUSTER, "cluster-eks")
    assert cluster.action == REPLACE and "vpcId" in cluster.reasons, cluster
    assert not any("encryptionConfigKeyArn" in n for n in cluster.notes), cluster.notes  # the key is unchanged
    assert report.exit_code == 1  # prod's cluster is protected


def test_switching_a_serving_app_to_canary_says_how_to_avoid_the_503s(dev, tmp_path, facts):
    """Argo writes the ALB action only once the Rollout's pods are available: moving the Ingress
    next to a Rollout that is not awaited leaves the route on 503 until then."""

    def canary(switching: bool):
        def edit(cfg: dict[str, Any]) -> None:
            cfg["slipway:apps"]["web"]["strategy"] = {
                "type": "canary", "canary": {"switchFromDeployment": True} if switching else {}}  # fmt: skip

        return edit

    report = plan(records(dev), head(tmp_path / "a", "dev", canary(False)), facts)
    (hazard,) = [h for h in report.hazards if h.title.startswith("canary switch")]
    assert hazard.resource == "Ingress web-ingress" and "switchFromDeployment: true" in hazard.detail
    assert "Deployment replaced" not in " ".join(h.title for h in report.hazards)  # the Deployment stays
    report = plan(records(dev), head(tmp_path / "b", "dev", canary(True)), facts)
    assert not [h for h in report.hazards if "canary" in h.title], report.hazards


def test_a_new_canary_awaited_before_its_ingress_is_blocking(dev, tmp_path, facts):
    app = {"image": {"repository": "web", "tag": "9.9.9"}, "replicas": 2,
           "ports": [{"name": "http", "containerPort": 8080}],
           "resources": {"requests": {"cpu": "50m", "memory": "64Mi"}, "limits": {"memory": "128Mi"}},
           "probes": {"readiness": {"httpGet": {"path": "/", "port": "http"}}},
           "ingress": {"enabled": True, "scheme": "internal", "paths": ["/shop"]},
           "strategy": {"type": "canary", "canary": {"switchFromDeployment": True}}}  # fmt: skip
    report = plan(records(dev), head(tmp_path, "dev", lambda c: c["slipway:apps"].update(shop=app)), facts)
    (hazard,) = [h for h in report.hazards if "canary" in h.title]
    assert hazard.title == "new canary awaited before its Ingress exists" and hazard.blocking
    assert report.exit_code == 1
