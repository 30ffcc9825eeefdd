"""What a pool's plan counts, and who may run on a tainted pool (issue 14).

- Argo's pool holds its workflows: `argo.parallelism` workflow pods, each the largest
  template's requests plus Argo's executor; the chart enforces that bound.
- A tainted pool is dedicated: an app runs there only when the pool lists it in
  `dedicatedTo` (naming the pool is not enough), and only then gets the toleration.
- `slipway size` says, per pool, what it counted and why, and ends with a verdict.
"""

from __future__ import annotations

import json
import os
from typing import Any

import pytest
import yaml

from slipway.cli.render import ROOT, kubernetes_objects, run_program
from slipway.components import argo
from slipway.program.capacity import argo_workflow_pod, counted_workloads, plan_cluster
from slipway.program.config import ConfigError, parse_config_values
from slipway.program.stackfile import load_stack_file
from slipway.program.validate import validate

from tests.helpers import project_copy, slipway_cli, slipway_in_process

REGION = "us-east-1"
CHARTS = ROOT / "tests" / "data" / "charts"
DEDICATED = [{"key": "dedicated", "value": "batch", "effect": "NoSchedule"}]
APP = {
    "image": {"repository": "web", "tag": "1.4.2"},
    "replicas": 2,
    "ports": [{"name": "http", "containerPort": 8080}],
    "resources": {"requests": {"cpu": "250m", "memory": "256Mi"}, "limits": {"memory": "512Mi"}},
    "probes": {"readiness": {"httpGet": {"path": "/healthz", "port": "http"}}},
}


def argo_stack(parallelism: int) -> dict[str, Any]:
    """Argo alone on a tainted pool, with one 1 vCPU / 2Gi WorkflowTemplate."""
    return {
        "nodePools": {
            "general": {},
            "argo": {"taints": [{"key": "dedicated", "value": "argo"}], "allowBurstable": False},
        },
        "argo": {
            "enabled": True,
            "nodePool": "argo",
            "parallelism": parallelism,
            "workflowTemplates": [{"name": "train", "image": "python:3.12.7-slim", "cpu": "1", "memory": "2Gi"}],
        },
    }


def findings(slipway: dict[str, Any]) -> list[str]:
    """The config errors of a stack made of these `slipway:` keys (pins aside)."""
    values = {"aws:region": REGION, **{f"slipway:{k}": v for k, v in slipway.items()}}
    with pytest.raises(ConfigError) as exc:
        validate(values, stack="t", root=None, require_pins=False)
    return exc.value.messages


def ours(messages: list[str], *paths: str) -> list[str]:
    return [m for m in messages if m.startswith(paths)]


# ------------------------------------------------------------------ Argo's workflows


def test_the_argo_pool_holds_parallelism_workflow_pods_with_their_executors():
    one = plan_cluster(parse_config_values(argo_stack(1), region=REGION), REGION)
    five = plan_cluster(parse_config_values(argo_stack(5), region=REGION), REGION)
    (pods,) = [w for w in five.pools["argo"].demand.workloads if w.name == "workflow-pods"]
    executor_cpu, executor_mib = 100, 64  # argo.EXECUTOR_REQUESTS, the `wait` beside `main`
    assert (pods.replicas, pods.cpu_m, pods.memory_mib) == (5, 1000 + executor_cpu, 2048 + executor_mib)
    assert five.pools["argo"].demand.total_cpu_m - one.pools["argo"].demand.total_cpu_m == 4 * 1100
    # 5 × 1.1 vCPU do not fit where 1 does: more nodes or a larger type.
    small, big = one.pools["argo"].plan, five.pools["argo"].plan
    assert (big.nodes, big.instance_type.vcpu) != (small.nodes, small.instance_type.vcpu)
    assert big.cpu_alloc_m >= 5 * 1100 > small.cpu_alloc_m
    # Nothing else moved: the workflow pods are counted on Argo's pool only.
    assert one.pools["general"].demand == five.pools["general"].demand


def test_workflow_pods_are_as_large_as_the_largest_template_or_argos_default():
    stack = argo_stack(3)
    stack["argo"]["workflowTemplates"] += [{"name": "etl", "image": "python:3.12.7-slim", "cpu": "2", "memory": "1Gi"}]
    assert argo_workflow_pod(parse_config_values(stack, region=REGION)) == (2000 + 100, 2048 + 64)
    del stack["argo"]["workflowTemplates"]  # ad-hoc workflows: the chart's mainContainer default
    assert argo_workflow_pod(parse_config_values(stack, region=REGION)) == (100 + 100, 128 + 64)


