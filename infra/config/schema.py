"""The typed schema of a stack's `slipway:` config namespace.

Every key a user writes under `slipway:` in `stacks/Pulumi.<stack>.yaml` is parsed
here, before any resource is registered. Each field is documented once, with its
default and why.

Rules that compare fields live in `raw_checks`, which every model runs on the raw
input *even when some field failed to parse*, so one run reports every mistake.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic.alias_generators import to_camel

from slipway.components.capacity.quantity import cpu_millicores, memory_mib
from slipway.program.config.errors import Issue, invalid, merged, problems

# Kubernetes versions EKS offers that slipway is tested against.
SUPPORTED_KUBERNETES_VERSIONS = ("1.32", "1.33", "1.34", "1.35")
DEFAULT_KUBERNETES_VERSION = "1.34"

AmiType = Literal[
    "AL2023_x86_64_STANDARD",
    "AL2023_ARM_64_STANDARD",
    "BOTTLEROCKET_x86_64",
    "BOTTLEROCKET_ARM_64",
]

DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
INSTANCE_TYPE = re.compile(r"^[a-z][a-z0-9-]*\.[a-z0-9]+$")
IAM_PRINCIPAL_ARN = re.compile(
    r"^arn:(?P<partition>aws|aws-cn|aws-us-gov):(?P<service>iam|sts)::(?P<account>\d{12}):"
    r"(?P<kind>role|user|assumed-role)/(?P<path>[\w+=,.@/-]+)$"
)
# EKS rejects access entry / aws-auth usernames with these prefixes.
RESERVED_USERNAME_PREFIXES = ("system:", "eks:", "aws:", "amazon:", "iam:")
# What nodes in private subnets need when there is no NAT: images (ECR API and
# registry; layers come from S3 through the free gateway endpoint), the EC2 API for
# the VPC CNI, STS for IRSA.
PRIVATE_CLUSTER_ENDPOINTS = ("ec2", "ecr.api", "ecr.dkr", "sts")


def _dict(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def dns1123_name_issues(where: str, name: Any) -> list[Issue]:
    """A Kubernetes object name: a DNS-1123 label of at most 63 characters."""
    if isinstance(name, str) and (not DNS1123_LABEL.match(name) or len(name) > 63):
        return [Issue(where, name, "is not a DNS-1123 name", "use lowercase letters, digits and '-'")]
    return []


def quantity_example(key: str) -> str:
    """How to write a request or limit of resource `key` (cpu, else memory)."""
    return "250m" if key == "cpu" else "256Mi"


def parse_quantity(where: str, key: str, value: Any) -> tuple[int | None, list[Issue]]:
    """A request or limit of resource `key`: (millicores for cpu, else MiB; []), or (None, [the issue at `where`])."""
    parse = cpu_millicores if key == "cpu" else memory_mib
    try:
        return parse(value), []
    except ValueError as e:
        return None, [Issue(where, value, str(e).split(" ", 1)[1], f"write it like {quantity_example(key)}")]


class Model(BaseModel):
    """Base for every config section: camelCase keys, unknown keys rejected, frozen."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid", frozen=True)

    @classmethod
    def raw_checks(cls, data: dict[str, Any], context: dict[str, Any]) -> list[Issue]:
        """Cross-field rules on the raw (camelCase) input; defensive about types."""
        return []

    @model_validator(mode="wrap")
    @classmethod
    def _run_raw_checks(cls, data: Any, handler: Any, info: Any) -> Any:
        issues = []
        if isinstance(data, dict):
            # Python callers may use field names; raw checks read the YAML's camelCase keys.
            raw = {
                (f.alias or n) if n in data else n: v
                for n, f in cls.model_fields.items()
                if n in data
                for v in [data[n]]
            }
            issues = cls.raw_checks({**data, **raw}, info.context or {})
        try:
            result = handler(data)
        except ValidationError as exc:
            if issues:
                raise merged(exc, issues, data) from None
            raise
        if issues:
            raise problems(issues)
        return result


# --------------------------------------------------------------------------- network


InterfaceEndpoint = Literal["ecr.api", "ecr.dkr", "sts", "logs", "ec2", "elasticloadbalancing"]


