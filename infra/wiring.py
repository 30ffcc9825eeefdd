"""From the parsed stack config to component Args: tags, zones, pins, node pools,
principals, placement, Argo. Pure functions of the config (and the plan)."""

from __future__ import annotations

import pulumi

from slipway.components.access import Principal
from slipway.components.argo import ArgoWorkflowsArgs, Parameter, WorkflowTemplateSpec, server_ingress
from slipway.components.argo_sso import ArgoSso, SsoRoleBinding
from slipway.components.cluster import POOL_LABEL, NodePoolArgs
from slipway.components.node_access import NodeSsh
from slipway.program.capacity import ClusterPlan, argo_pool
from slipway.program.config import (
    StackConfig,
)
from slipway.program.config.apps import default_alb_group
from slipway.program.runtime import secret_config


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
            # The Cluster Autoscaler (or an external one) owns desiredSize after creation.
            external_autoscaler=p.autoscaler == "external"
            or (cfg.autoscaled(name) and cfg.autoscaling.provider == "cluster-autoscaler"),
            ssh=NodeSsh(
                key_name=p.ssh.key_name,
                source_security_group_ids=list(p.ssh.source_security_group_ids),
                source_cidrs=list(p.ssh.source_cidrs),
            )
            if p.ssh
            else None,
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
    the default one and `only_if_dedicated`).

    Only for workloads the config places on `pool` explicitly: a tainted pool's
    tolerations go to its tenants — the apps in its `dedicatedTo`, Argo when
    `argo.nodePool` names it, the add-ons when it is the system pool. The guardrail
    `slipway.program.guardrails.pools` refuses any other app on a tainted pool before
    the program runs, so naming a pool never buys its tolerations.
    """
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
        parallelism=a.parallelism,
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
