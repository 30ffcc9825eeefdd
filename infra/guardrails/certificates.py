"""Guardrail on ACM certificates: an ALB only uses a certificate of its own region and account.

ACM certificates are regional and cannot be shared with another account. Nothing
checks the ARN an Ingress names until the Load Balancer Controller builds the ALB's
HTTPS listener: ELB then refuses it (CertificateNotFound, in the Ingress's events) and
`pulumi up` waits for an Ingress address that never comes, until it times out. The schema checks each ARN's
shape (`certificate_arn_issues`); here its region is compared with `aws:region` and, where
the stack file says the account (`aws:allowedAccountIds` with one id), its account.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from slipway.program.guardrails import Finding, Site, guardrail

if TYPE_CHECKING:
    from slipway.program.capacity import ClusterPlan
    from slipway.program.config import StackConfig


def certificate_arns(cfg: StackConfig) -> list[tuple[str, str]]:
    """(key path, ARN) of every certificate an enabled Ingress of the stack hands to an ALB."""
    out = [
        (f"apps.{name}.ingress.certificateArn", app.ingress.certificate_arn)
        for name, app in sorted(cfg.apps.items())
        if app.ingress.enabled and app.ingress.certificate_arn
    ]
    argo = cfg.argo.ingress
    if cfg.argo.enabled and argo.enabled and argo.certificate_arn:
        out.append(("argo.ingress.certificateArn", argo.certificate_arn))
    return out


def arn_region_account(arn: str) -> tuple[str, str] | None:
    """The region and account of an ARN (`arn:<partition>:<service>:<region>:<account>:…`)."""
    parts = arn.split(":", 5)
    return (parts[3], parts[4]) if len(parts) == 6 else None


@guardrail
def certificate_location(cfg: StackConfig, plan: ClusterPlan, site: Site) -> list[Finding]:
    """A certificate ARN of another region (or, where known, another account) than the stack's."""
    out: list[Finding] = []
    for path, arn in certificate_arns(cfg):
        where = arn_region_account(arn)
        if where is None:
            continue  # not an ARN: the schema says so
        region, account = where
        if site.region and region != site.region:
            out.append(
                Finding(
                    "error",
                    path,
                    arn,
                    f"is a certificate of {region}, and an ALB only uses ACM certificates of its own region "
                    f"({site.region})",
                    f"request or import the certificate in {site.region} (ACM cannot copy one across regions) "
                    "and use that ARN",
                )
            )
        if site.account and account != site.account:
            out.append(
                Finding(
                    "error",
                    path,
                    arn,
                    f"is a certificate of account {account}, and an ALB only uses ACM certificates of its own account "
                    f"({site.account}, from aws:allowedAccountIds)",
                    f"request or import the certificate in account {site.account} and use that ARN",
                )
            )
    return out
