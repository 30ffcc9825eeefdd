"""`pinned_release`: a Helm release as slipway installs every chart.

Pinned chart version from its official repository (an HTTP chart repository, or an OCI
registry: `chart="oci://<registry>/<path>"` and no `repo`, as Helm 3.8+ takes it);
Pulumi waits until the release's pods are ready (an add-on whose webhook has no endpoints
rejects what comes after it); a failed install or upgrade is rolled back (atomic) and its
new objects removed; ten revisions are kept for `helm rollback`.
"""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_kubernetes as k8s

TIMEOUT_SECONDS = 600
MAX_HISTORY = 10
OCI_PREFIX = "oci://"


def pinned_release(
    resource_name: str,
    *,
    chart: str,
    version: str,
    repo: str | None = None,
    namespace: pulumi.Input[str],
    values: pulumi.Input[dict[str, Any]],
    opts: pulumi.ResourceOptions,
    release_name: str | None = None,
    skip_crds: bool = False,
) -> k8s.helm.v3.Release:
    """The release `chart` at `version` from `repo` into `namespace`.

    The release is named `release_name`, else the chart's (the last path segment of an
    OCI reference). An OCI chart carries its registry in `chart` and takes no `repo`.
    `skip_crds`: the chart's `crds/` folder is not installed (another release owns them).
    Only what is set is passed, so releases that use neither option render as before.
    """
    oci = chart.startswith(OCI_PREFIX)
    if oci == (repo is not None):
        raise ValueError(f"pinned_release {resource_name!r}: pass repo for a repository chart, none for an oci:// one")
    extra: dict[str, Any] = {}
    if repo is not None:
        extra["repository_opts"] = k8s.helm.v3.RepositoryOptsArgs(repo=repo)
    if skip_crds:
        extra["skip_crds"] = True
    return k8s.helm.v3.Release(
        resource_name,
        name=release_name or chart.rsplit("/", 1)[-1],
        chart=chart,
        version=version,
        namespace=namespace,
        values=values,
        skip_await=False,
        atomic=True,
        cleanup_on_fail=True,
        timeout=TIMEOUT_SECONDS,
        max_history=MAX_HISTORY,
        opts=opts,
        **extra,
    )
