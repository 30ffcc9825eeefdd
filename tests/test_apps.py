"""Applications: manifests that fit together, secure defaults, ordering, secrets, errors."""

from __future__ import annotations

import dataclasses
import json

import kubernetes_validate
import pytest
import yaml

from slipway.cli.render import ROOT, kubernetes_objects, run_program, write_render
from slipway.components.app_jobs import migration_job_name
from slipway.components.app_manifests import config_checksum, deployment, secret_checksum, service
from slipway.components.app_spec import AppSpec, Image, Port, Resources, ServiceSpec
from slipway.program.config import ConfigError, parse_config_values
from slipway.program.stackfile import load_stack_file

from tests.conftest import stack_version

APPS = ("web", "api", "worker")


def manifests(result, kind: str) -> dict[str, dict]:
    return {
        m["metadata"]["name"]: m
        for path, m in kubernetes_objects(result.records).items()
        if not path.startswith("kubernetes/helm/") and m["kind"] == kind
    }


def workloads(result) -> dict[str, dict]:
    """What holds each app's pod template: its Deployment (a canary/blueGreen app's Rollout
    references it with workloadRef)."""
    return {**manifests(result, "Rollout"), **manifests(result, "Deployment")}


def record(result, kind: str, name: str):
    (r,) = [
        r for r in result.records if r.type.endswith(f":{kind}") and r.inputs.get("metadata", {}).get("name") == name
    ]
    return r


# ------------------------------------------------------------------ manifests fit together


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_every_app_manifest_passes_strict_schema_validation(stack, request):
    result = request.getfixturevalue(stack)
    version = stack_version(stack)
    checked = 0
    for path, m in kubernetes_objects(result.records).items():
        if path.startswith("kubernetes/helm/") or m["metadata"].get("namespace") not in APPS:
            continue
        if m["apiVersion"].startswith("argoproj.io/"):
            continue  # Rollouts and AnalysisTemplates: against their CRD in test_app_rollouts.py
        kubernetes_validate.validate(m, version, strict=True)
        checked += 1
    assert checked >= 15


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_selectors_match_template_labels(stack, request):
    result = request.getfixturevalue(stack)
    for name, d in workloads(result).items():
        if name not in APPS:
            continue
        pod_labels = d["spec"]["template"]["metadata"]["labels"]
        assert d["spec"]["selector"]["matchLabels"].items() <= pod_labels.items(), name
        svc = manifests(result, "Service").get(name)
        if svc:
            assert svc["spec"]["selector"].items() <= pod_labels.items(), name
        pdb = manifests(result, "PodDisruptionBudget").get(name)
        if pdb:
            assert pdb["spec"]["selector"]["matchLabels"].items() <= pod_labels.items(), name
            assert pdb["metadata"]["namespace"] == d["metadata"]["namespace"]


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_service_target_ports_are_container_ports(stack, request):
    result = request.getfixturevalue(stack)
    deployments = workloads(result)
    for name, svc in manifests(result, "Service").items():
        if name not in APPS:
            continue
        ports = deployments[name]["spec"]["template"]["spec"]["containers"][0]["ports"]
        for p in svc["spec"]["ports"]:
            assert p["targetPort"] in {c["name"] for c in ports} | {c["containerPort"] for c in ports}, name


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_ingress_backends_name_existing_services_and_ports(stack, request):
    result = request.getfixturevalue(stack)
    services = {(s["metadata"]["namespace"], n): s for n, s in manifests(result, "Service").items()}
    ingresses = {n: i for n, i in manifests(result, "Ingress").items() if n in APPS}  # argo-server's: test_addons
    assert set(ingresses) == {"web", "api"}
    for name, ing in ingresses.items():
        ns = ing["metadata"]["namespace"]
        for rule in ing["spec"]["rules"]:
            for path in rule["http"]["paths"]:
                backend = path["backend"]["service"]
                svc = services[(ns, backend["name"])]
                if backend["port"].get("name") == "use-annotation":  # a canary: the Rollout writes the action
                    alb = manifests(result, "Rollout")[name]["spec"]["strategy"]["canary"]["trafficRouting"]["alb"]
                    assert alb["rootService"] == backend["name"] and alb["ingress"] == name, name
                    assert alb["servicePort"] in {p["port"] for p in svc["spec"]["ports"]}, name
                    continue
                assert backend["port"]["number"] in {p["port"] for p in svc["spec"]["ports"]}, name


