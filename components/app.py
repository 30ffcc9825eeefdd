"""`App`: one application — Deployment, Service, Ingress (ALB), HPA, PDB, CronJobs, a
pre-deploy migration Job, its ConfigMap and Secret, and optionally an IRSA role.

Every manifest is built by a pure function here (tests call them without Pulumi);
the component only registers them, in the order a rollout needs:

    namespace → ConfigMap/Secret → migration Job (new image tag) → Deployment → HPA/PDB
    Load Balancer Controller → Service (LoadBalancer) / Ingress

Secure by default: non-root, read-only root filesystem with an emptyDir /tmp, no
privilege escalation, all capabilities dropped, seccomp RuntimeDefault (the pods pass
Pod Security "restricted"); requests always, a memory limit, no CPU limit (the EKS
best-practices guide advises against CPU throttling).

Over time (pulumi-kubernetes `provider/pkg/provider/diff.go` lists what forces
replacement; a named object is replaced delete-first):

- A Deployment's `spec.selector` is immutable: changing the app's selector labels
  replaces the Deployment (its pods go, then come back), so selectors use only the
  stable `app.kubernetes.io/name`/`instance`/`component` labels, never the version.
- A Job's pod template is immutable: the migration Job's name carries a hash of the
  image tag, so a new tag is a rename — a new Job, created (and run) before the
  Deployment rolls, then the old one deleted.
- ConfigMap and Secret data update in place (the Kubernetes provider sets
  `enableConfigMapMutable`/`enableSecretMutable`; otherwise a named one is deleted and
  re-created); the checksum annotations roll the pods onto the new values.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from slipway.components.access import WorkloadRole, WorkloadRoleArgs
from slipway.program.config.apps import AppConfig, ProbeConfig, default_alb_group

SECRETS_DIR = "/var/run/secrets"


def selector_labels(app: str) -> dict[str, str]:
    """The labels selectors use: stable for the life of the app (selectors are immutable).

    The component keeps the app's CronJob and migration pods (component cronjob /
    migration) out of its Service, PDB and spread constraints.
    """
    return {"app.kubernetes.io/name": app, "app.kubernetes.io/instance": app, "app.kubernetes.io/component": "server"}


def labels(app: str, version: str, part_of: str, component: str = "server") -> dict[str, str]:
    """Standard `app.kubernetes.io/*` labels."""
    return {
        "app.kubernetes.io/name": app,
        "app.kubernetes.io/instance": app,
        "app.kubernetes.io/version": version,
        "app.kubernetes.io/component": component,
        "app.kubernetes.io/part-of": part_of,
        "app.kubernetes.io/managed-by": "slipway",
    }


def probe(p: ProbeConfig) -> dict[str, Any]:
    out: dict[str, Any] = {
        "initialDelaySeconds": p.initial_delay_seconds,
        "periodSeconds": p.period_seconds,
        "timeoutSeconds": p.timeout_seconds,
        "failureThreshold": p.failure_threshold,
        "successThreshold": p.success_threshold,
    }
    if p.http_get:
        out["httpGet"] = {"path": p.http_get.path, "port": p.http_get.port}
    elif p.tcp_socket:
        out["tcpSocket"] = {"port": p.tcp_socket.port}
    elif p.exec:
        out["exec"] = {"command": list(p.exec.command)}
    return out


def pod_security_context(run_as: int = 10001) -> dict[str, Any]:
    return {
        "runAsNonRoot": True,
        "runAsUser": run_as,
        "runAsGroup": run_as,
        "fsGroup": run_as,
        "seccompProfile": {"type": "RuntimeDefault"},
    }


CONTAINER_SECURITY = {
    "allowPrivilegeEscalation": False,
    "readOnlyRootFilesystem": True,
    "privileged": False,
    "capabilities": {"drop": ["ALL"]},
    "seccompProfile": {"type": "RuntimeDefault"},
}


def config_name(app: str) -> str:
    return f"{app}-config"


def secret_name(app: str) -> str:
    return f"{app}-secrets"


def resources(cfg: AppConfig) -> dict[str, Any]:
    out: dict[str, Any] = {"requests": {k: str(v) for k, v in cfg.resources.requests.items()}}
    if cfg.resources.limits:
        out["limits"] = {k: str(v) for k, v in cfg.resources.limits.items()}
    return out


def env_sources(app: str, cfg: AppConfig) -> tuple[list[dict], list[dict], list[dict]]:
    """(env, envFrom, volumeMounts) for the app's settings, config and secrets."""
    env = [{"name": k, "value": v} for k, v in sorted(cfg.env.items())]
    env_from: list[dict] = []
    mounts: list[dict] = []
    if cfg.config:
        env_from.append({"configMapRef": {"name": config_name(app)}})
    if cfg.secrets:
        if cfg.secrets_as == "env":
            env_from.append({"secretRef": {"name": secret_name(app)}})
        else:
            mounts.append({"name": "secrets", "mountPath": f"{SECRETS_DIR}/{app}", "readOnly": True})
    return env, env_from, mounts


