"""`AppSpec`: what one application is — image, ports, probes, resources, settings,
secrets, placement, how it is exposed, scaled, disrupted, and its jobs.

A library type: build it in Python (snake_case, typed) or from a stack file
(`slipway.program.config.app_spec` does that for this repository's program). Every
default is a field default, documented once here; the stack-config schema reuses
them. `App` (components/app.py) checks a spec with `app_spec_issues`
(components/app_validation.py) before it registers anything.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import pulumi

from slipway.components.app_rollout_spec import (
    AnalysisSpec,
    BlueGreenSpec,
    CanarySpec,
    CanaryStep,
    Pause,
    RunAnalysis,
    SetWeight,
)
from slipway.components.spec import Placement

# The ALB listeners' TLS policy unless an app sets its own; argo-server's Ingress uses it
# too (the Ingresses of one ALB group must not disagree on it).
DEFAULT_SSL_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06"


def default_alb_group(cluster: str, scheme: str) -> str:
    """The ALB group an Ingress joins unless it names one: a cluster's apps share one ALB per scheme."""
    return f"{cluster}-{scheme}"


@dataclass(frozen=True, kw_only=True)
class Image:
    """The app's container image, `<repository>:<tag>`."""

    repository: pulumi.Input[str]
    """Repository without a tag, e.g. an ECR repository URL (`Registry.repository_urls[...]`)
    or `ghcr.io/org/app`. May be an Output."""
    tag: str
    """The version to run. A plain string, not an Output: it is the
    `app.kubernetes.io/version` label and names the migration Job (a new tag runs it again)."""


@dataclass(frozen=True, kw_only=True)
class Port:
    """A container port."""

    container_port: int
    """The port the process listens on (1–65535)."""
    name: str = "http"
    """IANA service name (≤ 15 lowercase letters, digits, '-'): probes and the Service
    refer to it. Default `http`, what the default Service targets."""
    protocol: Literal["TCP", "UDP"] = "TCP"
    """Default TCP, Kubernetes's own."""


@dataclass(frozen=True, kw_only=True)
class HttpGet:
    """A probe that GETs `path` on `port`: 200–399 is healthy."""

    path: str
    """Absolute path, e.g. `/ready`."""
    port: str | int = "http"
    """A port name or number from the spec's ports. Default `http`, the default port name."""


@dataclass(frozen=True, kw_only=True)
class TcpSocket:
    """A probe that opens a TCP connection to `port`."""

    port: str | int = "http"
    """A port name or number from the spec's ports. Default `http`, the default port name."""


@dataclass(frozen=True, kw_only=True)
class Exec:
    """A probe that runs `command` in the container: exit 0 is healthy."""

    command: Sequence[str]
    """argv, e.g. ["/app/healthcheck"] (no shell)."""


@dataclass(frozen=True, kw_only=True)
class Probe:
    """One probe. The timing defaults are Kubernetes's own."""

    handler: HttpGet | TcpSocket | Exec
    """How to check: an HTTP GET, a TCP connect, or a command."""
    initial_delay_seconds: int = 0
    """Seconds after the container starts before the first check (0–3600)."""
    period_seconds: int = 10
    """Seconds between checks (1–3600)."""
    timeout_seconds: int = 1
    """Seconds one check may take (1–600)."""
    failure_threshold: int = 3
    """Consecutive failures that count as failed (1–100)."""
    success_threshold: int = 1
    """Consecutive successes that count as healthy again; Kubernetes requires 1 for
    liveness and startup probes."""


@dataclass(frozen=True, kw_only=True)
class Probes:
    """The app's probes. None of them by default: an app without ports has nothing to probe."""

    readiness: Probe | None = None
    """Keeps the pod out of the Service until it can serve; an Ingress health-checks its
    HttpGet path, so an app with an ingress needs an HttpGet readiness probe."""
    liveness: Probe | None = None
    """Restarts a hung container; should check only the process itself, cheaply."""
    startup: Probe | None = None
    """Holds liveness off while a slow app starts."""