class NetworkConfig(Model):
    """`slipway:network` — the VPC and its subnets."""

    cidr: str = "10.0.0.0/16"
    """VPC CIDR. /16 to /20; private subnets get 1/8 of it each (for pod IPs), public 1/64."""
    az_count: int = Field(2, ge=2, le=3)
    """How many AZs to spread over (2 or 3). EKS needs subnets in at least two."""
    availability_zones: list[str] | None = None
    """The AZs, pinned: `slipway pin <stack>` writes the region's first `azCount` usable ones
    (or list them). Required to render or deploy: re-deriving them on every run would let
    an AZ incident drop a zone and replace subnets and node groups."""
    nat_strategy: Literal["none", "single", "per-az"] = "single"
    """`single` is cheap (one NAT, $0.045/h); `per-az` survives an AZ loss; `none`: no
    internet egress (then interface endpoints must cover what nodes call)."""
    interface_endpoints: list[InterfaceEndpoint] = []
    """VPC interface endpoints for private clusters (each ~$0.01/h per AZ)."""

    @field_validator("cidr")
    @classmethod
    def _cidr(cls, v: str) -> str:
        try:
            net = ipaddress.ip_network(v, strict=True)
        except ValueError as e:
            raise invalid(f"is not a network CIDR ({e})", "write it like 10.0.0.0/16") from None
        if net.version != 4 or not (16 <= net.prefixlen <= 20) or not net.is_private:
            raise invalid(
                "must be a private IPv4 range from /16 to /20",
                "use an RFC 1918 block such as 10.0.0.0/16 (larger VPCs leave room for pod IPs)",
            )
        return v

    @classmethod
    def raw_checks(cls, data: dict[str, Any], context: dict[str, Any]) -> list[Issue]:
        issues = []
        azs, count = data.get("availabilityZones"), data.get("azCount", 2)
        if isinstance(azs, list) and isinstance(count, int):
            if len(azs) != count:
                issues.append(
                    Issue(
                        "availabilityZones",
                        azs,
                        f"lists {len(azs)} zones but azCount is {count}",
                        "list exactly azCount zones, or remove availabilityZones to use the region's first ones",
                    )
                )
            if len(set(map(str, azs))) != len(azs):
                issues.append(Issue("availabilityZones", azs, "lists a zone twice", "list each AZ once"))
            region = context.get("region")
            for i, az in enumerate(azs):
                if not isinstance(az, str) or not re.fullmatch(r"[a-z]{2}(-[a-z]+)+-\d[a-f]", az):
                    issues.append(
                        Issue(
                            f"availabilityZones[{i}]",
                            az,
                            "is not an AZ name with a suffix a–f",
                            "use names such as us-east-1a",
                        )
                    )
                elif region and az[:-1] != region:
                    issues.append(
                        Issue(
                            f"availabilityZones[{i}]",
                            az,
                            f"is not in aws:region {region}",
                            f"use zones of {region} ({region}a, {region}b, …) or change aws:region",
                        )
                    )
        endpoints = data.get("interfaceEndpoints", [])
        if isinstance(endpoints, list):
            if len(set(map(str, endpoints))) != len(endpoints):
                issues.append(Issue("interfaceEndpoints", endpoints, "lists an endpoint twice", "list each once"))
            missing = [e for e in PRIVATE_CLUSTER_ENDPOINTS if e not in endpoints]
            if data.get("natStrategy") == "none" and missing:
                issues.append(
                    Issue(
                        "natStrategy",
                        "none",
                        f"leaves private nodes without a way to {', '.join(missing)} (no NAT, no endpoint), so they "
                        "never join the cluster",
                        f"add interfaceEndpoints {list(PRIVATE_CLUSTER_ENDPOINTS)} or use natStrategy single",
                    )
                )
        return issues  # fmt: skip


# --------------------------------------------------------------------------- cluster


