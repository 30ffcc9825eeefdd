"""Wiring the stack's node autoscaler (`slipway:autoscaling.provider`) into the program.

- `cluster-autoscaler`: the chart in kube-system; the managed node groups grow from the
  steady plan to the pool's ceiling (`ClusterPlan.sizes`; their desiredSize is left to it).
- `karpenter`: the controller on the system pool and, for each autoscaled pool with room
  above its steady plan, a NodePool that extends it: nodes labelled as the pool's (so its
  pods, which select the pool, land there too), with its taints, architecture and families,
  and limits equal to the CPU and memory of the nodes between the steady plan and the
  ceiling (`slipway.program.autoscaling`).

`install_autoscaler` returns what apps that autoscale must wait for.
"""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_aws as aws

from slipway.components.cluster import POOL_LABEL, EksCluster
from slipway.components.cluster_autoscaler import ClusterAutoscaler, ClusterAutoscalerArgs
from slipway.components.karpenter import Karpenter
from slipway.components.karpenter_args import KarpenterArgs, KarpenterPool
from slipway.program.capacity import ClusterPlan, system_pool
from slipway.program.config import StackConfig
from slipway.program.wiring import instance_tags, placement


def same_shape(cfg: StackConfig, plan: ClusterPlan, name: str) -> list[str]:
    """The types Karpenter may launch for pool `name`: its planned type and the others of the
    same vCPUs, memory and architecture that hold at least as many pods (within the pool's
    families, burstable only where the pool allows it). The peak was planned on that shape,
    and the limits are that shape × the nodes to add: any of these buys what the plan counted
    (a type of another shape could exhaust the memory limit with fewer pods placed)."""
    pool, t = cfg.node_pools[name], plan.pools[name].plan.instance_type
    pd = cfg.cluster.prefix_delegation
    burstable = pool.allow_burstable if pool.allow_burstable is not None else not cfg.is_production
    fits = [
        c.name
        for c in plan.catalog.priced()
        if (c.vcpu, c.memory_mib, c.architecture) == (t.vcpu, t.memory_mib, t.architecture)
        and c.max_pods(pd) >= t.max_pods(pd)
        and (not pool.families or c.family in pool.families or c.name == t.name)
        and (burstable or not c.burstable or c.name == t.name)
    ]
    return sorted(set(fits) | {t.name})


def extended(cfg: StackConfig, name: str) -> bool:
    """Is pool `name` extended by a Karpenter NodePool (autoscaled, on an AL2023 AMI)?"""
    return cfg.autoscaled(name) and cfg.node_pools[name].ami_type.startswith("AL2023")


def karpenter_pools(cfg: StackConfig, plan: ClusterPlan) -> list[KarpenterPool]:
    """The NodePools that extend the autoscaled pools up to their ceilings."""
    k = cfg.autoscaling.karpenter
    out = []
    for name, peak in sorted(plan.peaks(cfg).items()):
        pool = cfg.node_pools[name]
        extra = peak.ceiling - peak.steady.nodes
        if not extended(cfg, name) or extra <= 0:
            continue
        t = peak.steady.instance_type
        out.append(
            KarpenterPool(
                name=name,
                labels={**pool.labels, POOL_LABEL: name},
                taints=[{"key": t.key, "value": t.value, "effect": t.effect} for t in pool.taints],
                architectures=["arm64" if "ARM_64" in pool.ami_type else "amd64"],
                cpu_limit_millicores=extra * t.vcpu * 1000,
                memory_limit_mib=extra * t.memory_mib,
                instance_types=tuple(same_shape(cfg, plan, name)),
                instance_families=tuple(pool.families or ()),
                instance_categories=tuple(k.instance_categories),
                # A SPOT pool grows on spot; an on-demand one as autoscaling.karpenter says.
                capacity_types=("spot",) if pool.capacity_type == "SPOT" else tuple(k.capacity_types),
                # The pods per node the plan counted (prefix delegation: 110; else the ENI limit,
                # which is Karpenter's own default).
                max_pods=t.max_pods(True) if cfg.cluster.prefix_delegation else None,
                metadata_hop_limit=pool.metadata_hop_limit,
                consolidation_policy=k.consolidation_policy,
                consolidate_after=k.consolidate_after,
                disruption_budget_nodes=k.disruption_budget,
                expire_after=k.expire_after,
                disk_size_gib=pool.disk_size,
            )
        )
    return out


def install_autoscaler(
    cfg: StackConfig,
    cluster: EksCluster,
    plan: ClusterPlan,
    *,
    region: str,
    cluster_name: str,
    tags: dict[str, str],
    egress: list[pulumi.Resource],
) -> list[pulumi.Resource]:
    """The stack's autoscaler; returns what apps that autoscale wait for (empty with none)."""
    provider = cfg.autoscaling.provider
    on_system: dict[str, Any] = placement(cfg, system_pool(cfg), only_if_dedicated=True)
    if provider == "cluster-autoscaler":
        ca = ClusterAutoscaler(
            "cluster-autoscaler",
            ClusterAutoscalerArgs(
                cluster_name=cluster_name,
                region=region,
                kubernetes_version=cfg.cluster.version,
                k8s_provider=cluster.provider,
                oidc_provider_arn=cluster.oidc_provider_arn,
                oidc_issuer=cluster.oidc_issuer,
                expander=cfg.autoscaling.cluster_autoscaler.expander,
                **on_system,
                depends_on=list(cluster.node_groups),
                tags=tags,
            ),
        )
        return [ca.release]
    if provider == "karpenter":
        # The EKS-created cluster security group (the nodes' own): pulumi-eks's
        # `cluster_security_group_id` is its API-endpoint group, so it is read back by name.
        eks = aws.eks.get_cluster_output(name=cluster.cluster_name)
        karpenter = Karpenter(
            "karpenter",
            KarpenterArgs(
                cluster_name=cluster_name,
                cluster_endpoint=eks.endpoint,
                k8s_provider=cluster.provider,
                oidc_provider_arn=cluster.oidc_provider_arn,
                oidc_issuer=cluster.oidc_issuer,
                cluster_security_group_id=eks.vpc_config.cluster_security_group_id,
                region=region,
                pools=karpenter_pools(cfg, plan),
                node_selector=on_system["node_selector"],
                tolerations=on_system["tolerations"],
                instance_tags=instance_tags(cfg),
                # NodePools depend on these too: `pulumi destroy` deletes them (and waits for
                # Karpenter to terminate their nodes) before the node groups and the network.
                depends_on=[*cluster.node_groups, *egress],
                tags=tags,
            ),
        )
        return [karpenter.release, *karpenter.node_pools]
    return []
