"""An app with a progressive strategy (canary, blueGreen) as pure functions of its
`AppSpec`: the Argo Rollouts `Rollout` that replaces its Deployment, the extra Services it
steers, the Ingress changes the ALB integration needs, and the `AnalysisTemplate`.
Sources are argoproj/argo-rollouts@v1.9.0 (chart argo-rollouts 2.41.0's appVersion);
`docs/…` below is in that tree.

- The Rollout has the Deployment's pod template, selector, replicas and timing
  (components/app_manifests.py `deployment`, reused as is): probes, security context,
  checksum annotations and spread constraints are the same. Argo adds a
  `rollouts-pod-template-hash` label to the pods and to the selectors of the Services it
  steers, so `selector_labels` (Service `<app>`, PDB, spread) still cover both versions.
- Canary (docs/features/traffic-management/alb.md): Services `<app>-stable` and
  `<app>-canary`; the Ingress's backend is the root Service `<app>` with port
  `use-annotation`, and the controller writes `alb.ingress.kubernetes.io/actions.<app>`
  — a forward action with weighted target groups, so a step's weight is the ALB's
  traffic split, not a replica ratio. The stack never sets that annotation (server-side
  apply leaves a field it never set to its writer). `<app>` itself still selects every pod
  for in-cluster clients.
- Blue/green (docs/features/bluegreen.md): the active Service is `<app>`, the preview
  `<app>-preview`; Argo switches the active selector at promotion. Upstream warns that
  with an ALB the switch can briefly leave the target group without healthy targets.
- A failed AnalysisRun aborts the rollout: the canary weight goes back to 0, or the
  active Service stays on the old version (docs/features/analysis.md).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from slipway.components.app_ingress import alb_ingress
from slipway.components.app_manifests import deployment, labels
from slipway.components.app_rollout_spec import AnalysisSpec, BlueGreenSpec, CanarySpec, Pause, RunAnalysis, SetWeight
from slipway.components.app_spec import AppSpec

ROLLOUTS_API = "argoproj.io/v1alpha1"
# The ALB's per-target-group metrics: namespace AWS/ApplicationELB, dimensions
# (TargetGroup, LoadBalancer), 60-second periods, reported only while requests flow
# (https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-cloudwatch-metrics.html).
ALB_METRICS = "AWS/ApplicationELB"
# Filled in by the controller's ALB weight verification (`--aws-verify-target-group`):
# argo-rollouts@v1.9.0 rollout/trafficrouting/alb/alb.go:317-347 keeps the ARN's tail without
# its type: `<name>/<id>` for the load balancer (parts[2:] of `loadbalancer/app/<name>/<id>`)
# and `<name>/<id>` for the target group (alb_test.go:738-748). CloudWatch's dimension values
# are `app/<name>/<id>` and `targetgroup/<name>/<id>`, so the template puts the type back
# (as argo-rollouts#2589 does); analysis args read them (docs/features/analysis.md).
ALB_STATUS_ARGS = (
    ("load-balancer", "status.alb.loadBalancer.fullName"),
    ("canary-target-group", "status.alb.canaryTargetGroup.fullName"),
)


def stable_service_name(app: str) -> str:
    """The canary's stable Service (Argo points it at the stable pods)."""
    return f"{app}-stable"


def canary_service_name(app: str) -> str:
    """The canary's canary Service (Argo points it at the new pods)."""
    return f"{app}-canary"


def preview_service_name(app: str) -> str:
    """Blue/green's preview Service (Argo points it at the new pods before promotion)."""
    return f"{app}-preview"


