"""`slipway:nodePools` — EKS managed node groups: instance types, sizes, AMI, taints, the pods each holds."""

from __future__ import annotations

import ipaddress
import re
from typing import Any, Literal

from pydantic import Field

from slipway.components import node_access, node_pools
from slipway.components.capacity.quantity import cpu_millicores, memory_mib
from slipway.program.config.errors import Issue
from slipway.program.config.model import Model, _dict, anchored, dns1123_name_issues, parse_quantity, quantity_example

AmiType = Literal[
    "AL2023_x86_64_STANDARD",
    "AL2023_ARM_64_STANDARD",
    "BOTTLEROCKET_x86_64",
    "BOTTLEROCKET_ARM_64",
]

INSTANCE_TYPE = anchored(node_pools.INSTANCE_TYPE)
SECURITY_GROUP_ID = anchored(node_access.SECURITY_GROUP_ID)


class Taint(Model):
    """A node taint (Kubernetes `key=value:effect`)."""

    key: str
    value: str = ""
    effect: Literal["NoSchedule", "PreferNoSchedule", "NoExecute"] = "NoSchedule"

    def __str__(self) -> str:
        return f"{self.key}={self.value}:{self.effect}" if self.value else f"{self.key}:{self.effect}"


class PodsConfig(Model):
    """`slipway:nodePools.<name>.pods[]` — a workload the pool must hold (until the
    applications that run there are declared in `slipway:apps`)."""

    name: str
    replicas: int = Field(2, ge=1, le=1000)
    cpu: str | int | float
    """CPU request per pod (Kubernetes quantity: 250m, 0.5, 2)."""
    memory: str
    """Memory request per pod (256Mi, 1Gi)."""
    max_surge: int = Field(1, ge=0, le=100)
    """Extra pods during a rolling update (RollingUpdate maxSurge)."""

    @classmethod
    def raw_checks(cls, data: dict[str, Any], context: dict[str, Any]) -> list[Issue]:
        issues = dns1123_name_issues("name", data.get("name"))
        for key in ("cpu", "memory"):
            if key in data:
                amount, bad = parse_quantity(key, key, data[key])
                issues += bad
                if amount is not None and amount <= 0:
                    issues.append(Issue(key, data[key], "is zero", f"request something, e.g. {quantity_example(key)}"))
        return issues

    @property
    def cpu_m(self) -> int:
        return cpu_millicores(self.cpu)

    @property
    def memory_mib(self) -> int:
        return memory_mib(self.memory)


class NodeSshConfig(Model):
    """`slipway:nodePools.<name>.ssh` — SSH with a key pair, only from named sources.

    Without it a pool's nodes have no key pair and no port 22 open: shell access goes
    through SSM Session Manager (`aws ssm start-session --target <instance-id>`).
    """

    key_name: str
    """An existing EC2 key pair in the stack's region."""
    source_security_group_ids: list[str]
    """Security groups SSH may come from (a bastion's, a VPN endpoint's); at least one."""
    source_cidrs: list[str] = []
    """Extra source ranges; never 0.0.0.0/0 or ::/0."""

    @classmethod
    def raw_checks(cls, data: dict[str, Any], context: dict[str, Any]) -> list[Issue]:
        issues = []
        groups = data.get("sourceSecurityGroupIds")
        if groups is None or groups == []:
            issues.append(Issue("sourceSecurityGroupIds", groups, "is empty: SSH needs a named source",
                                "list the bastion's security group, e.g. [sg-0123456789abcdef0], "
                                "or remove ssh and use aws ssm start-session"))  # fmt: skip
        elif isinstance(groups, list):
            for i, sg in enumerate(groups):
                if not isinstance(sg, str) or not SECURITY_GROUP_ID.match(sg):
                    issues.append(Issue(f"sourceSecurityGroupIds[{i}]", sg, "is not a security group id",
                                        "write one like sg-0123456789abcdef0"))  # fmt: skip
        cidrs = data.get("sourceCidrs")
        for i, cidr in enumerate(cidrs if isinstance(cidrs, list) else []):
            try:
                net = ipaddress.ip_network(str(cidr), strict=True)
            except ValueError:
                issues.append(Issue(f"sourceCidrs[{i}]", cidr, "is not a CIDR block", "write one like 10.0.0.0/16"))
                continue
            if net.prefixlen == 0:
                issues.append(Issue(f"sourceCidrs[{i}]", cidr, "opens SSH to the whole internet",
                                    "name the bastion's security group in sourceSecurityGroupIds (or a VPN "
                                    "range), or use aws ssm start-session --target <instance-id>"))  # fmt: skip
        return issues