def test_the_chart_enforces_the_bound_the_pool_is_sized_for(prod):
    defaults = yaml.safe_load((CHARTS / "argo-workflows-chart-1.0.18-values.yaml").read_text())
    # Keys of the pinned chart (its default: no parallelism, no executor or main requests).
    assert "parallelism" in defaults["controller"] and defaults["controller"]["parallelism"] is None
    assert defaults["executor"]["resources"] == {} and defaults["mainContainer"]["resources"] == {}
    (release,) = [r for r in prod.by_type("kubernetes:helm.sh/v3:Release") if r.inputs["chart"] == argo.CHART]
    values = release.inputs["values"]
    assert values["controller"]["parallelism"] == 4  # stacks/Pulumi.prod.yaml argo.parallelism
    assert values["executor"]["resources"]["requests"] == argo.EXECUTOR_REQUESTS
    assert values["mainContainer"]["resources"]["requests"] == argo.MAIN_REQUESTS
    # The pool that counts the workflow pods is the one they are sent to.
    counted = {pool for pool, cs in counted_workloads(load_stack_file("prod", ROOT).parse()).items()
               for c in cs if c.workload.name == "workflow-pods"}  # fmt: skip
    assert counted == {values["controller"]["workflowDefaults"]["spec"]["nodeSelector"]["slipway.dev/pool"]}


def test_parallelism_is_bounded():
    with pytest.raises(ConfigError) as exc:
        parse_config_values({"argo": {"enabled": True, "parallelism": 0}}, region=REGION)
    assert any(m.startswith("argo.parallelism: 0 ") for m in exc.value.messages), exc.value.messages


# ------------------------------------------------------------------ dedicated pools


def batch(dedicated_to: list[str] | None = None, **web: Any) -> dict[str, Any]:
    pool: dict[str, Any] = {"taints": DEDICATED}
    if dedicated_to is not None:
        pool["dedicatedTo"] = dedicated_to
    return {"nodePools": {"general": {}, "batch": pool}, "apps": {"web": {**APP, **web}}}


def test_an_app_naming_a_tainted_pool_is_refused_unless_the_pool_lists_it():
    assert ours(findings(batch(nodePool="batch")), "apps.", "nodePools.") == [
        "apps.web.nodePool: 'batch' is tainted (dedicated=batch:NoSchedule) and web does not tolerate it — add web "
        "to nodePools.batch.dedicatedTo (the pool's tenants get its tolerations), or run web on an untainted pool "
        "(general)"
    ]
    values = {"aws:region": REGION, **{f"slipway:{k}": v for k, v in batch(["web"], nodePool="batch").items()}}
    assert validate(values, stack="t", root=None, require_pins=False).cfg.apps["web"].node_pool == "batch"


def test_an_app_on_a_tainted_default_pool_is_refused():
    stack = {"nodePools": {"general": {"taints": DEDICATED}, "other": {}}, "apps": {"web": APP}}
    assert ours(findings(stack), "apps.") == [
        "apps.web.nodePool: is unset, so web runs on the default pool 'general', which is tainted "
        "(dedicated=batch:NoSchedule) and web does not tolerate it — set nodePool to an untainted pool (other), or "
        "add web to nodePools.general.dedicatedTo (the pool's tenants get its tolerations)"
    ]


def test_dedicated_to_names_apps_that_run_on_a_tainted_pool():
    untainted = {"nodePools": {"general": {"dedicatedTo": ["web"]}}, "apps": {"web": APP}}
    assert ours(findings(untainted), "nodePools.") == [
        'nodePools.general.dedicatedTo: ["web"] is set but the pool has no taints, so any pod may run there and '
        "the pool is dedicated to no one — add a taint (taints: [{key: dedicated, value: general, effect: "
        "NoSchedule}]), or remove dedicatedTo"
    ]
    assert ours(findings(batch(["wbe", "argo", "web"])), "nodePools.") == [
        "nodePools.batch.dedicatedTo[0]: 'wbe' is not an app in apps — did you mean 'web'? (apps: web)",
        "nodePools.batch.dedicatedTo[1]: 'argo' is not an app in apps — remove it: Argo runs on a tainted pool "
        "when argo.nodePool names it",
        "nodePools.batch.dedicatedTo[2]: 'web' runs on pool 'general' (the default pool), not on batch — set "
        "apps.web.nodePool: batch, or remove web from dedicatedTo",
    ]
    with pytest.raises(ConfigError) as exc:
        parse_config_values(batch(["web", "web"], nodePool="batch"), region=REGION)
    assert "nodePools.batch.dedicatedTo[1]: 'web' is listed twice — list each app once" in exc.value.messages


def test_add_ons_reach_a_tainted_pool_only_where_the_config_puts_them():
    system = {"system": True, "taints": [{"key": "CriticalAddonsOnly", "value": "true"}]}
    stack = {"nodePools": {"general": {}, "system": system}, "argo": {"enabled": True}}
    assert ours(findings(stack), "argo.nodePool") == [
        "argo.nodePool: is unset, so Argo and every workflow pod would run on the system pool 'system', which is "
        "tainted (CriticalAddonsOnly=true:NoSchedule) for the cluster add-ons — set argo.nodePool: a pool of its "
        "own, or system to share it on purpose"
    ]
    # The default system pool (none marked) gets no add-on tolerations: it may not be tainted.
    fallback = {"nodePools": {"batch": {"taints": DEDICATED}, "web": {}}}
    assert ours(findings(fallback), "nodePools.") == [
        'nodePools.batch.taints: ["dedicated=batch:NoSchedule"] taint the pool the cluster add-ons (CoreDNS, …) '
        "are counted on, but no pool is marked system: true, so they get no toleration and cannot run there — mark "
        "the add-ons' pool with system: true (it gets their tolerations), or remove the taints of batch"
    ]


