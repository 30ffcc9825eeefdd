"""`App`: one application — Deployment (or an Argo Rollouts `Rollout`), Service, Ingress
(ALB), HPA, PDB, CronJobs, a pre-deploy migration Job, its ConfigMap and Secret, and
optionally an IRSA role.

What the app is comes in as an `AppSpec` (components/app_spec.py); every manifest is a
pure function of it (components/app_manifests.py, app_jobs.py, app_ingress.py,
app_rollout.py — tests call them without Pulumi). The component checks its inputs (app_validation.py), then
registers the manifests in the order a rollout needs:

    namespace → ConfigMap/Secret → migration Job (new image tag) → Deployment → HPA/PDB
    Load Balancer Controller → Service (LoadBalancer) / Ingress

With a canary or blueGreen strategy the Deployment is a `Rollout` (and an
`AnalysisTemplate`), created after the Argo Rollouts controller (`rollout_controller`,
which installs their CRDs), and the Ingress after the Rollout: the controller then
writes the ALB action annotation as soon as the Ingress exists. An app that switches
from a Deployment keeps serving: Pulumi creates the Rollout before it deletes the
Deployment, and the Service `<app>` selects both.

Over time (pulumi-kubernetes `provider/pkg/provider/diff.go` lists what forces
replacement; a named object is replaced delete-first):

- A Deployment's `spec.selector` is immutable: changing the app's selector labels
  replaces the Deployment (its pods go, then come back), so selectors use only the
  stable `app.kubernetes.io/name`/`instance`/`component` labels, never the version.
- A Job's pod template is immutable: the migration Job's name carries a hash of the
  image tag, so a new tag is a rename — a new Job, created (and run) before the
  Deployment rolls, then the old one deleted.
- ConfigMap and Secret data update in place (the Kubernetes provider sets
  `enableConfigMapMutable`/`enableSecretMutable`; otherwise a named one is deleted and
  re-created); the checksum annotations roll the pods onto the new values.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from slipway.components.access import WorkloadRole, WorkloadRoleArgs
from slipway.components.app_ingress import alb_ingress, ingress, ingress_group
from slipway.components.app_jobs import cron_jobs, migration_job
from slipway.components.app_manifests import (
    autoscaler,
    config_checksum,
    config_name,
    deployment,
    disruption_budget,
    labels,
    secret_checksum,
    secret_name,
    selector_labels,
    service,
)
from slipway.components.app_rollout import (
    ROLLOUTS_API,
    analysis_template,
    canary_ingress,
    preview_ingress,
    rollout,
    rollout_services,
)
from slipway.components.app_spec import (
    AnalysisSpec,
    AppSpec,
    AutoscalingSpec,
    BlueGreenSpec,
    CanarySpec,
    CronJobSpec,
    DisruptionBudgetSpec,
    Exec,
    HttpGet,
    Image,
    IngressSpec,
    MigrationSpec,
    Pause,
    Port,
    Probe,
    Probes,
    Resources,
    RunAnalysis,
    ServiceAccountSpec,
    ServiceSpec,
    SetWeight,
    Strategy,
    TcpSocket,
)
from slipway.components.app_validation import app_args_issues
from slipway.components.spec import Placement, Toleration
from slipway.components.validation import require_valid


@dataclass(frozen=True, kw_only=True)
class AppArgs:
    """Inputs of App: what the app is (`spec`) and where it goes in a cluster."""

    spec: AppSpec
    """The application: image, ports, probes, resources, settings, secrets, placement, …"""
    namespace: str
    """Namespace of every object (it must exist: pass it in `after`)."""
    part_of: str
    """`app.kubernetes.io/part-of` on every object, e.g. the cluster's name."""
    cluster_name: str
    """The cluster's name: the default ALB group is `<cluster>-<scheme>`."""
    k8s_provider: k8s.Provider
    """The cluster's Kubernetes provider."""
    oidc_provider_arn: pulumi.Input[str] | None = None
    """The cluster's IAM OIDC provider; required with `spec.service_account` (IRSA)."""
    oidc_issuer: pulumi.Input[str] | None = None
    """The cluster's OIDC issuer URL; required with `spec.service_account` (IRSA)."""
    after: Sequence[pulumi.Resource] = ()
    """The namespace and node groups: every object is created after them."""
    load_balancer: Sequence[pulumi.Resource] = ()
    """The Load Balancer Controller release: Ingress/NLB Services after it, deleted before
    it (the controller removes the ALB/NLB it made)."""
    rollout_controller: Sequence[pulumi.Resource] = ()
    """The Argo Rollouts controller release (it installs the Rollout and AnalysisTemplate
    CRDs): with a canary or blueGreen strategy, those are created after it and deleted
    before it. Empty: the caller installed it some other way."""
    tags: dict[str, str] = field(default_factory=dict[str, str])
    """AWS tags on what the app creates in AWS (its workload role)."""