class NodePoolConfig(Model):
    """`slipway:nodePools.<name>` — one EKS managed node group.

    By default slipway sizes the pool: `instanceType: auto` picks the cheapest type and
    node count that hold its pods (see components/capacity). Name a type to pin it;
    slipway then checks that it can hold the pods.
    """

    instance_type: str = "auto"
    """`auto`, or an EC2 instance type such as m6i.large."""
    instance_types: list[str] | None = None
    """Several types (SPOT pools spread over them); the pods must fit on each, and the
    node count is what the smallest needs."""
    families: list[str] | None = None
    """With auto: only these families (e.g. [m6i, m7i, c6i])."""
    allow_burstable: bool | None = None
    """With auto: consider t3/t3a/t4g (CPU credits; default: yes outside prod)."""
    survive_az_loss: bool | None = None
    """Size so all pods still fit after one AZ is lost (default: prod only)."""
    system: bool = False
    """Cluster add-ons (CoreDNS, Load Balancer Controller) run here. Default: the pool
    named `system`, else `general`, else the first."""
    pods: list[PodsConfig] = []
    """Workloads this pool must hold, besides add-ons and DaemonSets."""
    capacity_type: Literal["ON_DEMAND", "SPOT"] = "ON_DEMAND"
    min_size: int | None = Field(None, ge=0, le=450)
    """Fewest nodes (default: what the pods need)."""
    desired_size: int | None = Field(None, ge=0, le=450)
    """Nodes now; only with a named type (auto computes it)."""
    max_size: int | None = Field(None, ge=1, le=450)
    """Most nodes (default: 1.5 × the planned count, room for an autoscaler)."""
    disk_size: int = Field(20, ge=20, le=16384)
    """Root volume in GiB (gp3, encrypted). 20 is the EKS default; images live here."""
    ami_type: AmiType = "AL2023_x86_64_STANDARD"
    """Pinned AMI type; its architecture (x86_64 or ARM_64) limits the instance types."""
    release_version: str | None = None
    """Pin the AMI release (e.g. 1.34.2-20251112) to stop node replacement on AMI updates."""
    version: str | None = None
    """Kubernetes minor of this pool's nodes. Default: the cluster's, so a control-plane
    upgrade rolls the nodes right after it. Set one minor below the cluster's to hold a
    pool back during an upgrade (a lagging pool can be neither created nor replaced)."""
    pinned_instance_type: str | None = None
    """With `instanceType: auto`: the type the planner chose, written by `slipway pin`.
    Changing a pool's type replaces its node group, so it never changes by itself: a
    new proposal is shown by `slipway size` and applied by `slipway pin --replan`."""
    labels: dict[str, str] = {}
    taints: list[Taint] = []
    """Node taints (`key=value:effect`). A tainted pool is dedicated: only what the config
    places there explicitly gets its tolerations — the apps in `dedicatedTo`, its `pods`,
    Argo when `argo.nodePool` names it, the cluster add-ons on the system pool."""
    dedicated_to: list[str] = []
    """Apps (keys of `slipway:apps`) that run on this tainted pool and tolerate its taints.
    Each also names the pool (`apps.<app>.nodePool`), unless it is the default pool. An
    app naming a tainted pool that does not list it is refused: naming a pool says where
    an app runs, this list says who may."""
    metadata_hop_limit: int = Field(1, ge=1, le=2)
    """IMDSv2 hop limit. 1 keeps pods away from the node role's credentials; 2 only if a pod needs IMDS."""
    autoscaler: Literal["auto", "none", "external"] = "auto"
    """`auto`: the stack's `slipway:autoscaling.provider` adds nodes to this pool at peak
    (with `none` there, the pool is fixed). `none`: fixed at the plan, whatever the
    provider; every `pulumi up` applies the plan. `external`: an autoscaler slipway does
    not install owns the node count after creation, and `pulumi up` leaves desiredSize alone."""

    ssh: NodeSshConfig | None = None
    """SSH to this pool's nodes with a key pair, from named sources only. Default: none
    (no key pair, no port 22); shell access through SSM Session Manager."""

    @property
    def is_auto(self) -> bool:
        return self.instance_types is None and self.instance_type == "auto"

    @property
    def types(self) -> list[str]:
        """Named instance types ([] when auto)."""
        if self.instance_types is not None:
            return list(self.instance_types)
        return [] if self.instance_type == "auto" else [self.instance_type]

    @classmethod
    def raw_checks(cls, data: dict[str, Any], context: dict[str, Any]) -> list[Issue]:
        issues = []
        single, many = data.get("instanceType"), data.get("instanceTypes")
        if single is not None and many is not None:
            issues.append(
                Issue(
                    "instanceType",
                    single,
                    "and instanceTypes are both set",
                    "keep one: instanceType for one type or auto, instanceTypes for several",
                )
            )
        auto = many is None and single in (None, "auto")
        pinned = data.get("pinnedInstanceType")
        if pinned is not None and not auto:
            issues.append(Issue("pinnedInstanceType", pinned, "only applies to instanceType: auto",
                                "remove pinnedInstanceType (the named type is already pinned)"))  # fmt: skip
        if auto and data.get("desiredSize") is not None:
            issues.append(
                Issue(
                    "desiredSize",
                    data["desiredSize"],
                    "is computed when instanceType is auto",
                    "remove desiredSize (bound the pool with minSize/maxSize), or name an instanceType",
                )
            )
        if not auto and data.get("families") is not None:
            issues.append(
                Issue(
                    "families",
                    data["families"],
                    "only applies to instanceType: auto",
                    "remove families, or set instanceType: auto",
                )
            )
        sizes = {k: data.get(k) for k in ("minSize", "desiredSize", "maxSize")}
        lo, want, hi = sizes["minSize"], sizes["desiredSize"], sizes["maxSize"]
        ints = {k: v for k, v in sizes.items() if isinstance(v, int)}
        if "minSize" in ints and "maxSize" in ints and lo > hi:
            issues.append(Issue("minSize", lo, f"is above maxSize {hi}", "lower minSize or raise maxSize"))
        if "desiredSize" in ints and "maxSize" in ints and want > hi:
            issues.append(Issue("desiredSize", want, f"is above maxSize {hi}", "raise maxSize or lower desiredSize"))
        if "desiredSize" in ints and "minSize" in ints and want < lo:
            issues.append(Issue("desiredSize", want, f"is below minSize {lo}", "raise desiredSize or lower minSize"))
        ami = str(data.get("amiType", "AL2023_x86_64_STANDARD"))
        arm = ami.endswith(("ARM_64", "ARM_64_STANDARD"))
        named = [("instanceType", single)] if isinstance(single, str) and single != "auto" and many is None else []
        if auto and pinned is not None:
            named.append(("pinnedInstanceType", pinned))
        if isinstance(many, list):
            if not many:
                issues.append(
                    Issue("instanceTypes", [], "is empty", "name at least one type, or use instanceType: auto")
                )
            named += [(f"instanceTypes[{i}]", t) for i, t in enumerate(many)]
        seen: set[str] = set()
        for where, t in named:
            if not isinstance(t, str) or not INSTANCE_TYPE.match(t):
                issues.append(Issue(where, t, "is not an EC2 instance type", "write family.size, e.g. t3.medium"))
                continue
            if t in seen:
                issues.append(Issue(where, t, "is listed twice", "list each type once"))
            seen.add(t)
            graviton = bool(re.search(r"\d+g[a-z]*$", t.split(".")[0]))
            if graviton != arm:
                issues.append(
                    Issue(
                        where,
                        t,
                        f"is {'an Arm (Graviton)' if graviton else 'an x86'} type but amiType is {ami}",
                        f"use amiType {'AL2023_ARM_64_STANDARD' if graviton else 'AL2023_x86_64_STANDARD'} "
                        "or instance types of the AMI's architecture",
                    )
                )
        families = data.get("families")
        if isinstance(families, list):
            for i, f in enumerate(families):
                if not isinstance(f, str) or not re.fullmatch(r"[a-z][a-z0-9-]*", f):
                    issues.append(Issue(f"families[{i}]", f, "is not an instance family", "write e.g. m6i or c7g"))
        for key, value in _dict(data.get("labels")).items():
            if str(key).startswith(("kubernetes.io/", "k8s.io/", "eks.amazonaws.com/")):
                issues.append(
                    Issue(
                        f"labels.{key}",
                        value,
                        "uses a prefix reserved by Kubernetes/EKS",
                        "use your own prefix, e.g. slipway.dev/pool",
                    )
                )
        tenants = data.get("dedicatedTo")
        if isinstance(tenants, list):
            for i, n in enumerate(tenants):
                if n in tenants[:i]:
                    issues.append(Issue(f"dedicatedTo[{i}]", n, "is listed twice", "list each app once"))
        pods = data.get("pods")
        if isinstance(pods, list):
            names = [p.get("name") for p in pods if isinstance(p, dict)]
            for i, n in enumerate(names):
                if n in names[:i]:
                    issues.append(Issue(f"pods[{i}].name", n, "is listed twice", "give each workload its own name"))
        return issues  # fmt: skip
