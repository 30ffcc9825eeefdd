"""`slipway backend init`: the S3 bucket behind Pulumi's self-managed (DIY) state backend.

Pulumi's DIY S3 backend keeps each stack's checkpoint, history and lock files under
`s3://<bucket>/.pulumi/`. That bucket is the only record of what Pulumi manages, so
it is created locked down: versioning on (every state write keeps the previous
one), SSE-KMS with a bucket key, all four public-access blocks, ACLs disabled
(BucketOwnerEnforced), a TLS-only bucket policy, and a lifecycle rule that only
aborts stale multipart uploads. Noncurrent versions are never expired: state
files are kilobytes to a few megabytes, and an old version is the way back from a
bad `pulumi up` or an accidental `pulumi stack rm`.

Each `ensure_*` step reads the setting, compares it with what slipway wants and
writes only on a difference, so running `init` again is safe and repairs drift.
Settings slipway does not own (other bucket-policy statements, other lifecycle
rules) are kept.

This module is the command and its report; the flag checks and the settings slipway
wants are in `settings.py`, the AWS calls (`ensure_*`) in `steps.py`, the errors in
`errors.py`. Their public names are re-exported here.

Docs: https://www.pulumi.com/docs/iac/operations/stack-management/using-a-diy-backend/#aws-s3
"""

from __future__ import annotations

import os
import shlex
from typing import Annotated, Any, NoReturn
from urllib.parse import quote

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from slipway.cli.backend.errors import BackendError, _refused, aws_failure
from slipway.cli.backend.settings import (
    ABORT_MULTIPART_DAYS,
    LIFECYCLE_ID,
    NAMING_RULES,
    PUBLIC_ACCESS_BLOCK,
    TLS_SID,
    bucket_arn,
    bucket_name_problem,
    encryption_rule,
    kms_key_problem,
    lifecycle_rule,
    region_problem,
    s3_regions,
    suggest_bucket_name,
    tls_only_statement,
)
from slipway.cli.backend.steps import (
    StepResult,
    ensure_bucket,
    ensure_encryption,
    ensure_lifecycle,
    ensure_ownership,
    ensure_public_access_block,
    ensure_state_bucket,
    ensure_tls_policy,
    ensure_versioning,
    verify_kms_key,
)
from slipway.cli.common import Command, Group, Wrap, verdict_line

__all__ = [
    "ABORT_MULTIPART_DAYS",
    "LIFECYCLE_ID",
    "NAMING_RULES",
    "PUBLIC_ACCESS_BLOCK",
    "TLS_SID",
    "BackendError",
    "StepResult",
    "backend_app",
    "bucket_arn",
    "bucket_name_problem",
    "encryption_rule",
    "ensure_bucket",
    "ensure_encryption",
    "ensure_lifecycle",
    "ensure_ownership",
    "ensure_public_access_block",
    "ensure_state_bucket",
    "ensure_tls_policy",
    "ensure_versioning",
    "init",
    "kms_key_problem",
    "lifecycle_rule",
    "login_command",
    "login_url",
    "region_problem",
    "s3_regions",
    "secrets_hint",
    "suggest_bucket_name",
    "tls_only_statement",
    "verify_kms_key",
    "_refused",
    "aws_failure",
]


def login_url(bucket: str, region: str, profile: str | None = None) -> str:
    """The DIY backend URL; `awssdk=v2` makes the CLI honour `region` and `profile` (Pulumi ≥ 3.33.1)."""
    url = f"s3://{bucket}?region={region}&awssdk=v2"
    return url + (f"&profile={quote(profile, safe='')}" if profile else "")


def login_command(bucket: str, region: str, profile: str | None = None) -> str:
    """`pulumi login '<url>'`, quoted for a POSIX shell (the URL holds `&`)."""
    return f"pulumi login {shlex.quote(login_url(bucket, region, profile))}"


def secrets_hint(region: str, kms_key_id: str | None = None) -> str:
    """How to pick a stack's secrets provider (a DIY backend defaults to `passphrase`)."""
    key = kms_key_id if kms_key_id and not kms_key_id.startswith("arn:") else "alias/<key-alias>"
    return (
        "secrets: new stacks use the passphrase provider (set PULUMI_CONFIG_PASSPHRASE); for KMS instead: "
        f'pulumi stack init <stack> --secrets-provider="awskms://{key}?region={region}"'
    )


# ------------------------------------------------------------------ CLI

