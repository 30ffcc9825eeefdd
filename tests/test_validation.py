"""Components check their own inputs: exact messages, every problem at once, nothing registered.

Each message reads `<field path>: <bad value> <problem> — <fix>`, like the stack-config
errors (tests/test_config.py), with the Args' own snake_case paths.
"""

from __future__ import annotations

import dataclasses

import pulumi
import pytest

from slipway.components.app import (
    App,
    AppArgs,
    AppSpec,
    CronJobSpec,
    Exec,
    HttpGet,
    Image,
    IngressSpec,
    Port,
    Probe,
    Probes,
    Resources,
    ServiceAccountSpec,
    Strategy,
)
from slipway.components.app_validation import app_args_issues, app_spec_issues
from slipway.components.cluster import EksCluster, EksClusterArgs, NodePoolArgs, eks_cluster_issues
from slipway.components.node_pools import create_node_pool, node_pool_issues
from slipway.components.spec import Placement, Toleration
from slipway.components.validation import ArgsError, Issue, require_valid
from slipway.program.config.app_spec import app_spec
from slipway.program.config.apps import AppConfig

# ------------------------------------------------------------------ the mechanism


def test_args_error_lists_every_issue_in_the_house_style():
    with pytest.raises(ArgsError) as exc:
        require_valid(
            "App 'api'",
            [
                Issue("spec.replicas", -1, "is out of range", "use a value ≥ 0"),
                Issue("spec.image.tag", "", "is not an image tag", "write e.g. '1.4.3'"),
            ],
        )
    assert str(exc.value) == (
        "2 input errors in App 'api':\n"
        "  - spec.replicas: -1 is out of range — use a value ≥ 0\n"
        "  - spec.image.tag: '' (empty) is not an image tag — write e.g. '1.4.3'"
    )
    assert exc.value.messages == [
        "spec.replicas: -1 is out of range — use a value ≥ 0",
        "spec.image.tag: '' (empty) is not an image tag — write e.g. '1.4.3'",
    ]
    assert isinstance(exc.value, ValueError)
    require_valid("App 'api'", [])  # nothing to report: no error


# ------------------------------------------------------------------ node pools and the cluster

POOL = NodePoolArgs(instance_types=["t3a.medium"], min_size=1, desired_size=2, max_size=3)


@pytest.mark.parametrize(
    "change, expected",
    [
        ({"taints": [{"key": "dedicated", "value": "argo", "effect": "NoSchedulee"}]},
         "taints[0].effect: 'NoSchedulee' is not a taint effect — did you mean 'NoSchedule'? "
         "(allowed: NoSchedule, PreferNoSchedule, NoExecute)"),
        ({"taints": [{"key": "dedicated"}]},
         "taints[0].effect: None is not a taint effect — use one of NoSchedule, PreferNoSchedule, NoExecute"),
        ({"instance_types": "t3a.medium"},
         "instance_types: 't3a.medium' is a string, not a list of strings — write ['t3a.medium']"),
        ({"instance_types": []}, "instance_types: [] is empty — give at least one, e.g. ['t3a.medium']"),
        ({"instance_types": ["t3a medium"]},
         "instance_types[0]: 't3a medium' is not an EC2 instance type — write it like t3a.medium"),
        ({"min_size": 3, "desired_size": 2},
         "desired_size: 2 is outside min_size 3 .. max_size 3 — keep min_size ≤ desired_size ≤ max_size"),
        ({"max_size": 0}, "max_size: 0 is out of range — use a value ≥ 1"),
        ({"capacity_type": "spot"},
         "capacity_type: 'spot' is not a capacity type — did you mean 'SPOT'? (allowed: ON_DEMAND, SPOT)"),
        ({"metadata_hop_limit": 0}, "metadata_hop_limit: 0 is out of range — use a value ≥ 1"),
        ({"version": "1.34.2"},
         "version: '1.34.2' is not a Kubernetes minor version — write it like '1.34', or None to follow the cluster"),
        ({"disk_size": "20"}, "disk_size: '20' is not a whole number — pass an int"),
    ],
)  # fmt: skip
def test_node_pool_errors(change, expected):
    assert [str(i) for i in node_pool_issues(dataclasses.replace(POOL, **change))] == [expected]


