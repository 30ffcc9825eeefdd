"""Config that decides what `pulumi up` does to a *running* stack: who deploys and from
where (`slipway:deploy`), which node versions may lag the control plane, and which
choices are pinned in the stack file so that nothing is re-derived from live state.

- **Pins.** Availability zones and the instance type of an `auto` pool are chosen once
  (`slipway pin <stack>` writes them) and read back on every run. Re-deriving them would
  let an AZ incident (a zone `impaired` drops out of `state=available`) or a new price
  change `subnetIds` or `instanceTypes`, both ForceNew for a managed node group
  (terraform-provider-aws `internal/service/eks/node_group.go`): every node replaced.
- **Versions.** A node group may lag the control plane by at most three minors and never
  lead it (Kubernetes version skew policy for kubelet since 1.28; EKS "Update existing
  cluster to new Kubernetes version": node groups must match before the next
  control-plane upgrade).
- **Reachability.** A deployer must reach the API server: every Kubernetes resource
  (`pulumi up`, and `pulumi preview`'s diffs) talks to it. Hosted CI runners have no
  fixed egress addresses, so a stack whose endpoint is private or allow-listed must be
  deployed from a runner whose address it admits.
"""

from __future__ import annotations

import ipaddress
from typing import Any, Literal

from pydantic import Field

from infra.config.errors import Issue
from infra.config.schema import Model, _dict

# Kubelet may be up to 3 minor versions older than the API server (never newer):
# https://kubernetes.io/releases/version-skew-policy/#kubelet (1.28 and later).
MAX_NODE_LAG = 3


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
                                    f"({cluster_version}); kubelets may lag at most {MAX_NODE_LAG}",
                                    f'upgrade the pool first (at least "{oldest}"), or remove version'))  # fmt: skip
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
    """`slipway:deploy` — where `pulumi up` (and `pulumi preview`) of this stack runs.

    Declaring it lets `slipway check` prove the deployer can reach the API server, and
    `privateCidrs` opens the cluster's security group to a runner inside a network
    routed to the VPC.
    """

    runner: Literal["hosted", "self-hosted", "workstation"] = "self-hosted"
    """`hosted`: GitHub/GitLab shared runners (egress addresses not fixed); `self-hosted`:
    your runner (labels below); `workstation`: a person from the allow-listed network."""
    runner_labels: list[str] = []
    """GitHub `runs-on` labels / GitLab `tags` of the runner, e.g. [self-hosted, slipway-prod]."""
    egress_cidrs: list[str] = []
    """Where the runner's traffic to the public endpoint comes from (its NAT/Elastic IP).
    Each must lie inside `cluster.endpoint.publicAccessCidrs`."""
    private_cidrs: list[str] = []
    """The runner's addresses when it reaches the private endpoint (inside this VPC, or a
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
    return issues


def reachability_problems(
    deploy: DeployConfig | None, public_access: bool, public_cidrs: list[str]
) -> list[tuple[str, str, str]]:
    """Why the declared deployer cannot reach the API server: (field, problem, fix) each.

    The endpoint is always reachable privately (slipway keeps private access on); the
    public one only from `public_cidrs` when `public_access`.
    """
    if deploy is None:
        return []
    allowed = [ipaddress.ip_network(c) for c in public_cidrs] if public_access else []
    if deploy.private_cidrs:
        return []
    if deploy.runner == "hosted" and not deploy.egress_cidrs:
        admitted = ", ".join(public_cidrs) if public_access else "no public address (private endpoint)"
        return [("deploy.runner", f"'hosted' runners have no fixed egress addresses, and this stack's API server "
                 f"admits {admitted}: every Kubernetes call of `pulumi up` would time out",
                 "deploy from a self-hosted runner: set runner: self-hosted with runnerLabels, and egressCidrs inside "
                 "cluster.endpoint.publicAccessCidrs (or privateCidrs for a runner in the VPC)")]  # fmt: skip
    if not deploy.egress_cidrs:
        if deploy.runner == "workstation" and public_access:
            return []  # a person on the allow-listed network; nothing more to prove
        return [
            (
                "deploy.egressCidrs",
                "is empty, so nothing shows the runner can reach the API server",
                "list the runner's egress CIDRs (inside cluster.endpoint.publicAccessCidrs) or its privateCidrs",
            )
        ]
    out = []
    for cidr in deploy.egress_cidrs:
        net = ipaddress.ip_network(cidr)
        if not public_access:
            out.append(("deploy.egressCidrs", f"{cidr} reaches only a public endpoint, and this stack's is off",
                        "reach it privately (deploy.privateCidrs from a runner in the VPC), or turn on "
                        "cluster.endpoint.publicAccess with this CIDR in publicAccessCidrs"))  # fmt: skip
        elif not any(net.version == a.version and net.subnet_of(a) for a in allowed):
            out.append(("deploy.egressCidrs", f"{cidr} is outside cluster.endpoint.publicAccessCidrs "
                        f"({', '.join(public_cidrs)}): the API server would refuse the runner",
                        f"add {cidr} to cluster.endpoint.publicAccessCidrs"))  # fmt: skip
    return out
