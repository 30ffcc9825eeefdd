"""Progressive delivery: an app with a canary or blueGreen strategy is an Argo Rollouts
`Rollout` with the Deployment's pods, the Services and Ingress the ALB integration needs,
an optional AnalysisTemplate, and config errors for what cannot work."""

from __future__ import annotations

import dataclasses

import jsonschema
import kubernetes_validate
import pytest

from slipway.cli.render import ROOT, kubernetes_objects
from slipway.components.app_ingress import ingress
from slipway.components.app_manifests import autoscaler, deployment, service
from slipway.components.app_rollout import (
    analysis_template,
    canary_ingress,
    preview_ingress,
    rollout,
    rollout_services,
    starting_step,
)
from slipway.components.app_spec import (
    AnalysisSpec,
    AppSpec,
    AutoscalingSpec,
    BlueGreenSpec,
    CanarySpec,
    HttpGet,
    Image,
    IngressSpec,
    Pause,
    Port,
    Probe,
    Probes,
    Resources,
    RunAnalysis,
    SetWeight,
    Strategy,
)
from slipway.components.app_validation import app_spec_issues
from slipway.components.crds import crd_schema
from slipway.program.config import ConfigError, parse_config_values
from slipway.program.stackfile import load_stack_file

from tests.conftest import stack_version

SPEC = AppSpec(
    image=Image(repository="registry.example.com/api", tag="1"),
    resources=Resources(requests={"cpu": "250m", "memory": "256Mi"}, limits={"memory": "512Mi"}),
    ports=[Port(container_port=8000)],
    probes=Probes(readiness=Probe(handler=HttpGet(path="/ready"))),
    ingress=IngressSpec(hosts=["api.example.com"], paths=["/api"]),
    autoscaling=AutoscalingSpec(min_replicas=3),
)
CANARY = dataclasses.replace(SPEC, strategy=Strategy(type="canary", analysis=AnalysisSpec(provider="cloudwatch")))
PROM = AnalysisSpec(provider="prometheus", prometheus_address="http://prometheus.monitoring:9090",
                    prometheus_query='sum(rate(http_requests_total{code!~"5.."}[1m]))')  # fmt: skip
BLUE_GREEN = dataclasses.replace(
    SPEC,
    strategy=Strategy(
        type="blueGreen",
        blue_green=BlueGreenSpec(auto_promotion_enabled=False, preview_hosts=["preview.api.example.com"]),
        analysis=PROM,
    ),
)


def render(spec: AppSpec) -> dict[str, dict]:
    """The app's manifests by kind/name, as App composes them (pure functions only)."""
    svc = service("api", "api", spec, part_of="p")
    assert svc is not None
    out = {"Service/api": svc, **{f"Service/{s['metadata']['name']}": s for s in rollout_services("api", spec, svc)}}
    ing = ingress("api", "api", spec, part_of="p", group="demo-internal", svc=svc)
    assert ing is not None
    out["Rollout/api"] = rollout("api", "api", spec, part_of="p", service_account=None, checksums={"c": "1"},
                                 service_port=80)  # fmt: skip
    if (preview := preview_ingress("api", spec, ing)) is not None:
        out["Ingress/api-preview"] = preview
    out["Ingress/api"] = canary_ingress(ing, "api") if spec.strategy.type == "canary" else ing
    if (template := analysis_template("api", "api", spec, part_of="p")) is not None:
        out["AnalysisTemplate/api"] = template
    out["HorizontalPodAutoscaler/api"] = autoscaler("api", "api", spec, part_of="p") or {}
    return out


def crd_errors(manifest: dict) -> list[str]:
    schema = crd_schema(manifest["apiVersion"], manifest["kind"])
    if schema is None:
        pytest.skip(f"no CRD for {manifest['kind']} in components/data/crds/ yet")
    return [e.message for e in jsonschema.Draft7Validator(schema).iter_errors(manifest)]


# ------------------------------------------------------------------ manifests


@pytest.mark.parametrize("spec", [CANARY, BLUE_GREEN], ids=["canary", "blueGreen"])
def test_builtin_objects_pass_strict_schema_validation(spec):
    for key, m in render(spec).items():
        if not m["apiVersion"].startswith("argoproj.io/"):
            kubernetes_validate.validate(m, "1.34", strict=True)  # raises with the field on error
        assert m["metadata"]["namespace"] == "api", key


