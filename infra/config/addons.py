"""`slipway:registry`, `slipway:metricsServer`, `slipway:loadBalancerController` — ECR and cluster add-ons."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from slipway.components.registry import ECR_REPOSITORY
from slipway.program.config.errors import Issue
from slipway.program.config.model import Model, anchored

ECR_NAME = anchored(ECR_REPOSITORY)


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