class App(pulumi.ComponentResource):
    """One application's Kubernetes objects (and its workload role)."""

    deployment_name: str
    namespace: str
    ingress_group: str | None
    """The ALB group its Ingress joined (None without an ingress)."""

    def __init__(self, name: str, args: AppArgs, opts: pulumi.ResourceOptions | None = None):
        # Every mistake at once, before anything (this component included) is registered.
        require_valid(f"App {name!r}", app_args_issues(name, args))
        super().__init__("slipway:app:App", name, None, opts)
        self._name, self._args, self._spec = name, args, args.spec

        checksums: dict[str, Any] = {}
        first: list[pulumi.Resource] = [*args.after, *self._create_settings(checksums)]
        service_account = None
        if self._spec.service_account is not None:
            service_account = name
            first.append(self._create_workload_role(self._spec.service_account))
        rollout_after = [*first, *self._create_migration(first, service_account)]
        # A progressive app keeps its Deployment (the pod template; Argo scales it to zero) and
        # adds a Rollout that references it (components/app_rollout.py `rollout`).
        dep = self._create_deployment(rollout_after, service_account, checksums)
        workload: pulumi.Resource = dep
        if self._spec.progressive:
            workload = self._create_rollout([*rollout_after, dep], service_account, checksums)
        self._create_cron_jobs(first, service_account)
        self._create_scaling(first, workload)
        group = self._create_exposure(first, workload)

        self.deployment_name = name
        self.namespace = args.namespace
        self.ingress_group = group
        self.register_outputs({"namespace": args.namespace, "deployment": name})

    # -------------------------------------------------------------- steps
    def _labels(self) -> dict[str, str]:
        return labels(self._name, self._spec.image.tag, self._args.part_of)

    def _after(self, depends_on: Sequence[pulumi.Resource]) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(parent=self, provider=self._args.k8s_provider, depends_on=list(depends_on))

    def _create_settings(self, checksums: dict[str, Any]) -> list[pulumi.Resource]:
        """The ConfigMap and Secret; their checksums go on the pods so a change rolls them."""
        name, spec, ns = self._name, self._spec, self._args.namespace
        created: list[pulumi.Resource] = []
        opts = self._after(self._args.after)
        if spec.config:
            created.append(
                k8s.core.v1.ConfigMap(
                    f"{name}-config",
                    metadata={"name": config_name(name), "namespace": ns, "labels": self._labels()},
                    data=dict(sorted(spec.config.items())),
                    opts=opts,
                )
            )
            checksums["slipway.dev/config-checksum"] = config_checksum(spec.config)
        if spec.secrets:
            # Made secret if a plain value came in: it must never sit in state in clear.
            values = {env: pulumi.Output.secret(spec.secrets[env]) for env in sorted(spec.secrets)}
            created.append(
                k8s.core.v1.Secret(
                    f"{name}-secrets",
                    metadata={"name": secret_name(name), "namespace": ns, "labels": self._labels()},
                    type="Opaque",
                    string_data=values,
                    opts=opts,
                )
            )
            # Stays a secret: a digest of a weak password can be brute-forced offline.
            checksums["slipway.dev/secret-checksum"] = pulumi.Output.all(**values).apply(
                lambda v: secret_checksum(name, v)
            )
        return created

    def _create_workload_role(self, sa: ServiceAccountSpec) -> pulumi.Resource:
        """The ServiceAccount `<app>` and its IAM role (IRSA)."""
        a = self._args
        # app_args_issues refuses a service_account without both (before anything is registered).
        assert a.oidc_provider_arn is not None and a.oidc_issuer is not None
        return WorkloadRole(
            f"{self._name}-irsa",
            WorkloadRoleArgs(
                namespace=a.namespace,
                service_account=self._name,
                oidc_provider_arn=a.oidc_provider_arn,
                oidc_issuer=a.oidc_issuer,
                k8s_provider=a.k8s_provider,
                policy_statements=[dict(s) for s in sa.policy_statements] or None,
                labels=selector_labels(self._name),
                service_account_after=list(a.after),
                tags=a.tags,
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _create_migration(self, first: list[pulumi.Resource], service_account: str | None) -> list[pulumi.Resource]:
        job = migration_job(
            self._name, self._args.namespace, self._spec, part_of=self._args.part_of, service_account=service_account
        )
        if job is None or self._spec.migration is None:
            return []
        # The Deployment waits for the migration: Pulumi awaits the Job's completion,
        # and a new image tag names a new Job, so it runs before every rollout of it.
        # Pulumi waits up to the Job's own deadline (its default wait is 10 minutes)
        # and replaces a failed Job on the next `pulumi up` (replaceUnready).
        deadline = self._spec.migration.active_deadline_seconds + 300
        timeouts = pulumi.CustomTimeouts(create=f"{deadline}s", update=f"{deadline}s")
        return [
            k8s.batch.v1.Job(
                f"{self._name}-migrate",
                **_fields(job),
                opts=pulumi.ResourceOptions.merge(self._after(first), pulumi.ResourceOptions(custom_timeouts=timeouts)),
            )
        ]

    def _create_deployment(
        self, rollout_after: list[pulumi.Resource], service_account: str | None, checksums: dict[str, Any]
    ) -> k8s.apps.v1.Deployment:
        manifest = deployment(
            self._name,
            self._args.namespace,
            self._spec,
            part_of=self._args.part_of,
            service_account=service_account,
            checksums=checksums,
        )
        return k8s.apps.v1.Deployment(
            f"{self._name}-deployment",
            **_fields(manifest),
            opts=pulumi.ResourceOptions(
                parent=self,
                provider=self._args.k8s_provider,
                depends_on=rollout_after,
                # The HorizontalPodAutoscaler owns replicas once it exists; with a Rollout, Argo
                # does (it scales the Deployment down as the Rollout's pods come up).
                ignore_changes=["spec.replicas"] if self._spec.autoscaling or self._spec.progressive else None,
            ),
        )

    def _create_rollout(
        self, rollout_after: list[pulumi.Resource], service_account: str | None, checksums: dict[str, Any]
    ) -> pulumi.Resource:
        """The AnalysisTemplate (if any) and the Rollout, after the controller that installs their CRDs."""
        name, a = self._name, self._args
        after = [*rollout_after, *a.rollout_controller]
        template = analysis_template(name, a.namespace, self._spec, part_of=a.part_of)
        if template is not None:
            after.append(
                k8s.apiextensions.CustomResource(
                    f"{name}-analysis",
                    api_version=ROLLOUTS_API,
                    kind="AnalysisTemplate",
                    **_fields(template),
                    opts=self._after([*a.after, *a.rollout_controller]),
                )
            )
        manifest = rollout(
            name,
            a.namespace,
            self._spec,
            part_of=a.part_of,
            service_account=service_account,
            checksums=checksums,
            service_port=self._spec.service.port if self._spec.service else 80,
        )
        return k8s.apiextensions.CustomResource(
            f"{name}-rollout",
            api_version=ROLLOUTS_API,
            kind="Rollout",
            **_fields(manifest),
            opts=pulumi.ResourceOptions(
                parent=self,
                provider=a.k8s_provider,
                depends_on=after,
                # The HorizontalPodAutoscaler owns replicas once it exists (through /scale).
                ignore_changes=["spec.replicas"] if self._spec.autoscaling else None,
            ),
        )

    def _create_cron_jobs(self, first: list[pulumi.Resource], service_account: str | None) -> None:
        a = self._args
        for manifest in cron_jobs(
            self._name, a.namespace, self._spec, part_of=a.part_of, service_account=service_account
        ):
            k8s.batch.v1.CronJob(f"{manifest['metadata']['name']}-cron", **_fields(manifest), opts=self._after(first))

    def _create_scaling(self, first: list[pulumi.Resource], dep: pulumi.Resource) -> None:
        name, ns, part_of = self._name, self._args.namespace, self._args.part_of
        hpa = autoscaler(name, ns, self._spec, part_of=part_of)
        if hpa:
            k8s.autoscaling.v2.HorizontalPodAutoscaler(f"{name}-hpa", **_fields(hpa), opts=self._after([dep]))
        pdb = disruption_budget(name, ns, self._spec, part_of=part_of)
        if pdb:
            k8s.policy.v1.PodDisruptionBudget(f"{name}-pdb", **_fields(pdb), opts=self._after(first))

    def _create_exposure(self, first: list[pulumi.Resource], workload: pulumi.Resource) -> str | None:
        """The Service (and those a Rollout steers) and the Ingress; returns the Ingress's ALB group."""
        name, spec, a = self._name, self._spec, self._args
        svc_manifest = service(name, a.namespace, spec, part_of=a.part_of)
        # Load balancers belong to the controller: created after it, deleted before it.
        uses_lb = spec.ingress is not None or (spec.service is not None and spec.service.type == "LoadBalancer")
        lb_after: list[pulumi.Resource] = [*first, *(a.load_balancer if uses_lb else [])]
        svc = None
        if svc_manifest:
            # Argo Rollouts writes `rollouts-pod-template-hash` into the selectors of the Services
            # it steers (argo-rollouts@v1.9.0 rollout/service.go), owning the whole (atomic) map
            # under server-side apply: Pulumi must leave it, or every later `pulumi up` conflicts
            # (409) — forcing it would make stable and canary select both versions.
            steered = ["spec.selector"]
            blue_green = spec.progressive and spec.strategy.type == "blueGreen"
            svc = k8s.core.v1.Service(
                f"{name}-service",
                **_fields(svc_manifest),
                opts=pulumi.ResourceOptions.merge(
                    self._after(lb_after), pulumi.ResourceOptions(ignore_changes=steered if blue_green else None)
                ),
            )
            for extra in rollout_services(name, spec, svc_manifest):
                # Not before the Rollout: Pulumi waits for a Service's endpoints, which its pods give.
                k8s.core.v1.Service(
                    f"{extra['metadata']['name']}-service",
                    **_fields(extra),
                    opts=pulumi.ResourceOptions.merge(
                        self._after(first), pulumi.ResourceOptions(ignore_changes=steered)
                    ),
                )
        group = ingress_group(spec, a.cluster_name)
        ing = None
        if group and svc_manifest:  # an ingress implies ports, so a Service (app_validation)
            ing = ingress(name, a.namespace, spec, part_of=a.part_of, group=group, svc=svc_manifest)
        if ing:
            after = [*lb_after, *([svc] if svc else [])]
            if spec.progressive:
                # After the Rollout: its controller writes the canary's action annotation (or
                # finds the active Service) as soon as the Ingress exists. A blue/green Rollout is
                # awaited until its pods are available; a canary's is not (app_rollout.rollout).
                after.append(workload)
            preview = preview_ingress(name, spec, ing)
            if spec.strategy.type == "canary":
                ing = canary_ingress(ing, name)
            k8s.networking.v1.Ingress(f"{name}-ingress", **_fields(ing), opts=self._after(after))
            if preview:
                k8s.networking.v1.Ingress(f"{name}-preview-ingress", **_fields(preview), opts=self._after(after))
        return group


def _fields(manifest: dict[str, Any]) -> dict[str, Any]:
    """A manifest as pulumi-kubernetes constructor arguments (metadata, spec, …)."""
    return {k: v for k, v in manifest.items() if k not in ("apiVersion", "kind")}


__all__ = [
    "AnalysisSpec",
    "App",
    "AppArgs",
    "AppSpec",
    "AutoscalingSpec",
    "BlueGreenSpec",
    "CanarySpec",
    "CronJobSpec",
    "DisruptionBudgetSpec",
    "Exec",
    "HttpGet",
    "Image",
    "IngressSpec",
    "MigrationSpec",
    "Pause",
    "Placement",
    "Port",
    "Probe",
    "Probes",
    "Resources",
    "RunAnalysis",
    "ServiceAccountSpec",
    "ServiceSpec",
    "SetWeight",
    "Strategy",
    "TcpSocket",
    "Toleration",
    "alb_ingress",
]