@pytest.mark.parametrize("spec", [CANARY, BLUE_GREEN], ids=["canary", "blueGreen"])
def test_rollout_and_analysis_template_match_their_crds(spec):
    for kind in ("Rollout", "AnalysisTemplate"):
        assert crd_errors(render(spec)[f"{kind}/api"]) == [], kind


def test_the_rollout_runs_the_deployments_pods():
    checksums = {"slipway.dev/config-checksum": "abc"}
    d = deployment("api", "api", CANARY, part_of="p", service_account="api", checksums=checksums)
    r = rollout("api", "api", CANARY, part_of="p", service_account="api", checksums=checksums, service_port=80)
    assert (r["apiVersion"], r["kind"]) == ("argoproj.io/v1alpha1", "Rollout")
    # The pods are the Deployment's (probes, security, checksums, spread): the Rollout references
    # it and Argo scales it down as its own pods come up (docs/migrating.md).
    assert "template" not in r["spec"]
    assert r["spec"]["workloadRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": "api",
                                        "scaleDown": "progressively"}  # fmt: skip
    for key in ("replicas", "selector", "minReadySeconds", "progressDeadlineSeconds", "revisionHistoryLimit"):
        assert r["spec"][key] == d["spec"][key], key
    assert r["spec"]["progressDeadlineAbort"] is True
    # A canary Rollout is not awaited (see the graph test); a blue/green one is, until its
    # active pods are available, before the Ingress points at it.
    assert r["metadata"] == d["metadata"]
    green = dataclasses.replace(CANARY, strategy=dataclasses.replace(CANARY.strategy, type="blueGreen", canary=None,
                                                                      analysis=None))  # fmt: skip
    b = rollout("api", "api", green, part_of="p", service_account="api", checksums=checksums, service_port=80)
    assert b["metadata"]["annotations"] == {"pulumi.com/waitFor": "condition=Available"}


def test_canary_routes_real_alb_traffic():
    out = render(CANARY)
    canary = out["Rollout/api"]["spec"]["strategy"]["canary"]
    assert canary["stableService"] == "api-stable" and canary["canaryService"] == "api-canary"
    assert canary["trafficRouting"] == {"alb": {"ingress": "api", "rootService": "api", "servicePort": 80}}
    assert canary["steps"] == [{"setWeight": 10}, {"pause": {"duration": "5m"}}, {"setWeight": 50},
                               {"pause": {"duration": "5m"}}, {"setWeight": 100}]  # fmt: skip
    # Background analysis from the step after the first weight, with the ALB's dimensions.
    assert canary["analysis"]["startingStep"] == 1 and canary["analysis"]["templates"] == [{"templateName": "api"}]
    paths = {a["valueFrom"]["fieldRef"]["fieldPath"] for a in canary["analysis"]["args"]}
    assert paths == {"status.alb.loadBalancer.fullName", "status.alb.canaryTargetGroup.fullName"}
    # The Ingress's rules go to the root Service's `use-annotation` port; the Rollout writes the action.
    ing = out["Ingress/api"]
    backends = [p["backend"] for r in ing["spec"]["rules"] for p in r["http"]["paths"]]
    assert backends == [{"service": {"name": "api", "port": {"name": "use-annotation"}}}]
    assert not [k for k in ing["metadata"]["annotations"] if k.startswith("alb.ingress.kubernetes.io/actions.")]
    assert ing["metadata"]["annotations"]["alb.ingress.kubernetes.io/target-type"] == "ip"
    for name in ("api", "api-stable", "api-canary"):
        svc = out[f"Service/{name}"]
        assert svc["spec"]["selector"] == out["Service/api"]["spec"]["selector"]
        assert svc["spec"]["ports"][0]["port"] == 80
    assert out["HorizontalPodAutoscaler/api"]["spec"]["scaleTargetRef"] == {
        "apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout", "name": "api"}  # fmt: skip