def container(app: str, cfg: AppConfig, image: Any, command: list[str] | None = None, args: list[str] | None = None):
    """The app's container (also used by its CronJobs and migration Job, with a command)."""
    env, env_from, mounts = env_sources(app, cfg)
    c: dict[str, Any] = {
        "name": app,
        "image": image,
        "imagePullPolicy": "IfNotPresent",
        "resources": resources(cfg),
        "securityContext": CONTAINER_SECURITY,
        "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}, *mounts],
    }
    if env:
        c["env"] = env
    if env_from:
        c["envFrom"] = env_from
    if command is not None:
        c["command"] = list(command)
        if args:
            c["args"] = list(args)
        return c
    if cfg.ports:
        c["ports"] = [{"name": p.name, "containerPort": p.container_port, "protocol": p.protocol} for p in cfg.ports]
    for kind in ("readiness", "liveness", "startup"):
        p = getattr(cfg.probes, kind)
        if p is not None:
            c[f"{kind}Probe"] = probe(p)
    return c


def volumes(app: str, cfg: AppConfig) -> list[dict[str, Any]]:
    vols: list[dict[str, Any]] = [{"name": "tmp", "emptyDir": {"sizeLimit": "256Mi"}}]
    if cfg.secrets and cfg.secrets_as == "files":
        vols.append({"name": "secrets", "secret": {"secretName": secret_name(app), "defaultMode": 0o400}})
    return vols


def pod_spec(
    app: str,
    cfg: AppConfig,
    image: Any,
    placement: dict[str, Any],
    service_account: str | None,
    main: dict[str, Any],
    restart: str = "Always",
) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "securityContext": pod_security_context(),
        "containers": [main],
        "volumes": volumes(app, cfg),
        "restartPolicy": restart,
        "automountServiceAccountToken": service_account is not None,
    }
    if service_account:
        spec["serviceAccountName"] = service_account
    if placement.get("node_selector"):
        spec["nodeSelector"] = placement["node_selector"]
    if placement.get("tolerations"):
        spec["tolerations"] = placement["tolerations"]
    return spec


def deployment(
    app: str,
    namespace: str,
    cfg: AppConfig,
    image: Any,
    *,
    part_of: str,
    placement: dict[str, Any],
    service_account: str | None,
    checksums: dict[str, Any],
) -> dict[str, Any]:
    """The Deployment. `checksums` are pod annotations: a config/secret change rolls the pods."""
    spec = pod_spec(app, cfg, image, placement, service_account, container(app, cfg, image))
    spec["topologySpreadConstraints"] = [
        {
            "maxSkew": 1,
            "topologyKey": key,
            "whenUnsatisfiable": "ScheduleAnyway",
            "labelSelector": {"matchLabels": selector_labels(app)},
        }
        for key in ("topology.kubernetes.io/zone", "kubernetes.io/hostname")
    ]
    strategy: dict[str, Any] = {"type": cfg.strategy.type}
    if cfg.strategy.type == "RollingUpdate":
        strategy["rollingUpdate"] = {"maxSurge": cfg.strategy.max_surge, "maxUnavailable": cfg.strategy.max_unavailable}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": app, "namespace": namespace, "labels": labels(app, cfg.image.tag, part_of)},
        "spec": {
            "replicas": cfg.steady_replicas,
            "revisionHistoryLimit": 10,
            "minReadySeconds": cfg.strategy.min_ready_seconds,
            "progressDeadlineSeconds": cfg.strategy.progress_deadline_seconds,
            "strategy": strategy,
            "selector": {"matchLabels": selector_labels(app)},
            "template": {
                "metadata": {"labels": labels(app, cfg.image.tag, part_of), "annotations": checksums},
                "spec": spec,
            },
        },
    }