def test_hpa_and_pdb_target_the_right_objects(prod):
    hpas = manifests(prod, "HorizontalPodAutoscaler")
    assert set(hpas) == {"web", "api"}
    for name, hpa in hpas.items():
        target = {**manifests(prod, "Deployment"), **manifests(prod, "Rollout")}[name]  # a Rollout scales its pods
        assert hpa["spec"]["scaleTargetRef"] == {"apiVersion": target["apiVersion"], "kind": target["kind"],
                                                 "name": name}  # fmt: skip
        assert hpa["metadata"]["namespace"] == name
    assert {m["resource"]["name"] for m in hpas["api"]["spec"]["metrics"]} == {"cpu", "memory"}
    deployment_record = record(prod, "Rollout", "api")  # prod's api is a canary
    assert deployment_record.options.get("ignoreChanges") == ["spec.replicas"]  # the HPA owns replicas
    assert set(manifests(prod, "PodDisruptionBudget")) >= {"web", "api", "worker"}


# ------------------------------------------------------------------ routing, TLS, dev vs prod


def test_path_and_host_routing_in_one_alb_group(dev, prod):
    for result, scheme, cert in ((dev, "internal", False), (prod, "internet-facing", True)):
        ing = manifests(result, "Ingress")
        web, api = ing["web"], ing["api"]
        group = f"{result.outputs['clusterName']}-{scheme}"
        for i in (web, api):
            a = i["metadata"]["annotations"]
            assert a["alb.ingress.kubernetes.io/group.name"] == group
            assert a["alb.ingress.kubernetes.io/scheme"] == scheme
            assert a["alb.ingress.kubernetes.io/target-type"] == "ip"
            assert i["spec"]["ingressClassName"] == "alb"
            assert ("alb.ingress.kubernetes.io/certificate-arn" in a) is cert
            if cert:
                assert a["alb.ingress.kubernetes.io/ssl-redirect"] == "443"
                assert json.loads(a["alb.ingress.kubernetes.io/listen-ports"]) == [{"HTTP": 80}, {"HTTPS": 443}]
        assert api["spec"]["rules"][0]["http"]["paths"][0]["path"] == "/api"
        assert web["spec"]["rules"][0]["http"]["paths"][0]["path"] == "/"
        # The catch-all "/" is evaluated after the specific paths of the group.
        assert int(web["metadata"]["annotations"]["alb.ingress.kubernetes.io/group.order"]) > int(
            api["metadata"]["annotations"]["alb.ingress.kubernetes.io/group.order"]
        )
        assert api["metadata"]["annotations"]["alb.ingress.kubernetes.io/healthcheck-path"] == "/ready"
    assert manifests(dev, "Ingress")["api"]["spec"]["rules"][0]["host"] == "api.dev.example.com"
    assert manifests(prod, "Ingress")["api"]["spec"]["rules"][0]["host"] == "api.example.com"
    assert prod.outputs["ingressHosts"] == {"api": ["api.example.com"], "web": ["www.example.com"]}


def test_dev_and_prod_differ_as_a_team_would(dev, prod):
    d, p = workloads(dev), workloads(prod)
    assert d["web"]["spec"]["replicas"] == 1 and p["web"]["spec"]["replicas"] == 3
    assert not manifests(dev, "HorizontalPodAutoscaler") and manifests(prod, "HorizontalPodAutoscaler")


def test_apps_with_an_ingress_depend_on_the_controller_release(dev, prod):
    for result in (dev, prod):
        (release,) = [r for r in result.by_type("kubernetes:helm.sh/v3:Release") if r.inputs["chart"] ==
                      "aws-load-balancer-controller"]  # fmt: skip
        for name in ("web", "api"):
            assert release.urn in record(result, "Ingress", name).dependencies, name
            assert release.urn in record(result, "Service", name).dependencies, name


# ------------------------------------------------------------------ pods


