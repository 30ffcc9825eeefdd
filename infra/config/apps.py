"""`slipway:apps.<name>` — an application: Deployment, Service, Ingress and friends.

Each field says what it becomes in Kubernetes. Rules that compare fields (ports
named by probes, requests under limits, HPA bounds) run on the raw input, so every
mistake is reported at once; rules across apps (one ALB group must agree, host and
path unique) run in `cross_app_checks`.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import Field

from slipway.program.config.errors import Issue
from slipway.program.config.schema import (
    DNS1123_LABEL,
    ECR_NAME,
    Model,
    _dict,
    certificate_arn_issues,
    missing_certificate_issues,
    parse_quantity,
)

HOSTNAME = re.compile(r"^(\*\.)?([a-z0-9]([-a-z0-9]*[a-z0-9])?\.)+[a-z]{2,63}$")
ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
CONFIG_KEY = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]*$")
CRON = re.compile(r"^(@(yearly|annually|monthly|weekly|daily|midnight|hourly)|(\S+\s+){4}\S+)$")

# The ALB listeners' TLS policy unless an app sets its own; argo-server's Ingress uses it
# too (the Ingresses of one ALB group must not disagree on it).
DEFAULT_SSL_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06"


def default_alb_group(cluster: str, scheme: str) -> str:
    """The ALB group an Ingress joins unless it names one: the stack's apps share one ALB per scheme."""
    return f"{cluster}-{scheme}"


class ImageConfig(Model):
    """The app's image: `<account>.dkr.ecr.<region>.amazonaws.com/<cluster>/<repository>:<tag>`."""

    repository: str
    """ECR repository (created by slipway, also listed in registry.repositories)."""
    tag: str
    """The version to run; CI sets it (`pulumi config set --path slipway:apps.<app>.image.tag 1.4.3`)."""


class HttpGet(Model):
    path: str
    port: str | int


class TcpSocket(Model):
    port: str | int


class ExecAction(Model):
    command: list[str]


class ProbeConfig(Model):
    """A probe: exactly one of httpGet, tcpSocket, exec."""

    http_get: HttpGet | None = None
    tcp_socket: TcpSocket | None = None
    exec: ExecAction | None = None
    initial_delay_seconds: int = Field(0, ge=0, le=3600)
    period_seconds: int = Field(10, ge=1, le=3600)
    timeout_seconds: int = Field(1, ge=1, le=600)
    failure_threshold: int = Field(3, ge=1, le=100)
    success_threshold: int = Field(1, ge=1, le=100)


class ProbesConfig(Model):
    readiness: ProbeConfig | None = None
    """Keeps the pod out of the Service until it can serve; also the ALB health check."""
    liveness: ProbeConfig | None = None
    """Restarts a hung container; should check only the process itself, cheaply."""
    startup: ProbeConfig | None = None
    """Holds liveness off while a slow app starts."""


class PortConfig(Model):
    name: str = "http"
    container_port: int = Field(..., ge=1, le=65535)
    protocol: Literal["TCP", "UDP"] = "TCP"


class ResourcesConfig(Model):
    """Requests are required (scheduling, the planner, HPA); a memory limit too. No CPU
    limit by default: the EKS best-practices guide advises against throttling."""

    requests: dict[Literal["cpu", "memory"], str | int | float]
    limits: dict[Literal["cpu", "memory"], str | int | float] = {}


class StrategyConfig(Model):
    type: Literal["RollingUpdate", "Recreate"] = "RollingUpdate"
    max_surge: str | int = "25%"
    """Extra pods during a rollout (number or percentage)."""
    max_unavailable: str | int = 0
    """Pods that may be missing during a rollout; 0 keeps full capacity."""
    min_ready_seconds: int = Field(0, ge=0, le=3600)
    progress_deadline_seconds: int = Field(600, ge=1, le=86400)


class ServiceConfig(Model):
    type: Literal["ClusterIP", "NodePort", "LoadBalancer"] = "ClusterIP"
    port: int = Field(80, ge=1, le=65535)
    target_port: str | int = "http"
    """A container port name or number."""
    node_port: int | None = Field(None, ge=30000, le=32767)
    scheme: Literal["internal", "internet-facing"] = "internal"
    """For LoadBalancer: the NLB's scheme."""
    external_traffic_policy: Literal["Cluster", "Local"] | None = None
    session_affinity: Literal["None", "ClientIP"] = "None"


