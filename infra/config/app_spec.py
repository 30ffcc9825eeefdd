"""From the stack file to the library: `app_spec` builds the `AppSpec` that `App` takes
from one parsed `slipway:apps.<name>` entry.

What the stack file names, the program resolves and passes in: the ECR repository's
URL (the registry creates it), the secrets' values (read from `slipway:` secret config
keys), and the placement of the app's node pool. The rest maps field by field; the
config has already checked it with the stack file's paths, and App checks the spec
again (a spec a Python caller builds gets the same rules).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pulumi

from slipway.components.app_spec import (
    AppSpec,
    AutoscalingSpec,
    CronJobSpec,
    DisruptionBudgetSpec,
    Exec,
    HttpGet,
    Image,
    IngressSpec,
    MigrationSpec,
    Port,
    Probe,
    Probes,
    Resources,
    ServiceAccountSpec,
    ServiceSpec,
    TcpSocket,
)
from slipway.components.spec import Placement
from slipway.program.config.app_strategy import strategy_spec
from slipway.program.config.apps import AppConfig, ProbeConfig


def app_spec(
    app: AppConfig,
    *,
    repository_url: pulumi.Input[str],
    secrets: Mapping[str, pulumi.Input[str]],
    placement: Placement,
) -> AppSpec:
    """The library spec of `app`.

    `secrets` maps each of `app.secrets`' environment names to its value (a secret
    Output); one left out becomes None, which App reports as `spec.secrets.<ENV>: None has
    no value`, never a KeyError.
    """
    s, i, a, b = app.service, app.ingress, app.autoscaling, app.disruption_budget
    sa, m = app.service_account, app.migration
    values: dict[str, Any] = {env: secrets.get(env) for env in sorted(app.secrets)}
    return AppSpec(
        image=Image(repository=repository_url, tag=app.image.tag),
        resources=Resources(
            requests={k: str(v) for k, v in app.resources.requests.items()},
            limits={k: str(v) for k, v in app.resources.limits.items()},
        ),
        replicas=app.replicas,
        ports=tuple(Port(container_port=p.container_port, name=p.name, protocol=p.protocol) for p in app.ports),
        probes=Probes(
            readiness=_probe(app.probes.readiness),
            liveness=_probe(app.probes.liveness),
            startup=_probe(app.probes.startup),
        ),
        env=dict(app.env),
        config=dict(app.config),
        secrets=values,
        secrets_as=app.secrets_as,
        placement=placement,
        strategy=strategy_spec(app.strategy),
        service=None
        if s is None
        else ServiceSpec(
            type=s.type,
            port=s.port,
            target_port=s.target_port,
            node_port=s.node_port,
            scheme=s.scheme,
            external_traffic_policy=s.external_traffic_policy,
            session_affinity=s.session_affinity,
        ),
        ingress=None
        if not i.enabled
        else IngressSpec(
            scheme=i.scheme,
            hosts=tuple(i.hosts),
            paths=tuple(i.paths),
            certificate_arn=i.certificate_arn,
            group=i.group,
            ssl_policy=i.ssl_policy,
        ),
        autoscaling=None
        if a is None
        else AutoscalingSpec(
            min_replicas=a.min_replicas,
            max_replicas=a.max_replicas,
            target_cpu_utilization=a.target_cpu_utilization,
            target_memory_utilization=a.target_memory_utilization,
        ),
        # The stack file's minAvailable wins over the (defaulted) maxUnavailable.
        disruption_budget=None
        if b is None
        else DisruptionBudgetSpec(
            max_unavailable=None if b.min_available is not None else b.max_unavailable,
            min_available=b.min_available,
        ),
        service_account=None if sa is None else ServiceAccountSpec(policy_statements=tuple(sa.policy_statements)),
        cron_jobs={
            j.name: CronJobSpec(
                schedule=j.schedule,
                command=tuple(j.command),
                args=tuple(j.args),
                concurrency_policy=j.concurrency_policy,
                successful_jobs_history_limit=j.successful_jobs_history_limit,
                failed_jobs_history_limit=j.failed_jobs_history_limit,
                time_zone=j.time_zone,
            )
            for j in app.cron_jobs
        },
        migration=None
        if m is None
        else MigrationSpec(
            command=tuple(m.command),
            args=tuple(m.args),
            backoff_limit=m.backoff_limit,
            active_deadline_seconds=m.active_deadline_seconds,
        ),
    )


def _probe(p: ProbeConfig | None) -> Probe | None:
    if p is None:
        return None
    handler: HttpGet | TcpSocket | Exec
    if p.http_get is not None:
        handler = HttpGet(path=p.http_get.path, port=p.http_get.port)
    elif p.tcp_socket is not None:
        handler = TcpSocket(port=p.tcp_socket.port)
    elif p.exec is not None:
        handler = Exec(command=tuple(p.exec.command))
    else:  # the config's probe checks refuse a probe without a handler
        raise ValueError("a probe without a handler passed the stack-config checks")
    return Probe(
        handler=handler,
        initial_delay_seconds=p.initial_delay_seconds,
        period_seconds=p.period_seconds,
        timeout_seconds=p.timeout_seconds,
        failure_threshold=p.failure_threshold,
        success_threshold=p.success_threshold,
    )


__all__ = ["app_spec"]
