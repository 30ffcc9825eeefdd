"""The typed schema of a stack's `slipway:` config namespace.

Every key a user writes under `slipway:` in `stacks/Pulumi.<stack>.yaml` is parsed
here, before any resource is registered. Errors are collected (never one per run)
and each names the field path, the bad value, what is wrong and how to fix it::

    nodePools.general.desiredSize: 5 is above maxSize 3 — raise maxSize or lower desiredSize

Shape errors (types, unknown keys, enum values) come from pydantic; rules that
compare fields raise `problems(...)`, which carries several issues at once so that
one model can report all of its own cross-field mistakes together.
"""

from __future__ import annotations

import difflib
import ipaddress
import json
import re
from collections.abc import Iterable, Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic.alias_generators import to_camel
from pydantic_core import PydanticCustomError

NAMESPACE = "slipway"

# Regions EKS serves (commercial partition), used to catch typos such as `us-east1`.
# Source: AWS "Amazon EKS endpoints and quotas".
EKS_REGIONS = frozenset(
    {
        "us-east-1", "us-east-2", "us-west-1", "us-west-2",
        "af-south-1", "ap-east-1", "ap-east-2", "ap-south-1", "ap-south-2",
        "ap-northeast-1", "ap-northeast-2", "ap-northeast-3",
        "ap-southeast-1", "ap-southeast-2", "ap-southeast-3", "ap-southeast-4",
        "ap-southeast-5", "ap-southeast-7",
        "ca-central-1", "ca-west-1",
        "eu-central-1", "eu-central-2", "eu-north-1", "eu-south-1", "eu-south-2",
        "eu-west-1", "eu-west-2", "eu-west-3",
        "il-central-1", "me-central-1", "me-south-1", "mx-central-1", "sa-east-1",
    }
)  # fmt: skip

# Kubernetes versions EKS offers (standard or extended support) that slipway is
# tested against; the pin in the stack file must be one of these.
SUPPORTED_KUBERNETES_VERSIONS = ("1.32", "1.33", "1.34", "1.35")
DEFAULT_KUBERNETES_VERSION = "1.34"

# EKS managed node group AMI types slipway knows how to size and secure.
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


class Issue(dict):
    """One config mistake: where, what value, what is wrong and how to fix it."""

    def __init__(self, path: str, value: Any, problem: str, fix: str):
        super().__init__(path=path, value=value, problem=problem, fix=fix)


def problems(issues: Iterable[Issue]) -> PydanticCustomError:
    """An error that carries several issues at once (raised from model validators).

    Each issue's `path` is relative to the model that raises it; the formatter
    prefixes the model's own location.
    """
    issues = list(issues)
    return PydanticCustomError(
        "slipway", "{summary}", {"issues": issues, "summary": "; ".join(i["problem"] for i in issues)}
    )


def show(value: Any) -> str:
    """A value as the user wrote it in YAML: strings quoted, others as JSON."""
    if isinstance(value, str):
        return repr(value) if value else "'' (empty)"
    try:
        return json.dumps(value, sort_keys=True, default=str)
    except TypeError:  # pragma: no cover - defensive
        return repr(value)


