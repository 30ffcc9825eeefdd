"""Argo Rollouts: the pinned chart and its values (against the chart's own values.yaml), the
IRSA role, the shipped Rollout/AnalysisTemplate CRDs and what `slipway check` makes of
custom resources validated against them.

Upstream files: tests/data/charts/argo-rollouts-chart-2.41.0-values.yaml is
argoproj/argo-helm@argo-rollouts-2.41.0:charts/argo-rollouts/values.yaml; the CRDs in
components/data/crds/argoproj.io_*.yaml are argoproj/argo-rollouts@v1.9.0 manifests/crds/.
"""

from __future__ import annotations

import copy
import hashlib
import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import kubernetes_validate
import parliament
import pulumi
import pulumi_kubernetes as k8s
import pytest
import yaml

from slipway.cli.checks import custom_resource_errors, kubernetes_findings
from slipway.components import argo_rollouts as ar
from slipway.components.argo_rollouts import ArgoRollouts, ArgoRolloutsArgs
from slipway.components.crds import CRD_DIR
from slipway.components.iam import irsa_trust_policy
from slipway.components.validation import ArgsError, require_valid
from slipway.testing import Mocked

from tests.test_addons import unknown_keys

VALUES_FILE = Path(__file__).parent / "data" / "charts" / f"argo-rollouts-chart-{ar.CHART_VERSION}-values.yaml"
OIDC = "arn:aws:iam::123456789012:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/ABC"
ISSUER = "oidc.eks.us-east-1.amazonaws.com/id/ABC"
SYSTEM = {"slipway.dev/pool": "system"}
CRITICAL = [{"key": "CriticalAddonsOnly", "operator": "Equal", "value": "true", "effect": "NoSchedule"}]
RELEASE = "kubernetes:helm.sh/v3:Release"
ROLLOUTS, TEMPLATES = CRD_DIR / "argoproj.io_rollouts.yaml", CRD_DIR / "argoproj.io_analysistemplates.yaml"
# sha256 of the files as fetched at v1.9.0 (edits would no longer be upstream's).
UPSTREAM_SHA256 = {
    ROLLOUTS: "d79c0dab9bb386b1c9329fb69cf0d843fff2152b3f7916839755c1aabc7387f5",
    TEMPLATES: "96a871705477bb8876f91630789ce753c8291f0ff5457a8cbc781ff150522369",
}


def args(provider: k8s.Provider | None = None, **overrides: Any) -> ArgoRolloutsArgs:
    values: dict[str, Any] = dict(
        k8s_provider=provider or k8s.Provider("k8s", kubeconfig="{}"),
        oidc_provider_arn=OIDC,
        oidc_issuer=ISSUER,
        region="us-east-1",
        node_selector=SYSTEM,
        tolerations=CRITICAL,
        tags={"team": "platform"},
    )
    values.update(overrides)
    return ArgoRolloutsArgs(**values)


def build(mocked: Mocked, **overrides: Any) -> None:
    mocked.build(lambda: ArgoRollouts("rollouts", args(**overrides)))


def values(mocked: Mocked) -> dict[str, Any]:
    return mocked.one(RELEASE, "rollouts-release").inputs["values"]


# ------------------------------------------------------------------ chart pinned, values real


def test_chart_is_pinned_from_the_official_repository(mocked: Mocked):
    build(mocked)
    r = mocked.one(RELEASE, "rollouts-release").inputs
    assert (r["chart"], r["version"], r["repositoryOpts"]["repo"], r["name"]) == (
        "argo-rollouts", "2.41.0", "https://argoproj.github.io/argo-helm", "argo-rollouts")  # fmt: skip
    assert r["namespace"] == "argo-rollouts" and r["skipAwait"] is False and "skipCrds" not in r


