"""Doctor check: the Elastic IPs and VPCs the stack needs fit the region's quotas."""

from __future__ import annotations

from botocore.exceptions import ClientError

from slipway.cli.aws_errors import error_code
from slipway.cli.doctor._aws import _guarded, _tags, denied_action, stack_vpcs
from slipway.cli.doctor.model import DoctorContext, Finding
from slipway.program.guardrails.quotas import QUOTAS

# (Service Quotas service code, quota code, AWS's default), from the one table of quota
# facts that the config-time guardrails use too.
EIP_QUOTA = (QUOTAS["eips"].service, QUOTAS["eips"].code, QUOTAS["eips"].default)
VPC_QUOTA = (QUOTAS["vpcs"].service, QUOTAS["vpcs"].code, QUOTAS["vpcs"].default)


def _why(exc: Exception) -> str:
    if not isinstance(exc, ClientError):
        return "not implemented"  # moto (tests) raises NotImplementedError for GetAWSDefaultServiceQuota
    return denied_action(exc) or error_code(exc, "error")


def _quota(ctx: DoctorContext, service: str, code: str, default: int) -> tuple[float, str]:
    """The applied quota, else AWS's default for it, else `default`, with a note saying which."""
    quotas = ctx.client("service-quotas")
    try:
        return quotas.get_service_quota(ServiceCode=service, QuotaCode=code)["Quota"]["Value"], ""
    except ClientError as exc:
        if _why(exc) != "NoSuchResourceException":
            return default, f" (quota {service}/{code} not readable: {_why(exc)}; assumed the default {default})"
    # A quota never adjusted in this account has no applied value: AWS's default is the one in force.
    try:
        value = quotas.get_aws_default_service_quota(ServiceCode=service, QuotaCode=code)["Quota"]["Value"]
    except (ClientError, NotImplementedError) as exc:
        return default, (
            f" (quota {service}/{code} never adjusted, and its default not readable: {_why(exc)}; "
            f"assumed the default {default})"
        )
    return value, f" (default quota {value:g}: never adjusted in this account)"


def _verdict(name: str, subject: str, used: int, quota: float, what: str, fix: str, note: str) -> Finding:
    detail = f"{what}: {used} of {quota:g}{note}"
    if used > quota:
        return Finding(name, "fail", subject, f"{detail} — over the quota, `pulumi up` would fail", fix)
    if quota - used <= 1:
        return Finding(name, "warn", subject, f"{detail} — at most one to spare", fix)
    return Finding(name, "pass", subject, detail)


@_guarded
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
