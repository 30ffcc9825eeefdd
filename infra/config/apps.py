"""`slipway:apps.<name>` — an application: Deployment, Service, Ingress and friends.

The stack file's form of the library's `AppSpec` (slipway.components.app_spec):
camelCase keys, secrets named by config key, a node pool instead of a placement.
`app_spec.py` builds the library spec from it; the defaults are the library's own.
Rules on one app (ports named by probes, requests under limits, HPA bounds) run on
the raw input (`app_checks.py`, `app_exposure_checks.py`), so every mistake is reported
at once; rules across
apps (one ALB group must agree, host and path unique) in `app_routes.py`.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, field_validator

from slipway.components.app_spec import (
    DEFAULT_SSL_POLICY,
    AppSpec,
    AutoscalingSpec,
    CronJobSpec,
    DisruptionBudgetSpec,
    IngressSpec,
    MigrationSpec,
    Port,
    Probe,
    ServiceSpec,
    default_alb_group,
)
from slipway.program.config.app_checks import (
    cron_checks,
    env_checks,
    image_checks,
    port_checks,
    probe_checks,
    resource_checks,
)
from slipway.program.config.app_exposure_checks import autoscaling_checks, ingress_checks, service_checks
from slipway.program.config.app_routes import cross_app_checks
from slipway.program.config.app_secrets import secret_word
from slipway.program.config.app_strategy import StrategyConfig, strategy_checks
from slipway.program.config.errors import Issue
from slipway.program.config.schema import Model


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
    initial_delay_seconds: int = Field(Probe.initial_delay_seconds, ge=0, le=3600)
    period_seconds: int = Field(Probe.period_seconds, ge=1, le=3600)
    timeout_seconds: int = Field(Probe.timeout_seconds, ge=1, le=600)
    failure_threshold: int = Field(Probe.failure_threshold, ge=1, le=100)
    success_threshold: int = Field(Probe.success_threshold, ge=1, le=100)


class ProbesConfig(Model):
    readiness: ProbeConfig | None = None
    """Keeps the pod out of the Service until it can serve; also the ALB health check."""
    liveness: ProbeConfig | None = None
    """Restarts a hung container; should check only the process itself, cheaply."""
    startup: ProbeConfig | None = None
    """Holds liveness off while a slow app starts."""


class PortConfig(Model):
    name: str = Port.name
    container_port: int = Field(..., ge=1, le=65535)
    protocol: Literal["TCP", "UDP"] = Port.protocol


class ResourcesConfig(Model):
    """Requests are required (scheduling, the planner, HPA); a memory limit too. No CPU
    limit by default: the EKS best-practices guide advises against throttling."""

    requests: dict[Literal["cpu", "memory"], str | int | float]
    limits: dict[Literal["cpu", "memory"], str | int | float] = {}


class ServiceConfig(Model):
    type: Literal["ClusterIP", "NodePort", "LoadBalancer"] = ServiceSpec.type
    port: int = Field(ServiceSpec.port, ge=1, le=65535)
    target_port: str | int = ServiceSpec.target_port
    """A container port name or number."""
    node_port: int | None = Field(ServiceSpec.node_port, ge=30000, le=32767)
    scheme: Literal["internal", "internet-facing"] = ServiceSpec.scheme
    """For LoadBalancer: the NLB's scheme."""
    external_traffic_policy: Literal["Cluster", "Local"] | None = ServiceSpec.external_traffic_policy
    session_affinity: Literal["None", "ClientIP"] = ServiceSpec.session_affinity


class IngressConfig(Model):
    enabled: bool = False
    scheme: Literal["internal", "internet-facing"] = IngressSpec.scheme
    hosts: list[str] = []
    """Host rules (empty: any host)."""
    paths: list[str] = list(IngressSpec.paths)
    certificate_arn: str | None = None
    """ACM certificate: HTTPS on 443 with HTTP→HTTPS redirect."""
    group: str | None = None
    """ALB group (default `<cluster>-<scheme>`: the stack's apps share one ALB per scheme)."""
    ssl_policy: str = IngressSpec.ssl_policy


