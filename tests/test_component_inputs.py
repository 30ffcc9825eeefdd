"""Every component checks its own inputs: exact messages, every problem at once, nothing registered.

Registry, LoadBalancerController, MetricsServer, Namespaces, ArgoWorkflows (with its
SSO), ArgoSsoRbac, ClusterAccess (Principals), AwsAuthBindings and WorkloadRole each
refuse wrong Args with one ArgsError before `super().__init__`, in the house style
`<field path>: <bad value> <problem> — <fix>` (tests/test_validation.py for App,
EksCluster and node pools; tests/test_network_clusters.py for Network).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import pytest

from slipway.components.access import (
    AwsAuthBindings,
    AwsAuthBindingsArgs,
    ClusterAccess,
    ClusterAccessArgs,
    Principal,
    WorkloadRole,
    WorkloadRoleArgs,
    principals_issues,
)
from slipway.components.argo import ArgoWorkflows, ArgoWorkflowsArgs, Parameter, WorkflowTemplateSpec
from slipway.components.argo_args import argo_workflows_issues
from slipway.components.argo_sso import ArgoSso, ArgoSsoRbac, ArgoSsoRbacArgs, SsoRoleBinding
from slipway.components.load_balancer_controller import LoadBalancerController, LoadBalancerControllerArgs
from slipway.components.metrics_server import MetricsServer, MetricsServerArgs
from slipway.components.namespaces import Namespaces, NamespacesArgs
from slipway.components.registry import Registry, RegistryArgs, registry_issues
from slipway.components.validation import ArgsError
from slipway.testing import Mocked

ACCT = "123456789012"
ISSUER = "oidc.eks.us-east-1.amazonaws.com/id/ABC"
OIDC_ARN = f"arn:aws:iam::{ACCT}:oidc-provider/{ISSUER}"
NO_PROVIDER = (
    "k8s_provider: None is not a Kubernetes provider — pass the cluster's provider (EksCluster.provider) "
    "or a k8s.Provider(kubeconfig=...)"
)
NOT_A_NAMESPACE = (
    "is not a namespace name (a DNS-1123 label) — use at most 63 lowercase letters, digits and '-', "
    "starting and ending with a letter or digit"
)


def refused(mocked: Mocked, build: Callable[[], Any], what: str) -> list[str]:
    """The messages of the ArgsError `build` raises; nothing (not even the component) registered."""
    with pytest.raises(ArgsError) as exc:
        mocked.build(build)
    assert mocked.records == []
    n = len(exc.value.messages)
    assert str(exc.value).startswith(f"{n} input error{'s' if n != 1 else ''} in {what}:\n  - ")
    return exc.value.messages


# ------------------------------------------------------------------ Registry


def test_the_registry_reports_every_mistake_and_registers_nothing(mocked: Mocked):
    args = RegistryArgs(
        prefix="Slipway-Dev",
        repositories=["api", "Web", "api", "x", "ops//tools"],
        untagged_expiry_days=0,
        keep_tagged="30",  # type: ignore[arg-type]
        tags={"team": 1},  # type: ignore[dict-item]
    )
    assert refused(mocked, lambda: Registry("ecr", args), "Registry 'ecr'") == [
        "prefix: 'Slipway-Dev' is not a repository name prefix — write lowercase path segments, each ending in "
        "'/', e.g. 'slipway-dev/' (or '' for none)",
        "repositories[1]: 'Web' is not an ECR repository name — use lowercase letters, digits and . _ - / "
        "(not at either end, never two in a row), e.g. 'api'",
        "repositories[2]: 'api' is listed twice — list each repository once",
        "repositories[3]: 'x' is too short — use at least 2 characters",
        "repositories[4]: 'ops//tools' is not an ECR repository name — use lowercase letters, digits and . _ - / "
        "(not at either end, never two in a row), e.g. 'api'",
        "untagged_expiry_days: 0 is out of range — use a value ≥ 1",
        "keep_tagged: '30' is not a whole number — pass an int",
        "tags.team: 1 is not a string — write it as a string, e.g. '1'",
    ]


def test_the_registry_refuses_one_string_for_a_list_and_a_name_too_long_with_its_prefix():
    one = RegistryArgs(repositories="api")  # type: ignore[arg-type]
    assert [str(i) for i in registry_issues(one)] == [
        "repositories: 'api' is a string, not a list of strings — write ['api']"
    ]
    long = RegistryArgs(repositories=["a" * 250], prefix="slipway-dev/")
    assert [str(i) for i in registry_issues(long)] == [
        f"repositories[0]: {'a' * 250!r} makes a name of 262 characters with its prefix — "
        "keep prefix + name within 256 characters"
    ]


# ------------------------------------------------------------------ add-ons


def test_the_load_balancer_controller_reports_every_mistake_and_registers_nothing(mocked: Mocked):
    args = LoadBalancerControllerArgs(
        cluster_name="",
        region="us-east1",
        vpc_id="vpc-0abc",
        oidc_provider_arn=f"arn:aws:iam::{ACCT}:role/x",
        oidc_issuer=ISSUER,
        k8s_provider=None,  # type: ignore[arg-type]
        replicas=0,
        node_selector={"slipway.dev/pool": 1},  # type: ignore[dict-item]
        tolerations=[
            {"key": "dedicated", "operator": "Exist", "effect": "NoSchedule"},
            {"key": "x", "efect": "NoSchedule"},
        ],
        depends_on="cluster",  # type: ignore[arg-type]
    )
    assert refused(mocked, lambda: LoadBalancerController("lbc", args), "LoadBalancerController 'lbc'") == [
        "cluster_name: '' (empty) is not a cluster name — pass the EKS cluster's name",
        "region: 'us-east1' is not an AWS region — write a region code, e.g. 'us-east-1'",
        f"oidc_provider_arn: 'arn:aws:iam::{ACCT}:role/x' is not an IAM OIDC provider ARN — pass the cluster's, "
        "arn:aws:iam::<account>:oidc-provider/oidc.eks.<region>.amazonaws.com/id/<id>",
        NO_PROVIDER,
        "replicas: 0 is out of range — use a value ≥ 1",
        "node_selector.slipway.dev/pool: 1 is not a string — write it as a string, e.g. '1'",
        "tolerations[0].operator: 'Exist' is not a toleration operator — did you mean 'Exists'? "
        "(allowed: Equal, Exists)",
        "tolerations[1].efect: 'efect' is not a toleration field — did you mean 'effect'? "
        "(allowed: key, operator, value, effect, tolerationSeconds)",
        "depends_on: 'cluster' is not a list of resources — pass a list, e.g. [resource]",
    ]


def test_metrics_server_reports_every_mistake_and_registers_nothing(mocked: Mocked):
    args = MetricsServerArgs(
        k8s_provider=None,  # type: ignore[arg-type]
        node_selector="system",  # type: ignore[arg-type]
        tolerations={"key": "dedicated"},  # type: ignore[arg-type]
        depends_on="x",  # type: ignore[arg-type]
    )
    assert refused(mocked, lambda: MetricsServer("metrics", args), "MetricsServer 'metrics'") == [
        NO_PROVIDER,
        "node_selector: 'system' is not a mapping of strings — write a dict, e.g. {'slipway.dev/pool': 'system'}",
        "tolerations: {'key': 'dedicated'} is not a list of tolerations — pass a list, e.g. "
        "[{'key': 'dedicated', 'operator': 'Exists', 'effect': 'NoSchedule'}]",
        "depends_on: 'x' is not a list of resources — pass a list, e.g. [resource]",
    ]


def test_namespaces_report_every_mistake_and_register_nothing(mocked: Mocked):
    args = NamespacesArgs(
        names=["web", "Web", "web", "a" * 64],
        enforce={"web": "strict", "api": "restricted"},
        k8s_provider=None,  # type: ignore[arg-type]
    )
    assert refused(mocked, lambda: Namespaces("ns", args), "Namespaces 'ns'") == [
        f"names[1]: 'Web' {NOT_A_NAMESPACE}",
        "names[2]: 'web' is listed twice (also names[0]) — list it once",
        f"names[3]: {'a' * 64!r} {NOT_A_NAMESPACE}",
        NO_PROVIDER,
        "enforce.web: 'strict' is not a Pod Security level — did you mean 'restricted'? "
        "(allowed: privileged, baseline, restricted)",
        "enforce.api: 'api' is not one of names, so no Namespace carries this level — add 'api' to names, "
        "or remove it from enforce",
    ]


# ------------------------------------------------------------------ Argo Workflows and its SSO


def argo_args(**change: Any) -> ArgoWorkflowsArgs:
    """Valid ArgoWorkflowsArgs but for `change` (no provider: pass one to build)."""
    base: dict[str, Any] = {
        "namespace": "argo",
        "k8s_provider": None,
        "oidc_provider_arn": OIDC_ARN,
        "oidc_issuer": ISSUER,
        "region": "us-east-1",
        "node_selector": {},
    }
    return ArgoWorkflowsArgs(**{**base, **change})


def test_argo_reports_every_mistake_and_registers_nothing(mocked: Mocked):
    args = argo_args(
        namespace="Argo",
        auth_mode="sso",
        bucket_name="My_Bucket",
        artifact_expiry_days=0,
        workflow_templates=[
            WorkflowTemplateSpec(name="etl", image="python:latest", cpu="1 core"),
            WorkflowTemplateSpec(
                name="etl",
                image="python",
                memory="lots",
                parameters=[Parameter(name="day of week"), Parameter(name="x", value=3)],  # type: ignore[arg-type]
            ),
        ],
    )
    pinned = "has no tag or the tag `latest`, so what runs changes without a deploy — pin a version tag or a digest"
    assert refused(mocked, lambda: ArgoWorkflows("argo", args), "ArgoWorkflows 'argo'") == [
        f"namespace: 'Argo' {NOT_A_NAMESPACE}",
        NO_PROVIDER,
        "sso: None is missing while auth_mode is 'sso' (argo-server would not start) — pass sso=ArgoSso(...), "
        "or use auth_mode='client'",
        "bucket_name: 'My_Bucket' is not an S3 bucket name — use 3–63 lowercase letters, digits, '-' or '.', "
        "starting and ending with a letter or digit, not shaped like an IP address (or None for a generated name)",
        "artifact_expiry_days: 0 is out of range — use a value ≥ 1",
        f"workflow_templates[0].image: 'python:latest' {pinned}, e.g. python:3.12.7-slim",
        "workflow_templates[0].cpu: '1 core' is not a cpu quantity — write it like 250m",
        f"workflow_templates[1].image: 'python' {pinned}, e.g. python:3.12.7-slim",
        "workflow_templates[1].memory: 'lots' is not a memory quantity — write it like 256Mi",
        "workflow_templates[1].parameters[0].name: 'day of week' is not a parameter name — "
        "use letters, digits, '-' and '_'",
        "workflow_templates[1].parameters[1].value: 3 is not a string — write '3'",
        "workflow_templates[1].name: 'etl' is used twice (also workflow_templates[0]) — "
        "give each template its own name",
    ]


def test_argo_sso_mistakes_are_reported_with_the_secret_hidden(mocked: Mocked):
    sso = ArgoSso(
        issuer="http://login.example.com",
        redirect_url="https://argo.example.com/callback",
        client_id="argo",
        client_secret="",
        roles=(
            SsoRoleBinding(group="admins", access="editor"),  # type: ignore[arg-type]
            SsoRoleBinding(group="admins", access="admin"),
            SsoRoleBinding(group=None, access="view"),
            SsoRoleBinding(group=None, access="view"),
        ),
        scopes="groups",  # type: ignore[arg-type]
    )
    args = argo_args(sso=sso, ingress={"spec": {}})
    bound_twice = "— bind each group once, with the highest access it needs"
    assert refused(mocked, lambda: ArgoWorkflows("argo", args), "ArgoWorkflows 'argo'") == [
        NO_PROVIDER,
        "auth_mode: 'client' is not 'sso' while sso is set — set auth_mode='sso', or drop sso",
        "sso.issuer: 'http://login.example.com' is not an https URL — write e.g. 'https://login.example.com'",
        "sso.redirect_url: 'https://argo.example.com/callback' is not argo-server's https callback URL — "
        "write 'https://<argo host>/oauth2/callback', as registered with the provider",
        "sso.client_secret: (value hidden) is missing or not a string — pass the OIDC client's value, "
        "e.g. pulumi.Config().require_secret('<key>')",
        "sso.roles[0].access: 'editor' is not an Argo access level — did you mean 'edit'? (allowed: view, edit, admin)",
        f"sso.roles[1].group: 'admins' is bound twice (also roles[0]) {bound_twice}",
        f"sso.roles[3].group: None (everyone) is bound twice (also roles[2]) {bound_twice}",
        "sso.scopes: 'groups' is a string, not a list of strings — write ['groups']",
        "ingress: a manifest has no metadata and spec — pass server_ingress(...), or None for no Ingress",
    ]


def test_argo_refuses_server_auth_and_typos_and_never_shows_an_sso_lookalike():
    def messages(**change: Any) -> list[str]:
        return [str(i) for i in argo_workflows_issues(argo_args(**change)) if i.field != "k8s_provider"]

    assert messages(auth_mode="server") == [
        "auth_mode: 'server' serves the Argo UI and API with the server's own permissions to anyone who "
        "reaches it — use 'client' (users present Kubernetes tokens) or 'sso'"
    ]
    assert messages(auth_mode="clint") == [
        "auth_mode: 'clint' is not an argo-server auth mode — did you mean 'client'? (allowed: client, sso)"
    ]
    (lookalike,) = messages(auth_mode="sso", sso={"client_secret": "s3cr3t"})
    assert lookalike == (
        "sso: (value hidden) is not an ArgoSso — pass ArgoSso(issuer=..., redirect_url=..., client_id=..., "
        "client_secret=..., roles=(...))"
    )


def test_argo_sso_rbac_reports_every_mistake_and_registers_nothing(mocked: Mocked):
    args = ArgoSsoRbacArgs(
        namespace="argo_ns",
        roles=(
            SsoRoleBinding(group=None, access="view"),
            SsoRoleBinding(group=None, access="veiw"),  # type: ignore[arg-type]
            SsoRoleBinding(group=" ", access="admin"),
            SsoRoleBinding(group=" ops ", access="edit"),
        ),
        k8s_provider=None,  # type: ignore[arg-type]
    )
    assert refused(mocked, lambda: ArgoSsoRbac("sso", args), "ArgoSsoRbac 'sso'") == [
        f"namespace: 'argo_ns' {NOT_A_NAMESPACE}",
        "roles[1].access: 'veiw' is not an Argo access level — did you mean 'view'? (allowed: view, edit, admin)",
        "roles[1].group: None (everyone) is bound twice (also roles[0]) — bind each group once, with the highest "
        "access it needs",
        "roles[2].group: ' ' is not a group name — write the group exactly as your provider sends it in the "
        "groups claim, or None for everyone",
        "roles[3].group: ' ops ' has spaces around it, so it never matches — remove them",
        NO_PROVIDER,
    ]
    empty = ArgoSsoRbacArgs(namespace="argo", roles=(), k8s_provider=None)  # type: ignore[arg-type]
    assert refused(mocked, lambda: ArgoSsoRbac("sso", empty), "ArgoSsoRbac 'sso'")[0] == (
        "roles: () is empty, so argo-server denies every login — give at least one role binding, "
        "e.g. (SsoRoleBinding(group=None, access='view'),)"
    )


# ------------------------------------------------------------------ access


def test_cluster_access_reports_every_principal_mistake_and_registers_nothing(mocked: Mocked):
    principals = [
        Principal(arn=f"arn:aws:sts::{ACCT}:assumed-role/admins/alice", access="cluster-admin"),
        Principal(arn=f"arn:aws:iam::{ACCT}:role/devs", access="edit", namespaces=["payments"]),
        Principal(
            arn=f"arn:aws:iam::{ACCT}:user/bob",
            access="Edit",  # type: ignore[arg-type]
            namespaces=["payments", "Payments"],
            username="system:bob",
        ),
        Principal(arn=f"arn:aws:iam::{ACCT}:role/ops", access="cluster-admin", namespaces=["ops"], creator=True),
        Principal(arn=f"arn:aws:iam::{ACCT}:role/teams/DEVS", access="view"),
        Principal(arn=f"arn:aws:iam::{ACCT}:role/root", access="cluster-admin", creator=True),
        Principal(arn=f"arn:aws:iam::{ACCT}:role/root2", access="cluster-admin", creator=True),
    ]
    args = ClusterAccessArgs(
        cluster_name="demo",
        authentication_mode="API_AND_CONFIGMAP",  # type: ignore[arg-type]
        principals=principals,
    )
    assert refused(mocked, lambda: ClusterAccess("access", args), "ClusterAccess 'access'") == [
        "authentication_mode: 'API_AND_CONFIGMAP' is not an EKS authentication mode — did you mean "
        "'API_AND_CONFIG_MAP'? (allowed: API, API_AND_CONFIG_MAP, CONFIG_MAP)",
        f"principals[0].arn: 'arn:aws:sts::{ACCT}:assumed-role/admins/alice' is an STS assumed-role session, "
        "which changes every login — map the role itself, arn:aws:iam::<account>:role/<name> "
        "(get-caller-identity shows the session)",
        "principals[2].access: 'Edit' is not an access level — did you mean 'edit'? "
        "(allowed: cluster-admin, admin, edit, view)",
        f"principals[2].namespaces[1]: 'Payments' {NOT_A_NAMESPACE}",
        "principals[2].username: 'system:bob' starts with a prefix EKS reserves — choose a name not starting "
        "with system:, eks:, aws:, amazon:, iam:",
        "principals[3].namespaces: ['ops'] cannot scope cluster-admin to namespaces — use access='admin' for "
        "namespace-scoped administrators, or drop namespaces",
        "principals[3].creator: True is set on a principal without cluster-wide cluster-admin (EKS gives the "
        "creator cluster-admin) — give the creator access='cluster-admin' and no namespaces",
        f"principals[4].arn: 'arn:aws:iam::{ACCT}:role/teams/DEVS' is the same IAM identity as principals[1] "
        "(names are case-insensitive, paths ignored) — list each principal once",
        "principals[6].creator: True is set twice (also principals[5]) — mark only the identity that runs the "
        "first `pulumi up`",
    ]


def test_a_principal_list_that_is_not_a_list_or_a_principal_is_named():
    assert [str(i) for i in principals_issues([{"arn": "x", "access": "view"}, None])] == [
        "principals[0]: {'arn': 'x', 'access': 'view'} is not a Principal — pass Principal(arn=..., access=...)",
        "principals[1]: None is not a Principal — pass Principal(arn=..., access=...)",
    ]
    assert [str(i) for i in principals_issues([Principal(arn="arn:aws:iam::1:role/x", access="view")])] == [
        "principals[0].arn: 'arn:aws:iam::1:role/x' is not an IAM role or user ARN — "
        "write arn:aws:iam::<12-digit account>:role/<name> or …:user/<name>"
    ]


def test_aws_auth_bindings_report_every_mistake_and_register_nothing(mocked: Mocked):
    args = AwsAuthBindingsArgs(
        principals=f"arn:aws:iam::{ACCT}:role/devs",  # type: ignore[arg-type]
        k8s_provider=None,  # type: ignore[arg-type]
        namespaces="payments",  # type: ignore[arg-type]
    )
    assert refused(mocked, lambda: AwsAuthBindings("bindings", args), "AwsAuthBindings 'bindings'") == [
        f"principals: 'arn:aws:iam::{ACCT}:role/devs' is not a list of Principal — "
        "pass [Principal(arn=..., access=...)]",
        NO_PROVIDER,
        "namespaces: 'payments' is not a list of resources — pass a list, e.g. [resource]",
    ]


def test_a_workload_role_reports_every_mistake_and_registers_nothing(mocked: Mocked):
    args = WorkloadRoleArgs(
        namespace="Payments",
        service_account="api_sa",
        oidc_provider_arn=f"arn:aws:iam::{ACCT}:oidc-provider",
        oidc_issuer="",
        k8s_provider=None,  # type: ignore[arg-type]
        policy_statements=[
            {"Effect": "allow", "Actions": ["s3:GetObject"], "Resource": "arn:aws:s3:::b/*"},
            "s3:*",  # type: ignore[list-item]
            {"Effect": "Allow", "Action": [], "NotResource": 3},
        ],
        managed_policies={"ReadOnly": "ReadOnlyAccess"},
        create_service_account="no",  # type: ignore[arg-type]
    )
    keys = "(allowed: Sid, Effect, Action, NotAction, Resource, NotResource, Condition)"
    assert refused(mocked, lambda: WorkloadRole("api", args), "WorkloadRole 'api'") == [
        f"namespace: 'Payments' {NOT_A_NAMESPACE}",
        "service_account: 'api_sa' is not a ServiceAccount name (a DNS-1123 subdomain) — "
        "use lowercase letters, digits, '-' and '.'",
        f"oidc_provider_arn: 'arn:aws:iam::{ACCT}:oidc-provider' is not an IAM OIDC provider ARN — "
        "pass the cluster's, arn:aws:iam::<account>:oidc-provider/oidc.eks.<region>.amazonaws.com/id/<id>",
        "oidc_issuer: '' (empty) is not an OIDC issuer — pass the cluster's, "
        "e.g. 'oidc.eks.us-east-1.amazonaws.com/id/<id>'",
        NO_PROVIDER,
        f"policy_statements[0].Actions: 'Actions' is not an identity-policy statement key — "
        f"did you mean 'Action'? {keys}",
        "policy_statements[0].Effect: 'allow' is not an IAM effect — did you mean 'Allow'? (allowed: Allow, Deny)",
        "policy_statements[0].Action: None is missing — add Action, e.g. 's3:GetObject'",
        "policy_statements[1]: 's3:*' is not an IAM statement — write a dict with Effect, Action, Resource",
        "policy_statements[2].Action: [] is not a string or a non-empty list of strings — write e.g. ['s3:GetObject']",
        "policy_statements[2].NotResource: 3 is not a string or a non-empty list of strings — write e.g. ['*']",
        "managed_policies.ReadOnly: 'ReadOnly' is not a policy key — use lowercase letters, digits and '-': "
        "it names the attachment",
        "managed_policies.ReadOnly: 'ReadOnlyAccess' is not an IAM managed policy ARN — "
        "write arn:aws:iam::aws:policy/<name> or arn:aws:iam::<account>:policy/<name>",
        "create_service_account: 'no' is not True or False — pass a bool",
    ]


# ------------------------------------------------------------------ valid inputs


PRINCIPALS = [
    Principal(arn=f"arn:aws:iam::{ACCT}:role/platform-admins", access="cluster-admin", creator=True),
    Principal(arn=f"arn:aws:iam::{ACCT}:role/teams/developers", access="edit", namespaces=["payments"]),
    Principal(arn=f"arn:aws:iam::{ACCT}:user/alice", access="view", username="alice"),
]


def test_valid_inputs_are_accepted_and_build(mocked: Mocked):
    # Inputs known only once resources exist (argo's statements naming its bucket, the
    # controller's policy ARN) are Outputs: accepted here, checked by AWS when they resolve.
    def program() -> None:
        provider = k8s.Provider("k8s", kubeconfig="{}")
        oidc: dict[str, Any] = {"oidc_provider_arn": OIDC_ARN, "oidc_issuer": ISSUER, "k8s_provider": provider}
        system = {
            "node_selector": {"slipway.dev/pool": "system"},
            "tolerations": [{"key": "CriticalAddonsOnly", "operator": "Exists", "effect": "NoSchedule"}],
        }
        Registry("ecr", RegistryArgs(repositories=["api", "tools/etl"], prefix="slipway-dev/", kms=True))
        LoadBalancerController(
            "lbc",
            LoadBalancerControllerArgs(
                cluster_name="demo", region="us-gov-west-1", vpc_id="vpc-0abc", **oidc, **system
            ),
        )
        MetricsServer("metrics", MetricsServerArgs(k8s_provider=provider, **system))
        Namespaces(
            "ns",
            NamespacesArgs(
                names=["argo", "payments", "default"], k8s_provider=provider, enforce={"payments": "restricted"}
            ),
        )
        sso = ArgoSso(
            issuer="https://login.example.com",
            redirect_url="https://argo.example.com/oauth2/callback",
            client_id="argo",
            client_secret=pulumi.Output.secret("s3cr3t"),
            roles=(SsoRoleBinding(group=None, access="view"), SsoRoleBinding(group="Platform Admins", access="admin")),
        )
        template = WorkflowTemplateSpec(
            name="hello", image="python:3.12.7-slim", cpu="0.5", memory="1Gi", parameters=[Parameter(name="who")]
        )
        ArgoWorkflows(
            "argo",
            ArgoWorkflowsArgs(
                namespace="argo",
                region="us-east-1",
                node_selector={},
                auth_mode="sso",
                sso=sso,
                bucket_name="slipway-dev-argo-artifacts",
                workflow_templates=[template],
                **oidc,
            ),
        )
        ClusterAccess(
            "access", ClusterAccessArgs(cluster_name="demo", authentication_mode="API", principals=PRINCIPALS)
        )
        AwsAuthBindings("bindings", AwsAuthBindingsArgs(principals=PRINCIPALS, k8s_provider=provider))
        WorkloadRole(
            "reader",
            WorkloadRoleArgs(
                namespace="payments",
                service_account="reader",
                policy_statements=[{"Effect": "Allow", "Action": "s3:GetObject", "Resource": ["arn:aws:s3:::b/*"]}],
                managed_policies={"readonly": "arn:aws:iam::aws:policy/ReadOnlyAccess"},
                **oidc,
            ),
        )

    mocked.build(program)
    for token in (
        "slipway:registry:Registry",
        "slipway:lbc:LoadBalancerController",
        "slipway:metrics:MetricsServer",
        "slipway:namespaces:Namespaces",
        "slipway:argo:ArgoWorkflows",
        "slipway:argo_sso:ArgoSsoRbac",
        "slipway:access:ClusterAccess",
        "slipway:access:AwsAuthBindings",
    ):
        assert mocked.count(token) == 1, token
    assert mocked.count("slipway:access:WorkloadRole") == 4  # lbc's, argo's two, the reader
    assert mocked.count("kubernetes:argoproj.io/v1alpha1:WorkflowTemplate") == 1


def test_a_cluster_with_a_bad_principal_registers_nothing(mocked: Mocked):
    """Before, EksCluster let a session ARN through and its child ClusterAccess refused it
    only after the control plane and node role were registered."""
    from slipway.components.access import Principal
    from slipway.components.cluster import EksCluster, EksClusterArgs, NodePoolArgs

    session = "arn:aws:sts::123456789012:assumed-role/admins/alice"
    args = EksClusterArgs(
        cluster_name="demo", version="1.34", vpc_id="vpc-1",
        private_subnet_ids={"us-east-1a": "subnet-a", "us-east-1b": "subnet-b"},
        public_subnet_ids={"us-east-1a": "subnet-c", "us-east-1b": "subnet-d"},
        node_pools={"general": NodePoolArgs(instance_types=["m6i.large"])},
        principals=[Principal(arn=session, access="view")],
    )  # fmt: skip
    messages = refused(mocked, lambda: EksCluster("c", args), "EksCluster 'c'")
    assert len(messages) == 1 and messages[0].startswith(f"principals[0].arn: {session!r} ")


def test_an_app_whose_role_statement_lacks_a_resource_registers_nothing(mocked: Mocked):
    """App's own check applies WorkloadRole's statement rule (its child would refuse later)."""
    from slipway.components.app import App, AppArgs
    from slipway.components.app_spec import AppSpec, Image, Resources, ServiceAccountSpec

    spec = AppSpec(
        image=Image(repository="registry.example.com/api", tag="1"),
        resources=Resources(requests={"cpu": "100m", "memory": "64Mi"}, limits={"memory": "64Mi"}),
        service_account=ServiceAccountSpec(policy_statements=[{"Effect": "Allow", "Action": "s3:GetObject"}]),
    )
    provider_args = {"oidc_provider_arn": "arn:aws:iam::123456789012:oidc-provider/x", "oidc_issuer": "x"}

    def build() -> None:
        provider = k8s.Provider("k8s", kubeconfig="{}")
        App("api", AppArgs(spec=spec, namespace="api", part_of="p", cluster_name="c", k8s_provider=provider,
                           **provider_args))  # fmt: skip

    with pytest.raises(ArgsError) as err:
        mocked.build(build)
    assert any(m.startswith("spec.service_account.policy_statements[0]") for m in err.value.messages), err.value
    assert [r.type for r in mocked.records] == ["pulumi:providers:kubernetes"]
