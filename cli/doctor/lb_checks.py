"""Doctor check: targets behind the Load Balancer Controller's load balancers are healthy."""

from __future__ import annotations

from typing import Any

from slipway.cli.doctor._aws import _chunks, _guarded, _needs, _tags
from slipway.cli.doctor.model import DoctorContext, Finding

# The tag the AWS Load Balancer Controller puts on every ALB/NLB it creates
# (kubernetes-sigs/aws-load-balancer-controller, pkg/deploy/tracking/provider.go).
LBC_CLUSTER_TAG = "elbv2.k8s.aws/cluster"

# What to do about an unhealthy target, by TargetHealth.Reason (ELBv2 DescribeTargetHealth).
_REASON_FIX = {
    "Target.ResponseCodeMismatch": "make the app answer 200–399 on the health check path when it is ready: slipway "
    "uses the app's readiness probe path (apps.<app>.probes.readiness.httpGet.path) as the ALB health check path",
    "Target.Timeout": "let the load balancer reach the pod: the node security group must allow the load "
    "balancer's security group on the target port (the controller adds this rule to the one node security group "
    "tagged kubernetes.io/cluster/<cluster>), and the app must listen on 0.0.0.0 on that port",
    "Target.FailedHealthChecks": "the connection to the pod failed: check the target port is the container port "
    "the app listens on, the security group rule from the load balancer, and `kubectl logs` of the pod",
    "Target.NotInUse": "no listener rule forwards here, or the load balancer is not enabled in the target's AZ: "
    "check the subnet tags and `kubectl describe ingress`",
    "Target.IpUnusable": "the pod IP is gone or in use elsewhere: check `kubectl get pods -o wide` and the "
    "TargetGroupBinding (`kubectl describe targetgroupbinding -A`)",
}
_DEFAULT_FIX = (
    "check `kubectl describe targetgroupbinding -A` and the controller's logs "
    "(`kubectl logs -n kube-system deploy/aws-load-balancer-controller`)"
)


@_guarded
def check_target_health(ctx: DoctorContext) -> list[Finding]:
    """Targets behind the controller's load balancers for this cluster are healthy (after deploy)."""
    name, elb = "target health", ctx.client("elbv2")
    lbs = [lb for page in elb.get_paginator("describe_load_balancers").paginate() for lb in page["LoadBalancers"]]
    tags = _elb_tags(elb, [lb["LoadBalancerArn"] for lb in lbs])
    ours = [lb for lb in lbs if tags.get(lb["LoadBalancerArn"], {}).get(LBC_CLUSTER_TAG) == ctx.cluster_name]
    if not ours:
        askers = sorted(w for _, who in _needs(ctx.cfg).values() for w in who)
        if askers and ctx.cfg.load_balancer_controller.enabled and ctx.cluster() is not None:
            return [
                Finding(
                    name,
                    "warn",
                    ctx.cluster_name,
                    f"no load balancer tagged {LBC_CLUSTER_TAG}="
                    f"{ctx.cluster_name}, though {', '.join(askers)} asks for one",
                    "give the controller a few minutes after deploy, then read the events of "
                    "`kubectl describe ingress -A` and the controller's logs (subnet discovery, IAM)",
                )
            ]
        return [Finding(name, "skip", ctx.cluster_name, "no load balancers of the Load Balancer Controller yet")]
    findings = []
    for lb in sorted(ours, key=lambda lb: lb["LoadBalancerName"]):
        groups = elb.describe_target_groups(LoadBalancerArn=lb["LoadBalancerArn"])["TargetGroups"]
        group_tags = _elb_tags(elb, [g["TargetGroupArn"] for g in groups])
        for group in sorted(groups, key=lambda g: g["TargetGroupName"]):
            findings += _group_findings(elb, lb, group, group_tags.get(group["TargetGroupArn"], {}))
    return findings


def _elb_tags(elb: Any, arns: list[str]) -> dict[str, dict[str, str]]:
    out = {}
    for chunk in _chunks(arns, 20):  # DescribeTags takes at most 20 ARNs
        for d in elb.describe_tags(ResourceArns=chunk)["TagDescriptions"]:
            out[d["ResourceArn"]] = _tags(d)
    return out


def _group_findings(elb: Any, lb: dict[str, Any], group: dict[str, Any], tags: dict[str, str]) -> list[Finding]:
    # The controller tags a target group with the Kubernetes object it serves: namespace/ingress-service:port.
    backend = tags.get("ingress.k8s.aws/resource") or tags.get("service.k8s.aws/resource")
    subject = f"{lb['LoadBalancerName']}/{group['TargetGroupName']}" + (f" ({backend})" if backend else "")
    path = f" {group['HealthCheckPath']}" if group.get("HealthCheckPath") else ""
    check = f"{group.get('HealthCheckProtocol', 'HTTP')}{path} on port {group.get('HealthCheckPort', 'traffic-port')}"
    targets = elb.describe_target_health(TargetGroupArn=group["TargetGroupArn"])["TargetHealthDescriptions"]
    if not targets:
        # An ALB answers 503 itself; an NLB passes TCP through and has nowhere to send it.
        if lb.get("Type") == "network":
            effect = "the network load balancer refuses or resets connections"
        else:
            effect = "the load balancer answers 503"
        return [
            Finding(
                "target health",
                "fail",
                subject,
                f"no targets registered: {effect}",
                "check the Service has ready pods (`kubectl get endpointslices -A`) and that its selector "
                "matches the pods' labels",
            )
        ]
    findings, healthy = [], 0
    for t in targets:
        health, target = t["TargetHealth"], f"{t['Target']['Id']}:{t['Target'].get('Port', '')}"
        state, reason = health.get("State"), health.get("Reason", "")
        said = f"{reason}: {health.get('Description', '')}".strip(": ")
        if state == "healthy":
            healthy += 1
        elif state == "initial":
            findings.append(
                Finding(
                    "target health",
                    "warn",
                    subject,
                    f"{target} is still registering ({said})",
                    "re-run slipway doctor in a minute",
                )
            )
        elif state in ("unhealthy", "unhealthy.draining", "unused", "unavailable"):
            # unused/unavailable: no traffic is sent there (AZ not enabled, health checks off): less than an outage.
            status = "fail" if state.startswith("unhealthy") else "warn"
            findings.append(
                Finding(
                    "target health",
                    status,
                    subject,
                    f"{target} is {state} ({said}); health check: {check}",
                    _REASON_FIX.get(reason, _DEFAULT_FIX),
                )
            )
        elif state == "draining":
            findings.append(
                Finding(
                    "target health",
                    "warn",
                    subject,
                    f"{target} is draining ({said or 'being deregistered'}): it gets no new requests",
                    "expected while pods roll or scale down; if it lasts, check the pod still exists "
                    "(`kubectl get pods -o wide`) and " + _DEFAULT_FIX,
                )
            )
        else:  # any state this check does not know yet: say so rather than stay silent
            findings.append(
                Finding(
                    "target health",
                    "warn",
                    subject,
                    f"{target} is {state or 'in no reported state'} ({said}); health check: {check}",
                    _REASON_FIX.get(reason, _DEFAULT_FIX),
                )
            )
    if healthy:
        findings.append(Finding("target health", "pass", subject, f"{healthy} of {len(targets)} targets healthy"))
    return findings