def test_a_valid_pool_has_no_issues():
    assert node_pool_issues(POOL) == []
    tainted = dataclasses.replace(POOL, taints=[{"key": "CriticalAddonsOnly", "value": "", "effect": "NoSchedule"}])
    assert node_pool_issues(tainted) == []


def test_create_node_pool_checks_its_pool_before_anything():
    bad = dataclasses.replace(POOL, taints=[{"key": "gpu", "effect": "NoSchedulee"}])
    with pytest.raises(ArgsError) as exc:
        create_node_pool(None, "c-gpu", "gpu", bad, None)  # type: ignore[arg-type] - never reached
    assert str(exc.value).startswith("1 input error in node pool 'gpu':\n  - taints[0].effect: 'NoSchedulee'")


def cluster_args(**changes) -> EksClusterArgs:
    args = EksClusterArgs(
        cluster_name="demo",
        version="1.34",
        vpc_id="vpc-123",
        private_subnet_ids={"us-east-1a": "subnet-a", "us-east-1b": "subnet-b"},
        public_subnet_ids={"us-east-1a": "subnet-pa", "us-east-1b": "subnet-pb"},
        node_pools={"general": POOL},
    )
    return dataclasses.replace(args, **changes)


def test_the_cluster_reports_every_mistake_and_registers_nothing(mocked):
    bad_pool = dataclasses.replace(
        POOL, instance_types="t3a.medium", taints=[{"key": "dedicated", "value": "argo", "effect": "NoSchedulee"}]
    )
    args = cluster_args(
        private_subnet_ids=["subnet-a", "subnet-b"],
        node_pools={"general": POOL, "argo": bad_pool},
        public_access_cidrs=["10.0.0.1/16"],
        addon_versions={"core-dns": "v1.11.4-eksbuild.2"},
        key_deletion_window_days=3,
    )
    with pytest.raises(ArgsError) as exc:
        mocked.build(lambda: EksCluster("c", args))
    assert exc.value.messages == [
        "private_subnet_ids: ['subnet-a', 'subnet-b'] is not a mapping of AZ → subnet id — key each subnet by its AZ",
        "node_pools.argo.instance_types: 't3a.medium' is a string, not a list of strings — write ['t3a.medium']",
        "node_pools.argo.taints[0].effect: 'NoSchedulee' is not a taint effect — did you mean 'NoSchedule'? "
        "(allowed: NoSchedule, PreferNoSchedule, NoExecute)",
        "public_access_cidrs[0]: '10.0.0.1/16' has host bits set — write its network, '10.0.0.0/16'",
        "key_deletion_window_days: 3 is out of range — use a value ≥ 7",
        "addon_versions.core-dns: 'core-dns' is not an add-on slipway manages — did you mean 'coredns'? "
        "(allowed: coredns, kube-proxy, vpc-cni)",
    ]
    assert str(exc.value).startswith("6 input errors in EksCluster 'c':\n  - private_subnet_ids:")
    assert mocked.records == []  # not even the component itself


