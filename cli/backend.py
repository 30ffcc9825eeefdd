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

Docs: https://www.pulumi.com/docs/iac/operations/stack-management/using-a-diy-backend/#aws-s3
"""

from __future__ import annotations

import difflib
import functools
import ipaddress
import json
import os
import re
import shlex
from dataclasses import dataclass
from typing import Annotated, Any, NoReturn
from urllib.parse import quote

import typer
from rich.console import Console
from rich.table import Table

from slipway.cli.aws_errors import ACCESS_DENIED, error_code, error_message
from slipway.program.config import EKS_REGIONS


@functools.cache
def s3_regions() -> frozenset[str]:
    """Commercial-partition regions S3 serves: EKS's plus those in botocore's bundled endpoint data.

    Other partitions (aws-cn, aws-us-gov) would need other ARNs in the bucket policy.
    """
    import botocore.session

    return frozenset(EKS_REGIONS | set(botocore.session.Session().get_available_regions("s3")))


ABORT_MULTIPART_DAYS = 7
"""Days after which an unfinished multipart upload is aborted (its parts are billed until then)."""

TLS_SID = "DenyInsecureTransport"
LIFECYCLE_ID = "slipway-abort-incomplete-multipart-uploads"

NAMING_RULES = "https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html"
_BUCKET_CHARS = re.compile(r"[a-z0-9][a-z0-9.-]*[a-z0-9]")
_RESERVED_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
_RESERVED_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")

# A key id (UUID or multi-Region `mrk-…`), an alias name, or a key/alias ARN.
# https://docs.aws.amazon.com/kms/latest/developerguide/concepts.html#key-id
_KMS_KEY = re.compile(
    r"(?:arn:aws:kms:(?P<region>[a-z0-9-]+):\d{12}:(?:key/\S+|alias/\S+))"
    r"|(?:alias/[A-Za-z0-9/_-]+)"
    r"|(?:mrk-[0-9a-f]{32})"
    r"|(?:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})"
)

# IAM action for each S3 API call slipway makes, where the two names differ.
_IAM_ACTION = {
    "HeadBucket": "s3:ListBucket",
    "GetBucketEncryption": "s3:GetEncryptionConfiguration",
    "PutBucketEncryption": "s3:PutEncryptionConfiguration",
    "GetPublicAccessBlock": "s3:GetBucketPublicAccessBlock",
    "PutPublicAccessBlock": "s3:PutBucketPublicAccessBlock",
    "GetBucketLifecycleConfiguration": "s3:GetLifecycleConfiguration",
    "PutBucketLifecycleConfiguration": "s3:PutLifecycleConfiguration",
}


@dataclass(frozen=True, kw_only=True)
class StepResult:
    """What one step found and did: `created`, `already set` or `updated`."""

    setting: str
    status: str
    detail: str
    warning: str | None = None


class BackendError(Exception):
    """A problem `init` cannot fix; `exit_code` 2 for the user's input, 1 for an AWS refusal."""

    def __init__(self, message: str, exit_code: int = 1):
        super().__init__(message)
        self.exit_code = exit_code


# ------------------------------------------------------------------ validation


def bucket_name_problem(name: str) -> str | None:
    """Why `name` is not a valid general purpose bucket name, or None if it is."""
    if not 3 <= len(name) <= 63:
        return f"is {len(name)} characters long; S3 bucket names are 3 to 63"
    if not _BUCKET_CHARS.fullmatch(name):
        return "may hold only lowercase letters, digits, '.' and '-', and must start and end with a letter or digit"
    if ".." in name:
        return "has two adjacent periods"
    try:
        ipaddress.IPv4Address(name)
        return "is formatted as an IP address"
    except ValueError:
        pass
    for prefix in _RESERVED_PREFIXES:
        if name.startswith(prefix):
            return f"starts with {prefix!r}, a prefix S3 reserves"
    for suffix in _RESERVED_SUFFIXES:
        if name.endswith(suffix):
            return f"ends with {suffix!r}, a suffix S3 reserves"
    return None