class Model(BaseModel):
    """Base for every config section: camelCase keys, unknown keys rejected, frozen."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="forbid",
        frozen=True,
    )


# --------------------------------------------------------------------------- network


class NetworkConfig(Model):
    """`slipway:network` — the VPC and its subnets."""

    cidr: str = "10.0.0.0/16"
    """VPC CIDR. /16 to /20; private subnets get 1/8 of it each (for pod IPs), public 1/64."""
    az_count: int = Field(2, ge=2, le=3)
    """How many AZs to spread over (2 or 3). EKS needs subnets in at least two."""
    availability_zones: list[str] | None = None
    """Explicit AZ names; default: the first `azCount` available AZs of the region."""
    nat_strategy: Literal["none", "single", "per-az"] = "single"
    """`single` is cheap (one NAT, $0.045/h); `per-az` survives an AZ loss; `none` for no egress."""
    interface_endpoints: list[Literal["ecr.api", "ecr.dkr", "sts", "logs", "ec2", "elasticloadbalancing"]] = []
    """VPC interface endpoints for private clusters (each ~$0.01/h per AZ)."""

    @field_validator("cidr")
    @classmethod
    def _cidr(cls, v: str) -> str:
        try:
            net = ipaddress.ip_network(v, strict=True)
        except ValueError as e:
            raise PydanticCustomError(
                "slipway",
                "{problem} — {fix}",
                {"problem": f"is not a network CIDR ({e})", "fix": "write it like 10.0.0.0/16"},
            ) from None
        if net.version != 4 or not (16 <= net.prefixlen <= 20) or not net.is_private:
            raise PydanticCustomError(
                "slipway",
                "{problem} — {fix}",
                {
                    "problem": "must be a private IPv4 range from /16 to /20",
                    "fix": "use an RFC 1918 block such as 10.0.0.0/16 (larger VPCs leave room for pod IPs)",
                },
            )
        return v

    @model_validator(mode="after")
    def _azs(self) -> NetworkConfig:
        issues = []
        if self.availability_zones is not None:
            if len(self.availability_zones) != self.az_count:
                issues.append(
                    Issue(
                        "availabilityZones",
                        self.availability_zones,
                        f"lists {len(self.availability_zones)} zones but azCount is {self.az_count}",
                        "list exactly azCount zones, or remove availabilityZones to use the region's first ones",
                    )
                )
            if len(set(self.availability_zones)) != len(self.availability_zones):
                issues.append(
                    Issue(
                        "availabilityZones",
                        self.availability_zones,
                        "lists a zone twice",
                        "list each AZ once",
                    )
                )
            for az in self.availability_zones:
                if not re.fullmatch(r"[a-z]{2}(-[a-z]+)+-\d[a-f]", az):
                    issues.append(
                        Issue(
                            "availabilityZones",
                            az,
                            "is not an AZ name with a suffix a–f",
                            "use names such as us-east-1a",
                        )
                    )
        if len(set(self.interface_endpoints)) != len(self.interface_endpoints):
            issues.append(
                Issue(
                    "interfaceEndpoints",
                    self.interface_endpoints,
                    "lists an endpoint twice",
                    "list each once",
                )
            )
        if issues:
            raise problems(issues)
        return self


# --------------------------------------------------------------------------- cluster


class EndpointConfig(Model):
    """`slipway:cluster.endpoint` — who can reach the Kubernetes API server."""

    public_access: bool = True
    """Expose the API on the internet (restricted by publicAccessCidrs). Private access is always on."""
    public_access_cidrs: list[str] = []
    """CIDRs allowed to reach the public endpoint. Required when publicAccess is true."""

    @model_validator(mode="after")
    def _allowlist(self) -> EndpointConfig:
        issues = []
        for i, cidr in enumerate(self.public_access_cidrs):
            try:
                ipaddress.ip_network(cidr, strict=True)
            except ValueError as e:
                issues.append(
                    Issue(f"publicAccessCidrs[{i}]", cidr, f"is not a CIDR ({e})", "write it like 203.0.113.0/24")
                )
        if issues:
            raise problems(issues)
        if self.public_access and not self.public_access_cidrs:
            raise problems(
                [
                    Issue(
                        "publicAccessCidrs",
                        [],
                        "is empty while publicAccess is true (EKS would default to 0.0.0.0/0)",
                        "list your office/VPN/CI egress CIDRs, or set publicAccess: false",
                    )
                ]
            )
        return self


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
    secrets_key_deletion_window_days: int = Field(30, ge=7, le=30)
    """Waiting period before the secrets KMS key is deleted (7–30 days, AWS limits)."""

    @field_validator("version")
    @classmethod
    def _version(cls, v: str) -> str:
        if v not in SUPPORTED_KUBERNETES_VERSIONS:
            raise PydanticCustomError(
                "slipway",
                "{problem} — {fix}",
                {
                    "problem": "is not a Kubernetes version slipway supports on EKS",
                    "fix": f'pin one of {", ".join(SUPPORTED_KUBERNETES_VERSIONS)} (quoted, e.g. "1.34")',
                },
            )
        return v


class Taint(Model):
    """A node taint (Kubernetes `key=value:effect`)."""

    key: str
    value: str = ""
    effect: Literal["NoSchedule", "PreferNoSchedule", "NoExecute"] = "NoSchedule"


class NodePoolConfig(Model):
    """`slipway:nodePools.<name>` — one EKS managed node group."""

    instance_types: list[str] = ["t3.medium"]
    """EC2 instance types; several spread SPOT capacity over pools. First is the sizing reference."""
    capacity_type: Literal["ON_DEMAND", "SPOT"] = "ON_DEMAND"
    min_size: int = Field(1, ge=0, le=450)
    desired_size: int = Field(2, ge=0, le=450)
    max_size: int = Field(3, ge=1, le=450)
    disk_size: int = Field(20, ge=20, le=16384)
    """Root volume in GiB (gp3, encrypted). 20 is the EKS default; images live here."""
    ami_type: AmiType = "AL2023_x86_64_STANDARD"
    release_version: str | None = None
    """Pin the AMI release (e.g. 1.34.2-20251112) to stop node replacement on AMI updates."""
    labels: dict[str, str] = {}
    taints: list[Taint] = []
    metadata_hop_limit: int = Field(1, ge=1, le=2)
    """IMDSv2 hop limit. 1 keeps pods away from the node role's credentials; 2 only if a pod needs IMDS."""

    @model_validator(mode="after")
    def _sizes(self) -> NodePoolConfig:
        issues = []
        if not self.instance_types:
            issues.append(
                Issue("instanceTypes", [], "is empty", "name at least one EC2 instance type, e.g. [t3.medium]")
            )
        for i, t in enumerate(self.instance_types):
            if not INSTANCE_TYPE.match(t):
                issues.append(
                    Issue(f"instanceTypes[{i}]", t, "is not an EC2 instance type", "write family.size, e.g. t3.medium")
                )
            elif t in self.instance_types[:i]:
                issues.append(Issue(f"instanceTypes[{i}]", t, "is listed twice", "list each type once"))
        if issues:
            raise problems(issues)
        if self.min_size > self.max_size:
            issues.append(
                Issue(
                    "minSize",
                    self.min_size,
                    f"is above maxSize {self.max_size}",
                    "lower minSize or raise maxSize",
                )
            )
        if self.desired_size > self.max_size:
            issues.append(
                Issue(
                    "desiredSize",
                    self.desired_size,
                    f"is above maxSize {self.max_size}",
                    "raise maxSize or lower desiredSize",
                )
            )
        if self.desired_size < self.min_size:
            issues.append(
                Issue(
                    "desiredSize",
                    self.desired_size,
                    f"is below minSize {self.min_size}",
                    "raise desiredSize or lower minSize",
                )
            )
        arm = self.ami_type.endswith(("ARM_64", "ARM_64_STANDARD"))
        for i, t in enumerate(self.instance_types):
            family = t.split(".")[0]
            graviton = bool(re.search(r"\d+g[a-z]*$", family))
            if graviton != arm:
                issues.append(
                    Issue(
                        f"instanceTypes[{i}]",
                        t,
                        f"is {'an Arm (Graviton)' if graviton else 'an x86'} type but amiType is {self.ami_type}",
                        f"use amiType {'AL2023_ARM_64_STANDARD' if graviton else 'AL2023_x86_64_STANDARD'} "
                        "or instance types of the AMI's architecture",
                    )
                )
        for key in self.labels:
            if key.startswith(("kubernetes.io/", "k8s.io/", "eks.amazonaws.com/")):
                issues.append(
                    Issue(
                        f"labels.{key}",
                        self.labels[key],
                        "uses a prefix reserved by Kubernetes/EKS",
                        "use your own prefix, e.g. slipway.dev/pool",
                    )
                )
        if issues:
            raise problems(issues)
        return self


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

    @field_validator("arn")
    @classmethod
    def _arn(cls, v: str) -> str:
        m = IAM_PRINCIPAL_ARN.match(v)
        if not m:
            raise PydanticCustomError(
                "slipway",
                "{problem} — {fix}",
                {
                    "problem": "is not an IAM role or user ARN",
                    "fix": "write arn:aws:iam::<12-digit account>:role/<name> or …:user/<name>",
                },
            )
        if m["kind"] == "assumed-role" or m["service"] == "sts":
            raise PydanticCustomError(
                "slipway",
                "{problem} — {fix}",
                {
                    "problem": "is an STS assumed-role session, which changes every login",
                    "fix": "map the role itself: arn:aws:iam::<account>:role/<role name> "
                    "(aws sts get-caller-identity shows the session, not the role)",
                },
            )
        return v

    @property
    def kind(self) -> Literal["role", "user"]:
        return "role" if ":role/" in self.arn else "user"

    @model_validator(mode="after")
    def _scope(self) -> PrincipalConfig:
        issues = []
        if self.namespaces is not None:
            if self.access == "cluster-admin":
                issues.append(
                    Issue(
                        "namespaces",
                        self.namespaces,
                        "cannot scope cluster-admin to namespaces",
                        "use access: admin for namespace-scoped administrators, or drop namespaces",
                    )
                )
            if not self.namespaces:
                issues.append(Issue("namespaces", [], "is empty", "list namespaces or remove the field"))
            for ns in self.namespaces:
                if not DNS1123_LABEL.match(ns) or len(ns) > 63:
                    issues.append(
                        Issue(
                            "namespaces",
                            ns,
                            "is not a valid namespace name (DNS-1123 label)",
                            "use lowercase letters, digits and '-'",
                        )
                    )
        if issues:
            raise problems(issues)
        return self