class EndpointConfig(Model):
    """`slipway:cluster.endpoint` — who can reach the Kubernetes API server."""

    public_access: bool = True
    """Expose the API on the internet (restricted by publicAccessCidrs). Private access is always on."""
    public_access_cidrs: list[str] = []
    """CIDRs allowed to reach the public endpoint. Required when publicAccess is true."""

    @classmethod
    def raw_checks(cls, data: dict[str, Any], context: dict[str, Any]) -> list[Issue]:
        issues = []
        cidrs = data.get("publicAccessCidrs", [])
        nets = []
        for i, cidr in enumerate(cidrs if isinstance(cidrs, list) else []):
            try:
                nets.append(ipaddress.ip_network(str(cidr), strict=True))
            except ValueError as e:
                issues.append(Issue(f"publicAccessCidrs[{i}]", cidr, f"is not a CIDR ({e})",
                                    "write it like 203.0.113.0/24"))  # fmt: skip
        public = data.get("publicAccess", True)
        if public is True and isinstance(cidrs, list) and not cidrs:
            issues.append(Issue(
                "publicAccessCidrs", [], "is empty while publicAccess is true (EKS would default to 0.0.0.0/0)",
                "list your office/VPN/CI egress CIDRs, or set publicAccess: false",
            ))  # fmt: skip
        # CIS EKS 5.4.2: never open the API server of a production cluster to the world.
        if context.get("environment") == "prod" and public is True:
            broad = [str(n) for n in nets if n.prefixlen < 8]
            if broad:
                issues.append(Issue(
                    "publicAccessCidrs", broad,
                    "opens the prod API server to a large part of the internet (prefixes shorter than /8)",
                    "list only your VPN/office/CI egress CIDRs, or set publicAccess: false",
                ))  # fmt: skip
        return issues


class ClusterConfig(Model):
    """`slipway:cluster` — the EKS control plane."""

    version: str = DEFAULT_KUBERNETES_VERSION
    """Kubernetes minor version, pinned so upgrades are deliberate."""
    authentication_mode: Literal["API", "API_AND_CONFIG_MAP", "CONFIG_MAP"] = "API"
    """How IAM principals are mapped: access entries (API), aws-auth (CONFIG_MAP), or both.
    EKS only moves CONFIG_MAP → API_AND_CONFIG_MAP → API, never back."""
    endpoint: EndpointConfig = EndpointConfig(public_access=False)
    prefix_delegation: bool = False
    """VPC CNI prefix delegation: /28 prefixes per ENI slot, so up to 110 pods per node."""
    deletion_protection: bool | None = None
    """EKS deletion protection; default: on in prod."""
    support_type: Literal["STANDARD", "EXTENDED"] = "STANDARD"
    """EKS upgrade policy. STANDARD auto-upgrades at the end of standard support; EXTENDED
    (EKS's own default) keeps the version at 6× the control-plane price ($0.60/h)."""
    secrets_key_deletion_window_days: int = Field(30, ge=7, le=30)
    """Waiting period before the secrets KMS key is deleted (7–30 days, AWS limits)."""
    addon_versions: dict[Literal["coredns", "kube-proxy", "vpc-cni"], str] = {}
    """Pinned EKS add-on versions (e.g. `coredns: v1.12.4-eksbuild.1`). Default: the version
    EKS marks default for `version`, which moves with the cluster version only."""

    @field_validator("version")
    @classmethod
    def _version(cls, v: str) -> str:
        if v not in SUPPORTED_KUBERNETES_VERSIONS:
            raise invalid(
                "is not a Kubernetes version slipway supports on EKS",
                f'pin one of {", ".join(SUPPORTED_KUBERNETES_VERSIONS)} (quoted, e.g. "1.34")',
            )
        return v

    @classmethod
    def raw_checks(cls, data: dict[str, Any], context: dict[str, Any]) -> list[Issue]:
        if context.get("environment") == "prod" and data.get("deletionProtection") is False:
            return [Issue("deletionProtection", False, "turns off deletion protection in prod",
                          "remove the field (prod defaults to on)")]  # fmt: skip
        return []


class Taint(Model):
    """A node taint (Kubernetes `key=value:effect`)."""

    key: str
    value: str = ""
    effect: Literal["NoSchedule", "PreferNoSchedule", "NoExecute"] = "NoSchedule"


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
    metadata_hop_limit: int = Field(1, ge=1, le=2)
    """IMDSv2 hop limit. 1 keeps pods away from the node role's credentials; 2 only if a pod needs IMDS."""
    autoscaler: Literal["none", "external"] = "none"
    """`external`: a Cluster Autoscaler (or similar) owns the node count after creation, and
    `pulumi up` leaves desiredSize alone. `none`: every `pulumi up` applies the plan."""

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
        pods = data.get("pods")
        if isinstance(pods, list):
            names = [p.get("name") for p in pods if isinstance(p, dict)]
            for i, n in enumerate(names):
                if n in names[:i]:
                    issues.append(Issue(f"pods[{i}].name", n, "is listed twice", "give each workload its own name"))
        return issues  # fmt: skip


# --------------------------------------------------------------------------- access


