"""The slipway program: read and validate the stack's config, wire the components,
export what users need. Nothing here runs at import time.

`run()` is what `pulumi up` executes (via `infra/__main__.py`); `main()` is what the
offline render and the tests execute under mocks. They are the same program.
"""

from __future__ import annotations

import json

import pulumi

from slipway.components.access import AwsAuthBindings, AwsAuthBindingsArgs, uses_aws_auth
from slipway.components.app import App, AppArgs
from slipway.components.argo import ArgoWorkflows
from slipway.components.argo_rollouts import ArgoRollouts, ArgoRolloutsArgs
from slipway.components.cluster import EksCluster, EksClusterArgs
from slipway.components.load_balancer_controller import LoadBalancerController, LoadBalancerControllerArgs
from slipway.components.metrics_server import MetricsServer, MetricsServerArgs
from slipway.components.namespaces import Namespaces, NamespacesArgs
from slipway.components.network import Network, NetworkArgs
from slipway.components.registry import Registry, RegistryArgs
from slipway.components.spec import Placement
from slipway.components.validation import ArgsError
from slipway.program.autoscalers import install_autoscaler
from slipway.program.capacity import app_pool, system_pool
from slipway.program.config import (
    ConfigError,
    default_cluster_name,
)
from slipway.program.config.app_spec import app_spec
from slipway.program.config.apps import app_namespace
from slipway.program.config.stack import ROLLOUTS_NAMESPACE
from slipway.program.runtime import load_config, secret_config
from slipway.program.validate import emit_warnings
from slipway.program.wiring import (
    argo_args,
    availability_zones,
    default_tags,
    instance_tags,
    node_pool_args,
    placement,
    principals,
)