def service(app: str, namespace: str, cfg: AppConfig, *, part_of: str) -> dict[str, Any] | None:
    """ClusterIP by default; NodePort; LoadBalancer as an NLB through the controller."""
    if not cfg.ports:
        return None
    s = cfg.service
    kind = s.type if s else "ClusterIP"
    port: dict[str, Any] = {
        "name": "http" if not s else "main",
        "port": s.port if s else 80,
        "targetPort": s.target_port if s else cfg.ports[0].name,
        "protocol": "TCP",
    }
    if s and s.node_port:
        port["nodePort"] = s.node_port
    meta: dict[str, Any] = {"name": app, "namespace": namespace, "labels": labels(app, cfg.image.tag, part_of)}
    spec: dict[str, Any] = {"type": kind, "selector": selector_labels(app), "ports": [port]}
    if kind == "LoadBalancer":
        meta["annotations"] = {
            "service.beta.kubernetes.io/aws-load-balancer-type": "external",
            "service.beta.kubernetes.io/aws-load-balancer-nlb-target-type": "ip",
            "service.beta.kubernetes.io/aws-load-balancer-scheme": s.scheme,
        }
        spec["loadBalancerClass"] = "service.k8s.aws/nlb"
    if s and s.external_traffic_policy and kind != "ClusterIP":
        spec["externalTrafficPolicy"] = s.external_traffic_policy
    if s and s.session_affinity != "None":
        spec["sessionAffinity"] = s.session_affinity
    return {"apiVersion": "v1", "kind": "Service", "metadata": meta, "spec": spec}


def ingress_group(cfg: AppConfig, cluster: str) -> str:
    return cfg.ingress.group or default_alb_group(cluster, cfg.ingress.scheme)


def alb_ingress(
    *,
    name: str,
    namespace: str,
    labels: dict[str, str],
    scheme: str,
    group: str,
    hosts: list[str],
    paths: list[str],
    service_name: str,
    service_port: int,
    healthcheck_path: str,
    certificate_arn: str | None,
    ssl_policy: str,
    extra_annotations: dict[str, str] | None = None,
) -> dict[str, Any]:
    """An Ingress for the AWS Load Balancer Controller: an ALB in `group`, IP targets,
    HTTPS with HTTP→HTTPS redirect when a certificate is set (HTTP only otherwise).

    `hosts` empty: one rule for any host. Apps and argo-server both use it, so the
    members of one ALB group are configured alike.
    """
    annotations = {
        "alb.ingress.kubernetes.io/scheme": scheme,
        "alb.ingress.kubernetes.io/target-type": "ip",
        "alb.ingress.kubernetes.io/group.name": group,
        "alb.ingress.kubernetes.io/healthcheck-path": healthcheck_path,
        **(extra_annotations or {}),
    }
    if certificate_arn:
        annotations.update(
            {
                "alb.ingress.kubernetes.io/certificate-arn": certificate_arn,
                "alb.ingress.kubernetes.io/listen-ports": '[{"HTTP": 80}, {"HTTPS": 443}]',
                "alb.ingress.kubernetes.io/ssl-redirect": "443",
                "alb.ingress.kubernetes.io/ssl-policy": ssl_policy,
            }
        )
    else:
        annotations["alb.ingress.kubernetes.io/listen-ports"] = '[{"HTTP": 80}]'
    backend = {"service": {"name": service_name, "port": {"number": service_port}}}
    http = {"paths": [{"path": p, "pathType": "Prefix", "backend": backend} for p in paths]}
    rules = [{"host": h, "http": http} for h in hosts] or [{"http": http}]
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": {"name": name, "namespace": namespace, "labels": labels, "annotations": annotations},
        "spec": {"ingressClassName": "alb", "rules": rules},
    }