AccessLevel = Literal["cluster-admin", "admin", "edit", "view"]


class PrincipalConfig(Model):
    """`slipway:access.principals[]` — an IAM role or user mapped into the cluster."""

    arn: str
    access: AccessLevel
    """cluster-admin: everything; admin/edit/view: the Kubernetes roles of those names."""
    namespaces: list[str] | None = None
    """Limit admin/edit/view to these namespaces (default: cluster-wide)."""
    username: str | None = None
    """Kubernetes username (default: derived from the ARN)."""
    creator: bool = False
    """This identity creates the cluster (runs the first `pulumi up`). EKS gives it
    cluster-admin itself; slipway then creates no access entry for it (a second one
    fails with ResourceInUseException)."""

    @field_validator("arn")
    @classmethod
    def _arn(cls, v: str) -> str:
        m = IAM_PRINCIPAL_ARN.match(v)
        if not m:
            raise invalid(
                "is not an IAM role or user ARN",
                "write arn:aws:iam::<12-digit account>:role/<name> or …:user/<name>",
            )
        if m["kind"] == "assumed-role" or m["service"] == "sts":
            raise invalid(
                "is an STS assumed-role session, which changes every login",
                "map the role itself: arn:aws:iam::<account>:role/<role name> "
                "(aws sts get-caller-identity shows the session, not the role)",
            )
        return v

    @classmethod
    def raw_checks(cls, data: dict[str, Any], context: dict[str, Any]) -> list[Issue]:
        issues = []
        namespaces, access = data.get("namespaces"), data.get("access")
        if isinstance(namespaces, list):
            if access == "cluster-admin":
                issues.append(
                    Issue(
                        "namespaces",
                        namespaces,
                        "cannot scope cluster-admin to namespaces",
                        "use access: admin for namespace-scoped administrators, or drop namespaces",
                    )
                )
            if not namespaces:
                issues.append(Issue("namespaces", [], "is empty", "list namespaces or remove the field"))
            for i, ns in enumerate(namespaces):
                if not isinstance(ns, str) or not DNS1123_LABEL.match(ns) or len(ns) > 63:
                    issues.append(
                        Issue(
                            f"namespaces[{i}]",
                            ns,
                            "is not a valid namespace name (DNS-1123 label)",
                            "use lowercase letters, digits and '-'",
                        )
                    )
        username = data.get("username")
        if isinstance(username, str) and username.lower().startswith(RESERVED_USERNAME_PREFIXES):
            issues.append(
                Issue(
                    "username",
                    username,
                    "starts with a prefix EKS reserves",
                    f"choose a name not starting with {', '.join(RESERVED_USERNAME_PREFIXES)}",
                )
            )
        if data.get("creator") is True and (access != "cluster-admin" or namespaces):
            issues.append(
                Issue(
                    "creator",
                    True,
                    "is set on a principal without cluster-wide cluster-admin "
                    "(EKS gives the creator cluster-admin whatever is written here)",
                    "give the creator access: cluster-admin and no namespaces",
                )
            )
        return issues  # fmt: skip


def _arn_key(arn: str) -> str:
    """IAM names are case-insensitive and aws-auth ignores role paths: compare on this."""
    head, _, name = arn.rpartition("/")
    kind = "role" if ":role/" in arn else "user"
    return f"{arn.split(':')[4]}:{kind}:{name}".lower()


class AccessConfig(Model):
    """`slipway:access` — who can use the cluster."""

    principals: list[PrincipalConfig] = []

    @classmethod
    def raw_checks(cls, data: dict[str, Any], context: dict[str, Any]) -> list[Issue]:
        issues = []
        principals = [_dict(p) for p in data.get("principals", [])] if isinstance(data.get("principals"), list) else []
        seen: dict[str, int] = {}
        for i, p in enumerate(principals):
            arn = p.get("arn")
            if not isinstance(arn, str) or not IAM_PRINCIPAL_ARN.match(arn):
                continue
            key = _arn_key(arn)
            if key in seen:
                issues.append(
                    Issue(
                        f"principals[{i}].arn",
                        arn,
                        f"is the same IAM identity as principals[{seen[key]}] (names are case-insensitive and "
                        "aws-auth ignores role paths)",
                        "list each principal once with the access it needs",
                    )
                )
            seen.setdefault(key, i)
        creators = [i for i, p in enumerate(principals) if p.get("creator") is True]
        for i in creators[1:]:
            issues.append(
                Issue(
                    f"principals[{i}].creator",
                    True,
                    f"is set twice (also principals[{creators[0]}])",
                    "mark only the identity that runs the first `pulumi up`",
                )
            )
        return issues  # fmt: skip


