"""`slipway:network` — the VPC, its subnets and AZs, NAT and interface endpoints."""

from __future__ import annotations

import ipaddress
import re
from typing import Any, Literal

from pydantic import Field, field_validator

from slipway.program.config.errors import Issue, invalid
from slipway.program.config.model import Model

# What nodes in private subnets need when there is no NAT: images (ECR API and
# registry; layers come from S3 through the free gateway endpoint), the EC2 API for
# the VPC CNI, STS for IRSA.
PRIVATE_CLUSTER_ENDPOINTS = ("ec2", "ecr.api", "ecr.dkr", "sts")

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
