"""`StackConfig`: the whole `slipway:` namespace of one stack, and rules across sections."""

from __future__ import annotations

import difflib
import re
from typing import Any, Literal

from pydantic import field_validator

from slipway.components.namespaces import SYSTEM_NAMESPACES
from slipway.program.config.access import IAM_PRINCIPAL_ARN, AccessConfig, IdentityConfig, _arn_key
from slipway.program.config.addons import LoadBalancerControllerConfig, MetricsServerConfig, RegistryConfig
from slipway.program.config.app_secrets import plain_secret_issues, secret_reference_issues
from slipway.program.config.apps import AppConfig, app_namespace, cross_app_checks
from slipway.program.config.argo import ArgoConfig
from slipway.program.config.autoscaling import AutoscalingConfig
from slipway.program.config.cluster import DEFAULT_KUBERNETES_VERSION, ClusterConfig
from slipway.program.config.errors import Issue, invalid
from slipway.program.config.lifecycle import DeployConfig, deploy_issues, node_version_issues
from slipway.program.config.model import DNS1123_LABEL, Model, _dict
from slipway.program.config.network import NetworkConfig
from slipway.program.config.node_pools import NodePoolConfig

# --------------------------------------------------------------------------- stack


# Argo Rollouts' namespace (components/argo_rollouts.py ArgoRolloutsArgs.namespace default).
ROLLOUTS_NAMESPACE = "argo-rollouts"


def default_cluster_name(configured: str | None, stack: str) -> str:
    """The EKS cluster name: `slipway:clusterName` when set, else `slipway-<stack>`."""
    return configured or f"slipway-{stack}"