def ingress(
    app: str, namespace: str, cfg: AppConfig, *, part_of: str, group: str, svc: dict[str, Any]
) -> dict[str, Any] | None:
    """An ALB Ingress in the stack's shared group (`group`, see ingress_group) to the
    app's Service manifest `svc`; HTTPS with redirect when a certificate is set."""
    if not cfg.ingress.enabled:
        return None
    i = cfg.ingress
    return alb_ingress(
        name=app,
        namespace=namespace,
        labels=labels(app, cfg.image.tag, part_of),
        scheme=i.scheme,
        group=group,
        hosts=i.hosts,
        paths=i.paths,
        service_name=svc["metadata"]["name"],
        service_port=svc["spec"]["ports"][0]["port"],
        healthcheck_path=cfg.probes.readiness.http_get.path,
        certificate_arn=i.certificate_arn,
        ssl_policy=i.ssl_policy,
        extra_annotations={
            # Catch-all paths ("/") are evaluated after the specific ones of the same group.
            "alb.ingress.kubernetes.io/group.order": "100" if set(i.paths) == {"/"} else "10",
            "alb.ingress.kubernetes.io/success-codes": "200-399",
        },
    )


def autoscaler(app: str, namespace: str, cfg: AppConfig, *, part_of: str) -> dict[str, Any] | None:
    if not cfg.autoscaling:
        return None
    a = cfg.autoscaling
    metrics = [
        {"type": "Resource", "resource": {"name": name, "target": {"type": "Utilization", "averageUtilization": v}}}
        for name, v in (("cpu", a.target_cpu_utilization), ("memory", a.target_memory_utilization))
        if v is not None
    ]
    return {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": app, "namespace": namespace, "labels": labels(app, cfg.image.tag, part_of)},
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": app},
            "minReplicas": a.min_replicas,
            "maxReplicas": a.max_replicas,
            "metrics": metrics,
        },
    }


def disruption_budget(app: str, namespace: str, cfg: AppConfig, *, part_of: str) -> dict[str, Any] | None:
    if cfg.disruption_budget is None:
        return None
    b = cfg.disruption_budget
    spec: dict[str, Any] = {"selector": {"matchLabels": selector_labels(app)}}
    if b.min_available is not None:
        spec["minAvailable"] = b.min_available
    else:
        spec["maxUnavailable"] = b.max_unavailable
    return {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": {"name": app, "namespace": namespace, "labels": labels(app, cfg.image.tag, part_of)},
        "spec": spec,
    }


def cron_jobs(
    app: str,
    namespace: str,
    cfg: AppConfig,
    image: Any,
    *,
    part_of: str,
    placement: dict[str, Any],
    service_account: str | None,
) -> list[dict[str, Any]]:
    out = []
    for job in cfg.cron_jobs:
        name = f"{app}-{job.name}"
        main = container(app, cfg, image, command=job.command, args=job.args)
        spec = {
            "schedule": job.schedule,
            "concurrencyPolicy": job.concurrency_policy,
            "successfulJobsHistoryLimit": job.successful_jobs_history_limit,
            "failedJobsHistoryLimit": job.failed_jobs_history_limit,
            "jobTemplate": {
                "spec": {
                    "backoffLimit": 2,
                    "template": {
                        "metadata": {"labels": labels(app, cfg.image.tag, part_of, "cronjob")},
                        "spec": pod_spec(app, cfg, image, placement, service_account, main, restart="Never"),
                    },
                }
            },
        }
        if job.time_zone:
            spec["timeZone"] = job.time_zone
        out.append(
            {
                "apiVersion": "batch/v1",
                "kind": "CronJob",
                "metadata": {
                    "name": name,
                    "namespace": namespace,
                    "labels": labels(app, cfg.image.tag, part_of, "cronjob"),
                },
                "spec": spec,
            }
        )
    return out


def migration_job_name(app: str, tag: str) -> str:
    """A name per image tag: a new tag is a new Job, so the migration runs again."""
    return f"{app}-migrate-{hashlib.sha256(tag.encode()).hexdigest()[:8]}"


