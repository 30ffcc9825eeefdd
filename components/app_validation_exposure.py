"""App's checks on how it is reached and what it may do in AWS: Service, Ingress and
ServiceAccount (see app_validation.py)."""

from __future__ import annotations

from typing import Any

from slipway.components.access_args import statements_issues
from slipway.components.app_rules import ACM_ARN, ALB_GROUP, HOSTNAME, port_known, readiness_for_ingress_issue, seq
from slipway.components.app_spec import AppSpec, HttpGet, IngressSpec, Probe, Probes, ServiceAccountSpec, ServiceSpec
from slipway.components.validation import (
    Issue,
    Verbatim,
    choice_issues,
    int_issues,
    pattern_issues,
    str_list_issues,
    type_issues,
)


def service_issues(spec: AppSpec) -> list[Issue]:
    """The Service: needs ports; its target port is one of them; node_port only for NodePort."""
    s = spec.service
    if s is None:
        return []
    if not isinstance(s, ServiceSpec):
        return type_issues("service", s, ServiceSpec, "pass ServiceSpec(...) or None")
    if not seq(spec.ports):
        return [Issue("service", s.type, "needs the app to declare ports", "add ports=[Port(container_port=8080)]")]
    issues = choice_issues("service.type", s.type, ("ClusterIP", "NodePort", "LoadBalancer"), "a Service type")
    issues += int_issues("service.port", s.port, minimum=1, maximum=65535)
    if not port_known(s.target_port, spec):
        issues.append(
            Issue(
                "service.target_port",
                s.target_port,
                "is not one of the app's ports",
                "use a port name or number from ports",
            )
        )
    if s.node_port is not None:
        if s.type != "NodePort":
            issues.append(
                Issue(
                    "service.node_port",
                    s.node_port,
                    "only applies to type NodePort",
                    "set type='NodePort' or remove node_port",
                )
            )
        issues += int_issues("service.node_port", s.node_port, minimum=30000, maximum=32767)
    issues += choice_issues("service.scheme", s.scheme, ("internal", "internet-facing"), "a load balancer scheme")
    if s.external_traffic_policy is not None:
        issues += choice_issues(
            "service.external_traffic_policy", s.external_traffic_policy, ("Cluster", "Local"), "a traffic policy"
        )
    issues += choice_issues("service.session_affinity", s.session_affinity, ("None", "ClientIP"), "a session affinity")
    return issues


def ingress_issues(spec: AppSpec) -> list[Issue]:
    """The Ingress: needs ports and an HttpGet readiness probe; hosts, paths, certificate, group."""
    i = spec.ingress
    if i is None:
        return []
    if not isinstance(i, IngressSpec):
        return type_issues("ingress", i, IngressSpec, "pass IngressSpec(...) or None")
    issues: list[Issue] = []
    if not seq(spec.ports):
        issues.append(
            Issue(
                "ingress",
                Verbatim("IngressSpec(...)"),
                "needs the app to declare ports",
                "add ports (and a service), or set ingress=None",
            )
        )
    issues += choice_issues("ingress.scheme", i.scheme, ("internal", "internet-facing"), "a load balancer scheme")
    issues += str_list_issues("ingress.hosts", i.hosts, example="api.example.com", allow_empty=True)
    for n, host in enumerate(seq(i.hosts)):
        if isinstance(host, str) and host and not (HOSTNAME.fullmatch(host) and len(host) <= 253):
            issues.append(
                Issue(
                    f"ingress.hosts[{n}]",
                    host,
                    "is not a valid host name",
                    "write a DNS name such as api.example.com (lowercase; a leading *. is allowed)",
                )
            )
    issues += str_list_issues("ingress.paths", i.paths, example="/api")
    for n, path in enumerate(seq(i.paths)):
        if isinstance(path, str) and path and not path.startswith("/"):
            issues.append(Issue(f"ingress.paths[{n}]", path, "does not start with '/'", "write paths like /api"))
    if i.certificate_arn is not None:
        issues += pattern_issues(
            "ingress.certificate_arn",
            i.certificate_arn,
            ACM_ARN,
            "is not an ACM certificate ARN",
            "copy it from ACM: arn:aws:acm:<region>:<account>:certificate/<id>",
        )
    if i.group is not None:
        issues += pattern_issues(
            "ingress.group",
            i.group,
            ALB_GROUP,
            "is not a valid ALB group name",
            "use lowercase letters, digits, '-' and '.'",
        )
    readiness = spec.probes.readiness if isinstance(spec.probes, Probes) else None
    if not (isinstance(readiness, Probe) and isinstance(readiness.handler, HttpGet)):
        issues.append(readiness_for_ingress_issue(readiness))
    return issues


def service_account_issues(sa: Any) -> list[Issue]:
    """The ServiceAccount: its policy statements are IAM statements."""
    if sa is None:
        return []
    if not isinstance(sa, ServiceAccountSpec):
        return type_issues("service_account", sa, ServiceAccountSpec, "pass ServiceAccountSpec(...) or None")
    # The same rule WorkloadRole (App's child) applies, so App refuses before registering.
    return statements_issues("service_account.policy_statements", sa.policy_statements)


__all__ = ["ingress_issues", "service_account_issues", "service_issues"]