def test_secure_defaults(prod):
    for name in APPS:
        spec = workloads(prod)[name]["spec"]["template"]["spec"]
        assert spec["securityContext"]["runAsNonRoot"] is True
        assert spec["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
        c = spec["containers"][0]
        assert c["securityContext"]["readOnlyRootFilesystem"] is True
        assert c["securityContext"]["allowPrivilegeEscalation"] is False
        assert c["securityContext"]["capabilities"] == {"drop": ["ALL"]}
        assert {"name": "tmp", "mountPath": "/tmp"} in c["volumeMounts"]
        assert "cpu" in c["resources"]["requests"] and "memory" in c["resources"]["limits"]
        assert "cpu" not in c["resources"].get("limits", {})  # no CPU throttling by default
        assert "latest" not in c["image"] and c["image"].count(":") == 1
        zones = [t["topologyKey"] for t in spec["topologySpreadConstraints"]]
        assert "topology.kubernetes.io/zone" in zones
        labels = workloads(prod)[name]["metadata"]["labels"]
        assert {"app.kubernetes.io/name", "app.kubernetes.io/version", "app.kubernetes.io/managed-by"} <= set(labels)


def test_config_and_secrets_as_environment(prod):
    c = workloads(prod)["api"]["spec"]["template"]["spec"]["containers"][0]
    assert c["envFrom"] == [{"configMapRef": {"name": "api-config"}}, {"secretRef": {"name": "api-secrets"}}]
    assert manifests(prod, "ConfigMap")["api-config"]["data"] == {"DATABASE_HOST": "api-db.prod.internal",
                                                                  "LOG_LEVEL": "info"}  # fmt: skip
    assert manifests(prod, "Secret")["api-secrets"]["stringData"] == {"DATABASE_PASSWORD": "[secret]"}


def test_probes_and_rollout_tuning(prod):
    d = workloads(prod)["api"]
    c = d["spec"]["template"]["spec"]["containers"][0]
    assert c["readinessProbe"]["httpGet"] == {"path": "/ready", "port": "http"}
    assert c["startupProbe"]["failureThreshold"] == 30
    canary = manifests(prod, "Rollout")["api"]["spec"]["strategy"]["canary"]  # prod's api is a canary
    assert (canary["maxSurge"], canary["maxUnavailable"]) == (1, 0)
    web = manifests(prod, "Deployment")["web"]
    assert web["spec"]["strategy"] == {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%",
                                                                                  "maxUnavailable": 0}}  # fmt: skip
    assert d["spec"]["minReadySeconds"] == 10 and d["spec"]["progressDeadlineSeconds"] == 600
    worker = manifests(prod, "Deployment")["worker"]["spec"]["template"]["spec"]["containers"][0]
    assert worker["livenessProbe"]["exec"] == {"command": ["/app/healthcheck"]}