class AccessConfig(Model):
    """`slipway:access` — who can use the cluster."""

    principals: list[PrincipalConfig] = []

    @model_validator(mode="after")
    def _unique(self) -> AccessConfig:
        seen: dict[str, int] = {}
        issues = []
        for i, p in enumerate(self.principals):
            if p.arn in seen:
                issues.append(
                    Issue(
                        f"principals[{i}].arn",
                        p.arn,
                        f"is listed twice (also principals[{seen[p.arn]}])",
                        "list each principal once with the access it needs",
                    )
                )
            seen.setdefault(p.arn, i)
        if issues:
            raise problems(issues)
        return self


class IdentityConfig(Model):
    """`slipway:identity` — the identity that runs `pulumi up` and that the kubeconfig uses.

    One setting feeds both, so the cluster's creator (who gets admin through the
    access entry EKS bootstraps) and kubectl's identity cannot drift apart — the
    usual cause of "You must be logged in to the server (Unauthorized)".
    """

    profile: str | None = None
    """AWS CLI profile for `aws eks get-token` in the kubeconfig."""
    role_arn: str | None = None
    """Role the kubeconfig assumes (`aws eks get-token --role-arn`)."""

    @field_validator("role_arn")
    @classmethod
    def _role(cls, v: str | None) -> str | None:
        if v is not None and not (IAM_PRINCIPAL_ARN.match(v) and ":role/" in v):
            raise PydanticCustomError(
                "slipway",
                "{problem} — {fix}",
                {"problem": "is not an IAM role ARN", "fix": "write arn:aws:iam::<account>:role/<name>"},
            )
        return v


