"""Rules on how one `slipway:apps.<name>` entry is reached and scaled — service, ingress,
autoscaling — on the raw (camelCase) input, like app_checks.py."""

from __future__ import annotations

from slipway.components.app_rules import ALB_GROUP, HOSTNAME
from slipway.components.app_spec import AutoscalingSpec, IngressSpec, ServiceSpec
from slipway.program.config.app_checks import port_declared, ports_of
from slipway.program.config.errors import Issue
from slipway.program.config.schema import _dict, certificate_arn_issues, missing_certificate_issues


def service_checks(data: dict) -> list[Issue]:
    """The Service needs ports; its targetPort is one; nodePort only for NodePort."""
    service = _dict(data.get("service"))
    issues = []
    if service and not ports_of(data):
        issues.append(
            Issue(
                "service",
                service.get("type", "ClusterIP"),
                "needs the app to declare ports",
                "add ports: [{name: http, containerPort: 8080}]",
            )
        )
    target = service.get("targetPort", ServiceSpec.target_port)
    if service and ports_of(data) and not port_declared(target, data):
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


def ingress_checks(data: dict) -> list[Issue]:
    """Hosts, paths, certificate (required when internet-facing), group, an httpGet readiness probe."""
    ingress = _dict(data.get("ingress"))
    if ingress.get("enabled") is not True:
        return []
    issues = []
    if not ports_of(data):
        issues.append(
            Issue(
                "ingress.enabled",
                True,
                "needs the app to declare ports",
                "add ports and a service, or disable the ingress",
            )
        )
    for i, host in enumerate(ingress.get("hosts", []) or []):
        if not isinstance(host, str) or not HOSTNAME.fullmatch(host) or len(host) > 253:
            issues.append(
                Issue(
                    f"ingress.hosts[{i}]",
                    host,
                    "is not a valid host name",
                    "write a DNS name such as api.example.com (lowercase; a leading *. is allowed)",
                )
            )
    for i, path in enumerate(ingress.get("paths", list(IngressSpec.paths)) or []):
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
    if isinstance(group, str) and not ALB_GROUP.fullmatch(group):
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


def autoscaling_checks(data: dict) -> list[Issue]:
    """Bounds in order, a target, and the request each target is measured against."""
    hpa = _dict(data.get("autoscaling"))
    if not hpa:
        return []
    issues = []
    low = hpa.get("minReplicas", AutoscalingSpec.min_replicas)
    high = hpa.get("maxReplicas", AutoscalingSpec.max_replicas)
    if isinstance(low, int) and isinstance(high, int) and low > high:
        issues.append(
            Issue(
                "autoscaling.minReplicas", low, f"is above maxReplicas {high}", "lower minReplicas or raise maxReplicas"
            )
        )
    requests = _dict(_dict(data.get("resources")).get("requests"))
    for metric, resource in (("targetCpuUtilization", "cpu"), ("targetMemoryUtilization", "memory")):
        default = AutoscalingSpec.target_cpu_utilization if resource == "cpu" else None
        if hpa.get(metric, default) is not None and resource not in requests:
            issues.append(
                Issue(
                    f"autoscaling.{metric}",
                    hpa.get(metric, default),
                    f"needs a {resource} request (utilization is measured against it)",
                    f"add resources.requests.{resource}",
                )
            )
    cpu = hpa.get("targetCpuUtilization", AutoscalingSpec.target_cpu_utilization)
    if cpu is None and hpa.get("targetMemoryUtilization") is None:
        issues.append(Issue("autoscaling", hpa, "has no target", "set targetCpuUtilization or targetMemoryUtilization"))
    return issues  # fmt: skip