@pytest.mark.parametrize(
    "change, expected",
    [
        ({"cluster_name": "demo cluster"}, "cluster_name: 'demo cluster' is not an EKS cluster name — use ≤ 100 "
         "letters, digits, '-' and '_', starting with a letter or digit"),
        ({"version": 1.34}, "version: 1.34 is not a Kubernetes minor — write e.g. '1.34'"),
        ({"private_subnet_ids": {"us-east-1a": "subnet-a"}},
         "private_subnet_ids: {'us-east-1a': 'subnet-a'} spans fewer than two AZs — pass a private subnet in each "
         "of two AZs or more"),
        ({"node_pools": {"GPU": POOL}},
         "node_pools.GPU: 'GPU' is not a pool name (DNS-1123 label) — use lowercase letters, digits and '-'"),
        ({"node_pools": {"gpu": {"instance_types": ["g5.xlarge"]}}},
         "node_pools.gpu: {'instance_types': ['g5.xlarge']} is not a NodePoolArgs — pass "
         "NodePoolArgs(instance_types=[...], ...)"),
        ({"authentication_mode": "CONFIGMAP"}, "authentication_mode: 'CONFIGMAP' is not an EKS authentication mode — "
         "did you mean 'CONFIG_MAP'? (allowed: API, API_AND_CONFIG_MAP, CONFIG_MAP)"),
        ({"api_private_cidrs": "10.0.0.0/8"},
         "api_private_cidrs: '10.0.0.0/8' is a string, not a list of strings — write ['10.0.0.0/8']"),
        ({"api_private_cidrs": ["10.0.0.0/33"]},
         "api_private_cidrs[0]: '10.0.0.0/33' is not a CIDR block — write one like '203.0.113.0/24'"),
    ],
)  # fmt: skip
def test_cluster_errors(change, expected):
    assert [str(i) for i in eks_cluster_issues(cluster_args(**change))] == [expected]


def test_a_valid_cluster_has_no_issues():
    assert eks_cluster_issues(cluster_args()) == []


# ------------------------------------------------------------------ App

SPEC = AppSpec(
    image=Image(repository="ghcr.io/example/api", tag="2.7.0"),
    resources=Resources(requests={"cpu": "250m", "memory": "256Mi"}, limits={"memory": "512Mi"}),
    ports=[Port(name="http", container_port=8000)],
    probes=Probes(readiness=Probe(handler=HttpGet(path="/ready"))),
)


def spec_errors(**changes) -> list[str]:
    return [str(i) for i in app_spec_issues(dataclasses.replace(SPEC, **changes))]


def test_a_valid_spec_has_no_issues():
    assert app_spec_issues(SPEC) == []


