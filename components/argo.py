"""`ArgoWorkflows`: Argo Workflows from its official chart, pinned to a node pool, with
an S3 artifact repository reached through IRSA, and WorkflowTemplates from config.

Choices a platform team makes (and why):

* CRDs: `crds.full: false`. Chart 1.x installs the *full* CRDs with a pre-install
  hook Job that downloads them from GitHub, which fails on clusters without egress
  to GitHub. The minified CRDs ship inside the chart (no download, no hook); they
  skip the OpenAPI schema, so the API server accepts any Workflow shape and the
  controller/CLI report mistakes instead. `crds.keep: true` keeps Workflows alive
  if the release is uninstalled.
* Placement: controller, server *and* every workflow pod (`workflowDefaults`) get
  the pool's nodeSelector and tolerations: some Argo versions ignore a nodeSelector
  set only in a WorkflowTemplate (argoproj/argo-workflows#12568).
* Executor RBAC: workflow pods report results through `workflowtaskresults`
  (create, patch) or fail with "forbidden" (#12351, #12783); slipway creates that
  ServiceAccount, Role and RoleBinding and makes it the workflows' default.
* Artifacts: an encrypted, private, TLS-only S3 bucket; the workflow and argo-server
  ServiceAccounts each assume their own role; pods need `fsGroup: 65534` to read the
  projected token (#6406, #12467).
* Server auth: `client` (bearer tokens from the Kubernetes API) by default, never
  `server` mode, which would serve the UI with the server's own permissions. With
  `sso`, users act as ServiceAccounts their OIDC groups map to (see `argo_sso`).
* Over time: WorkflowTemplates depend on the release (their CRD comes with it); CRDs are
  kept when the release goes, so Workflows survive an uninstall; the release and every
  workflow pod wait for the node groups; the artifact bucket is protected in prod.
"""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from slipway.components.access import WorkloadRole, WorkloadRoleArgs, irsa_annotations
from slipway.components.app_ingress import alb_ingress
from slipway.components.app_spec import DEFAULT_SSL_POLICY
from slipway.components.argo_args import (
    ArgoWorkflowsArgs,
    Parameter,
    WorkflowTemplateSpec,
    argo_workflows_issues,
)
from slipway.components.argo_sso import SSO_SECRET, ArgoSso, ArgoSsoRbac, ArgoSsoRbacArgs, sso_helm_values
from slipway.components.buckets import create_private_bucket
from slipway.components.helm import pinned_release
from slipway.components.validation import require_valid

CHART = "argo-workflows"
CHART_VERSION = "1.0.18"  # app v4.0.6
CHART_REPO = "https://argoproj.github.io/argo-helm"
WORKFLOW_SA = "argo-workflow"
SERVER_SA = "argo-server"
# Requests slipway gives Argo's pods (the chart sets none); the planner counts them.
CONTROLLER_REQUESTS = {"cpu": "100m", "memory": "256Mi"}
SERVER_REQUESTS = {"cpu": "50m", "memory": "128Mi"}
# Every workflow pod runs Argo's executor as `init`, then as the `wait` sidecar beside `main`
# (v4.0.6 workflowpod.go newExecContainer); unset, they request nothing. Upstream's example
# requests and memory limit (docs/workflow-controller-configmap.yaml), without a CPU limit.
EXECUTOR_REQUESTS = {"cpu": "100m", "memory": "64Mi"}
EXECUTOR_MEMORY_LIMIT = "512Mi"
# A workflow's `main` container without requests gets these (chart `mainContainer`): a
# template's own requests win, so a pod's main asks for at most the largest of them.
MAIN_REQUESTS = {"cpu": "100m", "memory": "128Mi"}
NOBODY = 65534  # fsGroup that lets a non-root container read the projected IRSA token


def executor_role_rules() -> list[dict[str, Any]]:
    """What a workflow pod's ServiceAccount needs (Argo docs, "Workflow RBAC")."""
    return [{"apiGroups": ["argoproj.io"], "resources": ["workflowtaskresults"], "verbs": ["create", "patch"]}]