class IdentityConfig(Model):
    """`slipway:identity` — the identity the kubeconfig (and slipway's Kubernetes
    provider) authenticate as.

    Leave it empty to use the credentials that run `pulumi up` (aws:profile or the
    environment): then deploying and kubectl are one identity, and the cause of
    "You must be logged in to the server (Unauthorized)" cannot arise.
    """

    profile: str | None = None
    """AWS CLI profile for `aws eks get-token` (default: aws:profile)."""
    role_arn: str | None = None
    """Role the kubeconfig assumes (`aws eks get-token --role`). It must be mapped:
    the creator, or a cluster-admin principal."""

    @field_validator("role_arn")
    @classmethod
    def _role(cls, v: str | None) -> str | None:
        if v is not None and not (IAM_PRINCIPAL_ARN.match(v) and ":role/" in v):
            raise invalid("is not an IAM role ARN", "write arn:aws:iam::<account>:role/<name>")
        return v


# --------------------------------------------------------------------------- add-ons

ECR_NAME = re.compile(r"^[a-z0-9]+(?:[._-][a-z0-9]+)*(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)*$")
S3_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
ACM_ARN = re.compile(r"^arn:aws(-cn|-us-gov)?:acm:[a-z0-9-]+:\d{12}:certificate/[0-9a-f-]{36}$")


def certificate_arn_issues(where: str, cert: Any) -> list[Issue]:
    """An Ingress's certificateArn, when written, must be an ACM certificate ARN."""
    if isinstance(cert, str) and not ACM_ARN.match(cert):
        return [
            Issue(where, cert, "is not an ACM certificate ARN", "write arn:aws:acm:<region>:<account>:certificate/<id>")
        ]
    return []


def missing_certificate_issues(where: str, cert: Any, internet_facing: bool, problem: str, fix: str) -> list[Issue]:
    """An internet-facing ALB needs a certificate (else it serves plain HTTP on the internet)."""
    return [Issue(where, None, problem, fix)] if internet_facing and not cert else []


def image_issues(where: str, image: Any) -> list[Issue]:
    """An image must name a tag (or digest) other than `latest`."""
    if not isinstance(image, str) or not image:
        return [Issue(where, image, "is empty", "name an image with a tag, e.g. ghcr.io/org/tool:1.4.2")]
    if "@sha256:" in image:
        return []
    last = image.rsplit("/", 1)[-1]
    tag = last.split(":", 1)[1] if ":" in last else ""
    if tag in ("", "latest"):
        return [Issue(where, image, "has no tag or the tag `latest`, so what runs changes without a deploy",
                      "pin a version tag or a digest, e.g. python:3.12.7-slim")]  # fmt: skip
    return []


class RegistryConfig(Model):
    """`slipway:registry` — ECR repositories, one per application image."""

    repositories: list[str] = []
    """Repository names (the stack's cluster name is prepended: <cluster>/<name>)."""
    untagged_expiry_days: int = Field(14, ge=1, le=3650)
    """Untagged images (superseded pushes) are deleted after this many days."""
    keep_tagged: int = Field(30, ge=1, le=10000)
    """The most recent tagged images kept; older ones expire (rollbacks go this far back)."""

    @classmethod
    def raw_checks(cls, data: dict[str, Any], context: dict[str, Any]) -> list[Issue]:
        repos = data.get("repositories", [])
        issues = []
        for i, r in enumerate(repos if isinstance(repos, list) else []):
            if not isinstance(r, str) or not ECR_NAME.match(r) or len(r) > 200:
                issues.append(
                    Issue(
                        f"repositories[{i}]",
                        r,
                        "is not a valid ECR repository name",
                        "use lowercase letters, digits and . _ - /, e.g. api",
                    )
                )
            elif r in repos[:i]:
                issues.append(Issue(f"repositories[{i}]", r, "is listed twice", "list each repository once"))
        return issues  # fmt: skip


class MetricsServerConfig(Model):
    """`slipway:metricsServer` — the resource metrics API (HorizontalPodAutoscalers need it)."""

    enabled: bool | None = None
    """Default: installed when an app has autoscaling."""


