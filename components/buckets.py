"""A private S3 bucket the way slipway makes them: owner-enforced, public access blocked,
SSE-KMS with a bucket key, TLS-only, objects expiring after a number of days.

The configuration resources (ownership, public access block, encryption, policy,
lifecycle) are each keyed by the bucket alone: S3's Put overwrites and Delete removes,
so a create-before-delete replacement would leave the bucket without that setting.
They delete before they replace (components/lifecycle.py).
"""

from __future__ import annotations

import json
from typing import Any

import pulumi
import pulumi_aws as aws

from slipway.components.iam import policy_document
from slipway.components.lifecycle import keyed


def bucket_tls_only_policy(bucket_arn: str) -> dict[str, Any]:
    """Deny any request to the bucket that is not made over TLS."""
    return policy_document(
        [
            {
                "Sid": "DenyInsecureTransport",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": [bucket_arn, f"{bucket_arn}/*"],
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            }
        ]
    )


def create_private_bucket(
    parent: pulumi.Resource,
    name: str,
    *,
    bucket_name: pulumi.Input[str] | None,
    protect: bool,
    expiry_days: int,
    rule_id: str,
    tags: dict[str, str],
) -> aws.s3.Bucket:
    """The bucket and its settings, children of `parent` named `name`.

    `protect` keeps the bucket (and its objects) from `pulumi destroy`; without it the
    bucket is emptied on delete (`force_destroy`), so a dev stack can be torn down.
    """
    bucket = aws.s3.Bucket(
        name,
        bucket=bucket_name,
        force_destroy=not protect,
        tags=tags,
        opts=pulumi.ResourceOptions(parent=parent, protect=protect),
    )
    aws.s3.BucketOwnershipControls(
        name,
        bucket=bucket.id,
        rule=aws.s3.BucketOwnershipControlsRuleArgs(object_ownership="BucketOwnerEnforced"),
        opts=keyed(parent),
    )
    public_access = aws.s3.BucketPublicAccessBlock(
        name,
        bucket=bucket.id,
        block_public_acls=True,
        block_public_policy=True,
        ignore_public_acls=True,
        restrict_public_buckets=True,
        opts=keyed(parent),
    )
    sse = aws.s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs
    aws.s3.BucketServerSideEncryptionConfiguration(
        name,
        bucket=bucket.id,
        rules=[
            aws.s3.BucketServerSideEncryptionConfigurationRuleArgs(
                apply_server_side_encryption_by_default=sse(sse_algorithm="aws:kms"), bucket_key_enabled=True
            )
        ],
        opts=keyed(parent),
    )
    aws.s3.BucketPolicy(
        name,
        bucket=bucket.id,
        policy=bucket.arn.apply(lambda arn: json.dumps(bucket_tls_only_policy(arn), sort_keys=True)),
        # S3 rejects concurrent policy and public-access-block changes (OperationAborted).
        opts=keyed(parent, depends_on=[public_access]),
    )
    abort = aws.s3.BucketLifecycleConfigurationRuleAbortIncompleteMultipartUploadArgs
    aws.s3.BucketLifecycleConfiguration(
        name,
        bucket=bucket.id,
        rules=[
            aws.s3.BucketLifecycleConfigurationRuleArgs(
                id=rule_id,
                status="Enabled",
                filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(prefix=""),
                expiration=aws.s3.BucketLifecycleConfigurationRuleExpirationArgs(days=expiry_days),
                abort_incomplete_multipart_upload=abort(days_after_initiation=7),
            )
        ],
        opts=keyed(parent),
    )
    return bucket