class StackConfig(Model):
    """The whole `slipway:` namespace of one stack."""

    environment: Literal["dev", "staging", "prod"] = "dev"
    """`prod` turns on the production guards: protection, deletion protection, no open endpoint."""
    cluster_name: str | None = None
    """EKS cluster name (default `slipway-<stack>`). Also used in subnet discovery tags."""
    tags: dict[str, str] = {}
    """Tags on every AWS resource that takes them in place. Not on the nodes' instances:
    those tags live in the launch template, and changing them would roll every node."""
    node_tags: dict[str, str] = {}
    """Extra tags on the nodes' EC2 instances (e.g. cost allocation). Changing them rolls
    every node (a new launch template version): `slipway plan` shows it."""
    network: NetworkConfig = NetworkConfig()
    cluster: ClusterConfig = ClusterConfig()
    node_pools: dict[str, NodePoolConfig] = {"general": NodePoolConfig()}
    access: AccessConfig = AccessConfig()
    identity: IdentityConfig = IdentityConfig()
    registry: RegistryConfig = RegistryConfig()
    load_balancer_controller: LoadBalancerControllerConfig = LoadBalancerControllerConfig()
    argo: ArgoConfig = ArgoConfig()
    metrics_server: MetricsServerConfig = MetricsServerConfig()
    apps: dict[str, AppConfig] = {}
    """Applications, keyed by name."""
    namespaces: list[str] = []
    """Namespaces slipway creates besides the apps' and Argo's own, e.g. for a team's
    workloads that are not slipway apps. A principal's `namespaces:` may only name one of
    these, an app's or an add-on's namespace, or a Kubernetes one (default, kube-system,
    kube-public, kube-node-lease), so a typo never creates a namespace. Pod Security:
    `baseline` enforced, `restricted` warned and audited (what runs there is not known)."""
    deploy: DeployConfig | None = None
    """Who runs `pulumi up` and from where (checked against the API endpoint)."""
    autoscaling: AutoscalingConfig = AutoscalingConfig()
    """Node autoscaling: Karpenter, Cluster Autoscaler or none (see infra/config/autoscaling.py)."""

    def autoscaled(self, pool: str) -> bool:
        """Does an autoscaler add nodes to `pool` (the stack's provider, unless the pool opts out)?"""
        return self.autoscaling.provider != "none" and self.node_pools[pool].autoscaler == "auto"

    @property
    def wants_metrics_server(self) -> bool:
        if self.metrics_server.enabled is not None:
            return self.metrics_server.enabled
        return any(a.autoscaling is not None for a in self.apps.values())

    @property
    def is_production(self) -> bool:
        return self.environment == "prod"

    @property
    def wants_argo_rollouts(self) -> bool:
        """Argo Rollouts is installed when an app asks for a progressive strategy (canary, blueGreen)."""
        return any(a.strategy.progressive for a in self.apps.values())

    @property
    def app_namespaces(self) -> set[str]:
        """The namespaces the apps run in (Pod Security `restricted` is enforced there)."""
        return {app_namespace(name, app) for name, app in self.apps.items()}

    @property
    def created_namespaces(self) -> list[str]:
        """Every namespace slipway creates: the apps', Argo's and `namespaces:`, never Kubernetes' own."""
        argo = {self.argo.namespace} if self.argo.enabled else set()
        rollouts = {ROLLOUTS_NAMESPACE} if self.wants_argo_rollouts else set()
        return sorted((self.app_namespaces | argo | rollouts | set(self.namespaces)) - SYSTEM_NAMESPACES)

    @field_validator("cluster_name")
    @classmethod
    def _cluster_name(cls, v: str | None) -> str | None:
        if v is not None and not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_-]{0,99}", v):
            raise invalid(
                "is not a valid EKS cluster name",
                "use 1–100 letters, digits, '-' or '_', starting with a letter or digit",
            )
        return v

    @classmethod
    def raw_checks(cls, data: dict[str, Any], context: dict[str, Any]) -> list[Issue]:
        issues = []
        pools = data.get("nodePools", {"general": {}})
        if isinstance(pools, dict):
            if not pools:
                issues.append(
                    Issue(
                        "nodePools", {}, "is empty; pods would stay Pending with no nodes", "define at least one pool"
                    )
                )
            for name in pools:
                if not DNS1123_LABEL.match(str(name)) or len(str(name)) > 40:
                    issues.append(
                        Issue(
                            f"nodePools.{name}",
                            name,
                            "is not a pool name (a DNS-1123 label of at most 40 characters)",
                            "use lowercase letters, digits and '-', e.g. general",
                        )
                    )
        issues += _identity_checks(data)
        if isinstance(pools, dict):
            version = _dict(data.get("cluster")).get("version", DEFAULT_KUBERNETES_VERSION)
            issues += node_version_issues(str(version), pools)
        issues += deploy_issues(data)
        argo = _dict(data.get("argo"))
        pool = argo.get("nodePool")
        if argo.get("enabled") is True and isinstance(pools, dict) and pool is not None and pool not in pools:
            issues.append(
                Issue(
                    "argo.nodePool",
                    pool,
                    "is not a pool in nodePools",
                    f"name one of {', '.join(sorted(map(str, pools)))}, or add a pool of that name",
                )
            )
        lbc = _dict(data.get("loadBalancerController")).get("enabled", True)
        if argo.get("enabled") is True and _dict(argo.get("ingress")).get("enabled") is True and lbc is False:
            issues.append(
                Issue(
                    "argo.ingress.enabled",
                    True,
                    "needs the Load Balancer Controller, which is disabled",
                    "set loadBalancerController.enabled: true, or disable the Argo ingress",
                )
            )
        apps = data.get("apps")
        if isinstance(apps, dict):
            cluster = default_cluster_name(data.get("clusterName"), context.get("stack", "stack"))
            pool_names = sorted(map(str, pools)) if isinstance(pools, dict) else []
            argo_ingress = _dict(argo.get("ingress")) if argo.get("enabled") is True else None
            issues += cross_app_checks(apps, str(cluster), pool_names, argo_ingress)
            issues += plain_secret_issues(apps)
            schema = {f.alias or n for n, f in cls.model_fields.items()}
            issues += secret_reference_issues(apps, context, set(context.get("config_keys") or ()) - schema)
        issues += namespace_issues(data)
        return issues  # fmt: skip