backend_app = typer.Typer(
    help="The S3 bucket that holds Pulumi state (self-managed backend).\n\n"
    "Example: slipway backend init --bucket acme-pulumi-state --region us-east-1",
    no_args_is_help=True,
    cls=Group,
)
out = Console()
err = Console(stderr=True)

_STYLE = {"created": "green", "updated": "yellow", "already set": "dim"}


def _fail(message: str, code: int) -> NoReturn:
    err.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def _clients(profile: str | None, region: str | None) -> tuple[Any, Any, Any, str]:
    """(s3, sts, kms clients, region) for `profile`; region defaults to the profile's, then us-east-1."""
    import boto3
    from botocore.exceptions import ProfileNotFound

    try:
        session = boto3.Session(profile_name=profile)
    except ProfileNotFound:
        name = f"--profile {profile!r}" if profile else f"AWS_PROFILE {os.environ.get('AWS_PROFILE')!r}"
        _fail(f"{name} is not in your AWS config — list profiles with `aws configure list-profiles`", 2)
    region = region or session.region_name or "us-east-1"
    if problem := region_problem(region):
        _fail(f"--region {region!r} {problem}", 2)
    clients = (session.client(name, region_name=region) for name in ("s3", "sts", "kms"))
    return (*clients, region)


@backend_app.command("init", cls=Command)
def init(
    bucket: Annotated[str, typer.Option("--bucket", help="Bucket to create (globally unique S3 name).")],
    region: Annotated[
        str | None, typer.Option("--region", help="Bucket region (default: the profile's region, else us-east-1).")
    ] = None,
    profile: Annotated[
        str | None, typer.Option("--profile", help="AWS profile (default: the environment's credentials).")
    ] = None,
    kms_key_id: Annotated[
        str | None,
        typer.Option(
            "--kms-key-id",
            help="KMS key (id, ARN or alias/…) for default encryption "
            "(default: keep the bucket's SSE-KMS key, else aws/s3).",
        ),
    ] = None,
) -> None:
    """Create the S3 bucket for `pulumi login s3://…`: versioned, SSE-KMS, private, TLS-only. Safe to re-run.

    Prints the `pulumi login` command for the bucket.

    Examples:
      slipway backend init --bucket acme-pulumi-state --region us-east-1
      slipway backend init --bucket acme-state --kms-key-id alias/pulumi-state
    """
    from botocore.exceptions import BotoCoreError, ClientError

    if problem := bucket_name_problem(bucket):
        guess = suggest_bucket_name(bucket)
        fix = f"try {guess!r}" if guess else f"see {NAMING_RULES}"
        _fail(f"--bucket {bucket!r} {problem} — {fix}", 2)
    s3, sts, kms, region = _clients(profile, region)
    if kms_key_id is not None and (problem := kms_key_problem(kms_key_id, region)):
        _fail(f"--kms-key-id {kms_key_id!r} {problem} — or omit it to use aws/s3", 2)
    try:
        # Before any change: a key S3 cannot use would fail PutBucketEncryption halfway through.
        if kms_key_id is not None and (warning := verify_kms_key(kms, kms_key_id, region)):
            err.print(f"[yellow]warning:[/] {warning}", highlight=False, soft_wrap=True)
        account = sts.get_caller_identity()["Account"]
        steps = ensure_state_bucket(s3, bucket, region, kms_key_id=kms_key_id, expected_owner=account)
    except BackendError as exc:
        _fail(str(exc), exc.exit_code)
    except (BotoCoreError, ClientError) as exc:
        failure = aws_failure(exc, profile)
        _fail(str(failure), failure.exit_code)

    table = Table(title=f"state bucket s3://{bucket} ({region})", title_justify="left")
    for col in ("setting", "status", "detail"):
        table.add_column(col)
    for step in steps:
        table.add_row(Wrap(step.setting), Text(step.status, style=_STYLE.get(step.status, "")), Wrap(step.detail))
    out.print(table)
    for step in steps:
        if step.warning:
            err.print(f"[yellow]warning:[/] {step.warning}", highlight=False, soft_wrap=True)
    out.print(login_command(bucket, region, profile), markup=False, highlight=False, soft_wrap=True)
    out.print(secrets_hint(region, kms_key_id), markup=False, highlight=False, soft_wrap=True)
    changed = sum(1 for step in steps if step.status != "already set")
    out.print(verdict_line(True, f"s3://{bucket} is ready ({changed} setting(s) changed)"), highlight=False)