def rollout(
    app: str,
    namespace: str,
    spec: AppSpec,
    *,
    part_of: str,
    service_account: str | None,
    checksums: Mapping[str, Any],
    service_port: int,
) -> dict[str, Any]:
    """The `Rollout`, referencing the app's Deployment (`workloadRef`), with Argo's strategy.
    `service_port` is the port of the app's Services (the ALB forwards to it).

    The pod template stays in the Deployment (argo-rollouts@v1.9.0 docs/migrating.md,
    "Reference Deployment From Rollout"): a new image is a change of the Deployment's
    template, which the Rollout releases by its steps, while Argo keeps the Deployment at
    zero replicas (`scaleDown: progressively`: scaled down as the Rollout's pods become
    available). So switching an app from a Deployment to a Rollout deletes nothing — the
    old pods serve until the new ones are available — and Argo never rewrites a template
    Pulumi owns (argoproj/argo-rollouts#3281: it normalises the Rollout it updates)."""
    d = deployment(app, namespace, spec, part_of=part_of, service_account=service_account, checksums=checksums)
    body: dict[str, Any] = {
        k: v for k, v in d["spec"].items() if k in ("replicas", "selector", "minReadySeconds", "revisionHistoryLimit",
                                                    "progressDeadlineSeconds")
    }  # fmt: skip
    body["workloadRef"] = {"apiVersion": "apps/v1", "kind": "Deployment", "name": app, "scaleDown": "progressively"}
    body["strategy"] = strategy(app, namespace, spec, service_port=service_port)
    # A rollout stuck past its deadline (pods that never get ready) is aborted and goes back
    # to the stable version instead of staying half rolled (the CRD's progressDeadlineAbort).
    body["progressDeadlineAbort"] = True
    meta = dict(d["metadata"])
    switching = spec.strategy.canary is not None and spec.strategy.canary.switch_from_deployment
    if spec.strategy.type == "blueGreen" or (spec.strategy.type == "canary" and switching):
        # `pulumi up` waits until the active pods are available (pulumi-kubernetes
        # provider/pkg/metadata/overrides.go: the waitFor annotation; a custom resource is
        # otherwise ready at once), so the Ingress, created after it, never routes to an active
        # Service without endpoints. A release (a new template in the Deployment) does not change
        # the Rollout, so a paused one never holds `pulumi up`.
        # A canary waits only when switching (`switch_from_deployment`): Argo refuses it
        # (InvalidSpec) until its Ingress exists (argo-rollouts@v1.9.0 rollout/controller.go
        # getReferencedIngresses), and the Ingress comes after it — a new app would time out.
        # When switching, the old Ingress exists (a rule on `<app>`), so Argo runs the Rollout
        # and writes the ALB action onto it once the ReplicaSet is fully available
        # (rollout/trafficrouting.go checkReplicasAvailable); only then does the Ingress move to
        # `use-annotation`, keeping Argo's action (an annotation key Pulumi never owned). Without
        # the flag the ALB answers 503 ("Backend action does not exist") in between.
        meta["annotations"] = {**meta.get("annotations", {}), "pulumi.com/waitFor": "condition=Available"}
    return {"apiVersion": ROLLOUTS_API, "kind": "Rollout", "metadata": meta, "spec": body}


def strategy(app: str, namespace: str, spec: AppSpec, *, service_port: int) -> dict[str, Any]:
    """`spec.strategy` of the Rollout: `canary` or `blueGreen`."""
    s = spec.strategy
    analysis = s.analysis
    if s.type == "blueGreen":
        b = s.blue_green or BlueGreenSpec()
        green: dict[str, Any] = {
            "activeService": app,
            "previewService": preview_service_name(app),
            "autoPromotionEnabled": b.auto_promotion_enabled,
            "scaleDownDelaySeconds": b.scale_down_delay_seconds,
        }
        if b.auto_promotion_enabled and b.auto_promotion_seconds is not None:
            green["autoPromotionSeconds"] = b.auto_promotion_seconds
        if analysis is not None:
            green["prePromotionAnalysis"] = _analysis_ref(app, namespace, analysis)
        return {"blueGreen": green}
    steps = list((s.canary or CanarySpec()).steps)
    canary: dict[str, Any] = {
        "stableService": stable_service_name(app),
        "canaryService": canary_service_name(app),
        "maxSurge": s.max_surge,
        "maxUnavailable": s.max_unavailable,
        # The Ingress is `<app>`; its rules' backend is rootService with port use-annotation.
        "trafficRouting": {"alb": {"ingress": app, "rootService": app, "servicePort": service_port}},
        "steps": [_step(app, namespace, step, analysis) for step in steps],
    }
    if analysis is not None and not any(isinstance(step, RunAnalysis) for step in steps):
        canary["analysis"] = {**_analysis_ref(app, namespace, analysis), "startingStep": starting_step(steps)}
    return {"canary": canary}