def test_cronjob(prod):
    cj = manifests(prod, "CronJob")["worker-nightly-report"]
    assert cj["spec"]["schedule"] == "0 3 * * *" and cj["spec"]["concurrencyPolicy"] == "Forbid"
    assert cj["spec"]["timeZone"] == "Etc/UTC"
    assert (cj["spec"]["successfulJobsHistoryLimit"], cj["spec"]["failedJobsHistoryLimit"]) == (3, 3)
    c = cj["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]
    assert c["command"] == ["/app/report"] and c["args"] == ["--since", "24h"]
    assert c["image"].endswith("/slipway-prod/worker:1.8.3")


def test_migration_runs_before_each_new_tag(prod):
    job_name = migration_job_name("worker", "1.8.3")
    job = manifests(prod, "Job")[job_name]
    assert job["spec"]["template"]["spec"]["containers"][0]["command"] == ["/app/migrate", "up"]
    assert job["spec"]["template"]["spec"]["restartPolicy"] == "Never"
    assert record(prod, "Job", job_name).urn in record(prod, "Deployment", "worker").dependencies
    assert migration_job_name("worker", "1.8.4") != job_name  # a new tag is a new Job: it runs again


SPEC = AppSpec(
    image=Image(repository="registry.example.com/api", tag="1"),
    resources=Resources(requests={"cpu": "1", "memory": "1Gi"}, limits={"memory": "1Gi"}),
)


def test_a_config_change_rolls_the_pods():
    a = dataclasses.replace(SPEC, config={"A": "1"})
    b = dataclasses.replace(SPEC, config={"A": "2"})
    assert config_checksum(a.config) != config_checksum(b.config)
    assert secret_checksum("api", {"X": "1"}) != secret_checksum("api", {"X": "2"})
    dep = deployment("api", "api", a, part_of="p", service_account=None,
                     checksums={"slipway.dev/config-checksum": config_checksum(a.config)})  # fmt: skip
    assert dep["spec"]["template"]["metadata"]["annotations"]["slipway.dev/config-checksum"] == config_checksum(
        a.config
    )
    assert dep["spec"]["template"]["spec"]["containers"][0]["image"] == "registry.example.com/api:1"


def test_rendered_deployments_carry_their_checksums(prod):
    """The wiring in App: the config checksum of the app's own config, a secret checksum
    (kept secret) exactly for apps with secrets."""
    cfg = load_stack_file("prod", ROOT).parse()
    for name, app in cfg.apps.items():
        # A canary's pod template is its Deployment's too (the Rollout references it).
        ann = record(prod, "Deployment", name).inputs["spec"]["template"]["metadata"].get("annotations") or {}
        assert ann.get("slipway.dev/config-checksum") == (config_checksum(app.config) if app.config else None), name
        assert ann.get("slipway.dev/secret-checksum") == ("[secret]" if app.secrets else None), name
    assert any(app.secrets for app in cfg.apps.values()) and any(app.config for app in cfg.apps.values())


def test_service_types():
    base = dataclasses.replace(SPEC, ports=[Port(name="http", container_port=8080)])
    cluster_ip = service("a", "a", base, part_of="p")
    assert cluster_ip["spec"]["type"] == "ClusterIP" and cluster_ip["spec"]["ports"][0]["targetPort"] == "http"
    node = service("a", "a", dataclasses.replace(base, service=ServiceSpec(type="NodePort", node_port=30080)),
                   part_of="p")  # fmt: skip
    assert node["spec"]["ports"][0]["nodePort"] == 30080
    lb = service("a", "a", dataclasses.replace(base, service=ServiceSpec(type="LoadBalancer", scheme="internet-facing",
                 external_traffic_policy="Local")), part_of="p")  # fmt: skip
    ann = lb["metadata"]["annotations"]
    assert ann["service.beta.kubernetes.io/aws-load-balancer-type"] == "external"
    assert ann["service.beta.kubernetes.io/aws-load-balancer-nlb-target-type"] == "ip"
    assert ann["service.beta.kubernetes.io/aws-load-balancer-scheme"] == "internet-facing"
    assert lb["spec"]["loadBalancerClass"] == "service.k8s.aws/nlb"
    assert lb["spec"]["externalTrafficPolicy"] == "Local"
    kubernetes_validate.validate(lb, "1.34", strict=True)


def test_workload_role_for_the_app(prod):
    sa = manifests(prod, "ServiceAccount")["api"]
    role = next(r for r in prod.by_type("aws:iam/role:Role") if r.name == "api-irsa-role")
    assert sa["metadata"]["annotations"]["eks.amazonaws.com/role-arn"] == role.state["arn"]
    assert workloads(prod)["api"]["spec"]["template"]["spec"]["serviceAccountName"] == "api"


# ------------------------------------------------------------------ secrets never in clear


def test_secret_values_never_appear_in_the_render(tmp_path):
    stack = load_stack_file("prod", ROOT)
    clear = "Tr0ub4dor-and-3-clear-test-value"
    stack.values = stack.values | {"slipway:apiDatabasePassword": clear}
    result = write_render(stack, run_program(stack), tmp_path / "out")
    text = "\n".join(p.read_text() for p in result.out_dir.rglob("*") if p.is_file())
    assert clear not in text
    secret = yaml.safe_load((result.out_dir / "kubernetes/api/secret-api-secrets.yaml").read_text())
    assert secret["stringData"] == {"DATABASE_PASSWORD": "[secret]"}


# ------------------------------------------------------------------ config errors

APP = {
    "image": {"repository": "api", "tag": "2.7.0"},
    "ports": [{"name": "http", "containerPort": 8000}],
    "resources": {"requests": {"cpu": "250m", "memory": "256Mi"}, "limits": {"memory": "512Mi"}},
    "probes": {"readiness": {"httpGet": {"path": "/ready", "port": "http"}}},
}


def errors(apps: dict, **extra) -> list[str]:
    with pytest.raises(ConfigError) as exc:
        parse_config_values({"apps": apps, **extra}, region="us-east-1", secret_keys=extra.pop("_secret", []))
    return exc.value.messages


def test_the_example_app_is_valid():
    parse_config_values({"apps": {"api": APP}}, region="us-east-1")


@pytest.mark.parametrize(
    "patch, expected",
    [
        ({"image": {"repository": "api", "tag": "latest"}},
         "apps.api.image.tag: 'latest' is empty or `latest`"),
        ({"image": {"repository": "api", "tag": ""}}, "apps.api.image.tag: '' (empty) is empty or `latest`"),
        ({"ports": [{"name": "http", "containerPort": 70000}]},
         "apps.api.ports[0].containerPort: 70000 is out of range — use a value ≤ 65535"),
        ({"resources": {"requests": {"cpu": "2", "memory": "1Gi"}, "limits": {"memory": "512Mi", "cpu": "1"}}},
         "apps.api.resources.requests.cpu: '2' is above the limit 1 — lower the request or raise the limit"),
        ({"resources": {"requests": {"cpu": "250m"}, "limits": {"memory": "512Mi"}}},
         "apps.api.resources.requests.memory: null is missing"),
        ({"probes": {"readiness": {"httpGet": {"path": "ready", "port": "http"}}}},
         "apps.api.probes.readiness.httpGet.path: 'ready' does not start with '/' — write /ready"),
        ({"probes": {"readiness": {"httpGet": {"path": "/ready", "port": "metrics"}}}},
         "apps.api.probes.readiness.httpGet.port: 'metrics' is not one of the app's ports"),
        ({"autoscaling": {"minReplicas": 5, "maxReplicas": 2}},
         "apps.api.autoscaling.minReplicas: 5 is above maxReplicas 2"),
        ({"resources": {"requests": {"cpu": "250m", "memory": "256Mi"}, "limits": {"memory": "512Mi"}},
          "autoscaling": {"targetCpuUtilization": None, "targetMemoryUtilization": 80}}, None),
        ({"ingress": {"enabled": True, "hosts": ["API.example.com"]}},
         "apps.api.ingress.hosts[0]: 'API.example.com' is not a valid host name"),
        ({"ingress": {"enabled": True, "scheme": "internet-facing"}},
         "apps.api.ingress.certificateArn: null is missing on an internet-facing ALB"),
        ({"cronJobs": [{"name": "r", "schedule": "every day", "command": ["x"]}]},
         "apps.api.cronJobs[0].schedule: 'every day' is not a cron schedule"),
        ({"service": {"type": "ClusterIP", "targetPort": "grpc"}},
         "apps.api.service.targetPort: 'grpc' is not one of the app's ports"),
        ({"image": "api:2.7.0"},
         "apps.api.image: 'api:2.7.0' is not a mapping (key: value lines) — write it as a mapping with keys "
         "repository, tag"),
        ({"replica": 3}, "apps.api.replica: unknown key — remove it (did you mean 'replicas'?)"),
    ],
)  # fmt: skip
def test_app_config_errors(patch, expected):
    app = {**APP, **patch}
    if expected is None:
        parse_config_values({"apps": {"api": app}}, region="us-east-1")
        return
    msgs = errors({"api": app})
    assert any(m.startswith(expected) for m in msgs), msgs


def test_hpa_needs_requests_for_its_target():
    app = {**APP, "autoscaling": {"targetMemoryUtilization": 80, "targetCpuUtilization": None}}
    app["resources"] = {"requests": {"cpu": "250m"}, "limits": {"memory": "512Mi"}}
    assert any(m.startswith("apps.api.autoscaling.targetMemoryUtilization: 80 needs a memory request")
               for m in errors({"api": app}))  # fmt: skip


def test_names_must_be_dns_1123():
    msgs = errors({"API_Server": APP})
    assert any(m.startswith("apps.API_Server: 'API_Server' is not an app name") for m in msgs)


def test_conflicting_group_annotations_and_routes():
    cert = "arn:aws:acm:us-east-1:123456789012:certificate/7c1e2d3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f"
    web = {**APP, "ingress": {"enabled": True, "group": "shared", "scheme": "internal", "paths": ["/"]}}
    api = {**APP, "ingress": {"enabled": True, "group": "shared", "scheme": "internet-facing",
                              "certificateArn": cert, "paths": ["/"]}}  # fmt: skip
    text = "\n".join(errors({"web": web, "api": api}))
    assert 'ingress.scheme: ["internal", "internet-facing"] differs within ALB group shared' in text
    assert "one mismatching Ingress blocks the whole group" in text
    assert "is set on some apps of ALB group shared but not others" in text
    assert "apps.api.ingress.paths: '/' on host * is already routed to web in ALB group shared" in text


def test_secrets_never_in_plain_config_and_never_echoed():
    app = {**APP, "secrets": {"DATABASE_PASSWORD": "hunter2 is my password"}}
    msgs = errors({"api": app})
    text = "\n".join(msgs)
    assert "apps.api.secrets.DATABASE_PASSWORD: '(value hidden)' is not the name of a config key" in text
    assert "hunter2" not in text
    plain = {**APP, "secrets": {"DATABASE_PASSWORD": "dbPassword"}}
    (msg,) = [m for m in errors({"api": plain}, dbPassword="x") if "secrets" in m]
    assert "names slipway:dbPassword, which is stored in plain text" in msg
    (msg,) = [m for m in errors({"api": plain}) if "secrets" in m]
    # The key's name is not secret (only its value is): the message names it, and the command.
    assert msg == (
        "apps.api.secrets.DATABASE_PASSWORD: 'dbPassword' names slipway:dbPassword, which is not set — "
        "run `pulumi config set --secret slipway:dbPassword <value>`"
    )
    parse_config_values({"apps": {"api": plain}, "dbPassword": "x"}, region="us-east-1",
                        secret_keys=["slipway:dbPassword"])  # fmt: skip


def test_unknown_pool():
    msgs = errors({"api": {**APP, "nodePool": "gpu"}})
    assert any(m.startswith("apps.api.nodePool: 'gpu' is not a pool in nodePools") for m in msgs)


def test_apps_feed_the_capacity_planner():
    from slipway.program.capacity import plan_cluster

    many = {f"svc{i}": {**APP, "replicas": 4} for i in range(6)}
    cfg = parse_config_values({"apps": many}, region="us-east-1")
    plan = plan_cluster(cfg, "us-east-1")
    names = {w.name for w in plan.pools["general"].demand.workloads}
    assert {f"svc{i}" for i in range(6)} <= names
    small = parse_config_values({"apps": {"svc0": APP}}, region="us-east-1")
    assert plan.pools["general"].plan.monthly_usd > plan_cluster(small, "us-east-1").pools["general"].plan.monthly_usd


@pytest.mark.parametrize(
    "strategy, expected",
    [({"maxSurge": 0, "maxUnavailable": 0}, "apps.api.strategy.maxUnavailable: 0 is 0 while maxSurge is 0"),
     ({"maxSurge": "abc"}, "apps.api.strategy.maxSurge: 'abc' is not a pod count or a percentage"),
     ({"maxSurge": "150%"}, "apps.api.strategy.maxSurge: '150%' is not a pod count or a percentage")],
)  # fmt: skip
def test_rollout_strategy_errors(strategy, expected):
    msgs = errors({"api": {**APP, "strategy": strategy}})
    assert any(m.startswith(expected) for m in msgs), msgs


def test_app_names_name_services_and_cronjobs_fit():
    assert any(m.startswith("apps.1api: '1api' is not an app name (a DNS-1035 label") for m in errors({"1api": APP}))
    job = {"name": "a-very-long-nightly-report-job-name-x", "schedule": "@daily", "command": ["x"]}
    msgs = errors({"api-with-a-rather-long-name": {**APP, "cronJobs": [job]}})
    assert any("longer than the 52 characters Kubernetes allows" in m for m in msgs)


def test_job_pods_stay_out_of_the_apps_selectors(prod):
    selector = manifests(prod, "Deployment")["worker"]["spec"]["selector"]["matchLabels"]
    cron = manifests(prod, "CronJob")["worker-nightly-report"]["spec"]["jobTemplate"]["spec"]["template"]
    job = manifests(prod, "Job")[migration_job_name("worker", "1.8.3")]["spec"]["template"]
    for pod_labels in (cron["metadata"]["labels"], job["metadata"]["labels"]):
        assert not selector.items() <= pod_labels.items()  # the Service/PDB/HPA never pick them up


def test_cron_and_migration_pods_are_planned_next_to_the_replicas():
    from slipway.program.capacity import app_workloads

    app = {**APP, "replicas": 3,
           "cronJobs": [{"name": "report", "schedule": "0 3 * * *", "command": ["report"]}],
           "migration": {"command": ["migrate"]}}  # fmt: skip
    (pods,) = app_workloads(parse_config_values({"apps": {"api": app}}, region="us-east-1")).values()
    assert [(w.name, w.replicas, w.cpu_m, w.memory_mib) for w in pods] == [
        ("api", 3, 250, 256), ("api-report", 1, 250, 256), ("api-migrate", 1, 250, 256)]  # fmt: skip
    scaled_to_zero = {**app, "replicas": 0}
    (pods,) = app_workloads(parse_config_values({"apps": {"api": scaled_to_zero}}, region="us-east-1")).values()
    assert [w.name for w in pods] == ["api-report", "api-migrate"]  # the jobs still need room


CERT = "arn:aws:acm:us-east-1:123456789012:certificate/7c1e2d3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f"


def test_argo_server_ingress_joins_its_alb_group_checks():
    web = {**APP, "ingress": {"enabled": True, "certificateArn": CERT}}
    argo = {"enabled": True, "ingress": {"enabled": True}}  # same group (<cluster>-internal), no host, no TLS
    msgs = errors({"web": web}, argo=argo)
    assert any(
        m.startswith(
            "apps.web.ingress.certificateArn: null is set on some apps of ALB group slipway-stack-"
            "internal but not others (web HTTPS, argo.ingress HTTP only)"
        )
        for m in msgs
    ), msgs
    assert any(m.startswith("argo.ingress.host: null on host * is already routed to web") for m in msgs), msgs
    fine = {"enabled": True, "ingress": {"enabled": True, "host": "argo.internal.example.com", "certificateArn": CERT}}
    parse_config_values({"apps": {"web": web}, "argo": fine}, region="us-east-1")


# ------------------------------------------------------------------ the spec is a library type


def test_an_app_composed_from_the_library_alone(mocked):
    """No stack config: an AppSpec built in Python, secrets as values, a typed placement."""
    import pulumi
    import pulumi_kubernetes as k8s

    from slipway.components.app import App, AppArgs
    from slipway.components.app_spec import CronJobSpec, HttpGet, IngressSpec, Probe, Probes
    from slipway.components.spec import Placement, Toleration

    spec = dataclasses.replace(
        SPEC,
        image=Image(repository=pulumi.Output.from_input("123456789012.dkr.ecr.us-east-1.amazonaws.com/api"), tag="3"),
        ports=[Port(container_port=8000)],
        probes=Probes(readiness=Probe(handler=HttpGet(path="/ready"))),
        secrets={"DATABASE_PASSWORD": "plain-value-made-secret", "TOKEN": pulumi.Output.secret("t")},
        placement=Placement(
            node_selector={"slipway.dev/pool": "apps"},
            tolerations=[
                Toleration.for_taint("dedicated", "apps", "NoSchedule"),
                Toleration(key="spot", operator="Exists"),
            ],
        ),  # fmt: skip
        ingress=IngressSpec(hosts=["api.example.com"]),
        cron_jobs={"report": CronJobSpec(schedule="@daily", command=["/app/report"])},
    )

    def program():
        provider = k8s.Provider("k8s", kubeconfig="{}")
        App("api", AppArgs(spec=spec, namespace="api", part_of="demo", cluster_name="demo", k8s_provider=provider))

    mocked.build(program)
    (secret,) = mocked.of_type("kubernetes:core/v1:Secret")
    assert secret.inputs["stringData"] == {"DATABASE_PASSWORD": "[secret]", "TOKEN": "[secret]"}
    (dep,) = mocked.of_type("kubernetes:apps/v1:Deployment")
    pod = dep.inputs["spec"]["template"]["spec"]
    assert pod["nodeSelector"] == {"slipway.dev/pool": "apps"}
    assert pod["tolerations"] == [
        {"key": "dedicated", "operator": "Equal", "value": "apps", "effect": "NoSchedule"},
        {"key": "spot", "operator": "Exists"},
    ]
    assert pod["containers"][0]["image"] == "123456789012.dkr.ecr.us-east-1.amazonaws.com/api:3"
    assert dep.inputs["spec"]["template"]["metadata"]["annotations"]["slipway.dev/secret-checksum"] == "[secret]"
    (cron,) = mocked.of_type("kubernetes:batch/v1:CronJob")
    assert cron.name == "api-report-cron" and cron.inputs["metadata"]["name"] == "api-report"
    (ing,) = mocked.of_type("kubernetes:networking.k8s.io/v1:Ingress")
    assert ing.inputs["metadata"]["annotations"]["alb.ingress.kubernetes.io/group.name"] == "demo-internal"


def test_the_stack_config_builds_the_library_spec():
    """slipway.program.config.app_spec maps a parsed stack file onto AppSpec, field by field."""
    from slipway.components.app_spec import DisruptionBudgetSpec, Exec, HttpGet
    from slipway.components.app_validation import app_spec_issues
    from slipway.components.spec import Placement, Toleration
    from slipway.program.config.app_spec import app_spec

    cfg = load_stack_file("prod", ROOT).parse()
    placement = Placement.from_k8s({"slipway.dev/pool": "general"}, [{"key": "a", "operator": "Exists"}])
    assert placement.tolerations == (Toleration(key="a", operator="Exists"),)
    specs = {
        name: app_spec(app, repository_url=f"ecr/{name}", secrets={e: "s" for e in app.secrets}, placement=placement)
        for name, app in cfg.apps.items()
    }
    for spec in specs.values():
        assert app_spec_issues(spec) == []  # what the config accepts, the library accepts
    api, worker, web = specs["api"], specs["worker"], specs["web"]
    assert api.secrets == {"DATABASE_PASSWORD": "s"} and api.image == Image(repository="ecr/api", tag="2.7.0")
    assert api.probes.readiness.handler == HttpGet(path="/ready", port="http")
    assert api.ingress.hosts == ("api.example.com",) and web.ingress.paths == ("/",)
    assert worker.ingress is None and worker.probes.liveness.handler == Exec(command=("/app/healthcheck",))
    assert list(worker.cron_jobs) == ["nightly-report"] and worker.migration.active_deadline_seconds == 1800
    assert api.disruption_budget == DisruptionBudgetSpec(max_unavailable=1)
    assert api.resources.requests == {"cpu": "500m", "memory": "1Gi"}
    assert api.steady_replicas == cfg.apps["api"].steady_replicas == 3


def test_rules_the_library_enforces_are_config_errors_too():
    """What App would refuse is refused at config time, in the stack file's words (a stack
    that passed config and then failed inside App would surprise `pulumi up` half way)."""
    live = {**APP, "probes": {**APP["probes"], "liveness": {"tcpSocket": {"port": "http"}, "successThreshold": 2}}}
    assert errors({"api": live}) == [
        "apps.api.probes.liveness.successThreshold: 2 is not 1 (Kubernetes requires 1 for a liveness probe) — "
        "remove it (default 1)"
    ]
    slow = {**APP, "strategy": {"minReadySeconds": 600, "progressDeadlineSeconds": 300}}
    assert errors({"api": slow}) == [
        "apps.api.strategy.progressDeadlineSeconds: 300 is not above minReadySeconds 600 (Kubernetes rejects it) — "
        "raise progressDeadlineSeconds above 600, or lower minReadySeconds"
    ]