def test_cloudwatch_analysis_reads_the_canary_target_groups_5xx_share():
    metric = render(CANARY)["AnalysisTemplate/api"]["spec"]["metrics"][0]
    # No data (no traffic, or dimensions that match nothing) is neither success nor failure:
    # Inconclusive pauses the rollout for a human instead of passing it.
    assert metric["successCondition"] == "len(result[0].Values) > 0 && all(result[0].Values, {# <= 0.01})"
    assert metric["failureCondition"] == "len(result[0].Values) > 0 && any(result[0].Values, {# > 0.01})"
    assert (metric["count"], metric["interval"], metric["failureLimit"]) == (5, "1m", 1)
    queries = {q["id"]: q for q in metric["provider"]["cloudWatch"]["metricDataQueries"]}
    assert queries["errorRate"]["expression"] == "FILL(errors, 0) / requests"
    for qid, name in (("errors", "HTTPCode_Target_5XX_Count"), ("requests", "RequestCount")):
        m = queries[qid]["metricStat"]["metric"]
        assert (m["namespace"], m["metricName"]) == ("AWS/ApplicationELB", name)
        # status.alb.*.fullName drop the ARN's resource type (argo-rollouts@v1.9.0 alb.go:317-347);
        # CloudWatch's dimensions carry it.
        assert {d["name"]: d["value"] for d in m["dimensions"]} == {
            "LoadBalancer": "app/{{args.load-balancer}}",
            "TargetGroup": "targetgroup/{{args.canary-target-group}}",
        }


def test_inline_analysis_steps_replace_the_background_run():
    steps = (SetWeight(weight=20), RunAnalysis(), SetWeight(weight=100))
    spec = dataclasses.replace(CANARY, strategy=dataclasses.replace(CANARY.strategy, canary=CanarySpec(steps=steps)))
    canary = render(spec)["Rollout/api"]["spec"]["strategy"]["canary"]
    assert "analysis" not in canary
    assert canary["steps"][1]["analysis"]["templates"] == [{"templateName": "api"}]
    assert starting_step([Pause(), SetWeight(weight=100)]) == 1 and starting_step([SetWeight(weight=100)]) == 0


def test_blue_green_switches_the_active_service():
    out = render(BLUE_GREEN)
    green = out["Rollout/api"]["spec"]["strategy"]["blueGreen"]
    assert green["activeService"] == "api" and green["previewService"] == "api-preview"
    assert green["autoPromotionEnabled"] is False and green["scaleDownDelaySeconds"] == 30
    assert "autoPromotionSeconds" not in green
    assert green["prePromotionAnalysis"]["templates"] == [{"templateName": "api"}]
    assert {a["name"] for a in green["prePromotionAnalysis"]["args"]} == {"namespace", "app", "canary-hash",
                                                                          "stable-hash"}  # fmt: skip
    preview = out["Ingress/api-preview"]
    assert [r["host"] for r in preview["spec"]["rules"]] == ["preview.api.example.com"]
    assert preview["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"] == {
        "name": "api-preview", "port": {"number": 80}}  # fmt: skip
    main = out["Ingress/api"]["metadata"]["annotations"]
    for key in ("group.name", "scheme", "healthcheck-path"):
        key = f"alb.ingress.kubernetes.io/{key}"
        assert preview["metadata"]["annotations"][key] == main[key]
    metric = out["AnalysisTemplate/api"]["spec"]["metrics"][0]
    assert metric["successCondition"] == "all(result, {# >= 0.99 || # != #})"
    assert metric["provider"]["prometheus"]["address"] == "http://prometheus.monitoring:9090"


# ------------------------------------------------------------------ the component