def starting_step(steps: Sequence[object]) -> int:
    """The step a background analysis starts at: the one after the first weight, when the
    canary has traffic (and the controller has looked up its target group)."""
    first = next((i for i, step in enumerate(steps) if isinstance(step, SetWeight)), 0)
    return min(first + 1, max(len(steps) - 1, 0))


def _step(app: str, namespace: str, step: object, analysis: AnalysisSpec | None) -> dict[str, Any]:
    if isinstance(step, SetWeight):
        return {"setWeight": step.weight}
    if isinstance(step, Pause):
        return {"pause": {} if step.duration is None else {"duration": step.duration}}
    if isinstance(step, RunAnalysis) and analysis is not None:  # validation requires the analysis
        return {"analysis": _analysis_ref(app, namespace, analysis)}
    raise ValueError(f"not a canary step: {step!r}")


def _analysis_ref(app: str, namespace: str, a: AnalysisSpec) -> dict[str, Any]:
    """A reference to the app's AnalysisTemplate, with the arguments its provider needs."""
    if a.provider == "cloudwatch":
        args = [{"name": n, "valueFrom": {"fieldRef": {"fieldPath": path}}} for n, path in ALB_STATUS_ARGS]
    else:
        args = [
            {"name": "namespace", "value": namespace},
            {"name": "app", "value": app},
            {"name": "canary-hash", "valueFrom": {"podTemplateHashValue": "Latest"}},
            {"name": "stable-hash", "valueFrom": {"podTemplateHashValue": "Stable"}},
        ]
    return {"templates": [{"templateName": app}], "args": args}


def analysis_template(app: str, namespace: str, spec: AppSpec, *, part_of: str) -> dict[str, Any] | None:
    """The `AnalysisTemplate` `<app>` (None without an analysis): `count` measurements of the
    success rate, `interval` apart; more than `failure_limit` bad ones fail it."""
    a = spec.strategy.analysis if spec.progressive else None
    if a is None:
        return None
    error_budget = round(1 - a.success_rate, 6)
    if a.provider == "cloudwatch":
        # errorRate = 5xx / requests per minute for the canary's target group. A window
        # without data (no traffic, or the wrong dimensions) matches neither condition: the
        # measurement is Inconclusive, which pauses the rollout for a human instead of
        # passing it (docs/analysis/cloudwatch.md guards with len(result[0].Values)).
        def alb_metric(query_id: str, metric: str) -> dict[str, Any]:
            dimensions = [
                {"name": "LoadBalancer", "value": "app/{{args.load-balancer}}"},
                {"name": "TargetGroup", "value": "targetgroup/{{args.canary-target-group}}"},
            ]
            stat = {"metric": {"namespace": ALB_METRICS, "metricName": metric, "dimensions": dimensions},
                    "period": 60, "stat": "Sum"}  # fmt: skip
            return {"id": query_id, "metricStat": stat, "returnData": False}

        provider: dict[str, Any] = {
            "cloudWatch": {
                # Each measurement reads the last five minutes: ALB metrics arrive a minute
                # or more late, so a window of one period would often be empty.
                "interval": "5m",
                "metricDataQueries": [
                    {"id": "errorRate", "expression": "FILL(errors, 0) / requests"},
                    alb_metric("errors", "HTTPCode_Target_5XX_Count"),
                    alb_metric("requests", "RequestCount"),
                ],
            }
        }
        condition = f"len(result[0].Values) > 0 && all(result[0].Values, {{# <= {error_budget}}})"
        failure = f"len(result[0].Values) > 0 && any(result[0].Values, {{# > {error_budget}}})"
        args = [{"name": n} for n, _ in ALB_STATUS_ARGS]
    else:
        provider = {"prometheus": {"address": a.prometheus_address, "query": a.prometheus_query}}
        # A vector of rates; NaN (0/0: no requests) is the only value unequal to itself
        # and counts as no evidence, like an empty result.
        condition = f"all(result, {{# >= {a.success_rate} || # != #}})"
        failure = None
        args = [{"name": n} for n in ("namespace", "app", "canary-hash", "stable-hash")]
    metric = {
        "name": "success-rate",
        "interval": a.interval,
        "count": a.count,
        "failureLimit": a.failure_limit,
        "successCondition": condition,
        **({"failureCondition": failure} if failure else {}),
        "provider": provider,
    }
    return {
        "apiVersion": ROLLOUTS_API,
        "kind": "AnalysisTemplate",
        "metadata": {"name": app, "namespace": namespace, "labels": labels(app, spec.image.tag, part_of)},
        "spec": {"args": args, "metrics": [metric]},
    }


