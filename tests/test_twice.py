"""Every component can be instantiated twice in one program: children are named after
their component, so two of anything never share a URN (the engine refuses that, and so
does `mocked()`)."""

from __future__ import annotations

from collections import Counter

import pytest

from slipway.components.access import WorkloadRole, WorkloadRoleArgs
from slipway.components.app import App, AppArgs
from slipway.components.app_spec import AppSpec, HttpGet, Image, IngressSpec, Port, Probe, Probes, Resources
from slipway.components.argo import ArgoWorkflows, ArgoWorkflowsArgs
from slipway.components.cluster import EksCluster, EksClusterArgs, NodePoolArgs
from slipway.components.load_balancer_controller import LoadBalancerController, LoadBalancerControllerArgs
from slipway.components.metrics_server import MetricsServer, MetricsServerArgs
from slipway.components.namespaces import Namespaces, NamespacesArgs
from slipway.components.network import Network, NetworkArgs
from slipway.components.registry import Registry, RegistryArgs
from slipway.testing import mocked

AZS = ["us-east-1a", "us-east-1b"]


def _platform(name: str, cidr: str) -> None:
    """One of everything, every component named after `name`."""
    network = Network(
        f"{name}-net", NetworkArgs(cidr=cidr, availability_zones=AZS, region="us-east-1", cluster_names=[name])
    )
    cluster = EksCluster(
        f"{name}-cluster",
        EksClusterArgs(
            cluster_name=name,
            version="1.34",
            vpc_id=network.vpc_id,
            private_subnet_ids=network.private_subnet_ids,
            public_subnet_ids=network.public_subnet_ids,
            node_pools={"general": NodePoolArgs(instance_types=["m6i.large"])},
            node_dependencies=network.egress,
        ),
    )
    provider = cluster.provider
    Namespaces(f"{name}-namespaces", NamespacesArgs(names=["web", "argo"], k8s_provider=provider))
    Registry(f"{name}-registry", RegistryArgs(repositories=["web"], prefix=f"{name}/"))
    oidc = {"oidc_provider_arn": cluster.oidc_provider_arn, "oidc_issuer": cluster.oidc_issuer}
    lbc = LoadBalancerController(
        f"{name}-lbc",
        LoadBalancerControllerArgs(
            cluster_name=cluster.cluster_name,
            region="us-east-1",
            vpc_id=network.vpc_id,
            k8s_provider=provider,
            depends_on=cluster.node_groups,
            **oidc,
        ),  # fmt: skip
    )
    MetricsServer(f"{name}-metrics", MetricsServerArgs(k8s_provider=provider, depends_on=cluster.node_groups))
    ArgoWorkflows(
        f"{name}-argo",
        ArgoWorkflowsArgs(namespace="argo", k8s_provider=provider, region="us-east-1", node_selector={}, **oidc),
    )
    WorkloadRole(
        f"{name}-reader",
        WorkloadRoleArgs(namespace="web", service_account="reader", k8s_provider=provider, **oidc),
    )
    spec = AppSpec(
        image=Image(repository="registry.example.com/web", tag="1"),
        ports=[Port(container_port=8080)],
        probes=Probes(readiness=Probe(handler=HttpGet(path="/ready"))),
        resources=Resources(requests={"cpu": "100m", "memory": "128Mi"}, limits={"memory": "128Mi"}),
        ingress=IngressSpec(hosts=[f"{name}.example.com"]),
    )
    App(
        f"{name}-web",
        AppArgs(
            spec=spec,
            namespace="web",
            part_of=name,
            cluster_name=name,
            k8s_provider=provider,
            load_balancer=[lbc.release],
        ),  # fmt: skip
    )


def _types(program) -> Counter[str]:
    with mocked() as m:  # fails on a shared URN (the engine refuses one) and on unknown values
        m.build(program)
    return Counter(r.type for r in m.records)


def test_two_of_every_component_in_one_program():
    one = _types(lambda: _platform("blue", "10.40.0.0/16"))
    two = _types(lambda: [_platform("blue", "10.40.0.0/16"), _platform("green", "10.50.0.0/16")])
    assert two == Counter({t: 2 * n for t, n in one.items()})  # both complete: twice one platform
    for type_ in ("slipway:network:Network", "slipway:cluster:EksCluster", "slipway:registry:Registry",
                  "slipway:lbc:LoadBalancerController", "slipway:metrics:MetricsServer", "slipway:argo:ArgoWorkflows",
                  "slipway:app:App", "slipway:namespaces:Namespaces"):  # fmt: skip
        assert one[type_] == 1, type_


def test_the_same_names_twice_are_refused():
    """The check above could not pass vacuously: reusing the names is caught."""
    with pytest.raises(AssertionError, match="duplicate resource URN"):
        _types(lambda: [_platform("blue", "10.40.0.0/16"), _platform("blue", "10.50.0.0/16")])