class LoadBalancerControllerConfig(Model):
    """`slipway:loadBalancerController` — the AWS Load Balancer Controller (ALB Ingress, NLB)."""

    enabled: bool = True
    replicas: int = Field(2, ge=1, le=5)
    """2 with a PodDisruptionBudget keeps ALBs reconciled through node drains."""


class ArgoIngressConfig(Model):
    """`slipway:argo.ingress` — argo-server behind the shared ALB."""

    enabled: bool = False
    scheme: Literal["internal", "internet-facing"] = "internal"
    host: str | None = None
    certificate_arn: str | None = None
    """ACM certificate for HTTPS (required for internet-facing)."""


class ArgoArtifactsConfig(Model):
    """`slipway:argo.artifacts` — the S3 artifact repository."""

    bucket_name: str | None = None
    """Globally unique bucket name; default: generated from the stack."""
    expiry_days: int = Field(30, ge=1, le=3650)


class ParameterConfig(Model):
    name: str
    value: str | None = None


class WorkflowTemplateConfig(Model):
    """`slipway:argo.workflowTemplates[]` — a one-step WorkflowTemplate."""

    name: str
    image: str
    command: list[str] = []
    args: list[str] = []
    parameters: list[ParameterConfig] = []
    cpu: str = "100m"
    memory: str = "128Mi"

    @classmethod
    def raw_checks(cls, data: dict[str, Any], context: dict[str, Any]) -> list[Issue]:
        issues = [] if context.get("lenient_images") else image_issues("image", data.get("image"))
        issues += dns1123_name_issues("name", data.get("name"))
        for key in ("cpu", "memory"):
            if key in data:
                issues += parse_quantity(key, key, data[key])[1]
        return issues


class ArgoSsoConfig(Model):
    """`slipway:argo.sso` — argo-server login through your OIDC provider."""

    issuer: str
    """The provider's issuer URL (https://…)."""
    client_id_key: str
    """`slipway:` config key (a secret) holding the OIDC client id."""
    client_secret_key: str
    """`slipway:` config key (a secret) holding the OIDC client secret."""
    redirect_url: str | None = None
    """Default: https://<argo.ingress.host>/oauth2/callback."""
    scopes: list[str] = ["groups"]
    default_access: Literal["view", "none"] = "view"
    """What everyone who signs in may do when none of `groups` matches: `view` (read-only,
    the fallback the Argo docs recommend) or `none` (login denied). argo-server denies
    any user no rule matches, so with `none` at least one group must be mapped."""
    groups: dict[str, Literal["view", "edit", "admin"]] = {}
    """OIDC group (exactly as the provider sends it in the `groups` claim) → access:
    `view` reads everything, `edit` also runs, retries, stops and deletes workflows,
    `admin` also changes WorkflowTemplates, CronWorkflows and other Argo resources.
    A user in several groups gets the highest (admin > edit > view > defaultAccess)."""

    @classmethod
    def raw_checks(cls, data: dict[str, Any], context: dict[str, Any]) -> list[Issue]:
        issues = []
        groups = data.get("groups")
        names = [g for g in groups if isinstance(g, str)] if isinstance(groups, dict) else []
        seen: dict[str, str] = {}
        for g in names:
            if not g.strip():
                issues.append(
                    Issue("groups", g, "is an empty group name",
                          "write the group exactly as your provider sends it in the groups claim")
                )  # fmt: skip
                continue
            if g != g.strip():
                issues.append(Issue("groups", g, "has spaces around it, so it never matches a group", "remove them"))
            if (same := seen.setdefault(g.strip().casefold(), g)) != g:
                issues.append(
                    Issue("groups", g, f"is listed twice (as {same!r} too, differing only in case or spaces)",
                          "keep one entry per group, spelled as your provider sends it")
                )  # fmt: skip
        if data.get("defaultAccess") == "none" and isinstance(groups, dict | None) and not groups:
            issues.append(
                Issue(
                    "groups",
                    groups,
                    "is empty while defaultAccess is none, so no SSO rule matches and argo-server denies every login",
                    "map a group (e.g. platform-admins: admin), or set defaultAccess: view",
                )
            )
        return issues


