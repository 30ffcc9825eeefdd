"""Config that decides what `pulumi up` does to a *running* stack: who deploys and from
where (`slipway:deploy`), which node versions may lag the control plane, and which
choices are pinned in the stack file so that nothing is re-derived from live state.

- **Pins.** Availability zones and the instance type of an `auto` pool are chosen once
  (`slipway pin <stack>` writes them) and read back on every run. Re-deriving them would
  let an AZ incident (a zone `impaired` drops out of `state=available`) or a new price
  change `subnetIds` or `instanceTypes`, both ForceNew for a managed node group
  (terraform-provider-aws `internal/service/eks/node_group.go`): every node replaced.
- **Versions.** A node group never leads the control plane, and may lag it by one minor:
  the state of a staged upgrade (raise `cluster.version` with a pool's `version` held
  back, then release the pools one at a time). More is not reachable on EKS: it refuses
  a control-plane upgrade while node groups lag (EKS user guide "update-cluster": "you
  must update your nodes to version 1.29 before updating your control plane to 1.30"),
  and CreateNodegroup accepts only the cluster's own version — so a pool that lags can
  be neither created nor replaced (a type change) until it is released.
- **Reachability.** Both CI runners — the deploy runner (`pulumi up`) and the preview
  runner (`pulumi preview`'s Kubernetes diffs) — must reach the API server. Hosted CI
  runners have no fixed egress addresses, so a stack whose endpoint is private or
  allow-listed is deployed and previewed from runners whose addresses it admits; the
  two are separate machines, so pull-request code never runs where prod is deployed.
"""

from __future__ import annotations

import ipaddress
from typing import Any, Literal

from pydantic import Field

from slipway.program.config.errors import Issue
from slipway.program.config.schema import Model, _dict

# Kubelets may be up to 3 minors older than the API server (Kubernetes skew policy), but
# EKS upgrades the control plane one minor at a time and only while node groups match
# it, so a pool lags at most by the one upgrade in progress (see the module docstring).
MAX_NODE_LAG = 1


def minor(version: str) -> int | None:
    """The minor number of a "1.NN" Kubernetes version (None when not of that shape)."""
    parts = str(version).split(".")
    if len(parts) != 2 or parts[0] != "1" or not parts[1].isdigit():
        return None
    return int(parts[1])


def node_version_issues(cluster_version: str, pools: dict[str, Any]) -> list[Issue]:
    """Per-pool `version` and `releaseVersion` against the control plane's version."""
    issues: list[Issue] = []
    top = minor(cluster_version)
    for name, raw in pools.items():
        pool = _dict(raw)
        version = pool.get("version")
        where = f"nodePools.{name}.version"
        if version is not None:
            low = minor(version) if isinstance(version, str) else None
            if low is None:
                issues.append(Issue(where, version, "is not a Kubernetes minor version", 'quote it, e.g. "1.33"'))
            elif top is not None and low > top:
                problem = f"is newer than the control plane ({cluster_version}); EKS refuses nodes ahead of it"
                issues.append(Issue(where, version, problem, f'use "{cluster_version}" or remove version'))
            elif top is not None and top - low > MAX_NODE_LAG:
                oldest = f"1.{top - MAX_NODE_LAG}"
                issues.append(Issue(where, version, f"is {top - low} minors behind the control plane "
                                    f"({cluster_version}); EKS upgrades the control plane one minor at a time, "
                                    "and only while node groups match it",
                                    f'hold a pool back by one minor at most (at least "{oldest}"), or remove '
                                    "version"))  # fmt: skip
        node_version = version if isinstance(version, str) and minor(version) is not None else cluster_version
        release = pool.get("releaseVersion")
        if isinstance(release, str) and not release.startswith(f"{node_version}."):
            issues.append(Issue(f"nodePools.{name}.releaseVersion", release,
                                f"is not an AMI release of Kubernetes {node_version} (the pool's version)",
                                f"use a {node_version}.x release (aws ssm get-parameter --name /aws/service/eks/"
                                f"optimized-ami/{node_version}/amazon-linux-2023/x86_64/standard/recommended/"
                                "release_version) or remove releaseVersion"))  # fmt: skip
    return issues