@dataclass(frozen=True, kw_only=True)
class Resources:
    """Requests and limits as Kubernetes quantities ("250m", "512Mi").

    Requests for cpu and memory are required (the scheduler, the capacity planner and the
    autoscaler all count them), and a memory limit (a leaking pod could take the node).
    No CPU limit unless set: the EKS best-practices guide advises against throttling.
    """

    requests: Mapping[str, str]
    """`cpu` and `memory` (required), e.g. {"cpu": "250m", "memory": "256Mi"}."""
    limits: Mapping[str, str] = field(default_factory=dict[str, str])
    """`memory` (required), optionally `cpu`; each ≥ its request."""


@dataclass(frozen=True, kw_only=True)
class Strategy:
    """How a new version rolls out: by the Deployment (RollingUpdate, Recreate), or by an
    Argo Rollouts `Rollout` (canary, blueGreen; components/app_rollout_spec.py)."""

    type: Literal["RollingUpdate", "Recreate", "canary", "blueGreen"] = "RollingUpdate"
    """Default RollingUpdate: new pods come up before old ones go. Recreate stops all first.
    canary: traffic moves through the ALB step by step (needs an ingress). blueGreen: the
    new version comes up in full, then the Service switches to it."""
    max_surge: str | int = "25%"
    """Extra pods during a rollout, a count or "N%". Default 25%, Kubernetes's own."""
    max_unavailable: str | int = 0
    """Pods that may be missing during a rollout. Default 0 (Kubernetes: 25%): full
    capacity throughout a rollout; maxSurge must then be above 0."""
    min_ready_seconds: int = 0
    """Seconds a new pod must stay ready before it counts as available (0: at once)."""
    progress_deadline_seconds: int = 600
    """Seconds without progress before the rollout is reported failed (Kubernetes's
    default 600); must exceed min_ready_seconds."""
    canary: CanarySpec | None = None
    """The canary's steps; None with type canary: CanarySpec's defaults."""
    blue_green: BlueGreenSpec | None = None
    """Blue/green settings; None with type blueGreen: BlueGreenSpec's defaults."""
    analysis: AnalysisSpec | None = None
    """With canary or blueGreen: an analysis whose failure aborts the rollout; None: none."""

    @property
    def progressive(self) -> bool:
        """Rolled out by Argo Rollouts (a `Rollout`), not by a Deployment."""
        return self.type in ("canary", "blueGreen")


@dataclass(frozen=True, kw_only=True)
class ServiceSpec:
    """The app's Service, when the default one is not right. Without a ServiceSpec an app
    with ports gets a ClusterIP Service: port 80 (named `http`) to its first port."""

    type: Literal["ClusterIP", "NodePort", "LoadBalancer"] = "ClusterIP"
    """Default ClusterIP (in-cluster only). LoadBalancer: an NLB through the AWS Load
    Balancer Controller, IP targets."""
    port: int = 80
    """The Service's port (1–65535). Default 80."""
    target_port: str | int = "http"
    """A container port name or number. Default `http`, the default port name."""
    node_port: int | None = None
    """For NodePort only: a fixed port (30000–32767); None lets Kubernetes pick."""
    scheme: Literal["internal", "internet-facing"] = "internal"
    """For LoadBalancer: the NLB's scheme. Default internal: nothing is public unless asked."""
    external_traffic_policy: Literal["Cluster", "Local"] | None = None
    """For NodePort/LoadBalancer; None keeps Kubernetes's default (Cluster)."""
    session_affinity: Literal["None", "ClientIP"] = "None"
    """Default None, Kubernetes's own."""