class AutoscalingConfig(Model):
    min_replicas: int = Field(AutoscalingSpec.min_replicas, ge=1, le=1000)
    max_replicas: int = Field(AutoscalingSpec.max_replicas, ge=1, le=1000)
    target_cpu_utilization: int | None = Field(AutoscalingSpec.target_cpu_utilization, ge=1, le=1000)
    target_memory_utilization: int | None = Field(AutoscalingSpec.target_memory_utilization, ge=1, le=1000)


class DisruptionBudgetConfig(Model):
    max_unavailable: int | None = Field(DisruptionBudgetSpec.max_unavailable, ge=0)
    """Pods that may be down at once."""
    min_available: int | None = None
    """Pods that must stay up; when set, it is used instead of maxUnavailable."""


class ServiceAccountConfig(Model):
    """A ServiceAccount with its own IAM role (IRSA) and these identity policy statements."""

    policy_statements: list[dict[str, Any]] = []


class CronJobConfig(Model):
    name: str
    schedule: str
    command: list[str]
    args: list[str] = []
    concurrency_policy: Literal["Allow", "Forbid", "Replace"] = CronJobSpec.concurrency_policy
    successful_jobs_history_limit: int = Field(CronJobSpec.successful_jobs_history_limit, ge=0, le=100)
    failed_jobs_history_limit: int = Field(CronJobSpec.failed_jobs_history_limit, ge=0, le=100)
    time_zone: str | None = None


class MigrationConfig(Model):
    """A Job run before each rollout of a new image tag (like a Helm pre-upgrade hook)."""

    command: list[str]
    args: list[str] = []
    backoff_limit: int = Field(MigrationSpec.backoff_limit, ge=0, le=10)
    active_deadline_seconds: int = Field(MigrationSpec.active_deadline_seconds, ge=30, le=86400)


class AppConfig(Model):
    """`slipway:apps.<name>` — one application."""

    image: ImageConfig
    namespace: str | None = None
    """Namespace (created by slipway); default: the app's name."""
    node_pool: str | None = None
    """Pool to run on (default: `general`, else the first pool)."""
    replicas: int = Field(AppSpec.replicas, ge=0, le=1000)
    ports: list[PortConfig] = []
    resources: ResourcesConfig
    probes: ProbesConfig = ProbesConfig()
    env: dict[str, str] = {}
    """Non-secret environment variables, written into the Deployment. A value may use a
    secret's variable (`postgres://app:$(DATABASE_PASSWORD)@db/app`); names and values that
    look like secrets are refused (`app_secrets.py`)."""
    config: dict[str, str] = {}
    """Non-secret settings → a ConfigMap, as environment variables (envFrom). Names and
    values that look like secrets are refused (`app_secrets.py`)."""
    secrets: dict[str, str] = {}
    """ENV_NAME → `slipway:` config key holding the value, set with `pulumi config set --secret`."""
    secrets_as: Literal["env", "files"] = AppSpec.secrets_as
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

    @field_validator("env", "config", mode="before")
    @classmethod
    def _no_echo(cls, v: Any) -> Any:
        # A secret written as a number (an unquoted PIN) would be echoed by the type error:
        # read it as the text it is, which the stack's plain-secret rule then refuses once,
        # without its value (app_secrets.plain_secret_issues).
        if isinstance(v, dict):
            number = (int, float)
            return {k: str(x) if secret_word(str(k)) and isinstance(x, number) and not isinstance(x, bool) else x
                    for k, x in v.items()}  # fmt: skip
        return v

    @classmethod
    def raw_checks(cls, data: dict[str, Any], context: dict[str, Any]) -> list[Issue]:
        return (
            image_checks(data)
            + port_checks(data)
            + resource_checks(data)
            + probe_checks(data)
            + env_checks(data, context)
            + service_checks(data)
            + ingress_checks(data)
            + autoscaling_checks(data)
            + strategy_checks(data)
            + cron_checks(data)
        )


def app_namespace(name: str, app: AppConfig) -> str:
    """The app's namespace: its own, else its name."""
    return app.namespace or name


__all__ = [
    "DEFAULT_SSL_POLICY",
    "AppConfig",
    "app_namespace",
    "cross_app_checks",
    "default_alb_group",
]
