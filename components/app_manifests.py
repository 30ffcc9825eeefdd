"""The App's manifests as pure functions of its `AppSpec`: labels, the container and pod,
Deployment, Service, HorizontalPodAutoscaler, PodDisruptionBudget, and the checksums
that roll the pods when settings or secrets change. Tests call them without Pulumi.

Secure by default: non-root, read-only root filesystem with an emptyDir /tmp, no
privilege escalation, all capabilities dropped, seccomp RuntimeDefault (the pods pass
Pod Security "restricted"); requests always, a memory limit, no CPU limit (the EKS
best-practices guide advises against CPU throttling).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

import pulumi

from slipway.components.app_spec import AppSpec, Exec, HttpGet, Image, Probe, Resources, TcpSocket

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


def image_reference(image: Image) -> pulumi.Input[str]:
    """`<repository>:<tag>` (an Output when the repository is one)."""
    if isinstance(image.repository, str):
        return f"{image.repository}:{image.tag}"
    return pulumi.Output.concat(image.repository, ":", image.tag)


def probe(p: Probe) -> dict[str, Any]:
    """A container probe from its spec."""
    out: dict[str, Any] = {
        "initialDelaySeconds": p.initial_delay_seconds,
        "periodSeconds": p.period_seconds,
        "timeoutSeconds": p.timeout_seconds,
        "failureThreshold": p.failure_threshold,
        "successThreshold": p.success_threshold,
    }
    h = p.handler
    if isinstance(h, HttpGet):
        out["httpGet"] = {"path": h.path, "port": h.port}
    elif isinstance(h, TcpSocket):
        out["tcpSocket"] = {"port": h.port}
    elif isinstance(h, Exec):
        out["exec"] = {"command": list(h.command)}
    return out


def pod_security_context(run_as: int = 10001) -> dict[str, Any]:
    """Pod Security "restricted": a fixed non-root user and group, seccomp RuntimeDefault."""
    return {
        "runAsNonRoot": True,
        "runAsUser": run_as,
        "runAsGroup": run_as,
        "fsGroup": run_as,
        "seccompProfile": {"type": "RuntimeDefault"},
    }


CONTAINER_SECURITY: dict[str, Any] = {
    "allowPrivilegeEscalation": False,
    "readOnlyRootFilesystem": True,
    "privileged": False,
    "capabilities": {"drop": ["ALL"]},
    "seccompProfile": {"type": "RuntimeDefault"},
}


def config_name(app: str) -> str:
    """The app's ConfigMap."""
    return f"{app}-config"


def secret_name(app: str) -> str:
    """The app's Secret."""
    return f"{app}-secrets"


def resources(r: Resources) -> dict[str, Any]:
    """A container's `resources`."""
    out: dict[str, Any] = {"requests": {k: str(v) for k, v in r.requests.items()}}
    if r.limits:
        out["limits"] = {k: str(v) for k, v in r.limits.items()}
    return out


def env_sources(app: str, spec: AppSpec) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    """(env, envFrom, volumeMounts) for the app's settings, config and secrets."""
    env: list[dict[str, Any]] = [{"name": k, "value": v} for k, v in sorted(spec.env.items())]
    env_from: list[dict[str, Any]] = []
    mounts: list[dict[str, Any]] = []
    if spec.config:
        env_from.append({"configMapRef": {"name": config_name(app)}})
    if spec.secrets:
        if spec.secrets_as == "env":
            env_from.append({"secretRef": {"name": secret_name(app)}})
        else:
            mounts.append({"name": "secrets", "mountPath": f"{SECRETS_DIR}/{app}", "readOnly": True})
    return env, env_from, mounts