@dataclass(frozen=True, kw_only=True)
class IngressSpec:
    """An ALB Ingress (AWS Load Balancer Controller) to the app's Service."""

    scheme: Literal["internal", "internet-facing"] = "internal"
    """Default internal: nothing is public unless asked."""
    hosts: Sequence[str] = ()
    """Host rules, e.g. ["api.example.com"]; empty (the default): any host."""
    paths: Sequence[str] = ("/",)
    """Path prefixes routed to the app. Default ["/"], everything (evaluated after the
    group's specific paths)."""
    certificate_arn: str | None = None
    """ACM certificate: HTTPS on 443 with HTTP→HTTPS redirect. None: HTTP only."""
    group: str | None = None
    """ALB group; None (the default) joins `default_alb_group(cluster, scheme)`, so a
    cluster's apps share one ALB per scheme."""
    ssl_policy: str = DEFAULT_SSL_POLICY
    """The listeners' TLS policy. Every Ingress of a group must agree on it."""


@dataclass(frozen=True, kw_only=True)
class AutoscalingSpec:
    """A HorizontalPodAutoscaler; it owns the replica count once it exists."""

    min_replicas: int = 2
    """Never fewer (≥ 1). Default 2: one pod can go (a node drain) while another serves."""
    max_replicas: int = 6
    """Never more (≥ min_replicas). Default 6."""
    target_cpu_utilization: int | None = 70
    """Average CPU use, % of the request, to scale at. Default 70; None: not a target."""
    target_memory_utilization: int | None = None
    """Average memory use, % of the request, to scale at. None (the default): not a target."""


@dataclass(frozen=True, kw_only=True)
class DisruptionBudgetSpec:
    """A PodDisruptionBudget: how many pods voluntary disruptions (node drains, upgrades)
    may take at once. Set exactly one of the two."""

    max_unavailable: int | str | None = 1
    """Pods (or "N%") that may be down at once. Default 1: a drain moves one pod at a time."""
    min_available: int | str | None = None
    """Pods (or "N%") that must stay up; set max_unavailable=None to use it."""


@dataclass(frozen=True, kw_only=True)
class ServiceAccountSpec:
    """A ServiceAccount with its own IAM role (IRSA); the pods use it."""

    policy_statements: Sequence[Mapping[str, Any]] = ()
    """IAM identity policy statements for the role; empty (the default): no permissions."""


@dataclass(frozen=True, kw_only=True)
class CronJobSpec:
    """A CronJob running the app's image with its settings and secrets."""

    schedule: str
    """Five cron fields (`0 3 * * *`) or a macro (`@daily`)."""
    command: Sequence[str]
    """argv to run instead of the image's entrypoint."""
    args: Sequence[str] = ()
    """Arguments after the command."""
    concurrency_policy: Literal["Allow", "Forbid", "Replace"] = "Forbid"
    """Default Forbid: a run still going skips the next one (never two at once)."""
    successful_jobs_history_limit: int = 3
    """Finished Jobs kept for inspection (0–100). Default 3, Kubernetes's own."""
    failed_jobs_history_limit: int = 3
    """Failed Jobs kept for inspection (0–100). Default 3 (Kubernetes: 1)."""
    time_zone: str | None = None
    """IANA zone of the schedule, e.g. Etc/UTC; None: the controller's (UTC on EKS)."""


@dataclass(frozen=True, kw_only=True)
class MigrationSpec:
    """A Job run before each rollout of a new image tag (like a Helm pre-upgrade hook)."""

    command: Sequence[str]
    """argv, e.g. ["/app/migrate", "up"]."""
    args: Sequence[str] = ()
    """Arguments after the command."""
    backoff_limit: int = 1
    """Retries before the Job fails (≥ 0). Default 1: one retry for a transient error."""
    active_deadline_seconds: int = 900
    """Seconds the Job may run (≥ 1). Default 900; Pulumi waits this long plus 5 minutes."""