@pytest.mark.parametrize(
    "change, expected",
    [
        ({"replicas": -1}, "replicas: -1 is out of range — use a value ≥ 0"),
        ({"secrets": {"DATABASE_PASSWORD": None}},
         "secrets.DATABASE_PASSWORD: None has no value — pass the secret's value, e.g. "
         "pulumi.Config().require_secret('<key>'), or remove the entry"),
        ({"probes": Probes(readiness=Probe(handler=HttpGet(path="/ready", port="metrics")))},
         "probes.readiness.handler.port: 'metrics' is not one of the app's ports — use a name or number from ports"),
        ({"probes": Probes(readiness=Probe(handler=HttpGet(path="/ready")),
                           liveness=Probe(handler=HttpGet(path="ready")))},
         "probes.liveness.handler.path: 'ready' does not start with '/' — write /ready"),
        ({"probes": Probes(readiness=Probe(handler=HttpGet(path="/ready")),
                           liveness=Probe(handler=Exec(command="/app/check")))},
         "probes.liveness.handler.command: '/app/check' is a string, not a list of strings — write ['/app/check']"),
        ({"ports": [Port(name="HTTP", container_port=8000)], "probes": Probes()},
         "ports[0].name: 'HTTP' is not a port name (IANA_SVC_NAME: ≤ 15 lowercase letters, digits, '-') — use a "
         "name such as http or grpc"),
        ({"ports": Port(container_port=8000), "probes": Probes()},
         "ports: Port(container_port=8000, name='http', protocol='TCP') is not a list of Port — pass "
         "ports=[Port(name='http', container_port=8080)]"),
        ({"resources": Resources(requests={"cpu": "2", "memory": "1Gi"}, limits={"memory": "2Gi", "cpu": "1"})},
         "resources.requests.cpu: '2' is above the limit 1 — lower the request or raise the limit"),
        ({"resources": Resources(requests={"cpu": "250m"}, limits={"memory": "512Mi"})},
         "resources.requests.memory: None is missing (the scheduler and the capacity planner place pods by "
         "requests) — add a memory request, e.g. 256Mi"),
        ({"resources": Resources(requests={"cpu": "250m", "memory": "256MB"}, limits={"memory": "512Mi"})},
         "resources.requests.memory: '256MB' is not a memory quantity — write it like 256Mi"),
        ({"image": Image(repository="ghcr.io/example/api:2.7.0", tag="2.7.0")},
         "image.repository: 'ghcr.io/example/api:2.7.0' is not a repository without a tag — pass the repository "
         "alone (e.g. 'ghcr.io/org/app') and the version in image.tag"),
        ({"image": Image(repository="ghcr.io/example/api", tag="2.7.0-")},
         "image.tag: '2.7.0-' is not an image tag that can also be the app.kubernetes.io/version label — use ≤ 63 "
         "letters, digits, '_', '.', '-', starting and ending with a letter or digit, e.g. '1.4.3'"),
        ({"env": {"log-level": "info"}},
         "env.log-level: 'log-level' is not an environment variable name — use letters, digits and '_', not "
         "starting with a digit"),
        ({"strategy": Strategy(max_surge=0, max_unavailable=0)},
         "strategy.max_unavailable: 0 is 0 while max_surge is 0, so a rollout can never start (Kubernetes rejects "
         "it) — allow max_surge=1 (or max_unavailable=1)"),
        ({"strategy": Strategy(min_ready_seconds=600)},
         "strategy.progress_deadline_seconds: 600 is not above min_ready_seconds 600 (Kubernetes rejects it) — "
         "raise progress_deadline_seconds"),
        ({"cron_jobs": {"report": CronJobSpec(schedule="every day", command=["/app/report"])}},
         "cron_jobs.report.schedule: 'every day' is not a cron schedule — write five fields (minute hour day month "
         "weekday), e.g. '*/15 * * * *'"),
        ({"ingress": IngressSpec(hosts=["API.example.com"])},
         "ingress.hosts[0]: 'API.example.com' is not a valid host name — write a DNS name such as api.example.com "
         "(lowercase; a leading *. is allowed)"),
        ({"ingress": IngressSpec(), "probes": Probes()},
         "probes.readiness: None needs an HttpGet probe when the app has an ingress (the ALB health-checks that "
         "path) — set probes=Probes(readiness=Probe(handler=HttpGet(path='/ready')))"),
        ({"placement": Placement(tolerations=[Toleration(key="dedicated", operator="Exists", value="argo",
                                                         effect="NoSchedule")])},
         "placement.tolerations[0].value: 'argo' is set with operator Exists — remove the value, or use operator "
         "Equal"),
    ],
)  # fmt: skip
def test_app_spec_errors(change, expected):
    assert spec_errors(**change) == [expected]


def test_liveness_success_threshold_must_be_1():
    probes = Probes(
        readiness=SPEC.probes.readiness, liveness=Probe(handler=HttpGet(path="/livez"), success_threshold=2)
    )
    assert spec_errors(probes=probes) == [
        "probes.liveness.success_threshold: 2 is not 1 (Kubernetes requires 1 for a liveness probe) — remove it "
        "(default 1)"
    ]


def test_a_secret_value_is_never_echoed():
    text = "\n".join(spec_errors(secrets={"database-password": "hunter2 is my password"}))
    assert "secrets.database-password: 'database-password' is not an environment variable name" in text
    assert "hunter2" not in text


def args(spec: AppSpec = SPEC, **changes) -> AppArgs:
    a = AppArgs(spec=spec, namespace="api", part_of="demo", cluster_name="demo", k8s_provider=None)  # type: ignore[arg-type]
    return dataclasses.replace(a, **changes)