def test_the_rollout_waits_for_its_controller_and_the_ingress_for_the_rollout(mocked):
    import pulumi
    import pulumi_kubernetes as k8s

    from slipway.components.app import App, AppArgs

    def program():
        provider = k8s.Provider("k8s", kubeconfig="{}")
        controller = k8s.core.v1.ConfigMap("argo-rollouts-stand-in", opts=pulumi.ResourceOptions(provider=provider))
        App("api", AppArgs(spec=CANARY, namespace="api", part_of="demo", cluster_name="demo", k8s_provider=provider,
                           rollout_controller=[controller]))  # fmt: skip

    mocked.build(program)
    t = mocked.template
    (deployment,) = mocked.of_type("kubernetes:apps/v1:Deployment")  # kept: the Rollout references it
    assert deployment.options.get("ignoreChanges") == ["spec.replicas"]  # Argo scales it to zero
    (controller,) = mocked.of_type("kubernetes:core/v1:ConfigMap")
    (ro,) = mocked.of_type("kubernetes:argoproj.io/v1alpha1:Rollout")
    (template,) = mocked.of_type("kubernetes:argoproj.io/v1alpha1:AnalysisTemplate")
    (ing,) = mocked.of_type("kubernetes:networking.k8s.io/v1:Ingress")
    (hpa,) = mocked.of_type("kubernetes:autoscaling/v2:HorizontalPodAutoscaler")
    assert controller.urn in ro.dependencies and controller.urn in template.dependencies, ro.urn
    assert template.urn in ro.dependencies and deployment.urn in ro.dependencies, ro.urn
    # The Ingress comes after the Rollout; a canary Rollout is not awaited (Argo refuses a canary
    # whose Ingress does not exist yet: waiting for its pods would deadlock a new app).
    assert ro.urn in ing.dependencies, ing.urn
    assert "pulumi.com/waitFor" not in ro.inputs["metadata"].get("annotations", {})
    assert ro.urn in t.ancestors(hpa), hpa.urn
    assert ro.options.get("ignoreChanges") == ["spec.replicas"]  # the HPA owns replicas
    services = {s.inputs["metadata"]["name"] for s in mocked.of_type("kubernetes:core/v1:Service")}
    assert services == {"api", "api-stable", "api-canary"}
    for s in mocked.of_type("kubernetes:core/v1:Service"):
        assert ro.urn not in t.ancestors(s), f"{s.urn}: Pulumi waits for a Service's endpoints; the pods come later"


# ------------------------------------------------------------------ validation


def test_the_library_refuses_what_cannot_work():
    bad = Strategy(
        type="canary",
        canary=CanarySpec(steps=(SetWeight(weight=50), Pause(duration="2d"), SetWeight(weight=40), RunAnalysis())),
    )
    spec = dataclasses.replace(SPEC, ingress=None, strategy=bad)
    assert [str(i) for i in app_spec_issues(spec)] == [
        "strategy.type: 'canary' needs an ingress (the canary's weights are the ALB's traffic split) — "
        "add ingress=IngressSpec(...), or use blueGreen",
        "strategy.canary.steps[1].duration: '2d' is not a duration from 1s to 24h — write e.g. 30s, 10m or 1h "
        "(none: wait until promoted)",
        "strategy.canary.steps[3]: 'RunAnalysis()' needs strategy.analysis — set analysis=AnalysisSpec(...)",
        "strategy.canary.steps[2].weight: 40 is not above the previous weight 50 — make the weights rise",
        "strategy.canary.steps[2].weight: 40 is the last weight but not 100 (the release would end at a split) — "
        "end the steps with a weight of 100",
    ]
    green = dataclasses.replace(SPEC, strategy=Strategy(type="blueGreen", analysis=AnalysisSpec(provider="cloudwatch")))
    assert [str(i) for i in app_spec_issues(green)] == [
        "strategy.analysis.provider: 'cloudwatch' reads the canary's ALB target group, which blue/green has not — "
        "use prometheus for blueGreen"
    ]
    assert app_spec_issues(CANARY) == [] and app_spec_issues(BLUE_GREEN) == []


APP = {
    "image": {"repository": "api", "tag": "2.7.0"},
    "ports": [{"name": "http", "containerPort": 8000}],
    "resources": {"requests": {"cpu": "250m", "memory": "256Mi"}, "limits": {"memory": "512Mi"}},
    "probes": {"readiness": {"httpGet": {"path": "/ready", "port": "http"}}},
    "ingress": {"enabled": True},
}


def errors(app: dict) -> list[str]:
    with pytest.raises(ConfigError) as exc:
        parse_config_values({"apps": {"api": app}}, region="us-east-1")
    return exc.value.messages