def artifact_statements(bucket_arn: str, write: bool) -> list[dict[str, Any]]:
    """S3 access for artifacts: workflows read and write, argo-server only reads."""
    objects = ["s3:GetObject"] + (["s3:PutObject", "s3:DeleteObject"] if write else [])
    return [
        {"Sid": "ListArtifacts", "Effect": "Allow", "Action": ["s3:ListBucket", "s3:GetBucketLocation"],
         "Resource": bucket_arn},
        {"Sid": "Artifacts", "Effect": "Allow", "Action": objects, "Resource": f"{bucket_arn}/*"},
    ]  # fmt: skip


def workflow_template(spec: WorkflowTemplateSpec, namespace: str) -> dict[str, Any]:
    """The `argoproj.io/v1alpha1` WorkflowTemplate object for a spec."""
    params = [{"name": p.name, **({"value": p.value} if p.value is not None else {})} for p in spec.parameters]
    container: dict[str, Any] = {
        "image": spec.image,
        "resources": {"requests": {"cpu": spec.cpu, "memory": spec.memory}, "limits": {"memory": spec.memory}},
        "securityContext": {
            "runAsNonRoot": True,
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "capabilities": {"drop": ["ALL"]},
            "seccompProfile": {"type": "RuntimeDefault"},
        },
    }
    container["volumeMounts"] = [{"name": "tmp", "mountPath": "/tmp"}]  # the root filesystem is read-only
    if spec.command:
        container["command"] = spec.command
    if spec.args:
        container["args"] = spec.args
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "WorkflowTemplate",
        "metadata": {"name": spec.name, "namespace": namespace, "labels": {"app.kubernetes.io/managed-by": "slipway"}},
        "spec": {
            "entrypoint": "main",
            "arguments": {"parameters": params},
            "templates": [
                {"name": "main", "inputs": {"parameters": [{"name": p.name} for p in spec.parameters]},
                 "container": container}
            ],
            "volumes": [{"name": "tmp", "emptyDir": {"sizeLimit": "1Gi"}}],
        },
    }  # fmt: skip


def helm_values(
    *,
    namespace: str,
    node_selector: dict[str, str],
    tolerations: list[dict[str, Any]],
    auth_mode: str,
    server_role_arn: Any,
    bucket: Any,
    region: str,
    parallelism: int,
    sso: ArgoSso | None = None,
) -> dict[str, Any]:
    """The chart values slipway sets (every key exists in chart 1.0.18's values.yaml). `parallelism`
    bounds the workflows running at once (unset, Argo runs all): the pool is sized for it."""
    placement = {"nodeSelector": node_selector, "tolerations": tolerations}
    values: dict[str, Any] = {
        "crds": {"install": True, "full": False, "keep": True},
        "workflow": {"serviceAccount": {"create": False, "name": WORKFLOW_SA}, "rbac": {"create": False}},
        "controller": {
            **placement,
            "workflowNamespaces": [namespace],
            "parallelism": parallelism,
            "resources": {"requests": CONTROLLER_REQUESTS, "limits": {"memory": "512Mi"}},
            "workflowDefaults": {
                "spec": {
                    "serviceAccountName": WORKFLOW_SA,
                    **placement,
                    "securityContext": {"runAsNonRoot": True, "runAsUser": 1000, "fsGroup": NOBODY},
                    "ttlStrategy": {"secondsAfterCompletion": 7 * 24 * 3600},
                    "podGC": {"strategy": "OnPodSuccess"},
                }
            },
        },
        "server": {
            **placement,
            "authModes": [auth_mode],
            "resources": {"requests": SERVER_REQUESTS, "limits": {"memory": "256Mi"}},
            "podSecurityContext": {"fsGroup": NOBODY},
            "serviceAccount": {
                "create": True,
                "name": SERVER_SA,
                "annotations": irsa_annotations(server_role_arn),
            },
        },
        "mainContainer": {"resources": {"requests": MAIN_REQUESTS}},
        "executor": {"resources": {"requests": EXECUTOR_REQUESTS, "limits": {"memory": EXECUTOR_MEMORY_LIMIT}}},
        "useStaticCredentials": False,
        "artifactRepository": {
            "archiveLogs": True,
            "s3": {
                "bucket": bucket,
                "endpoint": "s3.amazonaws.com",
                "region": region,
                "insecure": False,
                "useSDKCreds": True,
                # No encryptionOptions: with enableEncryption and no KMS key id Argo sends
                # SSE-S3 headers, overriding the bucket's aws:kms default encryption.
            },
        },
    }
    if sso:
        values["server"]["sso"] = sso_helm_values(sso)
    return values