def container(
    app: str, spec: AppSpec, command: list[str] | None = None, args: list[str] | None = None
) -> dict[str, Any]:
    """The app's container (also used by its CronJobs and migration Job, with a command)."""
    env, env_from, mounts = env_sources(app, spec)
    c: dict[str, Any] = {
        "name": app,
        "image": image_reference(spec.image),
        "imagePullPolicy": "IfNotPresent",
        "resources": resources(spec.resources),
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
    if spec.ports:
        c["ports"] = [{"name": p.name, "containerPort": p.container_port, "protocol": p.protocol} for p in spec.ports]
    for kind in ("readiness", "liveness", "startup"):
        p = getattr(spec.probes, kind)
        if p is not None:
            c[f"{kind}Probe"] = probe(p)
    return c


def volumes(app: str, spec: AppSpec) -> list[dict[str, Any]]:
    """A size-limited /tmp (the root filesystem is read-only), and the secrets as files if asked."""
    vols: list[dict[str, Any]] = [{"name": "tmp", "emptyDir": {"sizeLimit": "256Mi"}}]
    if spec.secrets and spec.secrets_as == "files":
        vols.append({"name": "secrets", "secret": {"secretName": secret_name(app), "defaultMode": 0o400}})
    return vols


def pod_spec(
    app: str, spec: AppSpec, service_account: str | None, main: dict[str, Any], restart: str = "Always"
) -> dict[str, Any]:
    """The pod spec of the app's Deployment, CronJobs and migration Job (`main` is its container)."""
    out: dict[str, Any] = {
        "securityContext": pod_security_context(),
        "containers": [main],
        "volumes": volumes(app, spec),
        "restartPolicy": restart,
        "automountServiceAccountToken": service_account is not None,
    }
    if service_account:
        out["serviceAccountName"] = service_account
    if spec.placement.node_selector:
        out["nodeSelector"] = dict(spec.placement.node_selector)
    if spec.placement.tolerations:
        out["tolerations"] = spec.placement.k8s_tolerations()
    return out


def deployment(
    app: str,
    namespace: str,
    spec: AppSpec,
    *,
    part_of: str,
    service_account: str | None,
    checksums: Mapping[str, Any],
) -> dict[str, Any]:
    """The Deployment. `checksums` are pod annotations: a config/secret change rolls the pods."""
    pod = pod_spec(app, spec, service_account, container(app, spec))
    pod["topologySpreadConstraints"] = [
        {
            "maxSkew": 1,
            "topologyKey": key,
            "whenUnsatisfiable": "ScheduleAnyway",
            "labelSelector": {"matchLabels": selector_labels(app)},
        }
        for key in ("topology.kubernetes.io/zone", "kubernetes.io/hostname")
    ]
    s = spec.strategy
    # A canary/blue-green app's Deployment only holds the pod template (Argo runs the pods and
    # scales it to zero): apps/v1 knows RollingUpdate and Recreate only (ValidateDeploymentStrategy).
    strategy: dict[str, Any] = {"type": "RollingUpdate" if s.progressive else s.type}
    if strategy["type"] == "RollingUpdate":
        strategy["rollingUpdate"] = {"maxSurge": s.max_surge, "maxUnavailable": s.max_unavailable}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": app, "namespace": namespace, "labels": labels(app, spec.image.tag, part_of)},
        "spec": {
            "replicas": spec.steady_replicas,
            "revisionHistoryLimit": 10,
            "minReadySeconds": s.min_ready_seconds,
            "progressDeadlineSeconds": s.progress_deadline_seconds,
            "strategy": strategy,
            "selector": {"matchLabels": selector_labels(app)},
            "template": {
                "metadata": {"labels": labels(app, spec.image.tag, part_of), "annotations": dict(checksums)},
                "spec": pod,
            },
        },
    }


