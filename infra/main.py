"""The slipway program: read and validate the stack's config, wire the components,
export what users need. Nothing here runs at import time.

`run()` is what `pulumi up` executes (via `infra/__main__.py`); `main()` is what the
offline render and the tests execute under mocks. They are the same program.
"""

from __future__ import annotations

import json
import os

import pulumi

from slipway.components.access import AwsAuthBindings, AwsAuthBindingsArgs, Principal, uses_aws_auth
from slipway.components.app import App, AppArgs
from slipway.components.argo import ArgoWorkflows, ArgoWorkflowsArgs, Parameter, WorkflowTemplateSpec, server_ingress
from slipway.components.argo_sso import ArgoSso, SsoRoleBinding
from slipway.components.cluster import POOL_LABEL, EksCluster, EksClusterArgs, NodePoolArgs
from slipway.components.load_balancer_controller import LoadBalancerController, LoadBalancerControllerArgs
from slipway.components.metrics_server import MetricsServer, MetricsServerArgs
from slipway.components.namespaces import Namespaces, NamespacesArgs
from slipway.components.network import Network, NetworkArgs
from slipway.components.registry import Registry, RegistryArgs
from slipway.components.spec import Placement
from slipway.components.validation import ArgsError
from slipway.program.capacity import ClusterPlan, app_pool, argo_pool, plan_cluster, system_pool
from slipway.program.config import (
    NAMESPACE,
    ConfigError,
    StackConfig,
    default_cluster_name,
    parse_config_values,
)
from slipway.program.config.app_spec import app_spec
from slipway.program.config.apps import app_namespace, default_alb_group


def runtime_config() -> dict[str, str]:
    """Every config key the engine gave this program (full keys, string values)."""
    from pulumi.runtime import config as rc

    values: dict[str, str] = {}
    if "PULUMI_CONFIG" in os.environ:
        values.update(json.loads(os.environ["PULUMI_CONFIG"]))
    values.update(rc.CONFIG.get())
    return values


def secret_keys() -> set[str]:
    """Config keys the engine marked secret (`pulumi config set --secret`, `secure:` in the stack file)."""
    from pulumi.runtime import config as rc

    return set(rc._SECRET_KEYS.get()) | set(rc.get_config_secret_keys_env())


def secret_config(key: str) -> pulumi.Output[str]:
    """`slipway:<key>` as a Pulumi secret Output: it stays `[secret]` in state, previews and renders.

    A value stored in plain text is refused: it would already sit unencrypted in
    the stack file and in every state snapshot.
    """
    full = f"{NAMESPACE}:{key}"
    if full not in runtime_config():
        raise ConfigError([f"{full}: is not set — run `pulumi config set --secret {full} <value>`"])
    if full not in secret_keys():
        raise ConfigError(
            [
                f"{full}: is stored in plain text but holds a secret — re-set it with "
                f"`pulumi config set --secret {full} <value>` (and rotate it: it is in git history)"
            ]
        )
    return pulumi.Config(NAMESPACE).require_secret(key)


def load_config() -> tuple[StackConfig, dict[str, str]]:
    """Parse this stack's `slipway:` namespace (plus `aws:region`/`aws:profile`).

    Returns the config and the `aws:` settings; ConfigError lists every issue.
    """
    values = runtime_config()
    ns = {k.split(":", 1)[1]: v for k, v in values.items() if k.startswith(f"{NAMESPACE}:")}
    aws_settings = {k.split(":", 1)[1]: v for k, v in values.items() if k.startswith("aws:")}
    cfg = parse_config_values(
        ns,
        region=aws_settings.get("region", ""),
        stack=pulumi.get_stack(),
        aws_profile=aws_settings.get("profile"),
        secret_keys=secret_keys(),
    )
    return cfg, aws_settings


