"""Karpenter's Kubernetes side as pure functions: the controller chart's values and the
EC2NodeClass / NodePool specs built from a KarpenterPool (components/karpenter.py creates
them; tests validate them against the CRDs of the pinned chart, components/data/crds/).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pulumi

from slipway.components.access import irsa_annotations
from slipway.components.karpenter_args import SERVICE_ACCOUNT, KarpenterPool
from slipway.components.node_access import NO_SSHD_USER_DATA
from slipway.components.node_pools import POOL_LABEL

DISCOVERY_TAG = "karpenter.sh/discovery"
# Upstream's getting-started values (step08-apply-helm-chart.sh): 1 CPU, 1Gi, limits = requests.
REQUESTS = {"cpu": "1", "memory": "1Gi"}
LIMITS = {"cpu": "1", "memory": "1Gi"}
# The chart's default toleration, kept: a list in our values replaces the chart's list.
CRITICAL_ADDONS = {"key": "CriticalAddonsOnly", "operator": "Exists"}


def helm_values(
    *,
    cluster_name: str,
    cluster_endpoint: pulumi.Input[str],
    region: str,
    queue_name: pulumi.Input[str],
    role_arn: pulumi.Input[str],
    replicas: int,
    node_selector: Mapping[str, str],
    tolerations: Sequence[Mapping[str, Any]],
) -> dict[str, Any]:
    """The controller chart's values (every key exists in chart 1.14.1's values.yaml).

    No `affinity`: the chart's default keeps the controller off Karpenter's nodes and its
    two replicas on different nodes.
    """
    return {
        "settings": {"clusterName": cluster_name, "clusterEndpoint": cluster_endpoint, "interruptionQueue": queue_name},
        "serviceAccount": {"create": True, "name": SERVICE_ACCOUNT, "annotations": irsa_annotations(role_arn)},
        "replicas": replicas,
        "podDisruptionBudget": {"name": "karpenter", "maxUnavailable": 1},
        "nodeSelector": dict(node_selector),
        "tolerations": [CRITICAL_ADDONS, *(dict(t) for t in tolerations if t.get("key") != CRITICAL_ADDONS["key"])],
        "controller": {
            "resources": {"requests": REQUESTS, "limits": LIMITS},
            # With IMDSv2 hop limit 1 a pod cannot reach instance metadata, where the SDK
            # would look the region up (pkg/operator/operator.go: "retrieving region from IMDS").
            "env": [{"name": "AWS_REGION", "value": region}],
        },
    }


def node_class_spec(
    pool: KarpenterPool,
    *,
    cluster_name: str,
    role_name: pulumi.Input[str],
    ami_alias: str,
    instance_tags: Mapping[str, str],
) -> dict[str, Any]:
    """An EC2NodeClass's spec: the managed node groups' security baseline."""
    discovery = [{"tags": {DISCOVERY_TAG: cluster_name}}]
    spec: dict[str, Any] = {
        "role": role_name,
        "amiSelectorTerms": [{"alias": ami_alias}],
        # Only the subnets the Network tags: the private ones (nodes never get public IPs).
        "subnetSelectorTerms": discovery,
        "securityGroupSelectorTerms": discovery,
        "associatePublicIPAddress": False,
        "metadataOptions": {
            "httpEndpoint": "enabled",
            "httpProtocolIPv6": "disabled",
            "httpPutResponseHopLimit": pool.metadata_hop_limit,  # 1: pods cannot reach the node's credentials
            "httpTokens": "required",
        },
        "blockDeviceMappings": [
            {
                "deviceName": "/dev/xvda",  # AL2023's root device (pkg/providers/amifamily/al2023.go)
                "rootVolume": True,
                "ebs": {
                    "volumeSize": f"{pool.disk_size_gib}Gi",
                    "volumeType": "gp3",
                    "encrypted": True,
                    "deleteOnTermination": True,
                },
            }
        ],
        "tags": {**instance_tags, "slipway/pool": pool.name},
        # sshd stopped at first boot, as on the node groups (components/node_access.py).
        "userData": NO_SSHD_USER_DATA,
    }
    if pool.max_pods is not None:
        spec["kubelet"] = {"maxPods": pool.max_pods}  # the pods per node the plan counted
    return spec


def requirements(pool: KarpenterPool) -> list[dict[str, Any]]:
    """A NodePool's scheduling requirements: OS, architectures, capacity types, instances."""
    found: list[dict[str, Any]] = [
        {"key": "kubernetes.io/os", "operator": "In", "values": ["linux"]},
        {"key": "kubernetes.io/arch", "operator": "In", "values": list(pool.architectures)},
        {"key": "karpenter.sh/capacity-type", "operator": "In", "values": list(pool.capacity_types)},
    ]
    if pool.instance_types:
        found.append({"key": "node.kubernetes.io/instance-type", "operator": "In", "values": list(pool.instance_types)})
    elif pool.instance_families:
        found.append(
            {"key": "karpenter.k8s.aws/instance-family", "operator": "In", "values": list(pool.instance_families)}
        )
    else:
        found += [
            {"key": "karpenter.k8s.aws/instance-category", "operator": "In", "values": list(pool.instance_categories)},
            # Upstream's example NodePool (getting-started step12-add-nodepool.sh): no 1st/2nd generation.
            {"key": "karpenter.k8s.aws/instance-generation", "operator": "Gt", "values": ["2"]},
        ]
    return found


def node_pool_spec(pool: KarpenterPool) -> dict[str, Any]:
    """A NodePool's spec, its EC2NodeClass named after the pool."""
    return {
        "template": {
            "metadata": {"labels": {**pool.labels, POOL_LABEL: pool.name}},
            "spec": {
                "requirements": requirements(pool),
                "taints": [dict(t) for t in pool.taints],
                "nodeClassRef": {"group": "karpenter.k8s.aws", "kind": "EC2NodeClass", "name": pool.name},
                "expireAfter": pool.expire_after,
            },
        },
        "limits": {"cpu": f"{pool.cpu_limit_millicores}m", "memory": f"{pool.memory_limit_mib}Mi"},
        "disruption": {
            "consolidationPolicy": pool.consolidation_policy,
            "consolidateAfter": pool.consolidate_after,
            "budgets": [{"nodes": pool.disruption_budget_nodes}],
        },
    }


__all__ = [
    "CRITICAL_ADDONS",
    "DISCOVERY_TAG",
    "LIMITS",
    "REQUESTS",
    "helm_values",
    "node_class_spec",
    "node_pool_spec",
    "requirements",
]