def suggest_bucket_name(name: str) -> str | None:
    """A valid name close to `name` (lowercased, other characters as '-'), or None."""
    guess = re.sub(r"-{2,}", "-", re.sub(r"[^a-z0-9.-]", "-", name.lower())).strip(".-")[:63].strip(".-")
    return guess if guess != name and bucket_name_problem(guess) is None else None


def region_problem(region: str) -> str | None:
    """Why `region` cannot hold the state bucket, or None if it can."""
    if region in s3_regions():
        return None
    guess = difflib.get_close_matches(region.lower().replace("_", "-"), sorted(s3_regions()), n=1)
    return "is not an AWS region S3 serves — " + (f"did you mean {guess[0]!r}?" if guess else "use e.g. us-east-1")


def kms_key_problem(key: str, region: str) -> str | None:
    """Why `key` cannot encrypt a bucket in `region`, or None if it can (as far as its form tells)."""
    match = _KMS_KEY.fullmatch(key)
    if not match:
        return "is not a KMS key id, key ARN, alias name (alias/…) or alias ARN"
    if match["region"] and match["region"] != region:
        # S3 only uses KMS keys in the bucket's own region.
        return f"is in {match['region']}, but the bucket is in {region}; S3 needs a key in the bucket's region"
    return None


def verify_kms_key(kms: Any, key: str, region: str) -> str | None:
    """Check with kms:DescribeKey that `key` exists, is enabled, encrypts, and is in `region`.

    `kms` is a KMS client for `region`. Returns a warning when DescribeKey itself is
    refused (an identity may lack kms:DescribeKey yet be allowed to use the key through
    S3), else None. Raises BackendError: exit 2 for an unusable key, 1 for other refusals.
    """
    from botocore.exceptions import ClientError

    flag = f"--kms-key-id {key!r}"
    try:
        meta = kms.describe_key(KeyId=key)["KeyMetadata"]
    except ClientError as exc:
        code = error_code(exc)
        if code in ACCESS_DENIED:
            return f"{flag}: could not check the key (kms:DescribeKey refused); using it as given"
        if code in ("NotFoundException", "InvalidArnException"):
            raise BackendError(
                f"{flag} is not a KMS key in {region} — list keys with `aws kms list-aliases --region {region}`, "
                "or omit it to use aws/s3",
                exit_code=2,
            ) from None
        message = error_message(exc)
        raise BackendError(f"AWS refused DescribeKey for {flag}: {code}: {message}") from None
    state = meta.get("KeyState", "Enabled")
    if state != "Enabled":
        raise BackendError(f"{flag}: key is {state} — enable it or pick another", exit_code=2)
    spec, usage = meta.get("KeySpec", "SYMMETRIC_DEFAULT"), meta.get("KeyUsage", "ENCRYPT_DECRYPT")
    if (spec, usage) != ("SYMMETRIC_DEFAULT", "ENCRYPT_DECRYPT"):
        raise BackendError(
            f"{flag}: key is {spec} for {usage}; "
            "S3 needs a symmetric encryption key (SYMMETRIC_DEFAULT) — pick another",
            exit_code=2,
        )
    arn = meta.get("Arn", "").split(":")
    if len(arn) > 3 and arn[3] and arn[3] != region:
        raise BackendError(
            f"{flag} is in {arn[3]}, but the bucket is in {region}; S3 needs a key in the bucket's region",
            exit_code=2,
        )
    return None


# ------------------------------------------------------------------ desired documents


def bucket_arn(bucket: str) -> str:
    """The bucket's ARN (commercial partition)."""
    return f"arn:aws:s3:::{bucket}"


