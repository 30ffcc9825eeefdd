"""`pinned_release`: a Helm release as slipway installs every chart.

Pinned chart version from its official repository; Pulumi waits until the release's
pods are ready (an add-on whose webhook has no endpoints rejects what comes after it);
a failed install or upgrade is rolled back (atomic) and its new objects removed; ten
revisions are kept for `helm rollback`.
"""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_kubernetes as k8s

TIMEOUT_SECONDS = 600
MAX_HISTORY = 10


def pinned_release(
    resource_name: str,
    *,
    chart: str,
    version: str,
    repo: str,
    namespace: pulumi.Input[str],
    values: pulumi.Input[dict[str, Any]],
    opts: pulumi.ResourceOptions,
) -> k8s.helm.v3.Release:
    """The release `chart` (also its name) at `version` from `repo` into `namespace`."""
    return k8s.helm.v3.Release(
        resource_name,
        name=chart,
        chart=chart,
        version=version,
        repository_opts=k8s.helm.v3.RepositoryOptsArgs(repo=repo),
        namespace=namespace,
        values=values,
        skip_await=False,
        atomic=True,
        cleanup_on_fail=True,
        timeout=TIMEOUT_SECONDS,
        max_history=MAX_HISTORY,
        opts=opts,
    )