def migration_job(
    app: str,
    namespace: str,
    cfg: AppConfig,
    image: Any,
    *,
    part_of: str,
    placement: dict[str, Any],
    service_account: str | None,
) -> dict[str, Any] | None:
    if not cfg.migration:
        return None
    m = cfg.migration
    main = container(app, cfg, image, command=m.command, args=m.args)
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {
            "name": migration_job_name(app, cfg.image.tag),
            "namespace": namespace,
            "labels": labels(app, cfg.image.tag, part_of, "migration"),
            "annotations": {"pulumi.com/replaceUnready": "true"},
        },
        "spec": {
            "backoffLimit": m.backoff_limit,
            "activeDeadlineSeconds": m.active_deadline_seconds,
            "template": {
                "metadata": {"labels": labels(app, cfg.image.tag, part_of, "migration")},
                "spec": pod_spec(app, cfg, image, placement, service_account, main, restart="Never"),
            },
        },
    }


def config_checksum(cfg: AppConfig) -> str:
    return hashlib.sha256(json.dumps(cfg.config, sort_keys=True).encode()).hexdigest()


def secret_checksum(app: str, values: dict[str, str]) -> str:
    """A digest that changes with any secret value (salted with the app name); safe to show."""
    digest = hashlib.sha256(f"slipway:{app}".encode())
    for key in sorted(values):
        digest.update(f"\0{key}\0{values[key]}".encode())
    return digest.hexdigest()


@dataclass(frozen=True, kw_only=True)
class AppArgs:
    """Inputs of App."""

    config: AppConfig
    namespace: str
    image: pulumi.Input[str]
    """Full image reference (ECR repository URL and tag)."""
    part_of: str
    """`app.kubernetes.io/part-of` (the stack's cluster)."""
    cluster_name: str
    k8s_provider: k8s.Provider
    secrets: dict[str, pulumi.Output[str]] = field(default_factory=dict)
    """ENV_NAME → secret value (Pulumi secret Outputs, from config)."""
    placement: dict[str, Any] = field(default_factory=dict)
    """node_selector / tolerations for the app's pool."""
    oidc_provider_arn: pulumi.Input[str] | None = None
    oidc_issuer: pulumi.Input[str] | None = None
    after: list[pulumi.Resource] = field(default_factory=list)
    """Namespace and node groups: created first."""
    load_balancer: list[pulumi.Resource] = field(default_factory=list)
    """The Load Balancer Controller release: Ingress/NLB Services after it, deleted before it."""
    tags: dict[str, str] = field(default_factory=dict)
    """AWS tags on what the app creates in AWS (its workload role)."""


