"""Doctor check: each app's image tag is in its ECR repository."""

from __future__ import annotations

from typing import Any

from slipway.cli.doctor._aws import _guarded
from slipway.cli.doctor.model import DoctorContext, Finding


@_guarded
def check_image_tags(ctx: DoctorContext) -> list[Finding]:
    """Each app's `image.tag` exists in its ECR repository `<cluster>/<image.repository>`.

    A missing tag becomes ErrImagePull / ImagePullBackOff once the Deployment rolls out.
    """
    name = "image tags"
    if not ctx.cfg.apps:
        return [Finding(name, "skip", ctx.stack, "no apps configured")]
    ecr, findings = ctx.client("ecr"), []
    uris: dict[str, str | None] = {}
    for app_name, app in sorted(ctx.cfg.apps.items()):
        repo, tag = f"{ctx.cluster_name}/{app.image.repository}", app.image.tag
        subject = f"apps.{app_name}"
        if repo not in uris:
            try:
                uris[repo] = ecr.describe_repositories(repositoryNames=[repo])["repositories"][0]["repositoryUri"]
            except ecr.exceptions.RepositoryNotFoundException:
                uris[repo] = None
        uri = uris[repo]
        if uri is None:
            if ctx.cluster() is None:
                findings.append(
                    Finding(
                        name,
                        "warn",
                        subject,
                        f"ECR repository {repo} does not exist yet",
                        f"`pulumi up` creates it; push {app.image.repository}:{tag} to it right "
                        "after, before the app's pods start pulling",
                    )
                )
            else:
                findings.append(
                    Finding(
                        name,
                        "fail",
                        subject,
                        f"ECR repository {repo} does not exist, so {tag} cannot be pulled (ImagePullBackOff)",
                        "run `pulumi up --refresh` to recreate it, then push the image",
                    )
                )
            continue
        try:
            ecr.describe_images(repositoryName=repo, imageIds=[{"imageTag": tag}])
        except ecr.exceptions.ImageNotFoundException:
            registry = uri.split("/", 1)[0]
            findings.append(
                Finding(
                    name,
                    "fail",
                    subject,
                    f"{repo}:{tag} is not in ECR: ImagePullBackOff ahead{_recent_tags(ecr, repo)}",
                    f"aws ecr get-login-password --region {ctx.region} | docker login --username AWS "
                    f"--password-stdin {registry} && docker tag <local image> {uri}:{tag} && "
                    f"docker push {uri}:{tag} (or set apps.{app_name}.image.tag to a pushed "
                    "tag)",
                )
            )
            continue
        findings.append(Finding(name, "pass", subject, f"{repo}:{tag} is in ECR"))
    return findings


def _recent_tags(ecr: Any, repo: str, n: int = 3) -> str:
    """The `n` most recently pushed tags, read from every page of DescribeImages."""
    pages = ecr.get_paginator("describe_images").paginate(repositoryName=repo, filter={"tagStatus": "TAGGED"})
    tagged = [i for page in pages for i in page.get("imageDetails", []) if i.get("imageTags")]
    tagged.sort(key=lambda i: i["imagePushedAt"].timestamp() if i.get("imagePushedAt") else 0.0, reverse=True)
    tags = [t for i in tagged[:n] for t in i["imageTags"]][:n]
    return f" (latest pushed: {', '.join(tags)})" if tags else " (the repository has no tagged images)"