class IngressConfig(Model):
    enabled: bool = False
    scheme: Literal["internal", "internet-facing"] = "internal"
    hosts: list[str] = []
    """Host rules (empty: any host)."""
    paths: list[str] = ["/"]
    certificate_arn: str | None = None
    """ACM certificate: HTTPS on 443 with HTTP→HTTPS redirect."""
    group: str | None = None
    """ALB group (default `<cluster>-<scheme>`: the stack's apps share one ALB per scheme)."""
    ssl_policy: str = DEFAULT_SSL_POLICY


class AutoscalingConfig(Model):
    min_replicas: int = Field(2, ge=1, le=1000)
    max_replicas: int = Field(6, ge=1, le=1000)
    target_cpu_utilization: int | None = Field(70, ge=1, le=1000)
    target_memory_utilization: int | None = Field(None, ge=1, le=1000)


class DisruptionBudgetConfig(Model):
    max_unavailable: int | None = Field(1, ge=0)
    min_available: int | None = None


class ServiceAccountConfig(Model):
    """A ServiceAccount with its own IAM role (IRSA) and these identity policy statements."""

    policy_statements: list[dict[str, Any]] = []


class CronJobConfig(Model):
    name: str
    schedule: str
    command: list[str]
    args: list[str] = []
    concurrency_policy: Literal["Allow", "Forbid", "Replace"] = "Forbid"
    successful_jobs_history_limit: int = Field(3, ge=0, le=100)
    failed_jobs_history_limit: int = Field(3, ge=0, le=100)
    time_zone: str | None = None


class MigrationConfig(Model):
    """A Job run before each rollout of a new image tag (like a Helm pre-upgrade hook)."""

    command: list[str]
    args: list[str] = []
    backoff_limit: int = Field(1, ge=0, le=10)
    active_deadline_seconds: int = Field(900, ge=30, le=86400)


class AppConfig(Model):
    """`slipway:apps.<name>` — one application."""

    image: ImageConfig
    namespace: str | None = None
    """Namespace (created by slipway); default: the app's name."""
    node_pool: str | None = None
    """Pool to run on (default: `general`, else the first pool)."""
    replicas: int = Field(2, ge=0, le=1000)
    ports: list[PortConfig] = []
    resources: ResourcesConfig
    probes: ProbesConfig = ProbesConfig()
    env: dict[str, str] = {}
    config: dict[str, str] = {}
    """Non-secret settings → a ConfigMap, as environment variables (envFrom)."""
    secrets: dict[str, str] = {}
    """ENV_NAME → `slipway:` config key holding the value, set with `pulumi config set --secret`."""
    secrets_as: Literal["env", "files"] = "env"
    """Secrets as environment variables, or as files under /var/run/secrets/<app>/."""
    strategy: StrategyConfig = StrategyConfig()
    service: ServiceConfig | None = None
    """Default: a ClusterIP Service when the app has ports."""
    ingress: IngressConfig = IngressConfig()
    autoscaling: AutoscalingConfig | None = None
    disruption_budget: DisruptionBudgetConfig | None = DisruptionBudgetConfig()
    service_account: ServiceAccountConfig | None = None
    cron_jobs: list[CronJobConfig] = []
    migration: MigrationConfig | None = None

    @property
    def steady_replicas(self) -> int:
        """The Deployment's replicas: at least the autoscaler's minimum when there is one."""
        return max(self.replicas, self.autoscaling.min_replicas) if self.autoscaling else self.replicas

    @classmethod
    def raw_checks(cls, data: dict[str, Any], context: dict[str, Any]) -> list[Issue]:
        return (
            ([] if context.get("lenient_images") else _image_checks(data))
            + _port_checks(data)
            + _resource_checks(data)
            + _probe_checks(data)
            + _env_checks(data, context)
            + _service_checks(data)
            + _ingress_checks(data)
            + _autoscaling_checks(data)
            + _strategy_checks(data)
            + _cron_checks(data)
        )


def _image_checks(data: dict) -> list[Issue]:
    image = _dict(data.get("image"))
    issues = []
    tag, repo = image.get("tag"), image.get("repository")
    if "tag" in image and (not isinstance(tag, str) or tag.strip() in ("", "latest")):
        issues.append(
            Issue(
                "image.tag",
                tag,
                "is empty or `latest`, so what runs would change without a deploy",
                "set a version tag (CI: pulumi config set --path slipway:apps.<app>.image.tag 1.4.3)",
            )
        )
    elif isinstance(tag, str) and not re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}", tag):
        issues.append(Issue("image.tag", tag, "is not a valid image tag", "use letters, digits, '_', '.', '-'"))
    if isinstance(repo, str) and not ECR_NAME.match(repo):
        issues.append(
            Issue(
                "image.repository",
                repo,
                "is not a valid ECR repository name",
                "use lowercase letters, digits and . _ - /",
            )
        )
    return issues  # fmt: skip