# --------------------------------------------------------------------------- stack


class StackConfig(Model):
    """The whole `slipway:` namespace of one stack."""

    environment: Literal["dev", "staging", "prod"] = "dev"
    """`prod` turns on the production guards: protection, deletion protection, no open endpoint."""
    cluster_name: str | None = None
    """EKS cluster name (default `slipway-<stack>`). Also used in subnet discovery tags."""
    tags: dict[str, str] = {}
    """Tags on every AWS resource (through the provider's default tags)."""
    network: NetworkConfig = NetworkConfig()
    cluster: ClusterConfig = ClusterConfig()
    node_pools: dict[str, NodePoolConfig] = {"general": NodePoolConfig()}
    access: AccessConfig = AccessConfig()
    identity: IdentityConfig = IdentityConfig()

    @property
    def is_production(self) -> bool:
        return self.environment == "prod"

    @field_validator("cluster_name")
    @classmethod
    def _cluster_name(cls, v: str | None) -> str | None:
        if v is not None and not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_-]{0,99}", v):
            raise PydanticCustomError(
                "slipway",
                "{problem} — {fix}",
                {
                    "problem": "is not a valid EKS cluster name",
                    "fix": "use 1–100 letters, digits, '-' or '_', starting with a letter or digit",
                },
            )
        return v

    @model_validator(mode="after")
    def _production(self) -> StackConfig:
        issues = []
        if not self.node_pools:
            issues.append(
                Issue("nodePools", {}, "is empty; pods would stay Pending with no nodes", "define at least one pool")
            )
        for name in self.node_pools:
            if not DNS1123_LABEL.match(name) or len(name) > 40:
                issues.append(
                    Issue(
                        f"nodePools.{name}",
                        name,
                        "is not a pool name (a DNS-1123 label of at most 40 characters)",
                        "use lowercase letters, digits and '-', e.g. general",
                    )
                )
        if self.is_production:
            ep = self.cluster.endpoint
            if ep.public_access and any(ipaddress.ip_network(c).prefixlen == 0 for c in ep.public_access_cidrs):
                issues.append(
                    Issue(
                        "cluster.endpoint.publicAccessCidrs",
                        ep.public_access_cidrs,
                        "opens the prod API server to the whole internet (0.0.0.0/0)",
                        "list only your VPN/office/CI egress CIDRs, or set publicAccess: false",
                    )
                )
            if self.cluster.deletion_protection is False:
                issues.append(
                    Issue(
                        "cluster.deletionProtection",
                        False,
                        "turns off deletion protection in prod",
                        "remove the field (prod defaults to on)",
                    )
                )
        if issues:
            raise problems(issues)
        return self


