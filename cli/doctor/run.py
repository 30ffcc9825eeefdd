"""Run the doctor's checks for a stack and report them."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import replace
from pathlib import Path

from botocore.exceptions import ClientError

from slipway.cli.aws_errors import error_code, error_message
from slipway.cli.common import BAD_CREDENTIALS
from slipway.cli.doctor.model import DoctorContext, Finding

Check = Callable[[DoctorContext], list[Finding]]

# How a status is shown.
STYLES = {"fail": "bold red", "warn": "yellow", "pass": "green", "skip": "dim"}


def all_checks() -> list[Check]:
    from slipway.cli.doctor.aws_checks import AWS_CHECKS
    from slipway.cli.doctor.cluster_checks import CLUSTER_CHECKS

    return [*CLUSTER_CHECKS, *AWS_CHECKS]


def check_name(check: Check) -> str:
    """`check_subnet_tags` → `subnet-tags` (what `--only` takes)."""
    return check.__name__.removeprefix("check_").replace("_", "-")


def build_context(stack: str, root: Path, profile: str | None = None) -> DoctorContext:
    """The stack's config (ConfigError if invalid) and a boto3 session in its region with its profile."""
    import boto3

    from slipway.program.stackfile import load_stack_target

    target = load_stack_target(stack, root)
    region = target.stackfile.region
    profile = profile or target.profile
    session = boto3.Session(profile_name=profile, region_name=region)
    return DoctorContext(
        stack=stack,
        region=region,
        cfg=target.cfg,
        cluster_name=target.cluster_name,
        session=session,
        profile=profile,
    )


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
        code, message = error_code(exc), error_message(exc)
        if code in BAD_CREDENTIALS:
            raise BadCredentials(f"{code}: {message}") from None
        op = exc.operation_name
        fix = (
            f"allow the API call {op} to the identity running doctor"
            if "AccessDenied" in code or "Unauthorized" in code
            else "retry; if it persists, run the check's AWS call by hand to see why"
        )
        findings = [Finding(name, "warn", op or "aws", f"{code}: {message}", fix)]
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
    """The findings as a terminal table; subjects (ids, ARNs, names) wrap only at their separators."""
    from rich.table import Table
    from rich.text import Text

    from slipway.cli.common import Wrap

    t = Table(title=title, show_lines=False, expand=False)
    t.add_column("check", style="bold")
    t.add_column("status")
    t.add_column("subject")
    t.add_column("found · fix", ratio=1)
    last = None
    for f in findings:
        said = Text(f.detail) + (Text(f"\nfix: {f.fix}", style="dim") if f.fix else Text())
        t.add_row(
            Wrap(f.check) if f.check != last else "",
            Text(f.status, style=STYLES[f.status]),
            Wrap(f.subject),
            Wrap(said),
        )
        last = f.check
    return t


def verdict(findings: list[Finding]) -> str:
    """`verdict: FAIL — 2 check(s) failed` or `verdict: PASS — …`: the report's last line."""
    from slipway.cli.common import verdict_line

    failed = sum(1 for f in findings if f.status == "fail")
    warned = sum(1 for f in findings if f.status == "warn")
    if failed:
        return verdict_line(False, f"{failed} check(s) failed" + (f", {warned} warning(s)" if warned else ""))
    return verdict_line(True, "no check failed" + (f"; {warned} warning(s) to read" if warned else ""))


def summary(findings: list[Finding]) -> str:
    """The counts per status (rich markup), then the verdict line that ends the report."""
    counts = {s: sum(1 for f in findings if f.status == s) for s in STYLES}
    return " · ".join(f"[{STYLES[s]}]{n} {s}[/]" for s, n in counts.items()) + f"\n{verdict(findings)}"