class App(pulumi.ComponentResource):
    """One application's Kubernetes objects (and its workload role)."""

    deployment_name: str
    namespace: str
    ingress_group: str | None

    def __init__(self, name: str, args: AppArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("slipway:app:App", name, None, opts)
        cfg, ns = args.config, args.namespace
        k8s_opts = pulumi.ResourceOptions(parent=self, provider=args.k8s_provider, depends_on=args.after)
        first: list[pulumi.Resource] = list(args.after)
        checksums: dict[str, Any] = {}
        if cfg.config:
            first.append(
                k8s.core.v1.ConfigMap(
                    f"{name}-config",
                    metadata={
                        "name": config_name(name),
                        "namespace": ns,
                        "labels": labels(name, cfg.image.tag, args.part_of),
                    },
                    data=dict(sorted(cfg.config.items())),
                    opts=k8s_opts,
                )
            )
            checksums["slipway.dev/config-checksum"] = config_checksum(cfg)
        if cfg.secrets:
            values = {env: args.secrets[env] for env in sorted(cfg.secrets)}
            first.append(
                k8s.core.v1.Secret(
                    f"{name}-secrets",
                    metadata={
                        "name": secret_name(name),
                        "namespace": ns,
                        "labels": labels(name, cfg.image.tag, args.part_of),
                    },
                    type="Opaque",
                    string_data=values,
                    opts=k8s_opts,
                )
            )
            # Stays a secret: a digest of a weak password can be brute-forced offline.
            checksums["slipway.dev/secret-checksum"] = pulumi.Output.all(**values).apply(
                lambda v: secret_checksum(name, v)
            )
        service_account = None
        if cfg.service_account is not None:
            service_account = name
            role = WorkloadRole(
                f"{name}-irsa",
                WorkloadRoleArgs(
                    namespace=ns,
                    service_account=name,
                    oidc_provider_arn=args.oidc_provider_arn,
                    oidc_issuer=args.oidc_issuer,
                    k8s_provider=args.k8s_provider,
                    policy_statements=list(cfg.service_account.policy_statements) or None,
                    labels=selector_labels(name),
                    service_account_after=args.after,
                    tags=args.tags,
                ),
                opts=pulumi.ResourceOptions(parent=self),
            )
            first.append(role)
        after_first = pulumi.ResourceOptions(parent=self, provider=args.k8s_provider, depends_on=first)
        job = migration_job(
            name, ns, cfg, args.image, part_of=args.part_of, placement=args.placement, service_account=service_account
        )
        rollout_after = list(first)
        if job:
            # The Deployment waits for the migration: Pulumi awaits the Job's completion,
            # and a new image tag names a new Job, so it runs before every rollout of it.
            # Pulumi waits up to the Job's own deadline (its default wait is 10 minutes)
            # and replaces a failed Job on the next `pulumi up` (replaceUnready).
            deadline = cfg.migration.active_deadline_seconds + 300
            migration = k8s.batch.v1.Job(
                f"{name}-migrate",
                **_fields(job),
                opts=pulumi.ResourceOptions.merge(
                    after_first,
                    pulumi.ResourceOptions(
                        custom_timeouts=pulumi.CustomTimeouts(create=f"{deadline}s", update=f"{deadline}s")
                    ),
                ),
            )
            rollout_after.append(migration)
        dep = k8s.apps.v1.Deployment(
            f"{name}-deployment",
            **_fields(
                deployment(
                    name,
                    ns,
                    cfg,
                    args.image,
                    part_of=args.part_of,
                    placement=args.placement,
                    service_account=service_account,
                    checksums=checksums,
                )
            ),
            opts=pulumi.ResourceOptions(
                parent=self,
                provider=args.k8s_provider,
                depends_on=rollout_after,
                # The HorizontalPodAutoscaler owns replicas once it exists.
                ignore_changes=["spec.replicas"] if cfg.autoscaling else None,
            ),
        )
        for manifest in cron_jobs(
            name, ns, cfg, args.image, part_of=args.part_of, placement=args.placement, service_account=service_account
        ):
            k8s.batch.v1.CronJob(f"{manifest['metadata']['name']}-cron", **_fields(manifest), opts=after_first)
        after_dep = pulumi.ResourceOptions(parent=self, provider=args.k8s_provider, depends_on=[dep])
        hpa = autoscaler(name, ns, cfg, part_of=args.part_of)
        if hpa:
            k8s.autoscaling.v2.HorizontalPodAutoscaler(f"{name}-hpa", **_fields(hpa), opts=after_dep)
        pdb = disruption_budget(name, ns, cfg, part_of=args.part_of)
        if pdb:
            k8s.policy.v1.PodDisruptionBudget(f"{name}-pdb", **_fields(pdb), opts=after_first)
        svc_manifest = service(name, ns, cfg, part_of=args.part_of)
        # Load balancers belong to the controller: created after it, deleted before it.
        uses_lb = cfg.ingress.enabled or (cfg.service is not None and cfg.service.type == "LoadBalancer")
        lb_after = [*first, *(args.load_balancer if uses_lb else [])]
        svc = None
        if svc_manifest:
            svc = k8s.core.v1.Service(
                f"{name}-service",
                **_fields(svc_manifest),
                opts=pulumi.ResourceOptions(parent=self, provider=args.k8s_provider, depends_on=lb_after),
            )
        group = ingress_group(cfg, args.cluster_name) if cfg.ingress.enabled else None
        ing = ingress(name, ns, cfg, part_of=args.part_of, group=group, svc=svc_manifest) if group else None
        if ing:
            k8s.networking.v1.Ingress(
                f"{name}-ingress",
                **_fields(ing),
                opts=pulumi.ResourceOptions(
                    parent=self, provider=args.k8s_provider, depends_on=[*lb_after, *([svc] if svc else [])]
                ),
            )
        self.deployment_name = name
        self.namespace = ns
        self.ingress_group = group
        self.register_outputs({"namespace": ns, "deployment": name})


def _fields(manifest: dict[str, Any]) -> dict[str, Any]:
    """A manifest as pulumi-kubernetes constructor arguments (metadata, spec, …)."""
    return {k: v for k, v in manifest.items() if k not in ("apiVersion", "kind")}