@pytest.mark.parametrize("dashboard", [False, True])
def test_every_helm_value_is_a_real_key_of_the_pinned_chart(mocked: Mocked, dashboard: bool):
    build(mocked, dashboard=dashboard, cloudwatch_analysis=dashboard)
    defaults = yaml.safe_load(VALUES_FILE.read_text())
    v = copy.deepcopy(values(mocked))
    # The security contexts are Kubernetes objects the chart writes verbatim (`toYaml`,
    # templates/controller/deployment.yaml): checked against Kubernetes' own schema instead.
    contexts = [v.pop("podSecurityContext"), v.pop("containerSecurityContext"),
                v["dashboard"].pop("podSecurityContext"), v["dashboard"].pop("containerSecurityContext")]  # fmt: skip
    assert unknown_keys(v, defaults) == []
    for pod, container in (contexts[:2], contexts[2:]):
        manifest = {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "x"},
            "spec": {"securityContext": pod, "containers": [{"name": "c", "securityContext": container}]},
        }
        kubernetes_validate.validate(manifest, "1.34", strict=True)
    # Every provider toggle is one the chart has: a new one upstream would stay on unnoticed.
    assert set(values(mocked)["providerRBAC"]["providers"]) == set(defaults["providerRBAC"]["providers"])


def test_the_values_file_is_the_pinned_charts():
    text = VALUES_FILE.read_text()
    defaults = yaml.safe_load(text)
    # The chart's CRDs are templates it upgrades ("Install and upgrade CRDs"), kept on uninstall.
    assert "# -- Install and upgrade CRDs\ninstallCRDs: true\n" in text
    assert defaults["keepCRDs"] is True and defaults["controller"]["pdb"]["enabled"] is False
    assert defaults["dashboard"]["enabled"] is False and defaults["controller"]["resources"] == {}


def test_values(mocked: Mocked):
    build(mocked)
    v = values(mocked)
    role = mocked.one("aws:iam/role:Role", "rollouts-irsa-role")
    assert (v["installCRDs"], v["keepCRDs"]) == (True, True)
    c = v["controller"]
    assert c["replicas"] == 2 and c["pdb"] == {"enabled": True, "maxUnavailable": 1}
    assert c["awsVerifyTargetGroup"] is True and c["extraEnv"] == [{"name": "AWS_REGION", "value": "us-east-1"}]
    assert c["resources"] == {"requests": ar.REQUESTS, "limits": {"memory": "256Mi"}}
    assert c["nodeSelector"] == SYSTEM and c["tolerations"] == CRITICAL
    assert v["serviceAccount"] == {"create": True, "name": "argo-rollouts",
                                   "annotations": {"eks.amazonaws.com/role-arn": role.state["arn"]}}  # fmt: skip
    assert v["podSecurityContext"]["runAsNonRoot"] is True and v["podSecurityContext"]["fsGroup"] == 999
    assert v["containerSecurityContext"]["readOnlyRootFilesystem"] is True
    assert [p for p, on in v["providerRBAC"]["providers"].items() if on] == ["awsLoadBalancerController"]
    assert v["dashboard"]["enabled"] is False and v["dashboard"]["readonly"] is True


def test_dashboard_on_request_runs_read_only_on_the_system_pool(mocked: Mocked):
    build(mocked, dashboard=True)
    d = values(mocked)["dashboard"]
    assert d["enabled"] is True and d["readonly"] is True
    assert d["nodeSelector"] == SYSTEM and d["tolerations"] == CRITICAL
    assert d["containerSecurityContext"]["allowPrivilegeEscalation"] is False


def test_release_waits_for_its_role_its_namespace_and_the_nodes(mocked: Mocked):
    def program():
        provider = k8s.Provider("k8s", kubeconfig="{}")
        ns = pulumi.CustomResource("kubernetes:core/v1:Namespace", "ns-argo-rollouts", {})
        ArgoRollouts("rollouts", args(provider, depends_on=[ns]))

    mocked.build(program)
    deps = set(mocked.one(RELEASE, "rollouts-release").dependencies)
    assert mocked.one("kubernetes:core/v1:Namespace", "ns-argo-rollouts").urn in deps
    assert mocked.one("aws:iam/role:Role", "rollouts-irsa-role").urn in deps


# ------------------------------------------------------------------ IAM


