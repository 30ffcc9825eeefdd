"""The errors of `backend init`: `BackendError`, and what an S3 refusal means for the user.

An AccessDenied names the IAM action the credentials lack (S3 API and IAM action
names differ); other S3 error codes get their message and, where slipway knows one,
the fix. A call that never reached AWS is a network failure, not a refusal (`aws_failure`).
"""

from __future__ import annotations

from typing import Any

from slipway.cli.aws_errors import ACCESS_DENIED, error_code, error_message

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


class BackendError(Exception):
    """A problem `init` cannot fix; `exit_code` 2 for the user's input, 1 for an AWS refusal."""

    def __init__(self, message: str, exit_code: int = 1):
        super().__init__(message)
        self.exit_code = exit_code


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


def aws_failure(exc: Any, profile: str | None = None) -> BackendError:
    """A BackendError for a call that did not get an answer from S3: the network (exit 1), the
    credentials (exit 2: log in), or an S3 refusal."""
    from slipway.cli.common import cannot_reach, credentials_failure, log_in, network_failure

    if network_failure(exc):
        return BackendError(cannot_reach(exc))
    if credentials_failure(exc):
        return BackendError(f"no usable AWS credentials ({exc}) — {log_in(profile)}", exit_code=2)
    return BackendError(f"AWS refused the request: {exc} — check your credentials (aws sts get-caller-identity)")


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