@dataclass(frozen=True, kw_only=True)
class AppSpec:
    """One application. Only `image` and `resources` are required: the defaults make a
    Deployment of 2 pods with a PodDisruptionBudget and nothing exposed."""

    image: Image
    """What runs."""
    resources: Resources
    """Requests and limits of each pod (also the CronJobs' and the migration's)."""
    replicas: int = 2
    """Pods (≥ 0). Default 2: one can go while another serves. With autoscaling, at least
    its min_replicas."""
    ports: Sequence[Port] = ()
    """Container ports; the first is the default Service's target. Empty (the default): no
    Service, no Ingress."""
    probes: Probes = field(default_factory=Probes)
    """Readiness, liveness and startup probes (none by default)."""
    env: Mapping[str, str] = field(default_factory=dict[str, str])
    """Environment variables set on the container directly."""
    config: Mapping[str, str] = field(default_factory=dict[str, str])
    """Non-secret settings → a ConfigMap `<app>-config`, as environment variables (envFrom).
    A change rolls the pods (a checksum annotation)."""
    secrets: Mapping[str, pulumi.Input[str]] = field(default_factory=dict[str, pulumi.Input[str]])
    """ENV_NAME → the secret's value, e.g. `pulumi.Config().require_secret("dbPassword")`:
    a Secret `<app>-secrets`. Values stay secret in state and previews (plain strings are
    made secret). A change rolls the pods."""
    secrets_as: Literal["env", "files"] = "env"
    """Secrets as environment variables (the default), or as files under
    /var/run/secrets/<app>/ (kept out of the environment, which crash dumps and child
    processes see)."""
    placement: Placement = field(default_factory=Placement)
    """Which nodes the pods (and the jobs') run on. Default: any untainted node."""
    strategy: Strategy = field(default_factory=Strategy)
    """Rollout tuning."""
    service: ServiceSpec | None = None
    """The Service; None (the default): ClusterIP port 80 to the first port, when there are ports."""
    ingress: IngressSpec | None = None
    """An ALB Ingress; None (the default): not exposed outside the cluster."""
    autoscaling: AutoscalingSpec | None = None
    """A HorizontalPodAutoscaler; None (the default): a fixed replica count."""
    disruption_budget: DisruptionBudgetSpec | None = field(default_factory=DisruptionBudgetSpec)
    """A PodDisruptionBudget. Default: max 1 unavailable, so a node drain moves one pod at a
    time. None: no budget."""
    service_account: ServiceAccountSpec | None = None
    """A ServiceAccount with an IAM role; None (the default): no AWS identity, no token mounted."""
    cron_jobs: Mapping[str, CronJobSpec] = field(default_factory=dict[str, CronJobSpec])
    """CronJobs by name (the CronJob is `<app>-<name>`); keyed, so adding one renames none."""
    migration: MigrationSpec | None = None
    """A Job run before each rollout of a new tag; None (the default): none."""

    @property
    def progressive(self) -> bool:
        """Rolled out by Argo Rollouts: a `Rollout` instead of a Deployment."""
        return isinstance(self.strategy, Strategy) and self.strategy.progressive

    @property
    def steady_replicas(self) -> int:
        """The Deployment's replicas: at least the autoscaler's minimum when there is one."""
        return max(self.replicas, self.autoscaling.min_replicas) if self.autoscaling else self.replicas


__all__ = [
    "DEFAULT_SSL_POLICY",
    "AnalysisSpec",
    "AppSpec",
    "AutoscalingSpec",
    "BlueGreenSpec",
    "CanarySpec",
    "CanaryStep",
    "CronJobSpec",
    "DisruptionBudgetSpec",
    "Exec",
    "HttpGet",
    "Image",
    "IngressSpec",
    "MigrationSpec",
    "Pause",
    "Port",
    "Probe",
    "Probes",
    "Resources",
    "RunAnalysis",
    "ServiceAccountSpec",
    "ServiceSpec",
    "SetWeight",
    "Strategy",
    "TcpSocket",
    "default_alb_group",
]