@pytest.mark.parametrize(
    "strategy, app, expected",
    [
        ({"type": "canary"}, {"ingress": {"enabled": False}},
         "apps.api.strategy.type: 'canary' needs an Ingress on the ALB (ingress.enabled: true)"),
        ({"type": "canary", "canary": {"steps": [{"setWeight": 20}, {"setWeight": 10}]}}, {},
         "apps.api.strategy.canary.steps[1].setWeight: 10 is not above the previous weight 20"),
        ({"type": "canary", "canary": {"steps": [{"setWeight": 20}, {"pause": {}}]}}, {},
         "apps.api.strategy.canary.steps[0].setWeight: 20 is the last weight but not 100"),
        ({"type": "canary", "canary": {"steps": [{"setWeight": 20, "pause": {}}, {"setWeight": 100}]}}, {},
         'apps.api.strategy.canary.steps[0]: ["pause", "setWeight"] needs exactly one of setWeight, pause, '
         "analysis"),
        ({"type": "canary", "canary": {"steps": [{"setWeight": 20}, {"pause": {"duration": "90"}},
                                                 {"setWeight": 100}]}}, {},
         "apps.api.strategy.canary.steps[1].pause.duration: '90' is not a duration from 1s to 24h"),
        ({"type": "canary", "canary": {"steps": [{"setWeight": 20}, {"analysis": {}}, {"setWeight": 100}]}}, {},
         "apps.api.strategy.canary.steps[1].analysis: '{}' needs strategy.analysis"),
        ({"type": "canary", "canary": {"steps": []}}, {},
         "apps.api.strategy.canary.steps: 0 is not a list of 1 to 20 steps"),
        ({"type": "blueGreen"}, {"ports": [], "ingress": {"enabled": False},
                                 "probes": {"readiness": {"exec": {"command": ["x"]}}}},
         "apps.api.strategy.type: 'blueGreen' needs a Service"),
        ({"type": "blueGreen", "blueGreen": {"autoPromotionEnabled": False, "autoPromotionSeconds": 60}}, {},
         "apps.api.strategy.blueGreen.autoPromotionSeconds: 60 is ignored while autoPromotionEnabled is false"),
        ({"type": "blueGreen", "blueGreen": {"previewHosts": ["preview.example.com"]}},
         {"ingress": {"enabled": False}}, "apps.api.strategy.blueGreen.previewHosts: [\"preview.example.com\"] needs "
         "ingress.enabled"),
        ({"type": "blueGreen", "analysis": {"provider": "cloudwatch"}}, {},
         "apps.api.strategy.analysis.provider: 'cloudwatch' reads the canary's ALB target group"),
        ({"type": "canary", "analysis": {"provider": "prometheus"}}, {},
         "apps.api.strategy.analysis.prometheusAddress: null is needed with provider prometheus"),
        ({"type": "canary", "analysis": {"provider": "cloudwatch", "count": 2, "failureLimit": 2}}, {},
         "apps.api.strategy.analysis.failureLimit: 2 is not below count 2"),
        ({"type": "RollingUpdate", "canary": {}}, {},
         "apps.api.strategy.canary: '{…}' is set but type is RollingUpdate"),
    ],
)  # fmt: skip
def test_strategy_config_errors(strategy, app, expected):
    msgs = errors({**APP, **app, "strategy": strategy})
    assert any(m.startswith(expected) for m in msgs), msgs


def test_the_stack_config_builds_the_strategy_and_warns_about_one_pod():
    from slipway.components.spec import Placement
    from slipway.program.config.app_spec import app_spec
    from slipway.program.config.app_strategy import strategy_warnings

    raw = {**APP, "replicas": 1, "strategy": {
        "type": "canary", "canary": {"steps": [{"setWeight": 25}, {"pause": {}}, {"analysis": {}}, {"setWeight": 100}]},
        "analysis": {"provider": "cloudwatch", "successRate": 0.995, "count": 3}}}  # fmt: skip
    cfg = parse_config_values({"apps": {"api": raw}}, region="us-east-1")
    spec = app_spec(cfg.apps["api"], repository_url="ecr/api", secrets={}, placement=Placement())
    assert spec.progressive and app_spec_issues(spec) == []
    assert spec.strategy.canary == CanarySpec(steps=(SetWeight(weight=25), Pause(), RunAnalysis(),
                                                     SetWeight(weight=100)))  # fmt: skip
    assert spec.strategy.analysis == AnalysisSpec(provider="cloudwatch", success_rate=0.995, count=3)
    assert strategy_warnings("api", cfg.apps["api"]) == [
        "apps.api.strategy.type: canary with 1 replica — each version runs one pod, so the release rests on a "
        "single pod; set replicas (or autoscaling.minReplicas) to 2 or more"
    ]
    default = parse_config_values({"apps": {"api": {**APP, "strategy": {"type": "canary"}}}}, region="us-east-1")
    assert app_spec(default.apps["api"], repository_url="r", secrets={}, placement=Placement()).strategy.canary is None


# ------------------------------------------------------------------ the shipped prod stack