def test_policy_is_upstreams_read_only_list_and_passes_parliament(mocked: Mocked):
    build(mocked)
    emitted = mocked.one("aws:iam/rolePolicy:RolePolicy", "rollouts-irsa-policy").inputs["policy"]
    assert [f.issue for f in parliament.analyze_policy_string(emitted).findings] == []
    (statement,) = json.loads(emitted)["Statement"]
    # argoproj/argo-rollouts@v1.9.0 docs/features/traffic-management/alb.md, "Usage".
    assert set(statement["Action"]) == {f"elasticloadbalancing:Describe{x}" for x in
                                        ("TargetGroups", "LoadBalancers", "Listeners", "Rules", "Tags",
                                         "TargetHealth")}  # fmt: skip
    trust = json.loads(mocked.one("aws:iam/role:Role", "rollouts-irsa-role").inputs["assumeRolePolicy"])
    assert trust == irsa_trust_policy(OIDC, ISSUER, "argo-rollouts", "argo-rollouts")
    assert not mocked.of_type("kubernetes:core/v1:ServiceAccount")  # the chart creates it


def test_cloudwatch_analysis_adds_only_get_metric_data():
    extra = ar.iam_statements(True)[1:]
    assert extra == [{"Sid": "CloudWatchAnalysis", "Effect": "Allow", "Action": ["cloudwatch:GetMetricData"],
                      "Resource": "*"}]  # fmt: skip
    doc = json.dumps({"Version": "2012-10-17", "Statement": ar.iam_statements(True)})
    assert [f.issue for f in parliament.analyze_policy_string(doc).findings] == []


# ------------------------------------------------------------------ Args errors


def test_args_errors_name_field_value_and_fix(mocked: Mocked):
    def program():
        provider = k8s.Provider("k8s", kubeconfig="{}")
        with pytest.raises(ArgsError) as e:
            require_valid("ArgoRollouts 'r'", ar.argo_rollouts_issues(args(provider,
                region="useast1", namespace="Argo_Rollouts", replicas=0, dashboard="no", depends_on="ns")))  # fmt: skip
        assert e.value.messages == [
            "region: 'useast1' is not an AWS region — write a region code, e.g. 'us-east-1'",
            "namespace: 'Argo_Rollouts' is not a namespace name (a DNS-1123 label) — use at most 63 lowercase "
            "letters, digits and '-', starting and ending with a letter or digit",
            "replicas: 0 is out of range — use a value ≥ 1",
            "dashboard: 'no' is not True or False — pass a bool",
            "depends_on: 'ns' is not a list of resources — pass a list, e.g. [resource]",
        ]
        with pytest.raises(ArgsError):
            ArgoRollouts("r", args(provider, replicas=0))

    mocked.build(program)
    assert not mocked.of_type(RELEASE)  # nothing half-registered


def test_defaults_are_valid(mocked: Mocked):
    mocked.build(lambda: ar.argo_rollouts_issues(args()) == [] or pytest.fail("defaults refused"))


# ------------------------------------------------------------------ the shipped CRDs


def test_upstream_crd_files_are_unchanged():
    for path, digest in UPSTREAM_SHA256.items():
        assert hashlib.sha256(path.read_bytes()).hexdigest() == digest, f"{path} is no longer upstream's v1.9.0"


def rollout(**spec: Any) -> dict[str, Any]:
    """A minimal canary Rollout as the convert-a-Deployment path writes it (docs/migrating.md)."""
    container = {
        "name": "web", "image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/web:1.4.2",
        "ports": [{"name": "http", "containerPort": 8080}],
        "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"memory": "256Mi"}},
        "readinessProbe": {"httpGet": {"path": "/ready", "port": "http"}},
        "securityContext": {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}},
    }  # fmt: skip
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Rollout",
        "metadata": {"name": "web", "namespace": "web", "labels": {"app.kubernetes.io/name": "web"}},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [container], "volumes": [{"name": "tmp", "emptyDir": {}}]},
            },
            "strategy": {"canary": {"steps": [{"setWeight": 20}, {"pause": {"duration": "30s"}}]}},
            **spec,
        },
    }