def tls_only_statement(bucket: str) -> dict[str, Any]:
    """Deny every request made without TLS, on the bucket and on every object in it.

    https://docs.aws.amazon.com/AmazonS3/latest/userguide/security-best-practices.html
    """
    return {
        "Sid": TLS_SID,
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": [bucket_arn(bucket), f"{bucket_arn(bucket)}/*"],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }


def encryption_rule(kms_key_id: str | None) -> dict[str, Any]:
    """Default encryption: SSE-KMS with `kms_key_id`, or the AWS-managed `aws/s3` key when None.

    The bucket key cuts KMS requests (and their cost) by caching a data key per bucket.
    https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucket-key.html
    """
    default: dict[str, str] = {"SSEAlgorithm": "aws:kms"}
    if kms_key_id:
        default["KMSMasterKeyID"] = kms_key_id
    return {"ApplyServerSideEncryptionByDefault": default, "BucketKeyEnabled": True}


PUBLIC_ACCESS_BLOCK = {
    "BlockPublicAcls": True,
    "IgnorePublicAcls": True,
    "BlockPublicPolicy": True,
    "RestrictPublicBuckets": True,
}


def lifecycle_rule() -> dict[str, Any]:
    """Abort multipart uploads left unfinished (an interrupted CLI); never expire any version."""
    return {
        "ID": LIFECYCLE_ID,
        "Status": "Enabled",
        "Filter": {"Prefix": ""},
        "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": ABORT_MULTIPART_DAYS},
    }


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


# ------------------------------------------------------------------ steps


def _refusal_fix(code: str, bucket: str) -> str | None:
    """What to do about an S3 error code other than AccessDenied, where slipway knows."""
    if code == "InvalidBucketAclWithObjectOwnership":
        return (
            "the bucket has ACL grants, which BucketOwnerEnforced (ACLs disabled) does not allow — remove them "
            f"(aws s3api put-bucket-acl --bucket {bucket} --acl private), then re-run"
        )
    if code == "IllegalLocationConstraintException":
        return (
            "the region is not enabled for this account, or the request went to the wrong region — pass --region "
            "of a region enabled for the account (aws account list-regions --region-opt-status-contains "
            "ENABLED ENABLED_BY_DEFAULT)"
        )
    if code == "MalformedPolicy":
        # slipway's own statement is fixed text; a statement it kept (e.g. naming a deleted principal) is the suspect.
        return (
            "S3 rejected the bucket policy — check its other statements "
            f"(aws s3api get-bucket-policy --bucket {bucket}), fix or remove the invalid one, then re-run"
        )
    if code.startswith("KMS."):
        return (
            "the KMS key is disabled, not found, or not allowed for S3 — check that the key is enabled and its key "
            "policy lets your identity use it through S3 (kms:GenerateDataKey, kms:Decrypt), or omit --kms-key-id "
            "to use aws/s3"
        )
    return None


def _refused(exc: Any, bucket: str) -> BackendError:
    """A BackendError for an S3 ClientError: the IAM action for AccessDenied, else the code, message and fix."""
    op = getattr(exc, "operation_name", "") or "the request"
    code = error_code(exc)
    if code in ACCESS_DENIED:
        action = _IAM_ACTION.get(op, f"s3:{op}")
        return BackendError(f"AWS refused {op} on bucket {bucket!r}: {exc} — your credentials need {action} on it")
    message = error_message(exc) or str(exc)
    fix = _refusal_fix(code, bucket)
    return BackendError(
        f"AWS refused {op} on bucket {bucket!r}: {code or 'error'}: {message}" + (f" — {fix}" if fix else "")
    )


def _owner(expected_owner: str | None) -> dict[str, str]:
    # ExpectedBucketOwner makes S3 answer 403 instead of acting on a same-named
    # bucket in another account. https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucket-owner-condition.html
    return {"ExpectedBucketOwner": expected_owner} if expected_owner else {}


def _status(bucket_created: bool, absent: bool) -> str:
    return "created" if bucket_created or absent else "updated"


def ensure_bucket(s3: Any, bucket: str, region: str, expected_owner: str | None = None) -> StepResult:
    """Create the bucket in `region` unless this account already owns it there."""
    from botocore.exceptions import ClientError

    try:
        head = s3.head_bucket(Bucket=bucket, **_owner(expected_owner))
    except ClientError as exc:
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        if status == 403 or error_code(exc) in ("403", "AccessDenied", "Forbidden"):
            raise BackendError(
                f"bucket {bucket!r} exists but belongs to another AWS account (or your credentials lack "
                "s3:ListBucket on it) — bucket names are global: choose another --bucket"
            ) from None
        if status != 404 and error_code(exc) not in ("404", "NoSuchBucket", "NotFound"):
            raise _refused(exc, bucket) from None
    else:
        actual = head.get("BucketRegion") or _location(s3, bucket, expected_owner)
        if actual != region:
            raise BackendError(
                f"--region {region!r}: bucket {bucket!r} already exists in {actual} — pass --region {actual}",
                exit_code=2,
            )
        owner = f", owned by {expected_owner}" if expected_owner else ""
        return StepResult(setting="bucket", status="already set", detail=f"exists in {region}{owner}")

    kwargs: dict[str, Any] = {"Bucket": bucket}
    # us-east-1 is the default location and rejects an explicit LocationConstraint.
    if region != "us-east-1":
        kwargs["CreateBucketConfiguration"] = {"LocationConstraint": region}
    try:
        s3.create_bucket(**kwargs)
    except ClientError as exc:
        if error_code(exc) == "BucketAlreadyOwnedByYou":  # created by a concurrent run
            return StepResult(setting="bucket", status="already set", detail=f"exists in {region}")
        if error_code(exc) == "BucketAlreadyExists":
            raise BackendError(
                f"bucket {bucket!r} is taken by another AWS account — bucket names are global: choose another --bucket"
            ) from None
        raise _refused(exc, bucket) from None
    return StepResult(setting="bucket", status="created", detail=f"created in {region}")


def _location(s3: Any, bucket: str, expected_owner: str | None) -> str:
    # GetBucketLocation answers None for us-east-1 and the legacy "EU" for eu-west-1.
    loc = s3.get_bucket_location(Bucket=bucket, **_owner(expected_owner)).get("LocationConstraint")
    return {None: "us-east-1", "": "us-east-1", "EU": "eu-west-1"}.get(loc, loc)


def _current(get: Any, bucket: str, expected_owner: str | None, missing: str, key: str) -> tuple[Any, bool]:
    """A bucket setting as it is: (value, absent). S3 answers `missing` for one never set."""
    from botocore.exceptions import ClientError

    try:
        return get(Bucket=bucket, **_owner(expected_owner))[key], False
    except ClientError as exc:
        if error_code(exc) != missing:
            raise _refused(exc, bucket) from None
        return None, True


def ensure_ownership(s3: Any, bucket: str, *, created: bool = False, expected_owner: str | None = None) -> StepResult:
    """ObjectOwnership BucketOwnerEnforced: ACLs disabled, the bucket owner owns every object."""

    want = {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
    detail = "BucketOwnerEnforced (ACLs disabled)"
    have, absent = _current(
        s3.get_bucket_ownership_controls, bucket, expected_owner, "OwnershipControlsNotFoundError", "OwnershipControls"
    )
    if have == want:
        return StepResult(setting="object ownership", status="already set", detail=detail)
    s3.put_bucket_ownership_controls(Bucket=bucket, OwnershipControls=want, **_owner(expected_owner))
    return StepResult(setting="object ownership", status=_status(created, absent), detail=detail)


def ensure_public_access_block(
    s3: Any, bucket: str, *, created: bool = False, expected_owner: str | None = None
) -> StepResult:
    """All four public-access blocks on."""

    detail = "all four blocks on"
    have, absent = _current(
        s3.get_public_access_block,
        bucket,
        expected_owner,
        "NoSuchPublicAccessBlockConfiguration",
        "PublicAccessBlockConfiguration",
    )
    if have == PUBLIC_ACCESS_BLOCK:
        return StepResult(setting="public access block", status="already set", detail=detail)
    s3.put_public_access_block(
        Bucket=bucket, PublicAccessBlockConfiguration=dict(PUBLIC_ACCESS_BLOCK), **_owner(expected_owner)
    )
    return StepResult(setting="public access block", status=_status(created, absent), detail=detail)


def ensure_encryption(
    s3: Any,
    bucket: str,
    kms_key_id: str | None = None,
    *,
    created: bool = False,
    expected_owner: str | None = None,
) -> StepResult:
    """Default encryption SSE-KMS with the bucket key on.

    The key is `kms_key_id` when given. Without it, a bucket already on SSE-KMS keeps its
    key (a re-run by someone who does not know the key must not change it), and any
    other bucket gets the AWS-managed aws/s3 key.
    """

    # New buckets report SSE-S3 (AES256) by default; that is a difference, not an absence.
    config, absent = _current(
        s3.get_bucket_encryption,
        bucket,
        expected_owner,
        "ServerSideEncryptionConfigurationNotFoundError",
        "ServerSideEncryptionConfiguration",
    )
    have = config["Rules"] if config else []
    kept = kms_key_id is None and len(have) == 1 and _encryption_key(have[0])[0] == "aws:kms"
    key = _encryption_key(have[0])[1] if kept else kms_key_id
    want = encryption_rule(key)
    detail = f"SSE-KMS with {key or 'aws/s3 (AWS managed)'}, bucket key on"
    if kept and key:
        detail += " (the bucket's key, kept; --kms-key-id changes it)"
    if [_encryption_key(r) for r in have] == [_encryption_key(want)]:
        return StepResult(setting="default encryption", status="already set", detail=detail)
    s3.put_bucket_encryption(
        Bucket=bucket, ServerSideEncryptionConfiguration={"Rules": [want]}, **_owner(expected_owner)
    )
    previous = {_encryption_key(r)[1] for r in have} - {None, key}
    warning = (
        f"default encryption was {', '.join(sorted(previous))}; it is now {key or 'aws/s3'} "
        f"(pass --kms-key-id {sorted(previous)[0]} to keep the old key)"
        if previous
        else None
    )
    return StepResult(setting="default encryption", status=_status(created, absent), detail=detail, warning=warning)


def _encryption_key(rule: dict[str, Any]) -> tuple:
    default = rule.get("ApplyServerSideEncryptionByDefault", {})
    return (default.get("SSEAlgorithm"), default.get("KMSMasterKeyID"), bool(rule.get("BucketKeyEnabled")))


def ensure_versioning(s3: Any, bucket: str, *, created: bool = False, expected_owner: str | None = None) -> StepResult:
    """Versioning Enabled, so every state write keeps the version it replaced."""
    detail = "Enabled; noncurrent versions kept (never expired)"
    have = s3.get_bucket_versioning(Bucket=bucket, **_owner(expected_owner)).get("Status")
    if have == "Enabled":
        return StepResult(setting="versioning", status="already set", detail=detail)
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"}, **_owner(expected_owner))
    # A bucket that was never versioned has no Status; "Suspended" was switched off on purpose.
    return StepResult(setting="versioning", status=_status(created, have is None), detail=detail)


def _canonical_statement(stmt: dict[str, Any]) -> str:
    def norm(value: Any) -> Any:
        if isinstance(value, list):
            items = [norm(v) for v in value]
            return sorted(items, key=json.dumps) if len(items) != 1 else items[0]
        if isinstance(value, dict):
            return {k: norm(v) for k, v in value.items()}
        return value

    return json.dumps(norm(stmt), sort_keys=True)


def ensure_tls_policy(s3: Any, bucket: str, *, created: bool = False, expected_owner: str | None = None) -> StepResult:
    """The TLS-only Deny statement in the bucket policy; statements with other Sids are kept."""

    want = tls_only_statement(bucket)
    text, absent = _current(s3.get_bucket_policy, bucket, expected_owner, "NoSuchBucketPolicy", "Policy")
    policy = json.loads(text) if text else {"Version": "2012-10-17", "Statement": []}
    statements = policy.get("Statement", [])
    statements = [statements] if isinstance(statements, dict) else list(statements)
    others = [s for s in statements if s.get("Sid") != TLS_SID]
    ours = [s for s in statements if s.get("Sid") == TLS_SID]
    kept = f"; kept {len(others)} other statement(s)" if others else ""
    detail = "deny aws:SecureTransport=false on the bucket and its objects" + kept
    if len(ours) == 1 and _canonical_statement(ours[0]) == _canonical_statement(want):
        return StepResult(setting="bucket policy (TLS only)", status="already set", detail=detail)
    policy["Version"] = "2012-10-17"
    policy["Statement"] = [*others, want]
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(policy), **_owner(expected_owner))
    status = _status(created, absent or not ours)
    return StepResult(setting="bucket policy (TLS only)", status=status, detail=detail)


def _rule_key(rule: dict[str, Any]) -> tuple:
    flt = rule.get("Filter", {"Prefix": rule.get("Prefix", "")})
    actions = sorted(k for k in rule if k not in ("ID", "Status", "Filter", "Prefix"))
    return (
        rule.get("Status"),
        flt in ({}, {"Prefix": ""}),
        actions,
        rule.get("AbortIncompleteMultipartUpload", {}).get("DaysAfterInitiation"),
    )


def ensure_lifecycle(s3: Any, bucket: str, *, created: bool = False, expected_owner: str | None = None) -> StepResult:
    """The abort-multipart rule; other rules are kept, and flagged when they expire objects."""

    want = lifecycle_rule()
    rules, absent = _current(
        s3.get_bucket_lifecycle_configuration, bucket, expected_owner, "NoSuchLifecycleConfiguration", "Rules"
    )
    rules = rules or []
    others = [r for r in rules if r.get("ID") != LIFECYCLE_ID]
    ours = [r for r in rules if r.get("ID") == LIFECYCLE_ID]
    expiring = [
        r.get("ID") or "(unnamed)"
        for r in others
        if r.get("Status") == "Enabled" and ("Expiration" in r or "NoncurrentVersionExpiration" in r)
    ]
    warning = (
        f"lifecycle rule(s) {', '.join(expiring)} expire objects or versions — Pulumi state could be lost"
        if expiring
        else None
    )
    kept = f"; kept {len(others)} other rule(s)" if others else ""
    detail = f"abort incomplete multipart uploads after {ABORT_MULTIPART_DAYS} days{kept}"
    if len(ours) == 1 and _rule_key(ours[0]) == _rule_key(want):
        return StepResult(setting="lifecycle", status="already set", detail=detail, warning=warning)
    s3.put_bucket_lifecycle_configuration(
        Bucket=bucket, LifecycleConfiguration={"Rules": [*others, want]}, **_owner(expected_owner)
    )
    return StepResult(setting="lifecycle", status=_status(created, absent or not ours), detail=detail, warning=warning)


def ensure_state_bucket(
    s3: Any,
    bucket: str,
    region: str,
    *,
    kms_key_id: str | None = None,
    expected_owner: str | None = None,
) -> list[StepResult]:
    """Create (or re-apply every setting of) the state bucket; one result per setting.

    `s3` is a boto3 S3 client for `region`. `expected_owner` (an account id) makes S3
    refuse to act on a bucket of the same name in another account. Raises BackendError.
    """
    from botocore.exceptions import ClientError

    try:
        first = ensure_bucket(s3, bucket, region, expected_owner)
        kw = {"created": first.status == "created", "expected_owner": expected_owner}
        steps = [first]
        # Ownership and public-access blocks first: the bucket is never open, even briefly.
        steps.append(ensure_ownership(s3, bucket, **kw))
        steps.append(ensure_public_access_block(s3, bucket, **kw))
        steps.append(ensure_encryption(s3, bucket, kms_key_id, **kw))
        steps.append(ensure_versioning(s3, bucket, **kw))
        steps.append(ensure_tls_policy(s3, bucket, **kw))
        steps.append(ensure_lifecycle(s3, bucket, **kw))
    except ClientError as exc:  # a Get*/Put* refused
        raise _refused(exc, bucket) from None
    return steps


# ------------------------------------------------------------------ CLI

backend_app = typer.Typer(help="The S3 bucket that holds Pulumi state (self-managed backend).", no_args_is_help=True)
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


@backend_app.command("init")
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
    """Create the S3 bucket for `pulumi login s3://…`: versioned, SSE-KMS, private, TLS-only. Safe to re-run."""
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
        _fail(f"AWS refused the request: {exc} — check your credentials (aws sts get-caller-identity)", 1)

    table = Table(title=f"state bucket s3://{bucket} ({region})", title_justify="left")
    for col in ("setting", "status", "detail"):
        table.add_column(col, overflow="fold")
    for step in steps:
        table.add_row(step.setting, f"[{_STYLE.get(step.status, '')}]{step.status}[/]", step.detail)
    out.print(table)
    for step in steps:
        if step.warning:
            err.print(f"[yellow]warning:[/] {step.warning}", highlight=False, soft_wrap=True)
    out.print(login_command(bucket, region, profile), markup=False, highlight=False, soft_wrap=True)
    out.print(secrets_hint(region, kms_key_id), markup=False, highlight=False, soft_wrap=True)