def test_prods_api_is_a_canary_through_the_alb(prod):
    objects = {(m["kind"], m["metadata"]["name"]): m for p, m in kubernetes_objects(prod.records).items()
               if not p.startswith("kubernetes/helm/") and m["metadata"].get("namespace") == "api"}  # fmt: skip
    # The Deployment stays (the pod template; Argo scales it to zero), the Rollout references it.
    assert ("Deployment", "api") in objects and ("Rollout", "api") in objects
    assert objects[("Rollout", "api")]["spec"]["workloadRef"]["name"] == "api"
    assert {n for k, n in objects if k == "Service"} == {"api", "api-stable", "api-canary"}
    version = stack_version("prod")
    for m in objects.values():
        if m["apiVersion"].startswith("argoproj.io/"):
            continue
        kubernetes_validate.validate(m, version, strict=True)
    ing = objects[("Ingress", "api")]
    assert ing["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]["port"] == {"name": "use-annotation"}
    cfg = load_stack_file("prod", ROOT).parse()
    assert cfg.apps["api"].strategy.type == "canary"
    assert crd_errors(objects[("Rollout", "api")]) == []


def test_pulumi_leaves_the_selectors_argo_steers(prod):
    """Argo writes rollouts-pod-template-hash into the steered Services' (atomic) selectors;
    under server-side apply Pulumi must ignore them or every later `pulumi up` conflicts."""
    services = {r.name: r for r in prod.by_type("kubernetes:core/v1:Service") if r.name.startswith("api")}
    assert services["api-stable-service"].options.get("ignoreChanges") == ["spec.selector"]
    assert services["api-canary-service"].options.get("ignoreChanges") == ["spec.selector"]
    # The canary's root Service is not steered (the ALB action picks stable/canary): Pulumi keeps it.
    assert not services["api-service"].options.get("ignoreChanges")


def test_the_deployment_of_a_progressive_app_has_a_strategy_apps_v1_accepts():
    """apps/v1 knows RollingUpdate and Recreate only (ValidateDeploymentStrategy)."""
    d = deployment("api", "api", CANARY, part_of="p", service_account=None, checksums={})
    assert d["spec"]["strategy"]["type"] == "RollingUpdate"


def test_blue_green_leaves_the_active_and_preview_selectors_to_argo(mocked):
    """Blue/green: Argo writes the hash into the active `<app>` and the preview Service; Pulumi
    ignores their selectors, and the Ingress waits for the (awaited) Rollout."""
    import pulumi
    import pulumi_kubernetes as k8s

    from slipway.components.app import App, AppArgs

    def program():
        provider = k8s.Provider("k8s", kubeconfig="{}")
        controller = k8s.core.v1.ConfigMap("argo-rollouts-stand-in", opts=pulumi.ResourceOptions(provider=provider))
        App("api", AppArgs(spec=BLUE_GREEN, namespace="api", part_of="demo", cluster_name="demo",
                           k8s_provider=provider, rollout_controller=[controller]))  # fmt: skip

    mocked.build(program)
    services = {s.inputs["metadata"]["name"]: s for s in mocked.of_type("kubernetes:core/v1:Service")}
    assert set(services) == {"api", "api-preview"}
    assert all(s.options.get("ignoreChanges") == ["spec.selector"] for s in services.values())
    (ro,) = mocked.of_type("kubernetes:argoproj.io/v1alpha1:Rollout")
    assert ro.inputs["metadata"]["annotations"] == {"pulumi.com/waitFor": "condition=Available"}
    ingresses = mocked.of_type("kubernetes:networking.k8s.io/v1:Ingress")
    assert len(ingresses) == 2  # the app's and the preview host's
    for ing in ingresses:
        assert ro.urn in ing.dependencies, ing.urn


def test_a_switching_canary_is_awaited_a_new_one_is_not():
    switching = dataclasses.replace(
        CANARY, strategy=dataclasses.replace(CANARY.strategy, canary=CanarySpec(switch_from_deployment=True))
    )
    r = rollout("api", "api", switching, part_of="p", service_account=None, checksums={}, service_port=80)
    assert r["metadata"]["annotations"] == {"pulumi.com/waitFor": "condition=Available"}
    r = rollout("api", "api", CANARY, part_of="p", service_account=None, checksums={}, service_port=80)
    assert "annotations" not in r["metadata"]