def _ports(data: dict) -> list[dict]:
    ports = data.get("ports", [])
    return [_dict(p) for p in ports] if isinstance(ports, list) else []


def _port_checks(data: dict) -> list[Issue]:
    issues = []
    names = []
    for i, p in enumerate(_ports(data)):
        name = p.get("name", "http")
        if not isinstance(name, str) or not re.fullmatch(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?", name) or len(name) > 15:
            issues.append(Issue(f"ports[{i}].name", name, "is not a port name (IANA_SVC_NAME: ≤ 15 lowercase "
                                "letters, digits, '-')", "use a name such as http or grpc"))  # fmt: skip
        if name in names:
            issues.append(Issue(f"ports[{i}].name", name, "is used twice", "give each port its own name"))
        names.append(name)
    return issues


def _port_known(port: Any, data: dict) -> bool:
    ports = _ports(data)
    if isinstance(port, int):
        return any(p.get("containerPort") == port for p in ports)
    return any(p.get("name", "http") == port for p in ports)


def _resource_checks(data: dict) -> list[Issue]:
    res = _dict(data.get("resources"))
    requests, limits = _dict(res.get("requests")), _dict(res.get("limits"))
    issues = []
    if "resources" in data:
        for key in ("cpu", "memory"):
            if key not in requests:
                issues.append(Issue(f"resources.requests.{key}", None, "is missing (the scheduler and the capacity "
                                    "planner place pods by requests)", f"add a {key} request, e.g. "
                                    f"{'250m' if key == 'cpu' else '256Mi'}"))  # fmt: skip
        if "memory" not in limits:
            issues.append(
                Issue(
                    "resources.limits.memory",
                    None,
                    "is missing (a leaking pod could take the node)",
                    "set a memory limit ≥ the request, e.g. 2 × the request",
                )
            )
    parsed: dict[str, dict[str, int]] = {"requests": {}, "limits": {}}
    for kind, values in (("requests", requests), ("limits", limits)):
        for key, value in values.items():
            amount, bad = parse_quantity(f"resources.{kind}.{key}", key, value)
            issues += bad
            if amount is not None:
                parsed[kind][key] = amount
    for key in ("cpu", "memory"):
        if key in parsed["requests"] and key in parsed["limits"] and parsed["requests"][key] > parsed["limits"][key]:
            issues.append(
                Issue(
                    f"resources.requests.{key}",
                    requests[key],
                    f"is above the limit {limits[key]}",
                    "lower the request or raise the limit",
                )
            )
    return issues  # fmt: skip


def _probe_checks(data: dict) -> list[Issue]:
    issues = []
    for kind, probe in _dict(data.get("probes")).items():
        probe = _dict(probe)
        handlers = [h for h in ("httpGet", "tcpSocket", "exec") if h in probe]
        if len(handlers) != 1:
            issues.append(Issue(f"probes.{kind}", sorted(probe), "needs exactly one of httpGet, tcpSocket, exec",
                                "keep one handler"))  # fmt: skip
        http = _dict(probe.get("httpGet"))
        path = http.get("path")
        if isinstance(path, str) and not path.startswith("/"):
            issues.append(Issue(f"probes.{kind}.httpGet.path", path, "does not start with '/'",
                                f"write /{path}"))  # fmt: skip
        for h in ("httpGet", "tcpSocket"):
            port = _dict(probe.get(h)).get("port")
            if port is not None and not _port_known(port, data):
                issues.append(
                    Issue(
                        f"probes.{kind}.{h}.port",
                        port,
                        "is not one of the app's ports",
                        "use a name or number from ports",
                    )
                )
    return issues  # fmt: skip


def _env_checks(data: dict, context: dict) -> list[Issue]:
    issues = []
    for section in ("env", "config", "secrets"):
        for key in _dict(data.get(section)):
            if not ENV_NAME.match(str(key)):
                issues.append(
                    Issue(
                        f"{section}.{key}",
                        key,
                        "is not an environment variable name",
                        "use letters, digits and '_', not starting with a digit",
                    )
                )
    keys, secret_keys = context.get("config_keys"), context.get("secret_keys")
    for env, ref in _dict(data.get("secrets")).items():
        where = f"secrets.{env}"
        if not isinstance(ref, str) or not CONFIG_KEY.match(ref):
            # Never echo what was written here: it may be the secret itself.
            issues.append(
                Issue(
                    where,
                    "(value hidden)",
                    "is not the name of a config key; a secret's value never goes in the stack file",
                    f"run `pulumi config set --secret slipway:<key> <value>` and write {env}: <key>",
                )
            )
            continue
        if keys is None:
            continue
        if ref not in keys:
            # Not echoed: a secret written here by mistake can look like a key name.
            issues.append(
                Issue(
                    where,
                    "(value hidden)",
                    "names a config key that is not set",
                    "set it with `pulumi config set --secret slipway:<key> <value>`, or fix the key's name",
                )
            )
        elif ref not in (secret_keys or set()):
            issues.append(
                Issue(
                    where,
                    ref,
                    f"names slipway:{ref}, which is stored in plain text",
                    f"re-set it with `pulumi config set --secret slipway:{ref} <value>` (and rotate it: "
                    "it is in your repository's history)",
                )
            )
    return issues  # fmt: skip


def _service_checks(data: dict) -> list[Issue]:
    service = _dict(data.get("service"))
    issues = []
    if service and not _ports(data):
        issues.append(
            Issue(
                "service",
                service.get("type", "ClusterIP"),
                "needs the app to declare ports",
                "add ports: [{name: http, containerPort: 8080}]",
            )
        )
    target = service.get("targetPort", "http")
    if service and _ports(data) and not _port_known(target, data):
        issues.append(
            Issue("service.targetPort", target, "is not one of the app's ports", "use a port name or number from ports")
        )
    if "nodePort" in service and service.get("type") != "NodePort":
        issues.append(
            Issue(
                "service.nodePort",
                service["nodePort"],
                "only applies to type NodePort",
                "set type: NodePort or remove nodePort",
            )
        )
    return issues  # fmt: skip


def _ingress_checks(data: dict) -> list[Issue]:
    ingress = _dict(data.get("ingress"))
    if ingress.get("enabled") is not True:
        return []
    issues = []
    if not _ports(data):
        issues.append(
            Issue(
                "ingress.enabled",
                True,
                "needs the app to declare ports",
                "add ports and a service, or disable the ingress",
            )
        )
    for i, host in enumerate(ingress.get("hosts", []) or []):
        if not isinstance(host, str) or not HOSTNAME.match(host) or len(host) > 253:
            issues.append(
                Issue(
                    f"ingress.hosts[{i}]",
                    host,
                    "is not a valid host name",
                    "write a DNS name such as api.example.com (lowercase; a leading *. is allowed)",
                )
            )
    for i, path in enumerate(ingress.get("paths", ["/"]) or []):
        if not isinstance(path, str) or not path.startswith("/"):
            issues.append(Issue(f"ingress.paths[{i}]", path, "does not start with '/'", "write paths like /api"))
    cert = ingress.get("certificateArn")
    issues += certificate_arn_issues("ingress.certificateArn", cert)
    issues += missing_certificate_issues(
        "ingress.certificateArn",
        cert,
        ingress.get("scheme") == "internet-facing",
        "is missing on an internet-facing ALB (plain HTTP on the internet)",
        "add an ACM certificate ARN (HTTPS with HTTP→HTTPS redirect), or use scheme: internal",
    )
    group = ingress.get("group")
    if isinstance(group, str) and not re.fullmatch(r"[a-z0-9]([-a-z0-9.]*[a-z0-9])?", group):
        issues.append(
            Issue("ingress.group", group, "is not a valid ALB group name", "use lowercase letters, digits, '-' and '.'")
        )
    probe = _dict(_dict(data.get("probes")).get("readiness"))
    if "httpGet" not in probe:
        issues.append(
            Issue(
                "probes.readiness",
                probe or None,
                "needs an httpGet probe when the app has an Ingress (the ALB health-checks that path)",
                "add probes.readiness.httpGet.path",
            )
        )
    return issues  # fmt: skip


def _autoscaling_checks(data: dict) -> list[Issue]:
    hpa = _dict(data.get("autoscaling"))
    if not hpa:
        return []
    issues = []
    low, high = hpa.get("minReplicas", 2), hpa.get("maxReplicas", 6)
    if isinstance(low, int) and isinstance(high, int) and low > high:
        issues.append(
            Issue(
                "autoscaling.minReplicas", low, f"is above maxReplicas {high}", "lower minReplicas or raise maxReplicas"
            )
        )
    requests = _dict(_dict(data.get("resources")).get("requests"))
    for metric, resource in (("targetCpuUtilization", "cpu"), ("targetMemoryUtilization", "memory")):
        if hpa.get(metric, 70 if resource == "cpu" else None) is not None and resource not in requests:
            issues.append(
                Issue(
                    f"autoscaling.{metric}",
                    hpa.get(metric, 70),
                    f"needs a {resource} request (utilization is measured against it)",
                    f"add resources.requests.{resource}",
                )
            )
    if hpa.get("targetCpuUtilization", 70) is None and hpa.get("targetMemoryUtilization") is None:
        issues.append(Issue("autoscaling", hpa, "has no target", "set targetCpuUtilization or targetMemoryUtilization"))
    return issues  # fmt: skip


def _surge_value(value: Any) -> int | None:
    """An int ≥ 0, or "N%" with 0 ≤ N ≤ 100 (as a percentage); None when invalid."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value >= 0 else None
    if isinstance(value, str) and re.fullmatch(r"\d{1,3}%", value) and int(value[:-1]) <= 100:
        return int(value[:-1])
    return None


def _strategy_checks(data: dict) -> list[Issue]:
    strategy = _dict(data.get("strategy"))
    if strategy.get("type", "RollingUpdate") != "RollingUpdate":
        return []
    issues = []
    values = {}
    for key, default in (("maxSurge", "25%"), ("maxUnavailable", 0)):
        value = strategy.get(key, default)
        values[key] = _surge_value(value)
        if values[key] is None:
            issues.append(
                Issue(
                    f"strategy.{key}",
                    value,
                    "is not a pod count or a percentage",
                    "write a whole number (1) or a percentage ('25%')",
                )
            )
    if values.get("maxSurge") == 0 and values.get("maxUnavailable") == 0:
        issues.append(
            Issue(
                "strategy.maxUnavailable",
                0,
                "is 0 while maxSurge is 0, so a rollout can never start (Kubernetes rejects it)",
                "allow maxSurge: 1 (or maxUnavailable: 1)",
            )
        )
    return issues  # fmt: skip


def _cron_checks(data: dict) -> list[Issue]:
    issues = []
    jobs = data.get("cronJobs", [])
    names = []
    for i, job in enumerate(jobs if isinstance(jobs, list) else []):
        job = _dict(job)
        name, schedule = job.get("name"), job.get("schedule")
        if isinstance(name, str) and (not DNS1123_LABEL.match(name) or len(name) > 40):
            issues.append(
                Issue(
                    f"cronJobs[{i}].name",
                    name,
                    "is not a DNS-1123 name of at most 40 characters",
                    "use lowercase letters, digits and '-'",
                )
            )
        if name in names:
            issues.append(Issue(f"cronJobs[{i}].name", name, "is used twice", "name each CronJob once"))
        names.append(name)
        if isinstance(schedule, str) and not CRON.match(schedule.strip()):
            issues.append(
                Issue(
                    f"cronJobs[{i}].schedule",
                    schedule,
                    "is not a cron schedule",
                    "write five fields (minute hour day month weekday), e.g. '*/15 * * * *'",
                )
            )
    return issues  # fmt: skip


def app_namespace(name: str, app: AppConfig) -> str:
    return app.namespace or name


ARGO = "argo.ingress"  # argo-server's Ingress as a member of an ALB group


def cross_app_checks(
    apps: dict[str, dict], cluster: str, pools: list[str], argo_ingress: dict | None = None
) -> list[Issue]:
    """Rules across apps: one ALB group must agree; (host, path) unique; pools exist.

    `argo_ingress` (argo-server's, in the group `<cluster>-<scheme>`) joins its group's
    checks under the name `argo.ingress` (no app can have it) and that config path.
    """
    issues: list[Issue] = []
    groups: dict[str, list[tuple[str, dict]]] = {}
    routes: dict[tuple[str, str, str], str] = {}
    where: dict[str, str] = {}  # member name → config path of its ingress
    for name, app in apps.items():
        app = _dict(app)
        # The name names the Service too: DNS-1035 (it starts with a letter).
        if not re.fullmatch(r"[a-z]([-a-z0-9]*[a-z0-9])?", str(name)) or len(str(name)) > 40:
            issues.append(
                Issue(
                    f"apps.{name}",
                    name,
                    "is not an app name (a DNS-1035 label of at most 40 characters, starting with a letter)",
                    "use lowercase letters, digits and '-', e.g. api",
                )
            )
        for i, job in enumerate(app.get("cronJobs") or []):
            full = f"{name}-{_dict(job).get('name', '')}"
            if len(full) > 52:
                issues.append(
                    Issue(
                        f"apps.{name}.cronJobs[{i}].name",
                        _dict(job).get("name"),
                        f"makes the CronJob name {full!r} longer than the 52 characters Kubernetes allows",
                        "shorten the job (or the app) name",
                    )
                )
        pool = app.get("nodePool")
        if pool is not None and pool not in pools:
            issues.append(
                Issue(f"apps.{name}.nodePool", pool, "is not a pool in nodePools", f"use one of {', '.join(pools)}")
            )
        ns = app.get("namespace", name)
        if isinstance(ns, str) and (not DNS1123_LABEL.match(ns) or ns in ("default", "kube-system")):
            issues.append(
                Issue(
                    f"apps.{name}.namespace",
                    ns,
                    "is not a namespace for applications",
                    "use a dedicated namespace (default: the app's name)",
                )
            )
        ingress = _dict(app.get("ingress"))
        if ingress.get("enabled") is not True:
            continue
        where[name] = f"apps.{name}.ingress"
        _route(name, ingress, cluster, groups, routes, where, issues)
    if argo_ingress and argo_ingress.get("enabled") is True:
        where[ARGO] = "argo.ingress"
        host = argo_ingress.get("host")
        as_app = {"scheme": argo_ingress.get("scheme", "internal"), "hosts": [host] if host else None,
                  "certificateArn": argo_ingress.get("certificateArn")}  # fmt: skip
        _route(ARGO, as_app, cluster, groups, routes, where, issues)
    _group_agreement(groups, where, issues)
    return issues


def _route(name: str, ingress: dict, cluster: str, groups: dict, routes: dict, where: dict, issues: list) -> None:
    """Put one Ingress in its ALB group; each (group, host, path) goes to one member."""
    scheme = ingress.get("scheme", "internal")
    group = ingress.get("group") or default_alb_group(cluster, scheme)
    groups.setdefault(group, []).append((name, ingress))
    for host in ingress.get("hosts") or ["*"]:
        for path in ingress.get("paths") or ["/"]:
            key = (group, str(host), str(path))
            if key in routes:
                issues.append(
                    Issue(
                        f"{where[name]}.host" if name == ARGO else f"{where[name]}.paths",
                        None if name == ARGO and host == "*" else host if name == ARGO else path,
                        f"on host {host} is already routed to {routes[key]} in ALB group {group}",
                        "give each app its own host or path",
                    )
                )
            routes.setdefault(key, name)


def _group_agreement(groups: dict[str, list[tuple[str, dict]]], where: dict[str, str], issues: list) -> None:
    """One bad Ingress blocks its whole group (kubernetes-sigs/aws-load-balancer-controller#3790):
    settings that configure the shared ALB must agree within a group."""
    for group, members in groups.items():
        for field, default in (("scheme", "internal"), ("sslPolicy", DEFAULT_SSL_POLICY)):
            values = {str(m.get(field, default)) for _, m in members}
            if len(values) > 1:
                who = ", ".join(f"{n}={m.get(field, default)}" for n, m in members)
                issues.append(
                    Issue(
                        f"{where[members[0][0]]}.{field}",
                        sorted(values),
                        f"differs within ALB group {group} ({who}); one mismatching Ingress blocks the whole group",
                        f"use the same {field} for every app in the group, or give one a different ingress.group",
                    )
                )
        tls = {bool(m.get("certificateArn")) for _, m in members}
        if len(tls) > 1:
            who = ", ".join(f"{n} {'HTTPS' if m.get('certificateArn') else 'HTTP only'}" for n, m in members)
            issues.append(
                Issue(
                    f"{where[members[0][0]]}.certificateArn",
                    None,
                    f"is set on some apps of ALB group {group} but not others ({who}); the group's "
                    "listeners and redirect would conflict",
                    "give every app of the group a certificate (or none), or split the group",
                )
            )