class DeployConfig(Model):
    """`slipway:deploy` — where `pulumi up` and `pulumi preview` of this stack run.

    Two runners: the deploy runner (`runnerLabels`) runs `pulumi up` from the default
    branch only; pull-request previews run branch code, so they get their own runner
    (`previewRunnerLabels`) that never runs `pulumi up` — code anyone can push must not
    run on the machine that later holds the deploy role.

    Declaring it lets `slipway check` prove both runners can reach the API server, and
    `privateCidrs` opens the cluster's security group to runners inside a network routed
    to the VPC.
    """

    runner: Literal["hosted", "self-hosted", "workstation"] = "self-hosted"
    """`hosted`: GitHub/GitLab shared runners (egress addresses not fixed); `self-hosted`:
    your runner (labels below); `workstation`: a person from the allow-listed network."""
    runner_labels: list[str] = []
    """GitHub `runs-on` labels / GitLab `tags` of the deploy runner (`pulumi up`), e.g.
    [self-hosted, slipway-deploy]."""
    preview_runner_labels: list[str] = []
    """GitHub `runs-on` labels / GitLab `tags` of the runner of pull-request previews,
    e.g. [self-hosted, slipway-preview]. A job runs on any runner carrying all its labels,
    so neither list may contain the other: else a preview could land on the deploy runner
    (or `pulumi up` on the preview runner)."""
    egress_cidrs: list[str] = []
    """Where the runners' traffic to the public endpoint comes from (their NAT/Elastic IP):
    the deploy runner's, and the preview runner's too unless `previewEgressCidrs` is set.
    Each must lie inside `cluster.endpoint.publicAccessCidrs`."""
    preview_egress_cidrs: list[str] = []
    """The preview runner's egress, when it leaves from elsewhere than `egressCidrs`. Each
    must lie inside `cluster.endpoint.publicAccessCidrs` as well."""
    private_cidrs: list[str] = []
    """The runners' addresses when they reach the private endpoint (inside this VPC, or a
    network routed to it whose DNS resolves the endpoint privately). slipway allows 443
    from them on the cluster security group."""
    max_parallel: int = Field(10, ge=1, le=64)
    """`pulumi up --parallel` the pipelines pass."""


def _nets(where: str, values: Any, issues: list[Issue]) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    nets = []
    for i, cidr in enumerate(values if isinstance(values, list) else []):
        try:
            nets.append(ipaddress.ip_network(str(cidr), strict=True))
        except ValueError as e:
            issues.append(Issue(f"{where}[{i}]", cidr, f"is not a CIDR ({e})", "write it like 192.0.2.10/32"))
    return nets


def deploy_issues(data: dict[str, Any]) -> list[Issue]:
    """Shape problems of `deploy` (CIDRs, labels); reachability is `reachability_problems`."""
    deploy = _dict(data.get("deploy"))
    issues: list[Issue] = []
    _nets("deploy.egressCidrs", deploy.get("egressCidrs"), issues)
    _nets("deploy.previewEgressCidrs", deploy.get("previewEgressCidrs"), issues)
    private = _nets("deploy.privateCidrs", deploy.get("privateCidrs"), issues)
    for net in private:
        if net.version != 4:
            issues.append(Issue("deploy.privateCidrs", str(net), "is not IPv4 (the VPC is IPv4-only)",
                                "list the runner's IPv4 range"))  # fmt: skip
        elif not net.is_private:
            issues.append(Issue("deploy.privateCidrs", str(net), "is not a private range",
                                "list the runner's private addresses; public ones belong in egressCidrs"))  # fmt: skip
    if deploy.get("runner", "self-hosted") == "self-hosted" and "runnerLabels" in deploy and not deploy["runnerLabels"]:
        issues.append(Issue("deploy.runnerLabels", [], "is empty", "name the runner's labels, e.g. [self-hosted, "
                            "slipway-prod]"))  # fmt: skip
    if "previewRunnerLabels" in deploy and not deploy["previewRunnerLabels"]:
        issues.append(Issue("deploy.previewRunnerLabels", [], "is empty", "name the preview runner's labels, e.g. "
                            "[self-hosted, slipway-preview], or remove previewRunnerLabels"))  # fmt: skip
    up, preview = deploy.get("runnerLabels"), deploy.get("previewRunnerLabels")
    if isinstance(up, list) and isinstance(preview, list) and up and preview:
        up_set, preview_set = {str(x) for x in up}, {str(x) for x in preview}
        # GitHub and GitLab send a job to any runner that carries all of its labels/tags.
        if preview_set <= up_set:
            issues.append(Issue("deploy.previewRunnerLabels", preview, "are all labels of the deploy runner "
                                f"({', '.join(map(str, up))}): pull-request code could run on the machine that "
                                "runs `pulumi up`", "give the preview runner a label of its own, e.g. "
                                "[self-hosted, slipway-preview]"))  # fmt: skip
        elif up_set <= preview_set:
            issues.append(Issue("deploy.runnerLabels", up, "are all labels of the preview runner "
                                f"({', '.join(map(str, preview))}): `pulumi up` could run on the machine that runs "
                                "pull-request code", "give the deploy runner a label of its own, e.g. "
                                "[self-hosted, slipway-deploy]"))  # fmt: skip
    return issues


