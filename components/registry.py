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
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, cast

import pulumi
import pulumi_aws as aws

from slipway.components.common_args import bool_issues
from slipway.components.lifecycle import keyed
from slipway.components.validation import (
    Issue,
    int_issues,
    pattern_issues,
    require_valid,
    str_list_issues,
    str_map_issues,
)

# ECR CreateRepository: lowercase path segments, each letters and digits joined by
# single '.', '_' or '-'; the whole name 2–256 characters.
ECR_REPOSITORY = re.compile(r"[a-z0-9]+(?:[._-][a-z0-9]+)*(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)*")
ECR_PREFIX = re.compile(r"(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*")  # '' or segments, each ending in '/'
ECR_NAME_LENGTH = (2, 256)


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
    """Untagged images (superseded pushes) are deleted after this many days (1–3650)."""
    keep_tagged: int = 30
    """The most recent tagged images kept (1–10000); older ones expire (rollbacks go this far back)."""
    tags: dict[str, str] = field(default_factory=dict[str, str])


def registry_issues(args: RegistryArgs) -> list[Issue]:
    """Every mistake in a Registry's inputs: field, value, problem and fix."""
    fix = "write lowercase path segments, each ending in '/', e.g. 'slipway-dev/' (or '' for none)"
    issues = pattern_issues("prefix", args.prefix, ECR_PREFIX, "is not a repository name prefix", fix)
    prefix = args.prefix if not issues else ""
    found = str_list_issues("repositories", args.repositories, example="api", allow_empty=True)
    issues += found
    repos: list[Any] = [] if found else list(cast("Sequence[Any]", args.repositories))
    low, high = ECR_NAME_LENGTH
    for i, repo in enumerate(repos):
        if not ECR_REPOSITORY.fullmatch(repo):
            fix = "use lowercase letters, digits and . _ - / (not at either end, never two in a row), e.g. 'api'"
            issues.append(Issue(f"repositories[{i}]", repo, "is not an ECR repository name", fix))
        elif len(prefix + repo) < low:
            issues.append(Issue(f"repositories[{i}]", repo, "is too short", f"use at least {low} characters"))
        elif len(prefix + repo) > high:
            problem = f"makes a name of {len(prefix + repo)} characters with its prefix"
            issues.append(Issue(f"repositories[{i}]", repo, problem, f"keep prefix + name within {high} characters"))
        elif repo in repos[:i]:
            issues.append(Issue(f"repositories[{i}]", repo, "is listed twice", "list each repository once"))
    issues += int_issues("untagged_expiry_days", args.untagged_expiry_days, minimum=1, maximum=3650)
    issues += int_issues("keep_tagged", args.keep_tagged, minimum=1, maximum=10000)
    issues += bool_issues("kms", args.kms) + bool_issues("protect", args.protect)
    issues += str_map_issues("tags", args.tags, example="{'team': 'platform'}")
    return issues


class Registry(pulumi.ComponentResource):
    """ECR repositories keyed by application name."""

    repository_urls: dict[str, pulumi.Output[str]]
    repository_arns: dict[str, pulumi.Output[str]]

    def __init__(self, name: str, args: RegistryArgs, opts: pulumi.ResourceOptions | None = None):
        require_valid(f"Registry {name!r}", registry_issues(args))
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