def rollout_services(app: str, spec: AppSpec, root: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The Services Argo steers besides `<app>` (the root/active one, `root`): ClusterIP
    copies of its port and selector, `<app>-stable`/`-canary` or `<app>-preview`."""
    if not spec.progressive:
        return []
    names = (
        [stable_service_name(app), canary_service_name(app)]
        if spec.strategy.type == "canary"
        else [preview_service_name(app)]
    )
    meta, body = root["metadata"], root["spec"]
    ports = [{k: v for k, v in p.items() if k != "nodePort"} for p in body["ports"]]
    return [
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": name, "namespace": meta["namespace"], "labels": dict(meta["labels"])},
            "spec": {"type": "ClusterIP", "selector": dict(body["selector"]), "ports": ports},
        }
        for name in names
    ]


def canary_ingress(ingress: Mapping[str, Any], root_service: str) -> dict[str, Any]:
    """`ingress` with every backend on the root Service's `use-annotation` port: the ALB
    then forwards by the action annotation the Rollout writes (docs/…/alb.md; the AWS Load
    Balancer Controller v3.5.0 pkg/ingress/enhanced_backend_builder.go reads
    `actions.<service>` for that port, and serves a fixed 503 until it exists)."""
    backend = {"service": {"name": root_service, "port": {"name": "use-annotation"}}}
    rules = [
        {**rule, "http": {"paths": [{**p, "backend": backend} for p in rule["http"]["paths"]]}}
        for rule in ingress["spec"]["rules"]
    ]
    return {**ingress, "spec": {**ingress["spec"], "rules": rules}}


def preview_ingress(app: str, spec: AppSpec, main: Mapping[str, Any]) -> dict[str, Any] | None:
    """Blue/green's preview Ingress `<app>-preview` to `<app>-preview` on its own hosts,
    configured like the app's Ingress `main` (same ALB group, paths, TLS). None without hosts."""
    b = spec.strategy.blue_green
    if spec.strategy.type != "blueGreen" or b is None or not b.preview_hosts:
        return None
    meta = main["metadata"]
    a: dict[str, str] = meta["annotations"]
    paths = [p["path"] for p in main["spec"]["rules"][0]["http"]["paths"]]
    port = main["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]["port"]["number"]
    keep = ("group.order", "success-codes")
    return alb_ingress(
        name=preview_service_name(app),
        namespace=meta["namespace"],
        labels=meta["labels"],
        scheme=a["alb.ingress.kubernetes.io/scheme"],
        group=a["alb.ingress.kubernetes.io/group.name"],
        hosts=list(b.preview_hosts),
        paths=paths,
        service_name=preview_service_name(app),
        service_port=port,
        healthcheck_path=a["alb.ingress.kubernetes.io/healthcheck-path"],
        certificate_arn=a.get("alb.ingress.kubernetes.io/certificate-arn"),
        ssl_policy=a.get("alb.ingress.kubernetes.io/ssl-policy", ""),
        extra_annotations={f"alb.ingress.kubernetes.io/{k}": a[f"alb.ingress.kubernetes.io/{k}"] for k in keep},
    )


__all__ = [
    "ALB_METRICS",
    "ALB_STATUS_ARGS",
    "ROLLOUTS_API",
    "analysis_template",
    "canary_ingress",
    "canary_service_name",
    "preview_ingress",
    "preview_service_name",
    "rollout",
    "rollout_services",
    "starting_step",
    "stable_service_name",
    "strategy",
]