def analysis_template() -> dict[str, Any]:
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "AnalysisTemplate",
        "metadata": {"name": "success-rate", "namespace": "web"},
        "spec": {
            "args": [{"name": "load-balancer"}],
            "metrics": [{
                "name": "errors", "interval": "1m", "count": 5, "successCondition": "result[0] < 1",
                "provider": {"cloudWatch": {"metricDataQueries": [{
                    "id": "errors",
                    "metricStat": {"metric": {"namespace": "AWS/ApplicationELB",
                                              "metricName": "HTTPCode_Target_5XX_Count",
                                              "dimensions": [{"name": "LoadBalancer",
                                                              "value": "{{args.load-balancer}}"}]},
                                   "period": 60, "stat": "Sum"}}]}},
            }],
        },
    }  # fmt: skip


def test_valid_rollouts_and_templates_pass():
    assert custom_resource_errors(rollout()) == []
    blue_green = rollout(strategy={"blueGreen": {"activeService": "web", "previewService": "web-preview",
                                                 "autoPromotionEnabled": False}})  # fmt: skip
    assert custom_resource_errors(blue_green) == []
    # Referencing the Deployment it migrates from: no template of its own (docs/migrating.md).
    ref = rollout(workloadRef={"apiVersion": "apps/v1", "kind": "Deployment", "name": "web",
                               "scaleDown": "progressively"})  # fmt: skip
    del ref["spec"]["template"]
    assert custom_resource_errors(ref) == []
    assert custom_resource_errors(analysis_template()) == []


def test_the_crd_check_catches_typos_down_to_the_pod_template():
    bad = rollout(strategy={"canary": {"steps": [{"setWieght": 20}]}})
    bad["spec"]["template"]["spec"]["containers"][0]["readinessProbe"]["httpGett"] = {}
    bad["spec"]["template"]["spec"]["containers"][0]["securityContext"]["runAsNonroot"] = True
    # The CRD types scaleDown as a plain string (never/onsuccess/progressively are the controller's).
    bad["spec"]["workloadRef"] = {"kind": "Deployment", "name": "web", "scaleDwon": "progressively"}
    errors = custom_resource_errors(bad) or []
    assert len(errors) == 4, errors
    assert any("steps.0" in e and "'setWieght' was unexpected" in e for e in errors), errors
    assert any("readinessProbe" in e and "'httpGett' was unexpected" in e for e in errors), errors
    assert any("securityContext" in e and "'runAsNonroot' was unexpected" in e for e in errors), errors
    assert any("workloadRef" in e and "'scaleDwon' was unexpected" in e for e in errors), errors
    template = analysis_template()
    provider = template["spec"]["metrics"][0]["provider"]
    provider["cloudwatch"] = provider.pop("cloudWatch")
    assert any("'cloudwatch' was unexpected" in e for e in custom_resource_errors(template) or []), template


def test_open_parts_of_the_schema_stay_open():
    """What upstream's CRD leaves unspecified (pod volumes, quantities) the cluster accepts as is."""
    odd = rollout()
    odd["spec"]["template"]["spec"]["volumes"] = [{"name": "x", "anything": {"goes": True}}]
    odd["spec"]["template"]["spec"]["containers"][0]["resources"]["requests"]["example.com/gpu"] = 1
    assert custom_resource_errors(odd) == []


def test_slipway_check_validates_rollouts_against_the_shipped_crds(mocked: Mocked):
    def program():
        provider = k8s.Provider("k8s", kubeconfig="{}")
        opts = pulumi.ResourceOptions(provider=provider)
        for name, obj in (("good", rollout()), ("bad", rollout(replicas="two"))):
            obj["metadata"]["name"] = name
            k8s.apiextensions.CustomResource(name, api_version=obj["apiVersion"], kind=obj["kind"],
                                             metadata=obj["metadata"], spec=obj["spec"], opts=opts)  # fmt: skip

    mocked.build(program)
    findings = kubernetes_findings(SimpleNamespace(records=mocked.records), "1.34")  # type: ignore[arg-type]
    # The good one is validated (no "not validated" info) and valid; the bad one names the field.
    assert [(f.check, f.severity, f.resource) for f in findings] == [
        ("crd-schema", "mandatory", "kubernetes/web/rollout-bad.yaml")], findings  # fmt: skip
    assert findings[0].message.startswith("spec.replicas: 'two' is not of type 'integer'")
