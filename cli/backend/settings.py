"""The state bucket as slipway wants it: valid names, regions and KMS keys, and the desired settings.

Pure functions, no AWS calls: the checks `backend init` runs on its flags before
touching AWS, and the documents (TLS-only policy statement, default encryption,
public-access blocks, lifecycle rule) that the steps in `steps.py` compare with the
bucket's and write on a difference.
"""

from __future__ import annotations

import difflib
import functools
import ipaddress
import re
from typing import Any

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
