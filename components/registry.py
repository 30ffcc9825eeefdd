"""`Registry`: one ECR repository per application.

IMMUTABLE tags (a tag always means the same image: the CronJob in the field reports
that silently ran a newer `latest` cannot happen), scan on push, encryption (KMS in
prod), and a lifecycle policy so storage does not grow forever. The node role's
AmazonEC2ContainerRegistryReadOnly policy lets every node pull from these.

Over time: a repository's `name` is set explicitly, so a replacement (its name or
encryption changed; both ForceNew) deletes it first (pulumi-terraform-bridge answers
delete-before-replace for an explicit name): outside prod `force_delete` lets that
happen with its images, in prod `protect` refuses it. The lifecycle policy is keyed by
the repository and deletes before it replaces.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws

from slipway.components.lifecycle import keyed


def lifecycle_policy(untagged_days: int, keep_tagged: int) -> dict[str, Any]:
    """Expire untagged images after N days; keep the M most recent tagged images.

    ECR evaluates rules by priority; a `tagged` rule needs a tag pattern ("*": all).
    """
    return {
        "rules": [
            {
                "rulePriority": 1,
                "description": f"Expire untagged images after {untagged_days} days",
                "selection": {
                    "tagStatus": "untagged",
                    "countType": "sinceImagePushed",
                    "countUnit": "days",
                    "countNumber": untagged_days,
                },
                "action": {"type": "expire"},
            },
            {
                "rulePriority": 2,
                "description": f"Keep the last {keep_tagged} tagged images",
                "selection": {
                    "tagStatus": "tagged",
                    "tagPatternList": ["*"],
                    "countType": "imageCountMoreThan",
                    "countNumber": keep_tagged,
                },
                "action": {"type": "expire"},
            },
        ]
    }


@dataclass(frozen=True, kw_only=True)
class RegistryArgs:
    """Inputs of Registry."""

    repositories: list[str]
    """Repository names (one per application), e.g. ["web", "api"]."""
    prefix: str = ""
    """Prefix for repository names (e.g. "slipway-dev/"), so stacks in one account do not collide."""
    kms: bool = False
    """KMS encryption (the AWS-managed aws/ecr key) instead of AES256 (prod)."""
    protect: bool = False
    """Pulumi `protect` (prod): a destroy never deletes images."""
    untagged_expiry_days: int = 14
    keep_tagged: int = 30
    tags: dict[str, str] = field(default_factory=dict[str, str])


class Registry(pulumi.ComponentResource):
    """ECR repositories keyed by application name."""

    repository_urls: dict[str, pulumi.Output[str]]
    repository_arns: dict[str, pulumi.Output[str]]

    def __init__(self, name: str, args: RegistryArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("slipway:registry:Registry", name, None, opts)
        self.repository_urls, self.repository_arns = {}, {}
        for repo in sorted(args.repositories):
            r = aws.ecr.Repository(
                f"{name}-{repo}",
                name=f"{args.prefix}{repo}",
                image_tag_mutability="IMMUTABLE",
                image_scanning_configuration=aws.ecr.RepositoryImageScanningConfigurationArgs(scan_on_push=True),
                encryption_configurations=[
                    aws.ecr.RepositoryEncryptionConfigurationArgs(encryption_type="KMS" if args.kms else "AES256")
                ],
                # Outside prod a stack can be torn down with its images; in prod never.
                force_delete=not args.protect,
                tags={**args.tags, "slipway/app": repo},
                opts=pulumi.ResourceOptions(parent=self, protect=args.protect),
            )
            aws.ecr.LifecyclePolicy(
                f"{name}-{repo}",
                repository=r.name,
                policy=json.dumps(lifecycle_policy(args.untagged_expiry_days, args.keep_tagged), sort_keys=True),
                opts=keyed(self),
            )
            self.repository_urls[repo] = r.repository_url
            self.repository_arns[repo] = r.arn
        self.register_outputs({"repositoryUrls": self.repository_urls})
