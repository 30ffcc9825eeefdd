"""Two EKS clusters, blue and green, in one VPC: slipway's components composed directly.

No stack-config schema here: each component gets its typed Args, and the wiring between
them is plain Python. What it shows:

- one `Network` serving both clusters (`cluster_names`): every subnet carries
  `kubernetes.io/cluster/blue` and `kubernetes.io/cluster/green`, so each cluster's
  Load Balancer Controller finds them;
- two `EksCluster`s in the shared private subnets, each with its own node pool, its own
  names (the component's name prefixes every child: nothing clashes);
- one `Registry` both clusters pull from (every node role may read the account's ECR);
- one `LoadBalancerController` per cluster, each on its cluster's provider and OIDC
  provider;
- one `App` on blue, with an ALB Ingress that waits for blue's controller.

Nothing is created at import time: `__main__.py` calls `build()`, and so do the tests
(under `slipway.testing.mocked()`).
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from slipway.components.app import (
    App,
    AppArgs,
    AppSpec,
    HttpGet,
    Image,
    IngressSpec,
    Port,
    Probe,
    Probes,
    Resources,
)
from slipway.components.cluster import EksCluster, EksClusterArgs, NodePoolArgs
from slipway.components.load_balancer_controller import LoadBalancerController, LoadBalancerControllerArgs
from slipway.components.namespaces import Namespaces, NamespacesArgs
from slipway.components.network import Network, NetworkArgs
from slipway.components.registry import Registry, RegistryArgs

CLUSTERS = ("blue", "green")
"""The EKS clusters, by name. A name is also the prefix of the cluster's Pulumi resources."""
KUBERNETES_VERSION = "1.34"
VPC_CIDR = "10.40.0.0/16"
APP = "web"
"""The app, its ECR repository and its namespace."""
APP_CLUSTER = "blue"
"""The cluster the app runs on."""
REPOSITORY_PREFIX = "two-clusters-one-vpc/"
"""ECR repositories are named `<prefix><app>`: keeps them apart from others in the account."""
TAGS = {"example": "two-clusters-one-vpc", "managed-by": "pulumi"}


@dataclass(frozen=True, kw_only=True)
class Platform:
    """What `build()` made, for exports and tests."""

    network: Network
    clusters: dict[str, EksCluster]
    controllers: dict[str, LoadBalancerController]
    registry: Registry
    app: App | None
    """None until `webTag` is set (the image must be in the registry first)."""


def web_spec(repository: pulumi.Input[str], tag: str) -> AppSpec:
    """The app: 2 pods of `<repository>:<tag>` on port 8080, behind an internal ALB."""
    return AppSpec(
        image=Image(repository=repository, tag=tag),
        resources=Resources(requests={"cpu": "100m", "memory": "128Mi"}, limits={"memory": "256Mi"}),
        ports=[Port(container_port=8080)],
        # The ALB health-checks the readiness path; an Ingress needs an HttpGet readiness probe.
        probes=Probes(readiness=Probe(handler=HttpGet(path="/ready")), liveness=Probe(handler=HttpGet(path="/live"))),
        # Internal: the ALB goes in the private subnets (`kubernetes.io/role/internal-elb`).
        ingress=IngressSpec(scheme="internal"),
    )


def build() -> Platform:
    """Register the whole example (needs `aws:region`; see README.md for the optional settings)."""
    config = pulumi.Config()
    region = pulumi.Config("aws").require("region")
    # Pinned, never looked up on each run: a changed AZ list replaces subnets and node groups.
    azs: list[str] = config.get_object("availabilityZones") or [f"{region}a", f"{region}b"]
    api_cidrs: list[str] = config.get_object("apiAccessCidrs") or []
    # `pulumi up` itself talks to both API servers (the controllers' releases, the app):
    # a private-only endpoint is a deliberate choice, never what a forgotten setting gives.
    if not api_cidrs and not config.get_bool("privateEndpointOnly"):
        raise pulumi.RunError(
            "apiAccessCidrs: not set — `pulumi up` must reach both API servers: `pulumi config set --path "
            "'apiAccessCidrs[0]' <your address>/32`, or `pulumi config set privateEndpointOnly true` and run "
            "`pulumi up` from inside the VPC"
        )
    web_tag = config.get("webTag")

    # One VPC for both clusters: each cluster's discovery tag goes on every subnet.
    network = Network(
        "network",
        NetworkArgs(cidr=VPC_CIDR, availability_zones=azs, region=region, cluster_names=list(CLUSTERS), tags=TAGS),
    )
    registry = Registry("registry", RegistryArgs(repositories=[APP], prefix=REPOSITORY_PREFIX, tags=TAGS))

    clusters: dict[str, EksCluster] = {}
    controllers: dict[str, LoadBalancerController] = {}
    for name in CLUSTERS:
        cluster = EksCluster(
            name,
            EksClusterArgs(
                cluster_name=name,
                version=KUBERNETES_VERSION,
                vpc_id=network.vpc_id,
                private_subnet_ids=network.private_subnet_ids,
                public_subnet_ids=network.public_subnet_ids,
                node_pools={"general": NodePoolArgs(instance_types=["t3a.medium"], min_size=2, desired_size=2)},
                # `pulumi up` talks to both API servers (the controllers' Helm releases, the app):
                # from outside the VPC it needs the public endpoint, open to your addresses only.
                public_access=bool(api_cidrs),
                public_access_cidrs=api_cidrs,
                # Nodes pull images and join the cluster at boot: routes and NAT first.
                node_dependencies=network.egress,
                tags={**TAGS, "cluster": name},
            ),
        )
        clusters[name] = cluster
        controllers[name] = LoadBalancerController(
            f"{name}-lbc",
            LoadBalancerControllerArgs(
                cluster_name=cluster.cluster_name,
                region=region,
                vpc_id=network.vpc_id,
                oidc_provider_arn=cluster.oidc_provider_arn,
                oidc_issuer=cluster.oidc_issuer,
                k8s_provider=cluster.provider,
                # Its pods need nodes: the release waits for them to be ready.
                depends_on=cluster.node_groups,
                tags={**TAGS, "cluster": name},
            ),
        )

    app = None
    if web_tag:
        home = clusters[APP_CLUSTER]
        namespaces = Namespaces(
            f"{APP_CLUSTER}-namespaces",
            # slipway's app pods meet Pod Security "restricted": enforce it in their namespace.
            NamespacesArgs(names=[APP], k8s_provider=home.provider, enforce={APP: "restricted"}),
        )
        app = App(
            APP,
            AppArgs(
                spec=web_spec(registry.repository_urls[APP], web_tag),
                namespace=APP,
                part_of=APP_CLUSTER,
                cluster_name=APP_CLUSTER,
                k8s_provider=home.provider,
                after=[namespaces.resources[APP], *home.node_groups],
                # The Ingress is created after blue's controller and deleted before it, so the
                # controller is still there to delete the ALB (else it would block the VPC's deletion).
                load_balancer=[controllers[APP_CLUSTER].release],
                tags=TAGS,
            ),
        )

    pulumi.export("vpcId", network.vpc_id)
    pulumi.export("privateSubnetIds", network.private_subnet_ids)
    pulumi.export("repositoryUrl", registry.repository_urls[APP])
    pulumi.export("clusterNames", {name: c.cluster_name for name, c in clusters.items()})
    pulumi.export("kubeconfigs", {name: c.kubeconfig for name, c in clusters.items()})  # secret
    pulumi.export("loadBalancerControllerRoleArns", {name: lbc.role_arn for name, lbc in controllers.items()})
    return Platform(network=network, clusters=clusters, controllers=controllers, registry=registry, app=app)