def test_only_the_pools_tenants_get_its_toleration(tmp_path):
    def edit(config: dict[str, Any]) -> None:
        config["slipway:nodePools"]["batch"] = {"instanceType": "t3a.medium", "taints": DEDICATED,
                                                "dedicatedTo": ["worker"]}  # fmt: skip
        config["slipway:apps"]["worker"]["nodePool"] = "batch"

    stack = load_stack_file("dev", project_copy(tmp_path, edit=edit))
    objects = kubernetes_objects(list(run_program(stack).records.values()))
    pods = {
        (m["kind"], m["metadata"]["name"]): m
        for path, m in objects.items()
        if not path.startswith("kubernetes/helm/") and m["kind"] in ("Deployment", "CronJob", "Job")
    }
    toleration = [{"key": "dedicated", "operator": "Equal", "value": "batch", "effect": "NoSchedule"}]

    def spec(m: dict[str, Any]) -> dict[str, Any]:
        return (m["spec"]["jobTemplate"]["spec"] if m["kind"] == "CronJob" else m["spec"])["template"]["spec"]

    tenants = {key for key in pods if key[1].startswith("worker")}
    assert sorted(kind for kind, _ in tenants) == ["CronJob", "Deployment", "Job"]  # the Job: worker-migrate-<tag>
    for key in tenants:
        assert spec(pods[key])["tolerations"] == toleration, key
        assert spec(pods[key])["nodeSelector"] == {"slipway.dev/pool": "batch"}, key
    for key in set(pods) - tenants:
        assert "tolerations" not in spec(pods[key]), key
        assert spec(pods[key])["nodeSelector"] == {"slipway.dev/pool": "general"}, key


# ------------------------------------------------------------------ slipway size


def test_size_says_what_each_pool_runs_and_ends_with_a_verdict():
    proc = slipway_cli("size", "prod", env={**os.environ, "COLUMNS": "80"})
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[-1].startswith("verdict: PASS — 3 pools hold their pods; $"), lines[-1]
    assert "pool argo runs (tainted dedicated=argo:NoSchedule: only these tolerate it)" in proc.stdout
    # Identifiers whole at 80 columns; the argo pool counts its workflows and says why.
    for name in ("argo-workflows-controller", "aws-load-balancer-controller", "worker-nightly-report"):
        assert name in proc.stdout, name
    row = next(line for line in lines if "workflow-pods" in line)
    assert "│      4 │    600m │   576Mi │ argo workflows ×" in row
    assert all(len(line) <= 80 for line in lines[:-1])


def test_size_dev_lists_workloads_per_pool_at_80_columns():
    proc = slipway_cli("size", "dev", env={**os.environ, "COLUMNS": "80"})
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].startswith("pool general runs")
    for name in ("coredns", "aws-load-balancer-controller", "workflow-pods", "api", "web", "worker-migrate",
                 "aws-node", "kube-proxy"):  # fmt: skip
        assert any(line.startswith(f"│ {name} ") for line in lines), name
    assert lines[-1] == "verdict: PASS — 1 pool holds its pods; $41.17/month", lines[-1]


def test_size_json_carries_the_counted_workloads_and_the_verdict():
    proc = slipway_in_process("size", "prod", "--json")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["verdict"].startswith("verdict: PASS — 3 pools hold their pods")
    argo_pool = doc["pools"]["argo"]
    assert argo_pool["taints"] == ["dedicated=argo:NoSchedule"]
    rows = {row["workload"]: row for row in argo_pool["counted"]}
    assert rows["workflow-pods"] == {
        "workload": "workflow-pods", "source": "argo workflows × parallelism 4", "placedBy": "argo.nodePool",
        "pods": 4, "maxSurge": 0, "cpuMillicores": 600, "memoryMiB": 576,
    }  # fmt: skip
    assert rows["kube-proxy"]["source"] == "DaemonSet" and rows["kube-proxy"]["pods"] == argo_pool["nodes"]
    # What is counted is what the plan holds.
    plain = [r for r in argo_pool["counted"] if r["source"] != "DaemonSet"]
    assert sum(r["pods"] for r in plain) == argo_pool["pods"] - argo_pool["nodes"] * 2


def test_size_of_a_refused_stack_says_so_in_json(tmp_path):
    root = project_copy(tmp_path, edit=lambda c: c["slipway:apps"]["web"].update(nodePool="nowhere"))
    proc = slipway_cli("size", "dev", "--json", root=root)
    doc = json.loads(proc.stdout)
    assert proc.returncode == 2 and doc["verdict"] == "verdict: FAIL — not sized: 1 config error to fix first"
    assert doc["errors"] == [m.removeprefix("  - ") for m in proc.stderr.splitlines() if m.startswith("  - ")]
