"""What the real engine does with the rendered stacks over time, checked on the render's
dependency graph and resource options (mocks show shape, not behaviour).

`pulumi up` creates a resource only after everything in its dependencies exists, and
`pulumi destroy` deletes in the reverse order; a replacement is create-before-delete
unless the resource (or its provider) says otherwise. So:

- nothing that runs pods is created before a node group its pods can land on;
- every custom resource waits for the release that installs its CRD;
- every Ingress / LoadBalancer Service waits for the Load Balancer Controller (and is
  deleted before it, so the controller removes the ALB it made);
- every resource keyed by AWS deletes before it replaces;
- exactly the stateful resources are protected in prod;
- node groups follow the cluster version and are replaced create-before-delete.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from slipway.components.cluster import POOL_LABEL
from slipway.components.lifecycle import NATURAL_KEYS, REPLACE_SAFE, STATEFUL_TYPES
from slipway.testing import Recorded, Template

NODE_GROUP = "eks:index:ManagedNodeGroup"
RELEASE = "kubernetes:helm.sh/v3:Release"
ADDON = "aws:eks/addon:Addon"
POD_RUNNERS = {
    "kubernetes:apps/v1:Deployment",
    "kubernetes:apps/v1:StatefulSet",
    "kubernetes:apps/v1:DaemonSet",
    "kubernetes:batch/v1:Job",
    RELEASE,
}
# API groups served by Kubernetes itself; any other group is a CRD someone installs.
BUILTIN_GROUPS = {
    "core", "apps", "batch", "policy", "autoscaling", "networking.k8s.io", "rbac.authorization.k8s.io",
    "storage.k8s.io", "scheduling.k8s.io", "admissionregistration.k8s.io", "apiextensions.k8s.io",
    "coordination.k8s.io", "discovery.k8s.io", "node.k8s.io", "certificates.k8s.io", "helm.sh",
}  # fmt: skip
# Which chart installs the CRDs of each API group slipway renders objects of.
CRD_CHARTS = {
    "argoproj.io": "argo-workflows",
    "elbv2.k8s.aws": "aws-load-balancer-controller",
    "karpenter.sh": "oci://public.ecr.aws/karpenter/karpenter-crd",
    "karpenter.k8s.aws": "oci://public.ecr.aws/karpenter/karpenter-crd",
}
# Argo Rollouts' kinds share the argoproj.io group with Argo Workflows' but come from their own chart.
CRD_CHARTS_BY_KIND = {("argoproj.io", "Rollout"): "argo-rollouts", ("argoproj.io", "AnalysisTemplate"): "argo-rollouts"}
LBC_CHART = "aws-load-balancer-controller"


@pytest.fixture(params=["dev", "prod"])
def stack(request: pytest.FixtureRequest) -> Template:
    """The render of a shipped stack, as a Template (its dependency graph is the engine's)."""
    return Template(request.getfixturevalue(request.param).records)


def _placements(value: Any) -> Iterator[tuple[dict, list]]:
    """Every (nodeSelector, tolerations) pair found in a chart's values."""
    if isinstance(value, dict):
        if "nodeSelector" in value:
            yield value.get("nodeSelector") or {}, value.get("tolerations") or []
        for v in value.values():
            yield from _placements(v)
    elif isinstance(value, list):
        for v in value:
            yield from _placements(v)


def pod_placements(r: Recorded) -> list[tuple[dict, list]]:
    """Where a pod-running resource's pods may land: [(nodeSelector, tolerations)]."""
    if r.type == RELEASE:
        found = list(_placements(r.inputs.get("values") or {}))
        return found or [({}, [])]
    if r.type == ADDON:
        config = json.loads(r.inputs.get("configurationValues") or "{}")
        return [(config.get("nodeSelector") or {}, config.get("tolerations") or [])]
    spec = (r.inputs.get("spec") or {}).get("template", {}).get("spec", {})
    return [(spec.get("nodeSelector") or {}, spec.get("tolerations") or [])]


def _tolerates(tolerations: list[dict], taint: dict) -> bool:
    effect = {"NO_SCHEDULE": "NoSchedule", "NO_EXECUTE": "NoExecute", "PREFER_NO_SCHEDULE": "PreferNoSchedule"}
    for t in tolerations:
        if t.get("effect") not in (None, "", effect.get(taint["effect"], taint["effect"])):
            continue
        if t.get("operator") == "Exists" and t.get("key") in (None, taint["key"]):
            return True
        if t.get("key") == taint["key"] and (t.get("value") or "") == (taint.get("value") or ""):
            return True
    return False


def hosts(group: Recorded, selector: dict, tolerations: list[dict]) -> bool:
    """Whether pods with this selector and these tolerations can land on the group's nodes."""
    labels = group.inputs.get("labels") or {}
    if any(labels.get(k) != v for k, v in selector.items()):
        return False
    return all(_tolerates(tolerations, t) for t in group.inputs.get("taints") or [])


def _runs_pods(r: Recorded) -> bool:
    return r.type in POD_RUNNERS or (r.type == ADDON and r.inputs.get("addonName") == "coredns")


def test_nothing_runs_pods_before_a_node_group_that_can_host_it(stack):
    groups = stack.find(NODE_GROUP)
    runners = [r for r in stack if _runs_pods(r)]
    assert runners and groups
    for r in runners:
        waits_for = stack.ancestors(r)
        for selector, tolerations in pod_placements(r):
            able = [g for g in groups if hosts(g, selector, tolerations)]
            assert able, f"{r.urn}: no node group can host pods with nodeSelector {selector}"
            assert any(g.urn in waits_for for g in able), (
                f"{r.urn} does not wait for a node group that can host its pods ({[g.name for g in able]}): "
                "it would be created while its pods can only be Pending"
            )


def test_coredns_is_ours_after_every_node_group(stack):
    cluster = stack.one("eks:index:Cluster")
    # pulumi-eks's own CoreDNS add-on would be created inside the Cluster, before any node.
    assert cluster.inputs["corednsAddonOptions"]["enabled"] is False
    coredns = stack.find(ADDON, {"addonName": "coredns"})
    assert len(coredns) == 1, "exactly one CoreDNS add-on, slipway's"
    deps = set(coredns[0].dependencies)
    assert {g.urn for g in stack.find(NODE_GROUP)} <= deps, f"{coredns[0].urn} must wait for every node group"


def _api_group(type_: str) -> str:
    group = type_.split(":")[1].rsplit("/", 1)[0]
    return "core" if group == "core" else group


def test_every_custom_resource_depends_on_what_installs_its_crd(stack):
    custom = [r for r in stack if r.type.startswith("kubernetes:") and _api_group(r.type) not in BUILTIN_GROUPS]
    for r in custom:
        if r.type.startswith("pulumi:providers"):
            continue
        group = _api_group(r.type)
        chart = CRD_CHARTS_BY_KIND.get((group, r.type.rsplit(":", 1)[1])) or CRD_CHARTS.get(group)
        assert chart, f"{r.urn}: no known installer for API group {group!r} — add it to CRD_CHARTS"
        installers = {rel.urn for rel in stack.find(RELEASE, {"chart": chart})}
        assert installers & stack.ancestors(r), f"{r.urn} does not wait for the {chart} release"


def _uses_load_balancer(r: Recorded) -> bool:
    if r.type == "kubernetes:networking.k8s.io/v1:Ingress":
        return True
    return r.type == "kubernetes:core/v1:Service" and (r.inputs.get("spec") or {}).get("type") == "LoadBalancer"


def test_ingresses_and_load_balancer_services_wait_for_the_controller(stack):
    lbc = {r.urn for r in stack.find(RELEASE, {"chart": LBC_CHART})}
    users = [r for r in stack if _uses_load_balancer(r)]
    assert users, "the shipped stacks have Ingresses"
    for r in users:
        # Created after the controller's webhook has endpoints; on destroy deleted before it,
        # so the controller deletes the ALB it made (an orphaned ALB blocks deleting the VPC).
        assert lbc & stack.ancestors(r), f"{r.urn} does not depend on the Load Balancer Controller release"


def test_resources_keyed_by_aws_delete_before_they_replace(stack):
    keyed = [r for r in stack if r.type in NATURAL_KEYS]
    assert keyed
    for r in keyed:
        assert r.options.get("deleteBeforeReplace") is True, (
            f"{r.urn}: keyed by {NATURAL_KEYS[r.type]}; a create-before-delete replacement writes that key and "
            "then deletes it"
        )


def test_every_resource_type_is_classified_for_replacement(stack):
    """A new type cannot arrive without someone deciding how its replacement behaves."""
    for r in stack:
        if not (r.custom or r.remote) or r.type.startswith("kubernetes:"):
            continue
        assert r.type in NATURAL_KEYS or r.type in REPLACE_SAFE, (
            f"{r.urn}: classify {r.type} in components/lifecycle.py (keyed by AWS → NATURAL_KEYS with "
            "delete-before-replace; else REPLACE_SAFE with the reason)"
        )
    assert not set(NATURAL_KEYS) & set(REPLACE_SAFE)


def test_protected_resources_are_exactly_the_stateful_ones(dev, prod):
    protected = {r.type for r in prod.records if r.options.get("protect")}
    assert protected == STATEFUL_TYPES
    for r in prod.records:
        if r.type in STATEFUL_TYPES:
            assert r.options.get("protect") is True, f"{r.urn} holds state and is not protected in prod"
    assert not [r.urn for r in dev.records if r.options.get("protect")], "dev protects nothing (it can be torn down)"


def test_node_groups_follow_the_cluster_and_replace_create_before_delete(stack):
    cluster = stack.one("eks:index:Cluster")
    for g in stack.find(NODE_GROUP):
        assert g.inputs["version"] == cluster.inputs["version"], f"{g.urn} does not follow the cluster version"
        assert cluster.urn in stack.waits_for(g), f"{g.urn}: the control plane must upgrade before its nodes"
        # A generated name and no delete-before-replace: a type change brings the new group
        # up (ACTIVE, nodes Ready) before the old one is drained and deleted.
        assert "nodeGroupName" not in g.inputs, f"{g.urn}: an explicit name makes replacement delete-first"
        assert "deleteBeforeReplace" not in g.options, g.urn


def test_addon_versions_do_not_drift(stack):
    cluster = stack.one("eks:index:Cluster")
    # pulumi-eks would look these up with mostRecent: true (a new version on every AWS release).
    assert cluster.inputs["kubeProxyAddonOptions"]["version"]
    assert cluster.inputs["vpcCniOptions"]["addonVersion"]
    coredns = stack.one(ADDON, props={"addonName": "coredns"})
    assert coredns.inputs["addonVersion"].startswith("v1.")


def test_stack_tags_never_reach_the_nodes(dev, prod):
    from slipway.cli.render import ROOT
    from slipway.program.stackfile import load_stack_file

    for result in (dev, prod):
        user_tags = load_stack_file(result.stack, ROOT).parse().tags
        assert user_tags
        for lt in result.by_type("aws:ec2/launchTemplate:LaunchTemplate"):
            instance_tags = lt.inputs["tagSpecifications"][0]["tags"]
            assert not set(user_tags) & set(instance_tags), (
                f"{lt.urn}: slipway:tags in the launch template; editing them would roll every node"
            )
            assert instance_tags["slipway/stack"] == result.stack


def test_pods_select_pools_by_the_node_group_label(stack):
    pools = {g.inputs["labels"][POOL_LABEL] for g in stack.find(NODE_GROUP)}
    for r in (r for r in stack if _runs_pods(r)):
        for selector, _ in pod_placements(r):
            if POOL_LABEL in selector:
                assert selector[POOL_LABEL] in pools, f"{r.urn} selects a pool that has no node group"
