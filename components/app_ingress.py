"""ALB Ingresses for the AWS Load Balancer Controller, as pure functions: the app's, and
the shared builder argo-server's Ingress uses too (the members of one ALB group must be
configured alike: one mismatching Ingress blocks the whole group,
kubernetes-sigs/aws-load-balancer-controller#3790).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from slipway.components.app_manifests import labels as app_labels
from slipway.components.app_rules import readiness_for_ingress_issue
from slipway.components.app_spec import DEFAULT_SSL_POLICY, AppSpec, HttpGet, default_alb_group
from slipway.components.validation import ArgsError, under


def ingress_group(spec: AppSpec, cluster: str) -> str | None:
    """The ALB group the app's Ingress joins (None without an ingress)."""
    if spec.ingress is None:
        return None
    return spec.ingress.group or default_alb_group(cluster, spec.ingress.scheme)


def alb_ingress(
    *,
    name: str,
    namespace: str,
    labels: Mapping[str, str],
    scheme: str,
    group: str,
    hosts: Sequence[str],
    paths: Sequence[str],
    service_name: str,
    service_port: int,
    healthcheck_path: str,
    certificate_arn: str | None,
    ssl_policy: str,
    extra_annotations: Mapping[str, str] | None = None,
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
        "metadata": {"name": name, "namespace": namespace, "labels": dict(labels), "annotations": annotations},
        "spec": {"ingressClassName": "alb", "rules": rules},
    }


def ingress(
    app: str, namespace: str, spec: AppSpec, *, part_of: str, group: str, svc: Mapping[str, Any]
) -> dict[str, Any] | None:
    """An ALB Ingress in `group` (see ingress_group) to the app's Service manifest `svc`;
    HTTPS with redirect when a certificate is set. None without an ingress."""
    i = spec.ingress
    if i is None:
        return None
    # The ALB health-checks the readiness path (App's validation requires an HttpGet probe).
    readiness = spec.probes.readiness
    if readiness is None or not isinstance(readiness.handler, HttpGet):
        raise ArgsError(f"App {app!r}", under("spec", [readiness_for_ingress_issue(readiness)]))
    return alb_ingress(
        name=app,
        namespace=namespace,
        labels=app_labels(app, spec.image.tag, part_of),
        scheme=i.scheme,
        group=group,
        hosts=list(i.hosts),
        paths=list(i.paths),
        service_name=svc["metadata"]["name"],
        service_port=svc["spec"]["ports"][0]["port"],
        healthcheck_path=readiness.handler.path,
        certificate_arn=i.certificate_arn,
        ssl_policy=i.ssl_policy,
        extra_annotations={
            # Catch-all paths ("/") are evaluated after the specific ones of the same group.
            "alb.ingress.kubernetes.io/group.order": "100" if set(i.paths) == {"/"} else "10",
            "alb.ingress.kubernetes.io/success-codes": "200-399",
        },
    )


__all__ = ["DEFAULT_SSL_POLICY", "alb_ingress", "default_alb_group", "ingress", "ingress_group"]