# --------------------------------------------------------------------------- errors


class ConfigError(Exception):
    """Raised with every issue found in a stack's config; str() is the user-facing text."""

    def __init__(self, messages: list[str], stack: str | None = None):
        self.messages = messages
        self.stack = stack
        where = f" in stack {stack!r}" if stack else ""
        super().__init__(
            f"{len(messages)} config error{'s' if len(messages) != 1 else ''}{where}:\n"
            + "\n".join(f"  - {m}" for m in messages)
        )


def _loc(loc: Iterable[Any]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def _camel_path(loc: tuple[Any, ...]) -> tuple[Any, ...]:
    # Field names appear in loc by alias (camelCase) already; pydantic puts
    # validator names ("function-after[...]") in loc for some errors: drop them.
    return tuple(p for p in loc if not (isinstance(p, str) and p.startswith("function-")))


def _allowed_fields(model: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    """The camelCase field names valid at `loc` (for 'did you mean' on unknown keys)."""
    current: Any = model
    for part in loc[:-1]:
        if isinstance(current, type) and issubclass(current, BaseModel):
            field = next((f for n, f in current.model_fields.items() if (f.alias or n) == part), None)
            if field is None:
                return []
            current = field.annotation
        # dict[str, X] / list[X] / X | None: step into the value type
        args = getattr(current, "__args__", ())
        while args and not (isinstance(current, type) and issubclass(current, BaseModel)):
            current = next((a for a in args[::-1] if a is not type(None)), None)
            if isinstance(current, type) and issubclass(current, BaseModel):
                break
            args = getattr(current, "__args__", ())
    if isinstance(current, type) and issubclass(current, BaseModel):
        return [f.alias or n for n, f in current.model_fields.items()]
    return []


def format_errors(exc: ValidationError, model: type[BaseModel] = None) -> list[str]:
    """Turn a pydantic ValidationError into `path: value problem — fix` lines."""
    model = model or StackConfig
    messages: list[str] = []
    for err in exc.errors(include_url=False):
        loc = _camel_path(tuple(err["loc"]))
        path = _loc(loc)
        ctx = err.get("ctx") or {}
        kind = err["type"]
        if kind == "slipway" and "issues" in ctx:
            for issue in ctx["issues"]:
                sub = issue["path"]
                full = f"{path}.{sub}" if path and not sub.startswith("[") else f"{path}{sub}"
                messages.append(f"{full}: {show(issue['value'])} {issue['problem']} — {issue['fix']}")
        elif kind == "slipway":
            messages.append(f"{path}: {show(err['input'])} {err['msg']}")
        elif kind == "extra_forbidden":
            allowed = _allowed_fields(model, loc)
            guess = difflib.get_close_matches(str(loc[-1]), allowed, n=1)
            hint = f"did you mean {guess[0]!r}?" if guess else f"allowed keys: {', '.join(allowed)}"
            messages.append(f"{path}: unknown key — remove it ({hint})")
        elif kind == "literal_error":
            messages.append(f"{path}: {show(err['input'])} is not allowed — use one of {ctx.get('expected')}")
        elif kind == "missing":
            messages.append(f"{path}: is required — add it to the stack file")
        elif kind in ("greater_than_equal", "less_than_equal", "greater_than", "less_than"):
            bound = {k: v for k, v in ctx.items()}
            messages.append(f"{path}: {show(err['input'])} is out of range — {err['msg'].lower()} ({bound})")
        else:
            messages.append(f"{path}: {show(err['input'])} is invalid ({err['msg']}) — fix its type or value")
    return messages


def _decode(value: Any) -> Any:
    """Config values arrive from the Pulumi CLI as strings, objects and lists as JSON."""
    if isinstance(value, str) and value[:1] in ("{", "["):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


def parse_config_values(
    values: Mapping[str, Any],
    region: str | None = None,
    stack: str | None = None,
    aws_profile: str | None = None,
) -> StackConfig:
    """Validate the `slipway:` namespace (keys without the prefix) into a StackConfig.

    `region` is `aws:region`, checked here too so that every mistake is in one list;
    `aws_profile` (`aws:profile`) is the identity `pulumi up` deploys with.
    Raises ConfigError with every issue found.
    """
    messages: list[str] = []
    if not region:
        messages.append("aws:region: is required — add `aws:region: us-east-1` (or your region) to the stack file")
    elif region not in EKS_REGIONS:
        guess = difflib.get_close_matches(region, sorted(EKS_REGIONS), n=1)
        messages.append(
            f"aws:region: {show(region)} is not an AWS region EKS serves — "
            + (f"did you mean {guess[0]!r}?" if guess else "use a region such as us-east-1")
        )
    try:
        parsed = StackConfig.model_validate({k: _decode(v) for k, v in values.items()})
    except ValidationError as exc:
        messages.extend(format_errors(exc))
        parsed = None
    if parsed is not None and aws_profile and parsed.identity.profile and parsed.identity.profile != aws_profile:
        messages.append(
            f"slipway:identity.profile: {show(parsed.identity.profile)} differs from aws:profile {show(aws_profile)}, "
            "so kubectl would act as another identity than the one that deploys (the cause of "
            "'You must be logged in to the server (Unauthorized)') — remove identity.profile "
            "(it defaults to aws:profile) or make them equal"
        )
    if messages:
        raise ConfigError(messages, stack)
    return parsed
