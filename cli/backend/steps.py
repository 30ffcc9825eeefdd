"""The AWS calls of `backend init`: the KMS key check, and one `ensure_*` step per bucket setting.

Each step reads the setting, compares it with what slipway wants (`settings.py`) and
writes only on a difference, so running `init` again is safe and repairs drift.
Settings slipway does not own (other bucket-policy statements, other lifecycle
rules) are kept. Requests on an existing bucket name its expected owner when known.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from slipway.cli.aws_errors import ACCESS_DENIED, error_code, error_message
from slipway.cli.backend.errors import BackendError, _refused
from slipway.cli.backend.settings import (
    ABORT_MULTIPART_DAYS,
    LIFECYCLE_ID,
    PUBLIC_ACCESS_BLOCK,
    TLS_SID,
    encryption_rule,
    lifecycle_rule,
    tls_only_statement,
)


@dataclass(frozen=True, kw_only=True)
class StepResult:
    """What one step found and did: `created`, `already set` or `updated`."""

    setting: str
    status: str
    detail: str
    warning: str | None = None


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


# ------------------------------------------------------------------ steps


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
