"""Doctor checks that read AWS: instance offerings, subnet tags, image tags, target health, quotas.

Each check takes a `DoctorContext` and returns `Finding`s; none changes anything in
the account. A check whose API call is refused (AccessDenied, UnauthorizedOperation)
returns one `warn` naming the IAM action to allow, instead of raising.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable
from typing import Any

from botocore.exceptions import ClientError

from infra.capacity import plan_cluster
from infra.config import ConfigError, StackConfig
from infra.doctor.model import DoctorContext, Finding

# The tag the AWS Load Balancer Controller puts on every ALB/NLB it creates
# (kubernetes-sigs/aws-load-balancer-controller, pkg/deploy/tracking/provider.go).
LBC_CLUSTER_TAG = "elbv2.k8s.aws/cluster"
ROLE_TAGS = {"public": "kubernetes.io/role/elb", "private": "kubernetes.io/role/internal-elb"}
SCHEME_TIER = {"internet-facing": "public", "internal": "private"}
# The controller skips subnets with fewer free addresses than this (its subnet discovery docs).
MIN_FREE_IPS = 8
# Service Quotas codes: EC2-VPC Elastic IPs, and VPCs per Region; both default to 5.
EIP_QUOTA = ("ec2", "L-0263D0A3", 5)
VPC_QUOTA = ("vpc", "L-F678F1CE", 5)

DENIED_CODES = {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "UnauthorizedException"}
# IAM service prefix of each API operation these checks call, for "allow <action>".
_IAM_PREFIX = {
    **dict.fromkeys(
        [
            "DescribeAvailabilityZones",
            "DescribeInstanceTypeOfferings",
            "DescribeVpcs",
            "DescribeSubnets",
            "DescribeRouteTables",
            "DescribeAddresses",
        ],
        "ec2",
    ),
    **dict.fromkeys(["DescribeRepositories", "DescribeImages"], "ecr"),
    **dict.fromkeys(
        ["DescribeLoadBalancers", "DescribeTags", "DescribeTargetGroups", "DescribeTargetHealth"],
        "elasticloadbalancing",
    ),
    "GetServiceQuota": "servicequotas",
    "DescribeCluster": "eks",
}

Check = Callable[[DoctorContext], list[Finding]]


def denied_action(exc: ClientError) -> str | None:
    """The IAM action AWS refused (`ec2:DescribeVpcs`), or None if `exc` is not a refusal."""
    if exc.response.get("Error", {}).get("Code") not in DENIED_CODES:
        return None
    said = re.search(r"not authorized to perform: ([\w-]+:\w+)", str(exc))
    if said:
        return said.group(1)
    op = exc.operation_name
    return f"{_IAM_PREFIX.get(op, '<service>')}:{op}"


def _guarded(name: str) -> Callable[[Check], Check]:
    """Turn a refused API call into one `warn` naming the IAM action; other errors propagate."""

    def wrap(check: Check) -> Check:
        @functools.wraps(check)
        def run(ctx: DoctorContext) -> list[Finding]:
            try:
                return check(ctx)
            except ClientError as exc:
                action = denied_action(exc)
                if action is None:
                    raise
                return [
                    Finding(
                        name,
                        "warn",
                        action,
                        f"AWS refused {action}, so this check did not run",
                        f"allow {action} to the identity running slipway doctor (`aws sts get-caller-identity` "
                        "shows which one)",
                    )
                ]

        return run

    return wrap


def _tags(resource: dict[str, Any]) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in resource.get("Tags") or []}


def _chunks(items: list[str], size: int) -> Iterable[list[str]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def stack_azs(ctx: DoctorContext) -> list[str]:
    """The AZs `pulumi up` uses: mirrors `infra.program.availability_zones` (may return too few)."""
    if ctx.cfg.network.availability_zones:
        return list(ctx.cfg.network.availability_zones)
    zones = ctx.client("ec2").describe_availability_zones(Filters=[{"Name": "state", "Values": ["available"]}])
    # The provider's get_availability_zones lists names sorted; AZ slots need a letter a–f.
    names = sorted(z["ZoneName"] for z in zones["AvailabilityZones"])
    return [n for n in names if n[-1] in "abcdef"][: ctx.cfg.network.az_count]


def stack_vpcs(ctx: DoctorContext) -> list[str]:
    """The stack's VPC: the cluster's, else those tagged `slipway/stack=<stack>` ([] before deploy)."""
    if "aws_checks.vpcs" not in ctx._cache:
        cluster = ctx.cluster()
        vpc_cfg = (cluster or {}).get("resourcesVpcConfig", {})
        if vpc_cfg.get("vpcId"):
            found = [vpc_cfg["vpcId"]]
        elif vpc_cfg.get("subnetIds"):
            subnets = ctx.client("ec2").describe_subnets(SubnetIds=vpc_cfg["subnetIds"][:1])["Subnets"]
            found = [s["VpcId"] for s in subnets]
        else:
            tagged = ctx.client("ec2").describe_vpcs(Filters=[{"Name": "tag:slipway/stack", "Values": [ctx.stack]}])
            found = sorted(v["VpcId"] for v in tagged["Vpcs"])
        ctx._cache["aws_checks.vpcs"] = found
    return ctx._cache["aws_checks.vpcs"]


# --------------------------------------------------------------------------- instance offerings


@_guarded("instance offerings")
def check_instance_offerings(ctx: DoctorContext) -> list[Finding]:
    """Each node pool's instance types are offered in every AZ of the stack (preflight).

    AZ names are mapped to physical zones per account (us-east-1e in one account is
    not us-east-1e in another), so slipway's catalog cannot know this: only the
    account's own DescribeInstanceTypeOfferings can.
    """
    name, cfg = "instance offerings", ctx.cfg
    azs = stack_azs(ctx)
    if len(azs) < cfg.network.az_count:
        return [
            Finding(
                name,
                "fail",
                "network.azCount",
                f"azCount is {cfg.network.az_count} but this account sees "
                f"only {len(azs)} available AZs ({', '.join(azs) or 'none'})",
                "lower network.azCount, or list network.availabilityZones",
            )
        ]
    findings, pools = _pool_types(ctx, cfg, azs)
    wanted = sorted({t for types in pools.values() for t in types})
    offered: dict[str, set[str]] = {t: set() for t in wanted}
    if wanted:
        pages = (
            ctx.client("ec2")
            .get_paginator("describe_instance_type_offerings")
            .paginate(
                LocationType="availability-zone",
                Filters=[{"Name": "instance-type", "Values": wanted}, {"Name": "location", "Values": azs}],
            )
        )
        for page in pages:
            for o in page["InstanceTypeOfferings"]:
                offered.setdefault(o["InstanceType"], set()).add(o["Location"])
    for pool, types in sorted(pools.items()):
        findings.append(_offering_finding(ctx, pool, types, azs, offered))
    return findings


def _pool_types(ctx: DoctorContext, cfg: StackConfig, azs: list[str]) -> tuple[list[Finding], dict[str, list[str]]]:
    """The instance types each pool's node group gets: its named types, else the planner's choice."""
    pools = {n: p.types for n, p in cfg.node_pools.items() if p.types}
    auto = sorted(n for n, p in cfg.node_pools.items() if not p.types)
    if not auto:
        return [], pools
    try:
        sizes = plan_cluster(cfg, ctx.region, zones=azs, stack=ctx.stack).sizes(cfg)
    except ConfigError as exc:
        sizes, errors = {}, exc.messages
    else:
        errors = []
    findings = []
    for pool in auto:
        if pool in sizes:
            pools[pool] = sizes[pool][0]
            continue
        msg = next((m for m in errors if m.startswith(f"nodePools.{pool}")), "no plan")
        problem, _, fix = msg.partition(" — ")
        findings.append(
            Finding(
                "instance offerings",
                "fail",
                f"nodePools.{pool}",
                f"the capacity planner chose no instance type: {problem}",
                fix or f"run `slipway size {ctx.stack}` to see why",
            )
        )
    return findings, pools


def _offering_finding(
    ctx: DoctorContext, pool: str, types: list[str], azs: list[str], offered: dict[str, set[str]]
) -> Finding:
    name, subject = "instance offerings", f"nodePools.{pool}"
    missing = {t: [az for az in azs if az not in offered.get(t, set())] for t in types}
    if not any(missing.values()):
        return Finding(name, "pass", subject, f"{', '.join(types)} offered in {', '.join(azs)}")
    gaps = "; ".join(f"{t} not in {', '.join(m)}" for t, m in missing.items() if m)
    uncovered = [az for az in azs if all(az in m for m in missing.values())]
    auto = not ctx.cfg.node_pools[pool].types
    fix = (
        f"refresh the planner's offerings for this account (`slipway catalog refresh --region {ctx.region}`) "
        "or set network.availabilityZones to zones that offer it"
        if auto
        else f"set nodePools.{pool}.instanceType to a type offered in every AZ (`aws ec2 describe-instance-type-"
        f"offerings --location-type availability-zone --filters Name=location,Values={azs[0]}`), "
        "or set network.availabilityZones to zones that offer it"
    )
    if uncovered:
        return Finding(
            name,
            "fail",
            subject,
            f"{gaps}: the node group cannot launch nodes in "
            f'{", ".join(uncovered)} ("instance type is not supported in your requested Availability '
            'Zone")',
            fix,
        )
    return Finding(name, "warn", subject, f"{gaps}; the other types of the pool cover those AZs", fix)


# --------------------------------------------------------------------------- subnet tags


def _needs(cfg: StackConfig) -> dict[str, tuple[int, list[str]]]:
    """Load balancer schemes the stack asks for: {scheme: (AZs needed, [who asks])}."""
    needs: dict[str, tuple[int, list[str]]] = {}

    def add(scheme: str, azs: int, who: str) -> None:
        have, names = needs.get(scheme, (0, []))
        needs[scheme] = (max(have, azs), [*names, who])

    for app_name, app in sorted(cfg.apps.items()):
        if app.ingress.enabled:
            add(app.ingress.scheme, 2, f"apps.{app_name}.ingress")  # an ALB spans at least two AZs
        if app.service and app.service.type == "LoadBalancer":
            add(app.service.scheme, 1, f"apps.{app_name}.service")  # an NLB needs one subnet
    if cfg.argo.enabled and cfg.argo.ingress.enabled:
        add(cfg.argo.ingress.scheme, 2, "argo.ingress")
    return needs


def public_subnets(route_tables: list[dict[str, Any]], subnet_ids: Iterable[str]) -> set[str]:
    """Subnets whose route table (explicit, else the VPC's main one) sends 0.0.0.0/0 to an internet gateway."""
    main, explicit = False, {}
    for rt in route_tables:
        to_igw = any(
            r.get("DestinationCidrBlock") == "0.0.0.0/0" and r.get("GatewayId", "").startswith("igw-")
            for r in rt.get("Routes", [])
        )
        for a in rt.get("Associations", []):
            if a.get("Main"):
                main = to_igw
            elif a.get("SubnetId"):
                explicit[a["SubnetId"]] = to_igw
    return {s for s in subnet_ids if explicit.get(s, main)}


@_guarded("subnet tags")
def check_subnet_tags(ctx: DoctorContext) -> list[Finding]:
    """Public subnets carry `kubernetes.io/role/elb=1`, private ones `kubernetes.io/role/internal-elb=1`,
    and each load balancer scheme the stack uses finds subnets in enough AZs.

    Missing tags are the cause of the controller's "unable to discover at least one
    subnet" / "couldn't auto-discover subnets" (kubernetes-sigs/aws-load-balancer-controller#3051, #2607).
    """
    name, cluster = "subnet tags", ctx.cluster_name
    vpcs = stack_vpcs(ctx)
    if not vpcs:
        return [Finding(name, "skip", ctx.stack, "stack not deployed yet")]
    findings = []
    if len(vpcs) > 1:
        findings.append(
            Finding(
                name,
                "warn",
                ", ".join(vpcs),
                f"{len(vpcs)} VPCs carry slipway/stack={ctx.stack}; checked {vpcs[0]}",
                "delete VPCs left over from an earlier deploy of this stack",
            )
        )
    ec2, vpc = ctx.client("ec2"), vpcs[0]
    by_vpc = [{"Name": "vpc-id", "Values": [vpc]}]
    subnets = [s for page in ec2.get_paginator("describe_subnets").paginate(Filters=by_vpc) for s in page["Subnets"]]
    tables = [
        t for page in ec2.get_paginator("describe_route_tables").paginate(Filters=by_vpc) for t in page["RouteTables"]
    ]
    public = public_subnets(tables, (s["SubnetId"] for s in subnets))
    needs = _needs(ctx.cfg)
    tiers = {
        "public": [s for s in subnets if s["SubnetId"] in public],
        "private": [s for s in subnets if s["SubnetId"] not in public],
    }
    users = {t: [w for scheme, (_, who) in needs.items() if SCHEME_TIER[scheme] == t for w in who] for t in tiers}
    for tier, members in tiers.items():
        key, bad = ROLE_TAGS[tier], 0
        impact = (
            f"; {', '.join(users[tier])} cannot place a load balancer in it"
            if users[tier]
            else f"; no {tier} load balancer is asked for yet, the first one will not find it"
        )
        for s in sorted(members, key=lambda s: s["SubnetId"]):
            problem = _subnet_problem(s, key, cluster)
            if problem:
                bad += 1
                # A missing or wrong role tag is drift from what slipway deployed: always a failure.
                # The controller's other filters (cluster tag, free IPs) only matter once a load balancer asks.
                status = "fail" if users[tier] or key in problem else "warn"
                findings.append(
                    Finding(
                        name,
                        status,
                        s["SubnetId"],
                        f"{tier} subnet {_label(s)} {problem}{impact}",
                        _tag_fix(s["SubnetId"], key, cluster, problem),
                    )
                )
        if members and not bad:
            azs = sorted({s["AvailabilityZone"] for s in members})
            findings.append(
                Finding(name, "pass", f"{tier} subnets", f"{len(members)} tagged {key}=1 ({', '.join(azs)})")
            )
    for scheme, (need, who) in sorted(needs.items()):
        findings.append(_coverage(subnets, public, scheme, need, who, cluster))
    return findings


def _label(subnet: dict[str, Any]) -> str:
    named = _tags(subnet).get("Name")
    return f"{named} ({subnet['AvailabilityZone']})" if named else f"in {subnet['AvailabilityZone']}"


def _subnet_problem(subnet: dict[str, Any], key: str, cluster: str) -> str | None:
    """Why the controller would not use this subnet for its tier, or None."""
    value = _tags(subnet).get(key)
    if value is None:
        return f"has no {key} tag"
    if value not in ("1", ""):
        return f"has {key}={value!r}; the controller accepts only 1 or an empty value"
    return _ineligible(subnet, cluster)


def _ineligible(subnet: dict[str, Any], cluster: str) -> str | None:
    """The controller's filters after the role tag: the cluster tag and free addresses."""
    tags, own = _tags(subnet), f"kubernetes.io/cluster/{cluster}"
    others = sorted(k for k in tags if k.startswith("kubernetes.io/cluster/") and k != own)
    if others and own not in tags:
        return f"is tagged for another cluster ({others[0]}) but not {own}, so the controller skips it"
    if subnet.get("AvailableIpAddressCount", MIN_FREE_IPS) < MIN_FREE_IPS:
        return f"has {subnet['AvailableIpAddressCount']} free IP addresses; the controller needs {MIN_FREE_IPS}"
    return None


def _tag_fix(subnet_id: str, key: str, cluster: str, problem: str) -> str:
    # `pulumi up` diffs against its state, which still holds the tag: only a refresh sees it gone.
    restore = "or run `pulumi up --refresh`, which restores slipway's tags"
    if "free IP" in problem:
        return "free addresses in the subnet (delete unused ENIs or load balancers), or add AZs (network.azCount)"
    if "another cluster" in problem:
        return (
            f"aws ec2 create-tags --resources {subnet_id} --tags Key=kubernetes.io/cluster/{cluster},Value=shared "
            f"({restore})"
        )
    return f"aws ec2 create-tags --resources {subnet_id} --tags Key={key},Value=1 ({restore})"


def _coverage(
    subnets: list[dict[str, Any]], public: set[str], scheme: str, need: int, who: list[str], cluster: str
) -> Finding:
    """Where the controller would place a load balancer of `scheme`, in its own discovery order."""
    tier = SCHEME_TIER[scheme]
    key = ROLE_TAGS[tier]
    tagged = [s for s in subnets if _tags(s).get(key) in ("1", "")]
    # With no subnet carrying the role tag, controllers ≥ 2.12.1 fall back to route-table reachability.
    candidates = tagged or [s for s in subnets if (s["SubnetId"] in public) == (tier == "public")]
    usable = [s for s in candidates if _ineligible(s, cluster) is None]
    azs = sorted({s["AvailabilityZone"] for s in usable})
    subject = f"{scheme} load balancers"
    if len(azs) >= need:
        how = "" if tagged else f" (found by route table: no subnet carries {key}, which controllers < 2.12.1 need)"
        return Finding("subnet tags", "pass", subject, f"subnets in {', '.join(azs)} for {', '.join(who)}{how}")
    return Finding(
        "subnet tags",
        "fail",
        subject,
        f"{', '.join(who)} need{'s' if len(who) == 1 else ''} {tier} subnets tagged {key}=1 in at least "
        f"{need} AZs; found {len(azs)} ({', '.join(azs) or 'none'}): the controller reports \"couldn't "
        'auto-discover subnets" and the load balancer is never created',
        f"tag the {tier} subnets of {need} AZs with {key}=1 (see the subnet findings above), "
        "or run `pulumi up --refresh`",
    )


# --------------------------------------------------------------------------- image tags


@_guarded("image tags")
def check_image_tags(ctx: DoctorContext) -> list[Finding]:
    """Each app's `image.tag` exists in its ECR repository `<cluster>/<image.repository>`.

    A missing tag becomes ErrImagePull / ImagePullBackOff once the Deployment rolls out.
    """
    name = "image tags"
    if not ctx.cfg.apps:
        return [Finding(name, "skip", ctx.stack, "no apps configured")]
    ecr, findings = ctx.client("ecr"), []
    uris: dict[str, str | None] = {}
    for app_name, app in sorted(ctx.cfg.apps.items()):
        repo, tag = f"{ctx.cluster_name}/{app.image.repository}", app.image.tag
        subject = f"apps.{app_name}"
        if repo not in uris:
            try:
                uris[repo] = ecr.describe_repositories(repositoryNames=[repo])["repositories"][0]["repositoryUri"]
            except ecr.exceptions.RepositoryNotFoundException:
                uris[repo] = None
        uri = uris[repo]
        if uri is None:
            if ctx.cluster() is None:
                findings.append(
                    Finding(
                        name,
                        "warn",
                        subject,
                        f"ECR repository {repo} does not exist yet",
                        f"`pulumi up` creates it; push {app.image.repository}:{tag} to it right "
                        "after, before the app's pods start pulling",
                    )
                )
            else:
                findings.append(
                    Finding(
                        name,
                        "fail",
                        subject,
                        f"ECR repository {repo} does not exist, so {tag} cannot be pulled (ImagePullBackOff)",
                        "run `pulumi up --refresh` to recreate it, then push the image",
                    )
                )
            continue
        try:
            ecr.describe_images(repositoryName=repo, imageIds=[{"imageTag": tag}])
        except ecr.exceptions.ImageNotFoundException:
            registry = uri.split("/", 1)[0]
            findings.append(
                Finding(
                    name,
                    "fail",
                    subject,
                    f"{repo}:{tag} is not in ECR: ImagePullBackOff ahead{_recent_tags(ecr, repo)}",
                    f"aws ecr get-login-password --region {ctx.region} | docker login --username AWS "
                    f"--password-stdin {registry} && docker tag <local image> {uri}:{tag} && "
                    f"docker push {uri}:{tag} (or set apps.{app_name}.image.tag to a pushed "
                    "tag)",
                )
            )
            continue
        findings.append(Finding(name, "pass", subject, f"{repo}:{tag} is in ECR"))
    return findings


def _recent_tags(ecr: Any, repo: str, n: int = 3) -> str:
    images = ecr.describe_images(repositoryName=repo).get("imageDetails", [])
    tagged = sorted((i for i in images if i.get("imageTags")), key=lambda i: i.get("imagePushedAt", 0), reverse=True)
    tags = [t for i in tagged[:n] for t in i["imageTags"]][:n]
    return f" (latest pushed: {', '.join(tags)})" if tags else " (the repository has no tagged images)"


# --------------------------------------------------------------------------- target health

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


@_guarded("target health")
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
        return [
            Finding(
                "target health",
                "fail",
                subject,
                "no targets registered: the load balancer answers 503",
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
    if healthy:
        findings.append(Finding("target health", "pass", subject, f"{healthy} of {len(targets)} targets healthy"))
    return findings


# --------------------------------------------------------------------------- quotas


def _quota(ctx: DoctorContext, service: str, code: str, default: int) -> tuple[float, str]:
    """The applied quota, or the default with a note saying why it was assumed."""
    try:
        quota = ctx.client("service-quotas").get_service_quota(ServiceCode=service, QuotaCode=code)["Quota"]
    except ClientError as exc:
        why = denied_action(exc) or exc.response.get("Error", {}).get("Code", "error")
        return default, f" (quota {service}/{code} not readable: {why}; assumed the default {default})"
    return quota["Value"], ""


def _verdict(name: str, subject: str, used: int, quota: float, what: str, fix: str, note: str) -> Finding:
    detail = f"{what}: {used} of {quota:g}{note}"
    if used > quota:
        return Finding(name, "fail", subject, f"{detail} — over the quota, `pulumi up` would fail", fix)
    if quota - used <= 1:
        return Finding(name, "warn", subject, f"{detail} — at most one to spare", fix)
    return Finding(name, "pass", subject, detail)


@_guarded("quotas")
def check_quotas(ctx: DoctorContext) -> list[Finding]:
    """Elastic IPs (one per NAT gateway) and VPCs the stack needs fit the region's quotas."""
    name, cfg, ec2 = "quotas", ctx.cfg, ctx.client("ec2")
    addresses = ec2.describe_addresses()["Addresses"]
    nats = {"none": 0, "single": 1, "per-az": cfg.network.az_count}[cfg.network.nat_strategy]
    # A deployed stack's NAT addresses are already counted among the region's addresses.
    ours = sum(1 for a in addresses if _tags(a).get("slipway/stack") == ctx.stack)
    eips = len(addresses) + max(0, nats - ours)
    service, code, default = EIP_QUOTA
    quota, note = _quota(ctx, service, code, default)
    findings = [
        _verdict(
            name,
            "Elastic IPs",
            eips,
            quota,
            f"Elastic IPs in {ctx.region} with this stack's {nats} NAT gateway(s) (natStrategy "
            f"{cfg.network.nat_strategy})",
            "release unused addresses (`aws ec2 describe-addresses` shows those without an "
            f"AssociationId), request more (`aws service-quotas request-service-quota-increase "
            f"--service-code {service} --quota-code {code} --desired-value {max(eips, int(quota)) + 2}`)"
            + (", or use network.natStrategy single" if nats > 1 else ""),
            note,
        )
    ]
    existing = sum(len(page["Vpcs"]) for page in ec2.get_paginator("describe_vpcs").paginate())
    vpcs = existing + (0 if stack_vpcs(ctx) else 1)
    service, code, default = VPC_QUOTA
    quota, note = _quota(ctx, service, code, default)
    findings.append(
        _verdict(
            name,
            "VPCs",
            vpcs,
            quota,
            f"VPCs in {ctx.region}, counting this stack's",
            "delete unused VPCs (the default VPC counts too), or request more (`aws service-quotas "
            f"request-service-quota-increase --service-code {service} --quota-code {code} "
            f"--desired-value {max(vpcs, int(quota)) + 2}`)",
            note,
        )
    )
    return findings


AWS_CHECKS: list[Check] = [
    check_instance_offerings,
    check_subnet_tags,
    check_image_tags,
    check_target_health,
    check_quotas,
]
