"""Run the doctor's checks for a stack and report them."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import replace
from pathlib import Path

from botocore.exceptions import ClientError

from infra.doctor.model import DoctorContext, Finding

Check = Callable[[DoctorContext], list[Finding]]

# How a status is shown.
STYLES = {"fail": "bold red", "warn": "yellow", "pass": "green", "skip": "dim"}


def all_checks() -> list[Check]:
    from infra.doctor.aws_checks import AWS_CHECKS
    from infra.doctor.cluster_checks import CLUSTER_CHECKS

    return [*CLUSTER_CHECKS, *AWS_CHECKS]


def check_name(check: Check) -> str:
    """`check_subnet_tags` → `subnet-tags` (what `--only` takes)."""
    return check.__name__.removeprefix("check_").replace("_", "-")


def build_context(stack: str, root: Path, profile: str | None = None) -> DoctorContext:
    """The stack's config (ConfigError if invalid) and a boto3 session in its region with its profile."""
    import boto3

    from infra.stackfile import load_stack_file

    stack_file = load_stack_file(stack, root)
    cfg = stack_file.parse()
    profile = profile or cfg.identity.profile or stack_file.values.get("aws:profile") or None
    session = boto3.Session(profile_name=profile, region_name=stack_file.region)
    return DoctorContext(
        stack=stack,
        region=stack_file.region,
        cfg=cfg,
        cluster_name=cfg.cluster_name or f"slipway-{stack}",
        session=session,
        profile=profile,
    )


# Error codes that mean the credentials themselves are bad: every check would fail the same way.
BAD_CREDENTIALS = {"ExpiredToken", "ExpiredTokenException", "InvalidClientTokenId", "UnrecognizedClientException",
                   "SignatureDoesNotMatch", "AuthFailure", "InvalidAccessKeyId", "RequestExpired"}  # fmt: skip
ORDER = {"fail": 0, "warn": 1, "pass": 2, "skip": 3}


class BadCredentials(Exception):
    """AWS rejected the credentials (expired, unknown key): nothing else can be checked."""


def run_check(ctx: DoctorContext, check: Check) -> list[Finding]:
    """One check; an AWS refusal becomes a warn line naming the API call, not a traceback.

    Lines carry the check's `--only` name and are ordered fail, warn, pass, skip.
    """
    name = check_name(check)
    try:
        findings = check(ctx)
    except ClientError as exc:
        err = exc.response.get("Error", {})
        code = err.get("Code", "")
        if code in BAD_CREDENTIALS:
            raise BadCredentials(f"{code}: {err.get('Message', '')}") from None
        op = exc.operation_name
        fix = (
            f"allow the API call {op} to the identity running doctor"
            if "AccessDenied" in code or "Unauthorized" in code
            else "retry; if it persists, run the check's AWS call by hand to see why"
        )
        findings = [Finding(name, "warn", op or "aws", f"{code}: {err.get('Message', '')}", fix)]
    return sorted((replace(f, check=name) for f in findings), key=lambda f: ORDER[f.status])


def run_checks(
    ctx: DoctorContext, checks: Iterable[Check], progress: Callable[[str, int], None] = lambda _, __: None
) -> list[Finding]:
    """Every check in order; `progress(name, done)` is called before each."""
    out: list[Finding] = []
    for done, check in enumerate(checks):
        progress(check_name(check), done)
        out.extend(run_check(ctx, check))
    return out


def exit_code(findings: list[Finding]) -> int:
    return 1 if any(f.status == "fail" for f in findings) else 0


def table(findings: list[Finding], title: str):
    from rich.table import Table

    t = Table(title=title, show_lines=False, expand=False)
    t.add_column("check", style="bold")
    t.add_column("status")
    t.add_column("subject", overflow="fold")
    t.add_column("found", overflow="fold")
    t.add_column("fix", overflow="fold")
    last = None
    for f in findings:
        t.add_row(f.check if f.check != last else "", f"[{STYLES[f.status]}]{f.status}[/]", f.subject, f.detail, f.fix)
        last = f.check
    return t


def summary(findings: list[Finding]) -> str:
    counts = {s: sum(1 for f in findings if f.status == s) for s in STYLES}
    return " · ".join(f"[{STYLES[s]}]{n} {s}[/]" for s, n in counts.items())
