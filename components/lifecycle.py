"""What the real engine and providers do with slipway's resources over time: which are
keyed by AWS (and so must delete before they replace), and which hold state (and so
are protected in production). Tests check every rendered resource against these
tables (tests/test_graph.py), so a new resource type cannot arrive unclassified.

Facts, from the providers' own source:

- Pulumi replaces **create-before-delete** unless the provider's Diff or the resource's
  options say otherwise (pulumi `pkg/resource/deploy/step_generator.go`: an explicit
  `delete_before_replace` wins over the provider's answer).
- pulumi-terraform-bridge answers delete-before-replace when the resource is marked so
  statically, or when it has an auto-named `name` the program set explicitly
  (`pkg/tfbridge/schema.go` `nameRequiresDeleteBeforeReplace`). Resources keyed by
  something that is *not* a name (an association, an attachment, a per-bucket
  configuration) get neither: their replacement writes the same AWS key, then the
  delete of the old resource removes it. terraform-provider-aws marks what forces a
  replacement per attribute (`ForceNew` in `internal/service/<svc>/<resource>.go`).
- pulumi-kubernetes answers delete-before-replace for every object with an explicit
  `metadata.name` that keeps its name and namespace (`provider/pkg/provider/provider.go`
  Diff), so Kubernetes objects need nothing from us.
"""

from __future__ import annotations

import pulumi

NATURAL_KEYS: dict[str, str] = {
    # type: the AWS key that a create-before-delete replacement would write twice.
    "aws:eks/accessEntry:AccessEntry": "cluster:principal; `type` is ForceNew (access_entry.go)",
    "aws:eks/accessPolicyAssociation:AccessPolicyAssociation": (
        "cluster#principal#policy; `access_scope` is ForceNew (access_policy_association.go)"
    ),
    "aws:eks/addon:Addon": "cluster:addon (addon.go)",
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": "role/policy; attach is idempotent, detach is not",
    "aws:ecr/lifecyclePolicy:LifecyclePolicy": "the repository (one lifecycle policy per repository)",
    "aws:kms/alias:Alias": "the alias name (one per account and region)",
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls": "the bucket (Put overwrites, Delete removes)",
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": "the bucket (Put overwrites, Delete removes)",
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": (
        "the bucket (Put overwrites, Delete removes)"
    ),
    "aws:s3/bucketPolicy:BucketPolicy": "the bucket (Put overwrites, Delete removes)",
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": "the bucket (Put overwrites, Delete removes)",
    "aws:s3/bucketVersioning:BucketVersioning": "the bucket (Put overwrites, Delete suspends)",
}
"""Resource types keyed by AWS, not by Pulumi: each is created delete-before-replace."""

STATEFUL_TYPES: frozenset[str] = frozenset(
    {
        "eks:index:Cluster",  # the cluster and everything in etcd
        "aws:kms/key:Key",  # deleting it makes the cluster's secrets unreadable
        "aws:ecr/repository:Repository",  # the images
        "aws:s3/bucket:Bucket",  # workflow artifacts
    }
)
"""What holds data that `pulumi up` cannot re-create: protected (`protect`) in prod."""


def keyed(parent: pulumi.Resource, **options) -> pulumi.ResourceOptions:
    """Options for a resource in NATURAL_KEYS: a child of `parent`, deleted before it is replaced."""
    return pulumi.ResourceOptions(parent=parent, delete_before_replace=True, **options)
