"""`slipway:cluster` — the EKS control plane: version, authentication, API endpoint, add-on pins."""

from __future__ import annotations

import ipaddress
from typing import Any, Literal

from pydantic import Field, field_validator

from slipway.program.config.errors import Issue, invalid
from slipway.program.config.model import Model

# Kubernetes versions EKS offers that slipway is tested against.
SUPPORTED_KUBERNETES_VERSIONS = ("1.32", "1.33", "1.34", "1.35")
DEFAULT_KUBERNETES_VERSION = "1.34"


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