def reachability_problems(
    deploy: DeployConfig | None, public_access: bool, public_cidrs: list[str]
) -> list[tuple[str, str, str]]:
    """Why a declared runner (deploy, and preview when declared) cannot reach the API
    server: (field, problem, fix) each.

    The endpoint is always reachable privately (slipway keeps private access on); the
    public one only from `public_cidrs` when `public_access`. `egressCidrs` and
    `privateCidrs` speak for both runners; `previewEgressCidrs`, when set, for the
    preview runner alone.
    """
    if deploy is None:
        return []
    allowed = [ipaddress.ip_network(c) for c in public_cidrs] if public_access else []
    if deploy.private_cidrs:
        return []

    def egress(field: str, cidrs: list[str], who: str) -> list[tuple[str, str, str]]:
        found = []
        for cidr in cidrs:
            net = ipaddress.ip_network(cidr)
            if not public_access:
                found.append((field, f"{cidr} reaches only a public endpoint, and this stack's is off",
                              "reach it privately (deploy.privateCidrs from a runner in the VPC), or turn on "
                              "cluster.endpoint.publicAccess with this CIDR in publicAccessCidrs"))  # fmt: skip
            elif not any(net.version == a.version and net.subnet_of(a) for a in allowed):
                found.append((field, f"{cidr} is outside cluster.endpoint.publicAccessCidrs "
                              f"({', '.join(public_cidrs)}): the API server would refuse {who}",
                              f"add {cidr} to cluster.endpoint.publicAccessCidrs"))  # fmt: skip
        return found

    out: list[tuple[str, str, str]] = []
    if deploy.runner == "hosted" and not deploy.egress_cidrs:
        admitted = ", ".join(public_cidrs) if public_access else "no public address (private endpoint)"
        out.append(("deploy.runner", f"'hosted' runners have no fixed egress addresses, and this stack's API server "
                    f"admits {admitted}: every Kubernetes call of `pulumi up` would time out",
                    "deploy from a self-hosted runner: set runner: self-hosted with runnerLabels, and egressCidrs "
                    "inside cluster.endpoint.publicAccessCidrs (or privateCidrs for a runner in the VPC)"))  # fmt: skip
    elif not deploy.egress_cidrs:
        if not (deploy.runner == "workstation" and public_access):  # else: a person on the allow-listed network
            out.append(("deploy.egressCidrs", "is empty, so nothing shows the runner can reach the API server",
                        "list the runner's egress CIDRs (inside cluster.endpoint.publicAccessCidrs) or its "
                        "privateCidrs"))  # fmt: skip
    else:
        out += egress("deploy.egressCidrs", deploy.egress_cidrs, "the runner")
    # The preview runner: its own egress when declared, else it leaves through egressCidrs (checked above).
    if deploy.preview_runner_labels:
        if deploy.preview_egress_cidrs:
            out += egress("deploy.previewEgressCidrs", deploy.preview_egress_cidrs, "the preview runner")
        elif not deploy.egress_cidrs and not any(field == "deploy.egressCidrs" for field, _, _ in out):
            out.append(("deploy.previewEgressCidrs", "is empty (and so is egressCidrs), so nothing shows the "
                        "preview runner can reach the API server", "list the preview runner's egress CIDRs (inside "
                        "cluster.endpoint.publicAccessCidrs) or its privateCidrs"))  # fmt: skip
    return out
