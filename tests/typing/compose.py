"""A typed composition of slipway's components, as a user's Pulumi program writes it.

Never run (nothing calls `compose`): pyright checks it, strictly, with the rest of
[tool.pyright]'s `include` (pyproject.toml), in `.ci/run`. It holds the components' types
to fitting together: what one component outputs is what the next one's Args accept, with no
cast, and the outputs keep their declared types (`assert_type` fails if they decay to Any).
"""

from __future__ import annotations

from typing import assert_type

import pulumi
import pulumi_kubernetes as k8s

from slipway.components.app import App, AppArgs, AppSpec, Image, IngressSpec, Port, Resources
from slipway.components.cluster import EksCluster, EksClusterArgs, NodePoolArgs
from slipway.components.load_balancer_controller import LoadBalancerController, LoadBalancerControllerArgs
from slipway.components.namespaces import Namespaces, NamespacesArgs
from slipway.components.network import Network, NetworkArgs
from slipway.components.registry import Registry, RegistryArgs
from slipway.components.spec import Placement


def compose() -> dict[str, App]:
    """Network → EksCluster → LoadBalancerController → App (with Registry and Namespaces)."""
    region = "us-east-1"
    network = Network(
        "network",
        NetworkArgs(
            cidr="10.0.0.0/16",
            availability_zones=["us-east-1a", "us-east-1b"],
            cluster_names=["blue", "green"],
            region=region,
        ),
    )
    assert_type(network.vpc_id, pulumi.Output[str])
    assert_type(network.private_subnet_ids, dict[str, pulumi.Output[str]])
    assert_type(network.egress, list[pulumi.Resource])

    cluster = EksCluster(
        "blue",
        EksClusterArgs(
            cluster_name="blue",
            version="1.34",
            vpc_id=network.vpc_id,
            private_subnet_ids=network.private_subnet_ids,
            public_subnet_ids=network.public_subnet_ids,
            node_pools={"general": NodePoolArgs(instance_types=["t3a.large"])},
            node_dependencies=network.egress,
        ),
    )
    assert_type(cluster.cluster_name, pulumi.Output[str])
    assert_type(cluster.kubeconfig, pulumi.Output[str])
    assert_type(cluster.oidc_provider_arn, pulumi.Output[str])
    assert_type(cluster.provider, k8s.Provider)
    assert_type(cluster.node_groups, list[pulumi.Resource])

    lbc = LoadBalancerController(
        "blue-lbc",
        LoadBalancerControllerArgs(
            cluster_name=cluster.cluster_name,
            region=region,
            vpc_id=network.vpc_id,
            oidc_provider_arn=cluster.oidc_provider_arn,
            oidc_issuer=cluster.oidc_issuer,
            k8s_provider=cluster.provider,
            depends_on=cluster.node_groups,
        ),
    )
    assert_type(lbc.release, k8s.helm.v3.Release)
    assert_type(lbc.role_arn, pulumi.Output[str])

    registry = Registry("registry", RegistryArgs(repositories=["web"], prefix="blue/"))
    assert_type(registry.repository_urls, dict[str, pulumi.Output[str]])
    namespaces = Namespaces("namespaces", NamespacesArgs(names=["web"], k8s_provider=cluster.provider))
    assert_type(namespaces.resources, dict[str, k8s.core.v1.Namespace])

    web = App(
        "web",
        AppArgs(
            spec=AppSpec(
                image=Image(repository=registry.repository_urls["web"], tag="1.0.0"),
                resources=Resources(requests={"cpu": "100m", "memory": "128Mi"}),
                ports=[Port(container_port=8080)],
                secrets={"DB_PASSWORD": pulumi.Config().require_secret("dbPassword")},
                placement=Placement(),
                ingress=IngressSpec(hosts=["web.example.com"]),
            ),
            namespace="web",
            part_of="blue",
            cluster_name="blue",
            k8s_provider=cluster.provider,
            oidc_provider_arn=cluster.oidc_provider_arn,
            oidc_issuer=cluster.oidc_issuer,
            after=[namespaces.resources["web"], *cluster.node_groups],
            load_balancer=[lbc.release],
        ),
    )
    assert_type(web.ingress_group, str | None)
    return {"web": web}


def mistakes(cluster: EksCluster) -> None:
    """Mistakes the checker must reject. Each line carries the error it expects:
    `reportUnnecessaryTypeIgnoreComment` ([tool.pyright]) fails the run if one stops being
    reported, so this file cannot pass because its types decayed to Any."""
    NodePoolArgs(instance_types="t3a.medium")  # pyright: ignore[reportArgumentType] (a str, not a list)
    AppArgs(
        spec=AppSpec(image=Image(repository="web", tag="1"), resources=Resources(requests={})),
        namespace="web",
        part_of="blue",
        cluster_name=cluster.cluster_name,  # pyright: ignore[reportArgumentType] (an Output; names need the str)
        k8s_provider=cluster.provider,
    )