def test_app_args_errors():
    assert [str(i) for i in app_args_issues("API", args(namespace="kube_system"))] == [
        "name: 'API' is not an app name (a DNS-1035 label of at most 40 characters, starting with a letter; it names "
        "the Service) — use lowercase letters, digits and '-', e.g. api",
        "namespace: 'kube_system' is not a namespace name (a DNS-1123 label) — use lowercase letters, digits and '-'",
    ]
    irsa = dataclasses.replace(SPEC, service_account=ServiceAccountSpec())
    assert [str(i) for i in app_args_issues("api", args(irsa))] == [
        "oidc_provider_arn: None is needed for service_account (its IAM role trusts the cluster's OIDC provider) — "
        "pass the cluster's oidc_provider_arn and oidc_issuer, or drop spec.service_account"
    ]
    job = {"a-very-long-nightly-report-job-name-x": CronJobSpec(schedule="@daily", command=["x"])}
    long = dataclasses.replace(SPEC, cron_jobs=job)
    (msg,) = [str(i) for i in app_args_issues("api-with-a-rather-long-name", args(long))]
    assert msg.startswith("spec.cron_jobs.a-very-long-nightly-report-job-name-x: 'a-very-long-nightly-report-job-"
                          "name-x' makes the CronJob name")  # fmt: skip
    assert [str(i) for i in app_args_issues("api", args({"image": "api:1"}))] == [  # type: ignore[arg-type]
        "spec: {'image': 'api:1'} is not an AppSpec — pass AppSpec(image=..., resources=...)"
    ]


def test_the_app_reports_every_mistake_and_registers_nothing(mocked):
    bad = dataclasses.replace(
        SPEC,
        replicas=-1,
        secrets={"DATABASE_PASSWORD": None},
        probes=Probes(readiness=Probe(handler=HttpGet(path="/ready", port="metrics"))),
    )

    def program():
        provider = pulumi.ProviderResource("kubernetes", "k8s")
        App("api", args(bad, k8s_provider=provider))

    with pytest.raises(ArgsError) as exc:
        mocked.build(program)
    assert str(exc.value) == (
        "3 input errors in App 'api':\n"
        "  - spec.replicas: -1 is out of range — use a value ≥ 0\n"
        "  - spec.probes.readiness.handler.port: 'metrics' is not one of the app's ports — use a name or number "
        "from ports\n"
        "  - spec.secrets.DATABASE_PASSWORD: None has no value — pass the secret's value, e.g. "
        "pulumi.Config().require_secret('<key>'), or remove the entry"
    )
    assert not [r for r in mocked.records if r.type.startswith(("slipway:", "kubernetes:"))]


def test_a_secret_the_program_did_not_resolve_is_a_clear_error_not_a_key_error():
    cfg = AppConfig.model_validate(
        {
            "image": {"repository": "api", "tag": "2.7.0"},
            "resources": {"requests": {"cpu": "250m", "memory": "256Mi"}, "limits": {"memory": "512Mi"}},
            "secrets": {"DATABASE_PASSWORD": "apiDatabasePassword", "API_TOKEN": "apiToken"},
        }
    )
    spec = app_spec(cfg, repository_url="r", secrets={"API_TOKEN": pulumi.Output.secret("t")}, placement=Placement())
    assert [str(i) for i in app_args_issues("api", args(spec))] == [
        "spec.secrets.DATABASE_PASSWORD: None has no value — pass the secret's value, e.g. "
        "pulumi.Config().require_secret('<key>'), or remove the entry"
    ]


def test_a_component_refusal_is_a_config_error_at_the_edges(monkeypatch):
    """`pulumi up` (run) and `slipway render` report a component's ArgsError like a config
    error — a message and exit code 2, no traceback."""
    from typer.testing import CliRunner

    from slipway.cli.main import app
    from slipway.program import main as program

    refusal = ArgsError("App 'api'", [Issue("spec.replicas", -1, "is below 0", "use 0 or more")])

    def refuse() -> None:
        raise refusal

    monkeypatch.setattr(program, "main", refuse)
    with pytest.raises(pulumi.RunError, match=r"spec\.replicas: -1 is below 0 — use 0 or more"):
        program.run()
    result = CliRunner().invoke(app, ["render", "dev", "--out", "/tmp/slipway-refused"])
    assert result.exit_code == 2, result.output
    assert "1 input error in App 'api'" in result.output and "Traceback" not in result.output
