"""One app onto an EKS cluster you already have: slipway's `App`, without its Network or
EksCluster.

The cluster comes from outside, as this stack's config (`pulumi config`, see README.md):
its kubeconfig (a secret), its IAM OIDC provider's ARN and its OIDC issuer. From those:

- a Kubernetes provider for that cluster, from the kubeconfig (it stays a secret in
  the state and in previews);
- the app's namespace (Pod Security "restricted" enforced);
- the `App`: Deployment, Service, an ALB Ingress, a PodDisruptionBudget, and a
  ServiceAccount with its own IAM role (IRSA) that only `<namespace>/<app>` of that
  cluster can assume, allowed to read one S3 bucket.

The cluster must already run the AWS Load Balancer Controller (slipway's
`LoadBalancerController`, or any install of it) for the Ingress to get an ALB.

Nothing is created at import time: `__main__.py` calls `build()`; the tests call
`deploy()` with settings and specs of their own.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

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
    ServiceAccountSpec,
)
from slipway.components.app_validation import app_spec_issues
from slipway.components.namespaces import Namespaces, NamespacesArgs
from slipway.components.validation import HIDDEN, Issue, require_valid, under

APP = "orders"
"""The app: its Deployment, Service, Ingress and ServiceAccount are all named so."""
TAGS = {"app": APP, "managed-by": "pulumi"}
"""AWS tags on what the app creates in AWS (its IAM role)."""


@dataclass(frozen=True, kw_only=True)
class Settings:
    """This stack's config, read once (`Settings.from_config()`)."""

    cluster_name: str
    """The existing cluster's name: the app's ALB group is `<cluster>-internal`."""
    kubeconfig: pulumi.Input[str]
    """A kubeconfig for that cluster (a secret: it names the API endpoint and its CA)."""
    oidc_provider_arn: str
    """The cluster's IAM OIDC provider, arn:aws:iam::<account>:oidc-provider/oidc.eks.…"""
    oidc_issuer: str
    """The cluster's OIDC issuer URL (`https://` optional), as `aws eks describe-cluster` shows it."""
    image: str
    """The app's image repository, without a tag."""
    image_tag: str
    """The version to run."""
    bucket: str
    """The S3 bucket the app reads (its IAM role may get and list objects there, nothing else)."""
    namespace: str = APP
    """The namespace this program creates for the app (config `namespace`; default `orders`)."""

    @classmethod
    def from_config(cls) -> Settings:
        """The settings from `pulumi config`; a kubeconfig stored in plain text is refused."""
        config = pulumi.Config()
        key = config.full_key("kubeconfig")
        secret = pulumi.runtime.is_config_secret(key) or key in pulumi.runtime.get_config_secret_keys_env()
        if config.get("kubeconfig") is not None and not secret:
            fix = f"re-set it with `pulumi config set --secret kubeconfig < kubeconfig.yaml` ({key})"
            require_valid("this stack's config", [Issue("kubeconfig", HIDDEN, "is stored in plain text", fix)])
        return cls(
            cluster_name=config.require("clusterName"),
            kubeconfig=config.require_secret("kubeconfig"),
            oidc_provider_arn=config.require("oidcProviderArn"),
            oidc_issuer=config.require("oidcIssuer"),
            image=config.require("image"),
            image_tag=config.require("imageTag"),
            bucket=config.require("bucket"),
            namespace=config.get("namespace") or APP,
        )


def orders_spec(settings: Settings) -> AppSpec:
    """The app: 2 pods on port 8080, an internal ALB, and an IAM role reading one bucket."""
    bucket_arn = f"arn:aws:s3:::{settings.bucket}"
    return AppSpec(
        image=Image(repository=settings.image, tag=settings.image_tag),
        resources=Resources(requests={"cpu": "100m", "memory": "128Mi"}, limits={"memory": "256Mi"}),
        ports=[Port(container_port=8080)],
        # The ALB health-checks the readiness path; an Ingress needs an HttpGet readiness probe.
        probes=Probes(readiness=Probe(handler=HttpGet(path="/ready")), liveness=Probe(handler=HttpGet(path="/live"))),
        config={"ORDERS_BUCKET": settings.bucket},
        ingress=IngressSpec(scheme="internal"),
        service_account=ServiceAccountSpec(
            policy_statements=[
                {"Sid": "ReadOrders", "Effect": "Allow", "Action": ["s3:GetObject"], "Resource": [f"{bucket_arn}/*"]},
                {"Sid": "ListOrders", "Effect": "Allow", "Action": ["s3:ListBucket"], "Resource": [bucket_arn]},
            ]
        ),
    )


@dataclass(frozen=True, kw_only=True)
class Deployed:
    """What `deploy()` made."""

    provider: k8s.Provider
    namespaces: Namespaces
    app: App


def deploy(settings: Settings, spec: AppSpec) -> Deployed:
    """Register the provider, the namespace and the app."""
    # App checks its spec itself, but only once the provider and the namespace it needs are
    # registered, and by then `pulumi up` may already be creating the namespace. Checked here
    # first, a mistake stops the run before anything exists (the same message App gives).
    require_valid(f"App {APP!r}", under("spec", app_spec_issues(spec)))

    provider = k8s.Provider(
        "existing-cluster",
        kubeconfig=settings.kubeconfig,
        enable_server_side_apply=True,
        # A ConfigMap or Secret whose data changes is updated in place instead of deleted and
        # re-created (the app's checksum annotations roll its pods onto the new values).
        enable_config_map_mutable=True,
        enable_secret_mutable=True,
    )
    namespaces = Namespaces(
        "namespaces",
        # slipway's app pods meet Pod Security "restricted": enforce it in their namespace.
        NamespacesArgs(names=[settings.namespace], k8s_provider=provider, enforce={settings.namespace: "restricted"}),
    )
    app = App(
        APP,
        AppArgs(
            spec=spec,
            namespace=settings.namespace,
            part_of=settings.cluster_name,
            cluster_name=settings.cluster_name,
            k8s_provider=provider,
            oidc_provider_arn=settings.oidc_provider_arn,
            oidc_issuer=settings.oidc_issuer,
            after=[namespaces.resources[settings.namespace]],
            # The cluster's Load Balancer Controller is not this program's, so nothing to wait
            # for: it must be running before `pulumi up`, and stay until `pulumi destroy` is done
            # (it deletes the ALB when the Ingress goes).
            load_balancer=[],
            tags=TAGS,
        ),
    )
    return Deployed(provider=provider, namespaces=namespaces, app=app)


def build() -> Deployed:
    """The program `pulumi up` runs: settings from config, then `deploy()`."""
    settings = Settings.from_config()
    deployed = deploy(settings, orders_spec(settings))
    pulumi.export("namespace", deployed.app.namespace)
    pulumi.export("albGroup", deployed.app.ingress_group)
    return deployed