class ArgoConfig(Model):
    """`slipway:argo` — Argo Workflows."""

    enabled: bool = False
    namespace: str = "argo"
    node_pool: str | None = None
    """Pool that runs the controller, server and every workflow pod (default: the system pool)."""
    auth_mode: Literal["client", "sso"] = "client"
    """argo-server auth: `client` (Kubernetes bearer tokens) or `sso`. Never `server`."""
    ingress: ArgoIngressConfig = ArgoIngressConfig()
    sso: ArgoSsoConfig | None = None
    """Required with authMode sso."""
    artifacts: ArgoArtifactsConfig = ArgoArtifactsConfig()
    workflow_templates: list[WorkflowTemplateConfig] = []

    @classmethod
    def raw_checks(cls, data: dict[str, Any], context: dict[str, Any]) -> list[Issue]:
        issues = []
        if data.get("authMode") == "server":
            issues.append(
                Issue(
                    "authMode",
                    "server",
                    "serves the Argo UI and API with the server's own "
                    "service-account permissions to anyone who reaches it",
                    "use client (users present Kubernetes tokens) or sso",
                )
            )
        sso = _dict(data.get("sso"))
        if data.get("authMode") == "sso" and not sso:
            issues.append(
                Issue(
                    "sso",
                    None,
                    "is missing while authMode is sso (argo-server would not start)",
                    "add sso: {issuer, clientIdKey, clientSecretKey}, or use authMode: client",
                )
            )
        if sso and data.get("authMode", "client") != "sso":
            issues.append(
                Issue(
                    "authMode",
                    data.get("authMode", "client"),
                    "is not sso while an sso block is set",
                    "set authMode: sso, or remove sso",
                )
            )
        if sso:
            issuer = sso.get("issuer")
            if isinstance(issuer, str) and not issuer.startswith("https://"):
                issues.append(Issue("sso.issuer", issuer, "is not an https URL", "write https://login.example.com"))
            host = _dict(data.get("ingress")).get("host")
            if not sso.get("redirectUrl") and not host:
                issues.append(
                    Issue(
                        "sso.redirectUrl",
                        None,
                        "is missing and there is no ingress host to derive it from",
                        "set redirectUrl: https://<argo host>/oauth2/callback, or ingress.host",
                    )
                )
            keys, secret_keys = context.get("config_keys"), context.get("secret_keys") or set()
            for field in ("clientIdKey", "clientSecretKey"):
                ref = sso.get(field)
                if keys is not None and isinstance(ref, str) and (ref not in keys or ref not in secret_keys):
                    issues.append(
                        Issue(
                            f"sso.{field}",
                            "(value hidden)",
                            "names a config key that is not set as a secret",
                            "run `pulumi config set --secret slipway:<key> <value>`",
                        )
                    )
        ns = data.get("namespace", "argo")
        if isinstance(ns, str) and (not DNS1123_LABEL.match(ns) or ns in ("default", "kube-system")):
            issues.append(
                Issue("namespace", ns, "is not a namespace Argo should own", "use a dedicated namespace such as argo")
            )
        bucket = _dict(data.get("artifacts")).get("bucketName")
        if isinstance(bucket, str) and (
            not S3_BUCKET.match(bucket)
            or ".." in bucket
            or re.fullmatch(r"\d+\.\d+\.\d+\.\d+", bucket)
            or bucket.startswith(("xn--", "sthree-"))
            or bucket.endswith(("-s3alias", "--ol-s3"))
        ):
            issues.append(
                Issue(
                    "artifacts.bucketName",
                    bucket,
                    "is not a valid S3 bucket name",
                    "use 3–63 lowercase letters, digits, '-' or '.', starting and ending with a "
                    "letter or digit, not shaped like an IP address",
                )
            )
        ingress = _dict(data.get("ingress"))
        cert = ingress.get("certificateArn")
        issues += missing_certificate_issues(
            "ingress.certificateArn",
            cert,
            ingress.get("enabled") is True and ingress.get("scheme") == "internet-facing",
            "is missing for an internet-facing argo-server",
            "add an ACM certificate ARN (HTTPS with HTTP→HTTPS redirect), or use scheme internal",
        )
        issues += certificate_arn_issues("ingress.certificateArn", cert)
        templates = data.get("workflowTemplates", [])
        names = [t.get("name") for t in templates if isinstance(t, dict)] if isinstance(templates, list) else []
        for i, n in enumerate(names):
            if n in names[:i]:
                issues.append(Issue(f"workflowTemplates[{i}].name", n, "is listed twice", "give each template a name"))
        return issues  # fmt: skip