def ownership_tags(cfg: StackConfig) -> dict[str, str]:
    """Which stack owns a resource: on every AWS resource, the nodes' instances included."""
    return {"slipway/stack": pulumi.get_stack(), "slipway/environment": cfg.environment, "managed-by": "pulumi"}


def default_tags(cfg: StackConfig) -> dict[str, str]:
    """Tags on every AWS resource: ownership and cost allocation (`slipway:tags`)."""
    return {**ownership_tags(cfg), **cfg.tags}


def instance_tags(cfg: StackConfig) -> dict[str, str]:
    """Tags on the nodes' instances: ownership and `slipway:nodeTags` only.

    They live in the launch template, so changing them rolls every node; `slipway:tags`
    (edited freely) stays off the instances.
    """
    return {**ownership_tags(cfg), **cfg.node_tags}


def availability_zones(cfg: StackConfig) -> list[str]:
    """The stack's AZs, as pinned in the stack file (`unpinned_issues` refuses a stack without).

    Never re-derived from live state: `get_availability_zones(state="available")` drops a
    zone that is impaired during an incident, and a changed list changes `subnetIds`,
    which replaces every node group (ForceNew; see infra/config/lifecycle.py).
    """
    return list(cfg.network.availability_zones or [])


def unpinned_issues(cfg: StackConfig, stack: str) -> list[str]:
    """What must be pinned in the stack file before a render or `pulumi up`, each with its fix."""
    issues = []
    if not cfg.network.availability_zones:
        issues.append(
            f"network.availabilityZones: is not set — AZs are chosen once and pinned in the stack file (re-derived "
            f"on every run, an AZ incident would replace subnets and node groups); run `slipway pin {stack}` "
            f"(asks AWS for {cfg.network.az_count} usable zones) or list them"
        )
    for name, pool in sorted(cfg.node_pools.items()):
        if pool.is_auto and pool.pinned_instance_type is None:
            issues.append(
                f"nodePools.{name}.pinnedInstanceType: is not set while instanceType is auto — a type change "
                f"replaces the node group, so slipway never makes it implicitly; run `slipway pin {stack}` to write "
                f"the planner's choice (`slipway size {stack}` shows it)"
            )
    return issues


def node_pool_args(cfg: StackConfig, plan: ClusterPlan) -> dict[str, NodePoolArgs]:
    """The node groups to build, keyed by pool name, sized by the capacity plan."""
    sizes = plan.sizes(cfg)
    return {
        name: NodePoolArgs(
            instance_types=sizes[name][0],
            capacity_type=p.capacity_type,
            min_size=sizes[name][1],
            desired_size=sizes[name][2],
            max_size=sizes[name][3],
            disk_size=p.disk_size,
            ami_type=p.ami_type,
            release_version=p.release_version,
            labels=dict(p.labels),
            taints=[t.model_dump() for t in p.taints],
            metadata_hop_limit=p.metadata_hop_limit,
            version=p.version,
            external_autoscaler=p.autoscaler == "external",
        )
        for name, p in cfg.node_pools.items()
    }


def principals(cfg: StackConfig) -> list[Principal]:
    return [
        Principal(arn=p.arn, access=p.access, namespaces=p.namespaces, username=p.username, creator=p.creator)
        for p in cfg.access.principals
    ]


def placement(cfg: StackConfig, pool: str, only_if_dedicated: bool = False) -> dict:
    """nodeSelector and tolerations that put pods on `pool` (empty when the pool is just
    the default one and `only_if_dedicated`)."""
    p = cfg.node_pools[pool]
    if only_if_dedicated and not (p.system or pool == "system"):
        return {"node_selector": {}, "tolerations": []}
    tolerations = [
        {"key": t.key, "operator": "Equal", "value": t.value, "effect": t.effect}
        if t.value
        else {"key": t.key, "operator": "Exists", "effect": t.effect}
        for t in p.taints
    ]
    return {"node_selector": {POOL_LABEL: pool}, "tolerations": tolerations}