SERVER_SERVICE = "argo-workflows-server"  # the chart's Service for release "argo-workflows"
SERVER_PORT = 2746


def server_ingress(
    *, namespace: str, scheme: str, group: str, host: str | None, certificate_arn: str | None
) -> dict[str, Any]:
    """argo-server behind the stack's ALB group, internal unless asked.

    A Pulumi-managed Ingress rather than the chart's `server.ingress`: it then depends
    on the Load Balancer Controller release, so on destroy it is deleted (and its ALB
    rules removed by the controller) before the controller itself goes.
    """
    return alb_ingress(
        name="argo-server",
        namespace=namespace,
        labels={"app.kubernetes.io/part-of": CHART, "app.kubernetes.io/managed-by": "slipway"},
        scheme=scheme,
        group=group,
        hosts=[host] if host else [],
        paths=["/"],
        service_name=SERVER_SERVICE,
        service_port=SERVER_PORT,
        healthcheck_path="/",
        certificate_arn=certificate_arn,
        # The apps' policy: Ingresses of one ALB group must not disagree on it.
        ssl_policy=DEFAULT_SSL_POLICY,
        extra_annotations={"alb.ingress.kubernetes.io/backend-protocol": "HTTP"},
    )


class ArgoWorkflows(pulumi.ComponentResource):
    """Artifact bucket + IRSA roles + executor RBAC + Helm release + WorkflowTemplates."""

    release: k8s.helm.v3.Release
    bucket_name: pulumi.Output[str]
    workflow_role_arn: pulumi.Output[str]
    server_role_arn: pulumi.Output[str]

    def __init__(self, name: str, args: ArgoWorkflowsArgs, opts: pulumi.ResourceOptions | None = None):
        require_valid(f"ArgoWorkflows {name!r}", argo_workflows_issues(args))
        super().__init__("slipway:argo:ArgoWorkflows", name, None, opts)
        self._name, self._args = name, args
        bucket = self._create_bucket()
        workflow_role, server_role = self._create_roles(bucket)
        rbac = self._create_executor_rbac() + self._create_sso()
        self.release = pinned_release(
            f"{name}-release",
            chart=CHART,
            version=CHART_VERSION,
            repo=CHART_REPO,
            namespace=args.namespace,
            values=helm_values(
                namespace=args.namespace,
                node_selector=args.node_selector,
                tolerations=args.tolerations,
                auth_mode=args.auth_mode,
                server_role_arn=server_role.role_arn,
                bucket=bucket.bucket,
                region=args.region,
                parallelism=args.parallelism,
                sso=args.sso,
            ),
            opts=pulumi.ResourceOptions(
                parent=self,
                provider=args.k8s_provider,
                depends_on=[workflow_role, server_role, *rbac, *args.depends_on],
            ),
        )
        self._create_templates()
        if args.ingress:
            k8s.networking.v1.Ingress(
                f"{name}-server-ingress",
                metadata=args.ingress["metadata"],
                spec=args.ingress["spec"],
                opts=pulumi.ResourceOptions(
                    parent=self, provider=args.k8s_provider, depends_on=[self.release, *args.load_balancer]
                ),
            )
        self.bucket_name = bucket.bucket
        self.workflow_role_arn = workflow_role.role_arn
        self.server_role_arn = server_role.role_arn
        self.register_outputs({"bucket": self.bucket_name, "workflowRoleArn": self.workflow_role_arn})

    def _create_bucket(self) -> aws.s3.Bucket:
        a = self._args
        return create_private_bucket(
            self,
            f"{self._name}-artifacts",
            bucket_name=a.bucket_name,
            protect=a.protect,
            expiry_days=a.artifact_expiry_days,
            rule_id="expire-artifacts",
            tags={**a.tags, "slipway/purpose": "argo-artifacts"},
        )

    def _create_roles(self, bucket: aws.s3.Bucket) -> tuple[WorkloadRole, WorkloadRole]:
        a = self._args
        roles: list[WorkloadRole] = []
        for sa, write, create in ((WORKFLOW_SA, True, True), (SERVER_SA, False, False)):
            roles.append(
                WorkloadRole(
                    f"{self._name}-{sa}",
                    WorkloadRoleArgs(
                        namespace=a.namespace,
                        service_account=sa,
                        oidc_provider_arn=a.oidc_provider_arn,
                        oidc_issuer=a.oidc_issuer,
                        k8s_provider=a.k8s_provider,
                        # The statements' ARN is known once the bucket is: an Output.
                        policy_statements=bucket.arn.apply(lambda arn, w=write: artifact_statements(arn, w)),
                        # argo-server's ServiceAccount is the chart's, annotated from our role.
                        create_service_account=create,
                        labels={"app.kubernetes.io/part-of": CHART},
                        service_account_after=a.depends_on,
                        tags=a.tags,
                    ),
                    opts=pulumi.ResourceOptions(parent=self),
                )
            )
        return roles[0], roles[1]

    def _create_executor_rbac(self) -> list[pulumi.Resource]:
        a = self._args
        opts = pulumi.ResourceOptions(parent=self, provider=a.k8s_provider, depends_on=a.depends_on)
        meta: k8s.meta.v1.ObjectMetaArgsDict = {
            "namespace": a.namespace,
            "labels": {"app.kubernetes.io/managed-by": "slipway"},
        }
        # Kubernetes' own field names (apiGroups, apiGroup), as in every manifest slipway builds:
        # pulumi-kubernetes sends them as they are, but its TypedDicts spell only the snake_case
        # aliases, hence Any.
        rules: list[Any] = executor_role_rules()
        role_ref: Any = {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "argo-workflow-executor"}
        role = k8s.rbac.v1.Role(
            f"{self._name}-executor",
            metadata={**meta, "name": "argo-workflow-executor"},
            rules=rules,
            opts=opts,
        )
        binding = k8s.rbac.v1.RoleBinding(
            f"{self._name}-executor",
            metadata={**meta, "name": "argo-workflow-executor"},
            role_ref=role_ref,
            subjects=[{"kind": "ServiceAccount", "name": WORKFLOW_SA, "namespace": a.namespace}],
            opts=opts,
        )
        return [role, binding]

    def _create_sso(self) -> list[pulumi.Resource]:
        """The OIDC client Secret and the SSO RBAC that maps groups to permissions."""
        a = self._args
        if not a.sso:
            return []
        opts = pulumi.ResourceOptions(parent=self, provider=a.k8s_provider, depends_on=a.depends_on)
        secret = k8s.core.v1.Secret(
            f"{self._name}-sso",
            metadata={"name": SSO_SECRET, "namespace": a.namespace},
            type="Opaque",
            string_data={"client-id": a.sso.client_id, "client-secret": a.sso.client_secret},
            opts=opts,
        )
        rbac = ArgoSsoRbac(
            f"{self._name}-sso-rbac",
            ArgoSsoRbacArgs(
                namespace=a.namespace, roles=a.sso.roles, k8s_provider=a.k8s_provider, depends_on=a.depends_on
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        return [secret, rbac]

    def _create_templates(self) -> None:
        a = self._args
        for spec in a.workflow_templates:
            obj = workflow_template(spec, a.namespace)
            # After the release: the CRD comes with the chart.
            k8s.apiextensions.CustomResource(
                f"{self._name}-template-{spec.name}",
                api_version=obj["apiVersion"],
                kind=obj["kind"],
                metadata=obj["metadata"],
                spec=obj["spec"],
                opts=pulumi.ResourceOptions(parent=self, provider=a.k8s_provider, depends_on=[self.release]),
            )


__all__ = [
    "CHART",
    "CHART_REPO",
    "CHART_VERSION",
    "CONTROLLER_REQUESTS",
    "EXECUTOR_MEMORY_LIMIT",
    "EXECUTOR_REQUESTS",
    "MAIN_REQUESTS",
    "NOBODY",
    "SERVER_PORT",
    "SERVER_REQUESTS",
    "SERVER_SA",
    "SERVER_SERVICE",
    "WORKFLOW_SA",
    "ArgoWorkflows",
    "ArgoWorkflowsArgs",
    "Parameter",
    "WorkflowTemplateSpec",
    "argo_workflows_issues",
    "artifact_statements",
    "executor_role_rules",
    "helm_values",
    "server_ingress",
    "workflow_template",
]