def service(app: str, namespace: str, spec: AppSpec, *, part_of: str) -> dict[str, Any] | None:
    """ClusterIP by default; NodePort; LoadBalancer as an NLB through the controller."""
    if not spec.ports:
        return None
    s = spec.service
    kind = s.type if s else "ClusterIP"
    port: dict[str, Any] = {
        "name": "http" if not s else "main",
        "port": s.port if s else 80,
        "targetPort": s.target_port if s else spec.ports[0].name,
        "protocol": "TCP",
    }
    if s and s.node_port:
        port["nodePort"] = s.node_port
    meta: dict[str, Any] = {"name": app, "namespace": namespace, "labels": labels(app, spec.image.tag, part_of)}
    out: dict[str, Any] = {"type": kind, "selector": selector_labels(app), "ports": [port]}
    if s and kind == "LoadBalancer":
        meta["annotations"] = {
            "service.beta.kubernetes.io/aws-load-balancer-type": "external",
            "service.beta.kubernetes.io/aws-load-balancer-nlb-target-type": "ip",
            "service.beta.kubernetes.io/aws-load-balancer-scheme": s.scheme,
        }
        out["loadBalancerClass"] = "service.k8s.aws/nlb"
    if s and s.external_traffic_policy and kind != "ClusterIP":
        out["externalTrafficPolicy"] = s.external_traffic_policy
    if s and s.session_affinity != "None":
        out["sessionAffinity"] = s.session_affinity
    return {"apiVersion": "v1", "kind": "Service", "metadata": meta, "spec": out}


def workload_ref(app: str, spec: AppSpec) -> dict[str, str]:
    """What runs the app's pods: its Deployment, or its Argo `Rollout` with a progressive
    strategy (which serves the /scale subresource an HPA needs:
    argoproj/argo-rollouts@v1.9.0 docs/features/hpa-support.md)."""
    if spec.progressive:
        return {"apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout", "name": app}
    return {"apiVersion": "apps/v1", "kind": "Deployment", "name": app}


def autoscaler(app: str, namespace: str, spec: AppSpec, *, part_of: str) -> dict[str, Any] | None:
    """The HorizontalPodAutoscaler (None without autoscaling)."""
    a = spec.autoscaling
    if a is None:
        return None
    metrics = [
        {"type": "Resource", "resource": {"name": name, "target": {"type": "Utilization", "averageUtilization": v}}}
        for name, v in (("cpu", a.target_cpu_utilization), ("memory", a.target_memory_utilization))
        if v is not None
    ]
    return {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": app, "namespace": namespace, "labels": labels(app, spec.image.tag, part_of)},
        "spec": {
            "scaleTargetRef": workload_ref(app, spec),
            "minReplicas": a.min_replicas,
            "maxReplicas": a.max_replicas,
            "metrics": metrics,
        },
    }


def disruption_budget(app: str, namespace: str, spec: AppSpec, *, part_of: str) -> dict[str, Any] | None:
    """The PodDisruptionBudget (None without one)."""
    b = spec.disruption_budget
    if b is None:
        return None
    out: dict[str, Any] = {"selector": {"matchLabels": selector_labels(app)}}
    if b.min_available is not None:
        out["minAvailable"] = b.min_available
    else:
        out["maxUnavailable"] = b.max_unavailable
    return {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": {"name": app, "namespace": namespace, "labels": labels(app, spec.image.tag, part_of)},
        "spec": out,
    }


def config_checksum(config: Mapping[str, str]) -> str:
    """A digest of the app's config (pod annotation: a change rolls the pods)."""
    return hashlib.sha256(json.dumps(dict(config), sort_keys=True).encode()).hexdigest()


def secret_checksum(app: str, values: Mapping[str, str]) -> str:
    """A digest that changes with any secret value (salted with the app name); safe to show."""
    digest = hashlib.sha256(f"slipway:{app}".encode())
    for key in sorted(values):
        digest.update(f"\0{key}\0{values[key]}".encode())
    return digest.hexdigest()


__all__ = [
    "CONTAINER_SECURITY",
    "SECRETS_DIR",
    "autoscaler",
    "config_checksum",
    "config_name",
    "container",
    "deployment",
    "disruption_budget",
    "env_sources",
    "image_reference",
    "labels",
    "pod_security_context",
    "pod_spec",
    "probe",
    "resources",
    "secret_checksum",
    "secret_name",
    "selector_labels",
    "service",
    "volumes",
    "workload_ref",
]