def main() -> None:
    """Build the whole platform for the current stack."""
    # The one validation path (schema, pins, capacity, guardrails), before any resource.
    validated, aws_settings = load_config()
    cfg, plan = validated.cfg, validated.plan
    emit_warnings(validated.warnings, pulumi.get_stack())
    region = aws_settings["region"]
    cluster_name = default_cluster_name(cfg.cluster_name, pulumi.get_stack())
    tags = default_tags(cfg)
    prod = cfg.is_production
    azs = availability_zones(cfg)
    people = principals(cfg)

    network = Network(
        "network",
        NetworkArgs(
            cidr=cfg.network.cidr,
            availability_zones=azs,
            cluster_name=cluster_name,
            region=region,
            nat_strategy=cfg.network.nat_strategy,
            interface_endpoints=list(cfg.network.interface_endpoints),
            karpenter_discovery=cluster_name if cfg.autoscaling.provider == "karpenter" else None,
            tags=tags,
        ),
    )
    protection = cfg.cluster.deletion_protection
    cluster = EksCluster(
        "cluster",
        EksClusterArgs(
            cluster_name=cluster_name,
            version=cfg.cluster.version,
            vpc_id=network.vpc_id,
            private_subnet_ids=network.private_subnet_ids,
            public_subnet_ids=network.public_subnet_ids,
            node_pools=node_pool_args(cfg, plan),
            authentication_mode=cfg.cluster.authentication_mode,
            principals=people,
            public_access=cfg.cluster.endpoint.public_access,
            public_access_cidrs=list(cfg.cluster.endpoint.public_access_cidrs),
            prefix_delegation=cfg.cluster.prefix_delegation,
            deletion_protection=prod if protection is None else protection,
            support_type=cfg.cluster.support_type,
            protect=prod,
            key_deletion_window_days=cfg.cluster.secrets_key_deletion_window_days,
            # One identity for deploying and for kubectl: the kubeconfig's profile
            # defaults to the one `pulumi up` runs with (aws:profile).
            kubeconfig_profile=cfg.identity.profile or aws_settings.get("profile"),
            kubeconfig_role_arn=cfg.identity.role_arn,
            node_dependencies=network.egress,
            addon_versions=dict(cfg.cluster.addon_versions),
            api_private_cidrs=list(cfg.deploy.private_cidrs) if cfg.deploy else [],
            # CoreDNS where the planner counted it: on the system pool, when there is one.
            **{f"coredns_{k}": v for k, v in placement(cfg, system_pool(cfg), only_if_dedicated=True).items()},
            tags=tags,
            instance_tags=instance_tags(cfg),
        ),
    )

    # The apps', Argo's and `slipway:namespaces` (never Kubernetes' own). A principal's
    # scoped namespaces are not added: the config refuses any that is not one of these.
    namespaces = Namespaces(
        "namespaces",
        NamespacesArgs(
            names=cfg.created_namespaces,
            k8s_provider=cluster.provider,
            # slipway's application pods meet Pod Security "restricted": enforce it there.
            # Elsewhere (Argo, `namespaces:` entries) what runs is not slipway's: baseline.
            enforce={ns: "restricted" for ns in cfg.created_namespaces if ns in cfg.app_namespaces},
        ),
    )
    if uses_aws_auth(cfg.cluster.authentication_mode):
        AwsAuthBindings(
            "aws-auth-bindings",
            AwsAuthBindingsArgs(
                principals=people, k8s_provider=cluster.provider, namespaces=list(namespaces.resources.values())
            ),
        )

    registry = Registry(
        "registry",
        RegistryArgs(
            repositories=sorted(set(cfg.registry.repositories) | {a.image.repository for a in cfg.apps.values()}),
            prefix=f"{cluster_name}/",
            kms=prod,
            protect=prod,
            untagged_expiry_days=cfg.registry.untagged_expiry_days,
            keep_tagged=cfg.registry.keep_tagged,
            tags=tags,
        ),
    )
    lbc = None
    if cfg.load_balancer_controller.enabled:
        lbc = LoadBalancerController(
            "lbc",
            LoadBalancerControllerArgs(
                cluster_name=cluster.cluster_name,
                region=region,
                vpc_id=network.vpc_id,
                oidc_provider_arn=cluster.oidc_provider_arn,
                oidc_issuer=cluster.oidc_issuer,
                k8s_provider=cluster.provider,
                replicas=cfg.load_balancer_controller.replicas,
                **placement(cfg, system_pool(cfg), only_if_dedicated=True),
                depends_on=cluster.node_groups,
                tags=tags,
            ),
        )
    if cfg.wants_metrics_server:
        MetricsServer(
            "metrics-server",
            MetricsServerArgs(
                k8s_provider=cluster.provider,
                **placement(cfg, system_pool(cfg), only_if_dedicated=True),
                depends_on=cluster.node_groups,
            ),
        )
    # Node autoscaling: apps that autoscale wait until it can add nodes for their peak.
    autoscaler = install_autoscaler(
        cfg, cluster, plan, region=region, cluster_name=cluster_name, tags=tags, egress=list(network.egress)
    )
    rollouts: list[pulumi.Resource] = []
    if cfg.wants_argo_rollouts:
        on_system = placement(cfg, system_pool(cfg), only_if_dedicated=True)
        rollouts = [
            ArgoRollouts(
                "argo-rollouts",
                ArgoRolloutsArgs(
                    k8s_provider=cluster.provider,
                    oidc_provider_arn=cluster.oidc_provider_arn,
                    oidc_issuer=cluster.oidc_issuer,
                    region=region,
                    namespace=ROLLOUTS_NAMESPACE,
                    **on_system,
                    cloudwatch_analysis=any(
                        a.strategy.analysis is not None and a.strategy.analysis.provider == "cloudwatch"
                        for a in cfg.apps.values()
                    ),
                    depends_on=[namespaces.resources[ROLLOUTS_NAMESPACE], *cluster.node_groups],
                    tags=tags,
                ),
            ).release
        ]
    argo = None
    if cfg.argo.enabled:
        argo = ArgoWorkflows("argo", argo_args(cfg, cluster, namespaces, lbc, region, cluster_name, tags, prod))

    apps = {
        name: App(
            name,
            AppArgs(
                spec=app_spec(
                    app,
                    repository_url=registry.repository_urls[app.image.repository],
                    secrets={env: secret_config(key) for env, key in app.secrets.items()},
                    placement=Placement.from_k8s(**placement(cfg, app_pool(cfg, app))),
                ),
                namespace=app_namespace(name, app),
                part_of=cluster_name,
                cluster_name=cluster_name,
                k8s_provider=cluster.provider,
                oidc_provider_arn=cluster.oidc_provider_arn,
                oidc_issuer=cluster.oidc_issuer,
                after=[
                    namespaces.resources[app_namespace(name, app)],
                    *cluster.node_groups,
                    *(autoscaler if app.autoscaling is not None else []),
                ],
                load_balancer=[lbc.release] if lbc else [],
                rollout_controller=rollouts if app.strategy.progressive else [],
                tags=tags,
            ),
        )
        for name, app in sorted(cfg.apps.items())
    }

    pulumi.export("region", region)
    pulumi.export("availabilityZones", azs)
    pulumi.export("vpcId", network.vpc_id)
    pulumi.export("privateSubnetIds", network.private_subnet_ids)
    pulumi.export("publicSubnetIds", network.public_subnet_ids)
    pulumi.export("clusterName", cluster.cluster_name)
    pulumi.export(
        "clusterEndpoint",
        pulumi.Output.unsecret(cluster.kubeconfig).apply(lambda kc: json.loads(kc)["clusters"][0]["cluster"]["server"]),
    )
    pulumi.export("oidcProviderArn", cluster.oidc_provider_arn)
    pulumi.export("nodeRoleArn", cluster.node_role_arn)
    pulumi.export("kubeconfig", cluster.kubeconfig)
    pulumi.export("ecrRepositoryUrls", registry.repository_urls)
    if lbc:
        pulumi.export("loadBalancerControllerRoleArn", lbc.role_arn)
    if argo:
        pulumi.export("argoArtifactBucket", argo.bucket_name)
    pulumi.export("autoscaling", cfg.autoscaling.provider)
    pulumi.export(
        "ingressHosts",
        {
            name: list(app.ingress.hosts) or ["(any host)"]
            for name, app in sorted(cfg.apps.items())
            if app.ingress.enabled
        },
    )
    pulumi.export("albGroups", sorted({a.ingress_group for a in apps.values() if a.ingress_group}))
    pulumi.export(
        "nodePools",
        {
            name: {
                "instanceTypes": types,
                "minSize": lo,
                "desiredSize": want,
                "maxSize": hi,
                "monthlyUsd": round(want * plan.catalog.get(types[0]).monthly_usd, 2),
            }
            for name, (types, lo, want, hi) in plan.sizes(cfg).items()
        },
    )


def run() -> None:
    """Entry point for the Pulumi CLI: config mistakes become a clean error, not a traceback."""
    try:
        main()
    except (ConfigError, ArgsError) as exc:
        raise pulumi.RunError(str(exc)) from None