def argo_args(cfg, cluster, namespaces, lbc, region, cluster_name, tags, prod) -> ArgoWorkflowsArgs:
    a = cfg.argo
    ingress = None
    if a.ingress.enabled:
        ingress = server_ingress(
            namespace=a.namespace,
            scheme=a.ingress.scheme,
            group=default_alb_group(cluster_name, a.ingress.scheme),
            host=a.ingress.host,
            certificate_arn=a.ingress.certificate_arn,
        )
    # After the controller: its webhooks must have endpoints for the chart's objects.
    after = [namespaces.resources[a.namespace], *cluster.node_groups] + ([lbc.release] if lbc else [])
    sso = None
    if a.sso is not None:
        everyone = [SsoRoleBinding(group=None, access="view")] if a.sso.default_access == "view" else []
        sso = ArgoSso(
            issuer=a.sso.issuer,
            redirect_url=a.sso.redirect_url or f"https://{a.ingress.host}/oauth2/callback",
            scopes=tuple(a.sso.scopes),
            client_id=secret_config(a.sso.client_id_key),
            client_secret=secret_config(a.sso.client_secret_key),
            roles=(*everyone, *(SsoRoleBinding(group=g, access=access) for g, access in a.sso.groups.items())),
        )
    return ArgoWorkflowsArgs(
        namespace=a.namespace,
        k8s_provider=cluster.provider,
        oidc_provider_arn=cluster.oidc_provider_arn,
        oidc_issuer=cluster.oidc_issuer,
        region=region,
        **placement(cfg, argo_pool(cfg)),
        auth_mode=a.auth_mode,
        sso=sso,
        ingress=ingress,
        load_balancer=[lbc.release] if lbc else [],
        bucket_name=a.artifacts.bucket_name,
        artifact_expiry_days=a.artifacts.expiry_days,
        protect=prod,
        workflow_templates=[
            WorkflowTemplateSpec(
                name=t.name,
                image=t.image,
                command=list(t.command),
                args=list(t.args),
                parameters=[Parameter(name=p.name, value=p.value) for p in t.parameters],
                cpu=str(t.cpu),
                memory=t.memory,
            )
            for t in a.workflow_templates
        ],
        depends_on=after,
        tags=tags,
    )


def main() -> None:
    """Build the whole platform for the current stack."""
    cfg, aws_settings = load_config()
    if unpinned := unpinned_issues(cfg, pulumi.get_stack()):
        raise ConfigError(unpinned, pulumi.get_stack())
    region = aws_settings["region"]
    cluster_name = default_cluster_name(cfg.cluster_name, pulumi.get_stack())
    tags = default_tags(cfg)
    prod = cfg.is_production
    azs = availability_zones(cfg)
    people = principals(cfg)
    # Sized before any resource: a pool that cannot hold its pods is a config error.
    plan = plan_cluster(cfg, region, zones=azs, stack=pulumi.get_stack())

    network = Network(
        "network",
        NetworkArgs(
            cidr=cfg.network.cidr,
            availability_zones=azs,
            cluster_name=cluster_name,
            region=region,
            nat_strategy=cfg.network.nat_strategy,
            interface_endpoints=list(cfg.network.interface_endpoints),
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

    namespace_names = {ns for p in people for ns in p.namespaces or []}
    if cfg.argo.enabled:
        namespace_names.add(cfg.argo.namespace)
    app_namespaces = {app_namespace(name, app) for name, app in cfg.apps.items()}
    namespaces = Namespaces(
        "namespaces",
        NamespacesArgs(
            names=sorted(namespace_names | app_namespaces),
            k8s_provider=cluster.provider,
            # slipway's application pods meet Pod Security "restricted": enforce it there,
            # also where a principal has scoped access (what they run there must meet it too).
            enforce={ns: "restricted" for ns in app_namespaces},
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
                after=[namespaces.resources[app_namespace(name, app)], *cluster.node_groups],
                load_balancer=[lbc.release] if lbc else [],
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