def _identity_checks(data: dict[str, Any]) -> list[Issue]:
    """The kubeconfig's role must be able to get in, in the cluster's authentication mode."""
    role = _dict(data.get("identity")).get("roleArn")
    if not isinstance(role, str) or not IAM_PRINCIPAL_ARN.match(role) or ":role/" not in role:
        return []
    mode = _dict(data.get("cluster")).get("authenticationMode", "API")
    raw = _dict(data.get("access")).get("principals", [])
    principals = [_dict(p) for p in raw] if isinstance(raw, list) else []
    match = next((p for p in principals if isinstance(p.get("arn"), str) and _arn_key(p["arn"]) == _arn_key(role)),
                 None)  # fmt: skip
    if mode in ("CONFIG_MAP", "API_AND_CONFIG_MAP") and not (match and match.get("creator") is True):
        return [
            Issue(
                "identity.roleArn",
                role,
                f"is not the cluster's creator, but with authenticationMode {mode} pulumi-eks writes aws-auth as this "
                "role before aws-auth maps it (Unauthorized on the first `pulumi up`)",
                "use the creator's role here (mark it `creator: true` under access.principals), or remove roleArn",
            )
        ]
    if mode == "API" and not (match and (match.get("creator") is True or match.get("access") == "cluster-admin")):
        return [
            Issue(
                "identity.roleArn",
                role,
                "has no cluster-admin access entry, so slipway's own Kubernetes calls (and kubectl) would be "
                "Unauthorized or Forbidden",
                "add it to access.principals with access: cluster-admin (or creator: true), or remove roleArn",
            )
        ]
    return []


def declared_namespaces(data: dict[str, Any]) -> set[str]:
    """The namespaces the raw stack config declares: its apps', Argo's (when enabled),
    `namespaces:` and Kubernetes' own."""
    apps = _dict(data.get("apps"))
    declared = {ns for name, app in apps.items() for ns in [_dict(app).get("namespace") or name] if isinstance(ns, str)}
    argo = _dict(data.get("argo"))
    if argo.get("enabled") is True and isinstance(argo.get("namespace", "argo"), str):
        declared.add(argo.get("namespace", "argo"))
    explicit = data.get("namespaces")
    declared |= {ns for ns in explicit if isinstance(ns, str)} if isinstance(explicit, list) else set()
    return declared | SYSTEM_NAMESPACES


def namespace_issues(data: dict[str, Any]) -> list[Issue]:
    """`namespaces:` entries are new, valid and listed once; principals are scoped to declared namespaces."""
    issues = []
    explicit = data.get("namespaces")
    for i, ns in enumerate(explicit if isinstance(explicit, list) else []):
        where = f"namespaces[{i}]"
        if not isinstance(ns, str) or not DNS1123_LABEL.match(ns) or len(ns) > 63:
            issues.append(Issue(where, ns, "is not a namespace name (a DNS-1123 label of at most 63 characters)",
                                "use lowercase letters, digits and '-', e.g. payments"))  # fmt: skip
        elif ns in SYSTEM_NAMESPACES:
            issues.append(Issue(where, ns, "is created by Kubernetes itself, never by slipway",
                                "remove it (principals may be scoped to it without declaring it)"))  # fmt: skip
        elif ns.startswith("kube-"):
            issues.append(Issue(where, ns, "starts with kube-, which Kubernetes reserves for its own namespaces",
                                "choose a name without the kube- prefix"))  # fmt: skip
        elif ns in explicit[:i]:
            issues.append(Issue(where, ns, f"is listed twice (also namespaces[{explicit.index(ns)}])", "list it once"))
    declared = declared_namespaces(data)
    raw = _dict(data.get("access")).get("principals")
    for i, p in enumerate(raw if isinstance(raw, list) else []):
        scoped = _dict(p).get("namespaces")
        for j, ns in enumerate(scoped if isinstance(scoped, list) else []):
            if not isinstance(ns, str) or not DNS1123_LABEL.match(ns) or ns in declared:
                continue  # an invalid name is the principal's own error
            guess = difflib.get_close_matches(ns, sorted(declared), n=1)
            hint = f"did you mean {guess[0]!r}? Correct it" if guess else "correct it"
            issues.append(
                Issue(
                    f"access.principals[{i}].namespaces[{j}]",
                    ns,
                    "is not a namespace of this stack (no app, add-on or namespaces: entry declares it), so "
                    "access to it would be access to nothing (or a namespace created by a typo)",
                    f"{hint}, or declare it under slipway:namespaces",
                )
            )
    return issues
