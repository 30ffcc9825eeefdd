"""Add-ons: ECR, the AWS Load Balancer Controller and Argo Workflows, as rendered."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from slipway.cli.render import RenderResult, kubernetes_objects, run_program, write_render
from slipway.components import argo, argo_sso, metrics_server
from slipway.components import load_balancer_controller as lbc
from slipway.components.iam import irsa_trust_policy
from slipway.components.registry import lifecycle_policy
from slipway.program.capacity import plan_cluster
from slipway.program.config import ConfigError, parse_config_values
from slipway.program.config.schema import DNS1123_LABEL
from slipway.testing import Recorded, Template

from tests.helpers import stack_version

CHARTS = Path(__file__).parent / "data" / "charts"
SERVICE_ACCOUNT, SECRET = "kubernetes:core/v1:ServiceAccount", "kubernetes:core/v1:Secret"
ROLE = "kubernetes:rbac.authorization.k8s.io/v1:Role"
ROLE_BINDING = "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding"
ISSUER_PREFIX = "oidc.eks.us-east-1.amazonaws.com/id/"
RELEASE = "kubernetes:helm.sh/v3:Release"


def release(result: RenderResult, chart: str) -> Recorded:
    """The one Helm release of `chart` in a render."""
    return Template(result.records).one(RELEASE, props={"chart": chart})


# ------------------------------------------------------------------ charts pinned, values real


def test_charts_are_pinned(prod):
    lb, wf = release(prod, lbc.CHART), release(prod, argo.CHART)
    assert (lb.inputs["chart"], lb.inputs["version"], lb.inputs["repositoryOpts"]["repo"]) == (
        "aws-load-balancer-controller",
        "3.5.0",
        "https://aws.github.io/eks-charts",
    )
    assert (wf.inputs["chart"], wf.inputs["version"], wf.inputs["repositoryOpts"]["repo"]) == (
        "argo-workflows",
        "1.0.18",
        "https://argoproj.github.io/argo-helm",
    )
    assert lb.inputs["namespace"] == "kube-system" and wf.inputs["namespace"] == "argo"
    assert lb.inputs["skipAwait"] is False and wf.inputs["skipAwait"] is False  # wait until ready


# Maps whose keys are the user's own (label keys, annotation keys), whatever the default holds,
# and `resources`, a Kubernetes ResourceRequirements the charts pass through verbatim
# (metrics-server's default shows only `requests`, its `limits` commented out).
FREE_FORM = {"resources", "nodeSelector", "annotations", "labels", "podAnnotations", "podLabels", "serviceAnnotations"}


def unknown_keys(values: Any, defaults: Any, path: str = "") -> list[str]:
    """Keys we set that the chart's values.yaml does not have.

    Below a key whose default is an empty map (or null/""), the chart takes free-form
    content (workflowDefaults, artifactRepository.s3 …), as it does for label and
    annotation maps: anything goes there.
    """
    if not isinstance(values, dict) or path.rstrip(".").rsplit(".", 1)[-1] in FREE_FORM:
        return []
    if not isinstance(defaults, dict) or not defaults:
        return []
    missing = []
    for key, value in values.items():
        if key not in defaults:
            missing.append(f"{path}{key}")
        else:
            missing += unknown_keys(value, defaults[key], f"{path}{key}.")
    return missing


@pytest.mark.parametrize(
    "chart, file",
    [(lbc.CHART, "aws-load-balancer-controller-chart-3.5.0-values.yaml"),
     (argo.CHART, "argo-workflows-chart-1.0.18-values.yaml"),
     (metrics_server.CHART, "metrics-server-chart-3.13.1-values.yaml")],
)  # fmt: skip
def test_every_helm_value_is_a_real_key_of_the_pinned_chart(prod, chart, file):
    defaults = yaml.safe_load((CHARTS / file).read_text())
    assert file.split("-chart-")[1].removesuffix("-values.yaml") == release(prod, chart).inputs["version"]
    assert unknown_keys(release(prod, chart).inputs["values"], defaults) == []


def test_the_key_check_catches_a_typo():
    defaults = yaml.safe_load((CHARTS / "argo-workflows-chart-1.0.18-values.yaml").read_text())
    assert unknown_keys({"server": {"authMode": ["client"]}}, defaults) == []  # exists (deprecated single form)
    assert unknown_keys({"server": {"authModez": ["client"]}}, defaults) == ["server.authModez"]
    assert unknown_keys({"crds": {"ful": False}}, defaults) == ["crds.ful"]


# ------------------------------------------------------------------ Load Balancer Controller


def test_lbc_policy_is_exactly_upstream(prod):
    (policy,) = [r for r in prod.by_type("aws:iam/policy:Policy") if r.name == "lbc-policy"]
    assert json.loads(policy.inputs["policy"]) == lbc.iam_policy()
    doc = lbc.iam_policy()
    assert len(doc["Statement"]) == 16
    assert "elasticloadbalancing:DescribeListenerAttributes" in json.dumps(doc)  # the action stale copies miss


# sha256 of kubernetes-sigs/aws-load-balancer-controller docs/install/iam_policy.json per
# release tag: moving CHART_VERSION needs that release's file and digest here.
UPSTREAM_POLICY_SHA256 = {"3.5.0": "16f232c9d9f79366fe949c4550ad517a202380058a9e48d45a4e215044a20a6a"}


def test_lbc_policy_file_is_upstreams_for_the_chart_pin():
    import hashlib

    assert lbc.POLICY_FILE.name == f"aws-load-balancer-controller-v{lbc.CHART_VERSION}-iam_policy.json"
    digest = hashlib.sha256(lbc.POLICY_FILE.read_bytes()).hexdigest()
    assert digest == UPSTREAM_POLICY_SHA256[lbc.CHART_VERSION], "the policy file differs from upstream's"


def test_lbc_values(prod):
    v = release(prod, lbc.CHART).inputs["values"]
    assert v["clusterName"] == "slipway-prod" and v["region"] == "us-east-1"
    (vpc,) = prod.by_type("aws:ec2/vpc:Vpc")
    assert v["vpcId"] == vpc.id  # required with IMDS hop limit 1
    assert v["serviceAccount"] == {"create": False, "name": "aws-load-balancer-controller"}
    assert v["replicaCount"] == 2 and v["podDisruptionBudget"] == {"maxUnavailable": 1}
    assert v["nodeSelector"] == {"slipway.dev/pool": "system"}  # prod has a system pool
    assert v["tolerations"] == [{"key": "CriticalAddonsOnly", "operator": "Equal", "value": "true",
                                 "effect": "NoSchedule"}]  # fmt: skip
    # Chart 3.5.0 defaults keepTLSSecret to false: every upgrade would run genCA again and the
    # running pods would serve a certificate the new caBundle does not trust (x509 errors).
    assert v["keepTLSSecret"] is True


def test_lbc_without_a_dedicated_system_pool_runs_anywhere(dev):
    v = release(dev, lbc.CHART).inputs["values"]
    assert v["nodeSelector"] == {} and v["tolerations"] == []


def _trust(result, role_name: str) -> dict:
    (role,) = [r for r in result.by_type("aws:iam/role:Role") if r.name == role_name]
    return json.loads(role.inputs["assumeRolePolicy"])


def _oidc(result) -> tuple[str, str]:
    (eks,) = result.by_type("eks:index:Cluster")
    arn = next(r for r in result.records if r.urn == eks.urn).state["oidcProviderArn"]
    return arn, arn.split("oidc-provider/")[1]


def test_exact_trust_policies(prod):
    arn, issuer = _oidc(prod)
    assert issuer.startswith(ISSUER_PREFIX)
    assert _trust(prod, "lbc-irsa-role") == irsa_trust_policy(
        arn, issuer, "kube-system", "aws-load-balancer-controller"
    )
    assert _trust(prod, "argo-argo-workflow-role") == irsa_trust_policy(arn, issuer, "argo", "argo-workflow")
    assert _trust(prod, "argo-argo-server-role") == irsa_trust_policy(arn, issuer, "argo", "argo-server")


def test_lbc_service_account_and_release_order(prod):
    (sa,) = [r for r in prod.by_type("kubernetes:core/v1:ServiceAccount") if r.name == "lbc-irsa-sa"]
    role = next(r for r in prod.by_type("aws:iam/role:Role") if r.name == "lbc-irsa-role")
    assert sa.inputs["metadata"]["annotations"]["eks.amazonaws.com/role-arn"] == role.state["arn"]
    rel = release(prod, lbc.CHART)
    groups = {r.urn for r in prod.by_type("eks:index:ManagedNodeGroup")}
    assert groups <= set(rel.dependencies)  # pods need nodes before the release can be ready


# ------------------------------------------------------------------ Argo


def test_argo_is_pinned_to_its_pool_everywhere(prod):
    v = release(prod, argo.CHART).inputs["values"]
    selector = {"slipway.dev/pool": "argo"}
    toleration = [{"key": "dedicated", "operator": "Equal", "value": "argo", "effect": "NoSchedule"}]
    for where in (v["controller"], v["server"], v["controller"]["workflowDefaults"]["spec"]):
        assert where["nodeSelector"] == selector and where["tolerations"] == toleration


def test_argo_crds_need_no_github(prod):
    assert release(prod, argo.CHART).inputs["values"]["crds"] == {"install": True, "full": False, "keep": True}


def test_argo_auth_and_ingress(prod, dev):
    p = release(prod, argo.CHART).inputs["values"]["server"]
    assert p["authModes"] == ["sso"]
    assert p["sso"] == {
        "enabled": True,
        "issuer": "https://login.example.com",
        "clientId": {"name": "argo-server-sso", "key": "client-id"},
        "clientSecret": {"name": "argo-server-sso", "key": "client-secret"},
        "redirectUrl": "https://argo.internal.example.com/oauth2/callback",
        "scopes": ["groups"],
        "rbac": {
            "enabled": True,
            "secretWhitelist": [
                "argo-server-sso",
                "argo-sso-group-developers.service-account-token",
                "argo-sso-group-oncall.service-account-token",
                "argo-sso-group-platform-admins.service-account-token",
            ],
        },
    }
    (secret,) = [
        r for r in prod.by_type("kubernetes:core/v1:Secret") if r.inputs["metadata"]["name"] == "argo-server-sso"
    ]
    assert secret.inputs["stringData"] == {"client-id": "[secret]", "client-secret": "[secret]"}
    assert secret.urn in release(prod, argo.CHART).dependencies
    (ing,) = [r for r in prod.by_type("kubernetes:networking.k8s.io/v1:Ingress") if r.name == "argo-server-ingress"]
    ann = ing.inputs["metadata"]["annotations"]
    assert ann["alb.ingress.kubernetes.io/scheme"] == "internal"
    assert ann["alb.ingress.kubernetes.io/ssl-redirect"] == "443"
    backend = ing.inputs["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]
    assert backend == {"name": "argo-workflows-server", "port": {"number": 2746}}
    # A Pulumi Ingress after the controller: on destroy it goes first, and the ALB with it.
    assert release(prod, lbc.CHART).urn in ing.dependencies and release(prod, argo.CHART).urn in ing.dependencies
    d = release(dev, argo.CHART).inputs["values"]["server"]
    assert d["authModes"] == ["client"] and "sso" not in d


def test_argo_release_waits_for_the_controller(prod, dev):
    # The chart creates Services: the controller's webhooks must have endpoints first.
    assert release(prod, lbc.CHART).urn in release(prod, argo.CHART).dependencies
    assert release(dev, lbc.CHART).urn in release(dev, argo.CHART).dependencies


def test_executor_rbac(prod):
    (role,) = [r for r in prod.by_type(ROLE) if r.inputs["metadata"]["name"] == "argo-workflow-executor"]
    assert {
        "apiGroups": ["argoproj.io"],
        "resources": ["workflowtaskresults"],
        "verbs": ["create", "patch"],
    } in role.inputs["rules"]
    (binding,) = [b for b in prod.by_type(ROLE_BINDING) if b.inputs["metadata"]["name"] == "argo-workflow-executor"]
    assert binding.inputs["subjects"] == [{"kind": "ServiceAccount", "name": "argo-workflow", "namespace": "argo"}]
    v = release(prod, argo.CHART).inputs["values"]
    assert v["controller"]["workflowDefaults"]["spec"]["serviceAccountName"] == "argo-workflow"
    assert v["workflow"] == {"serviceAccount": {"create": False, "name": "argo-workflow"}, "rbac": {"create": False}}


def test_artifacts_through_irsa_with_fsgroup(prod):
    v = release(prod, argo.CHART).inputs["values"]
    assert v["useStaticCredentials"] is False
    s3 = v["artifactRepository"]["s3"]
    (bucket,) = prod.by_type("aws:s3/bucket:Bucket")
    assert s3["bucket"] == bucket.state["bucket"] and s3["useSDKCreds"] is True
    assert v["controller"]["workflowDefaults"]["spec"]["securityContext"]["fsGroup"] == 65534
    assert v["server"]["podSecurityContext"]["fsGroup"] == 65534
    server_role = next(r for r in prod.by_type("aws:iam/role:Role") if r.name == "argo-argo-server-role")
    assert v["server"]["serviceAccount"]["annotations"]["eks.amazonaws.com/role-arn"] == server_role.state["arn"]
    policies = {r.name: json.loads(r.inputs["policy"]) for r in prod.by_type("aws:iam/rolePolicy:RolePolicy")}
    actions = {n: {a for s in p["Statement"] for a in s["Action"]} for n, p in policies.items()}
    assert "s3:PutObject" in actions["argo-argo-workflow-policy"]
    assert "s3:PutObject" not in actions["argo-argo-server-policy"]  # the server only reads


def test_bucket_is_private_encrypted_tls_only_and_expires(prod):
    (pab,) = prod.by_type("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock")
    assert all(pab.inputs[k] is True for k in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls",
                                                "restrictPublicBuckets"))  # fmt: skip
    (sse,) = prod.by_type("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration")
    assert sse.inputs["rules"][0]["applyServerSideEncryptionByDefault"]["sseAlgorithm"] == "aws:kms"
    (policy,) = prod.by_type("aws:s3/bucketPolicy:BucketPolicy")
    statement = json.loads(policy.inputs["policy"])["Statement"][0]
    assert statement["Effect"] == "Deny" and statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    (lifecycle,) = prod.by_type("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration")
    assert lifecycle.inputs["rules"][0]["expiration"] == {"days": 90}
    (bucket,) = prod.by_type("aws:s3/bucket:Bucket")
    assert bucket.options.get("protect") is True and bucket.inputs["forceDestroy"] is False


def test_workflow_templates_after_the_release(prod):
    templates = {
        r.inputs["metadata"]["name"]: r for r in prod.by_type("kubernetes:argoproj.io/v1alpha1:WorkflowTemplate")
    }
    assert set(templates) == {"run-python", "db-backup"}
    backup = templates["db-backup"]
    assert release(prod, argo.CHART).urn in backup.dependencies
    spec = backup.inputs["spec"]
    container = spec["templates"][0]["container"]
    assert container["image"].endswith("/slipway-prod/worker:1.8.3")
    assert container["args"] == ["--target", "{{inputs.parameters.target}}"]
    assert container["resources"] == {"requests": {"cpu": "500m", "memory": "512Mi"}, "limits": {"memory": "512Mi"}}
    assert spec["arguments"]["parameters"] == [{"name": "target"}]


# ------------------------------------------------------------------ Argo SSO RBAC


def sso_accounts(result) -> dict[str, Any]:
    """The ServiceAccounts argo-server may act as for SSO users: annotated with an RBAC
    rule, in argo-server's own namespace (the only one it lists without delegation)."""
    ns = release(result, argo.CHART).inputs["namespace"]
    return {
        r.inputs["metadata"]["name"]: r
        for r in result.by_type(SERVICE_ACCOUNT)
        if argo_sso.RULE_ANNOTATION in (r.inputs["metadata"].get("annotations") or {})
        and r.inputs["metadata"]["namespace"] == ns
    }


def acting_account(annotations: dict[str, dict[str, str]], groups: list[str] | None) -> str | None:
    """Which ServiceAccount argo-server v4.0.6 acts as for a user (server/auth/gatekeeper.go
    getServiceAccount): highest precedence first, the first rule that holds; None: denied.
    Evaluates only the two rule shapes slipway writes; `groups` None: no groups claim."""

    def holds(rule: str) -> bool:
        if rule == "true":
            return True
        m = re.fullmatch(r'(".*") in \$env\?\.groups', rule)
        assert m, f"not a rule shape slipway writes: {rule}"
        return json.loads(m.group(1)) in (groups or [])

    by_precedence = sorted(annotations.items(), key=lambda kv: -int(kv[1][argo_sso.PRECEDENCE_ANNOTATION]))
    return next((name for name, ann in by_precedence if holds(ann[argo_sso.RULE_ANNOTATION])), None)


def test_sso_rbac_always_has_a_rule(prod):
    # With SSO RBAC on, argo-server denies every login that no ServiceAccount's rule matches.
    server = release(prod, argo.CHART).inputs["values"]["server"]
    assert server["authModes"] == ["sso"] and server["sso"]["rbac"]["enabled"] is True
    assert sso_accounts(prod), "SSO RBAC is on but no ServiceAccount has a workflows.argoproj.io/rbac-rule"


def test_sso_rbac_objects_fit_together(prod):
    accounts = sso_accounts(prod)
    ann = {name: sa.inputs["metadata"]["annotations"] for name, sa in accounts.items()}
    # prod: defaultAccess none, so no `true` rule: only the listed groups get in.
    assert {name: a[argo_sso.RULE_ANNOTATION] for name, a in ann.items()} == {
        "argo-sso-group-platform-admins": '"platform-admins" in $env?.groups',
        "argo-sso-group-oncall": '"oncall" in $env?.groups',
        "argo-sso-group-developers": '"developers" in $env?.groups',
    }
    prec = {name.removeprefix("argo-sso-group-"): int(a[argo_sso.PRECEDENCE_ANNOTATION]) for name, a in ann.items()}
    assert prec["platform-admins"] > prec["oncall"] > prec["developers"] > 0
    roles = {r.inputs["metadata"]["name"]: r for r in prod.by_type(ROLE) if r.inputs["metadata"]["namespace"] == "argo"}
    bindings = {b.inputs["metadata"]["name"]: b for b in prod.by_type(ROLE_BINDING)}
    secrets = {s.inputs["metadata"]["name"]: s for s in prod.by_type(SECRET)}
    for name, sa in accounts.items():
        assert sa.inputs["automountServiceAccountToken"] is False, sa.urn
        token = secrets.get(f"{name}.service-account-token")  # the name argo-server looks up
        assert token is not None, f"{sa.urn}: no token Secret argo-server can find"
        assert token.inputs["type"] == "kubernetes.io/service-account-token", token.urn
        assert token.inputs["metadata"]["namespace"] == "argo", token.urn
        assert token.inputs["metadata"]["annotations"] == {"kubernetes.io/service-account.name": name}, token.urn
        assert sa.urn in token.dependencies, token.urn  # a token Secret without its account is deleted
        binding = bindings[name]
        subject = {"kind": "ServiceAccount", "name": name, "namespace": "argo"}
        assert binding.inputs["subjects"] == [subject], binding.urn
        assert binding.inputs["roleRef"]["kind"] == "Role" and binding.inputs["roleRef"]["name"] in roles, binding.urn
        assert release(prod, argo.CHART).urn not in sa.dependencies  # usable as soon as argo-server is up
    assert {name: bindings[name].inputs["roleRef"]["name"] for name in accounts} == {
        "argo-sso-group-platform-admins": "argo-sso-admin",
        "argo-sso-group-oncall": "argo-sso-edit",
        "argo-sso-group-developers": "argo-sso-view",
    }
    for access in ("view", "edit", "admin"):
        assert roles[f"argo-sso-{access}"].inputs["rules"] == argo_sso.role_rules(access)
    # argo-server may read exactly these Secrets (the chart's default: every Secret in the cluster).
    whitelist = release(prod, argo.CHART).inputs["values"]["server"]["sso"]["rbac"]["secretWhitelist"]
    assert set(whitelist) == {"argo-server-sso"} | {f"{name}.service-account-token" for name in accounts}


def test_sso_users_get_their_highest_group(prod):
    ann = {name: sa.inputs["metadata"]["annotations"] for name, sa in sso_accounts(prod).items()}
    assert acting_account(ann, ["developers", "platform-admins"]) == "argo-sso-group-platform-admins"
    assert acting_account(ann, ["developers", "oncall"]) == "argo-sso-group-oncall"
    assert acting_account(ann, ["developers"]) == "argo-sso-group-developers"
    assert acting_account(ann, ["marketing"]) is None  # prod: defaultAccess none
    assert acting_account(ann, None) is None


def test_sso_default_access_is_the_lowest_rule(tmp_path):
    stack = _prod_stack()
    argo_cfg = stack.values["slipway:argo"]
    stack.values = stack.values | {"slipway:argo": argo_cfg | {"sso": argo_cfg["sso"] | {"defaultAccess": "view"}}}
    stack.validate()
    result = write_render(stack, run_program(stack), tmp_path / "out")
    accounts = sso_accounts(result)
    ann = {name: sa.inputs["metadata"]["annotations"] for name, sa in accounts.items()}
    assert ann["argo-sso-default"] == {argo_sso.RULE_ANNOTATION: "true", argo_sso.PRECEDENCE_ANNOTATION: "0"}
    assert all(int(a[argo_sso.PRECEDENCE_ANNOTATION]) > 0 for n, a in ann.items() if n != "argo-sso-default")
    # Users without a groups claim still reach the default: no rule reads a missing `groups`.
    assert acting_account(ann, None) == acting_account(ann, ["marketing"]) == "argo-sso-default"
    assert acting_account(ann, ["platform-admins"]) == "argo-sso-group-platform-admins"
    (binding,) = [b for b in result.by_type(ROLE_BINDING) if b.inputs["metadata"]["name"] == "argo-sso-default"]
    assert binding.inputs["roleRef"]["name"] == "argo-sso-view"


def test_sso_manifests_pass_strict_schema_validation(prod):
    rendered = [
        m for path, m in kubernetes_objects(prod.records).items()
        if not path.startswith("kubernetes/helm/") and m["metadata"]["name"].startswith("argo-sso-")
    ]  # fmt: skip
    assert {m["kind"] for m in rendered} == {"ServiceAccount", "Secret", "Role", "RoleBinding"}
    roles = (argo_sso.SsoRoleBinding(group=None, access="view"),
             argo_sso.SsoRoleBinding(group="CN=Argo Admins,OU=Groups", access="admin"))  # fmt: skip
    built = [argo_sso.role(a, "argo") for a in argo_sso.access_levels(roles)] + [
        f(r, "argo") for r in roles for f in (argo_sso.service_account, argo_sso.token_secret, argo_sso.role_binding)
    ]
    version = stack_version("prod")
    for m in rendered + built:
        kubernetes_validate.validate(m, version, strict=True)


def test_sso_rules_quote_any_group_name():
    assert argo_sso.rbac_rule(None) == "true"
    assert argo_sso.rbac_rule("platform-admins") == '"platform-admins" in $env?.groups'
    # expr-lang reads JSON string escapes: a quote in a group name cannot end the literal.
    assert argo_sso.rbac_rule('a" || true || "b') == '"a\\" || true || \\"b" in $env?.groups'
    assert acting_account({"x": {argo_sso.RULE_ANNOTATION: argo_sso.rbac_rule('a" || true || "b'),
                                 argo_sso.PRECEDENCE_ANNOTATION: "30"}}, ["other"]) is None  # fmt: skip


@pytest.mark.parametrize(
    "group, name",
    [("platform-admins", "argo-sso-group-platform-admins"),
     ("ac1ef805-ac6a-4ce9-854a-1cb406aa7121", "argo-sso-group-ac1ef805-ac6a-4ce9-854a-1cb406aa7121"),
     ("Platform Admins", "argo-sso-group-platform-admins-2cf96495"),
     ("CN=Argo Admins,OU=Groups", None), ("g" * 100, None), ("!!!", None)],
)  # fmt: skip
def test_sso_account_names_are_dns_labels_keyed_by_group(group, name):
    got = argo_sso.service_account_name(argo_sso.SsoRoleBinding(group=group, access="view"))
    assert DNS1123_LABEL.match(got) and len(got) <= 63, got
    assert got == (name or got)
    assert got != argo_sso.service_account_name(argo_sso.SsoRoleBinding(group=group.upper() + "x", access="view"))
    assert got != "argo-sso-default"


def test_sso_access_levels_only_grow():
    def grants(access: str) -> set[tuple[str, str, str]]:
        return {(g, r, v) for rule in argo_sso.role_rules(access) for g in rule["apiGroups"]
                for r in rule["resources"] for v in rule["verbs"]}  # fmt: skip

    view, edit, admin = grants("view"), grants("edit"), grants("admin")
    assert view < edit < admin
    assert {v for _, _, v in view} == {"get", "list", "watch"}
    assert ("argoproj.io", "workflows", "create") in edit and ("", "pods", "delete") in edit  # retry deletes pods
    assert not {(g, r, v) for g, r, v in edit - view if r != "workflows" and r != "pods"}  # templates: read-only
    assert ("argoproj.io", "workflowtemplates", "update") in admin
    assert not {t for t in admin if t[1] in ("secrets", "serviceaccounts", "roles", "rolebindings")}
    assert argo_sso.PRECEDENCE["admin"] > argo_sso.PRECEDENCE["edit"] > argo_sso.PRECEDENCE["view"] > 0


def test_sso_component_refuses_a_mapping_that_denies_everyone():
    sso_roles = argo_sso.SsoRoleBinding
    with pytest.raises(ValueError, match="at least one role binding"):
        argo_sso.check_roles(())
    with pytest.raises(ValueError, match="'admins' is bound twice"):
        argo_sso.check_roles((sso_roles(group="admins", access="admin"), sso_roles(group="admins", access="view")))
    with pytest.raises(ValueError, match="'\\(everyone\\)' is bound twice"):
        argo_sso.check_roles((sso_roles(group=None, access="view"), sso_roles(group=None, access="view")))
    with pytest.raises(ValueError, match="empty"):
        argo_sso.check_roles((sso_roles(group=" ", access="view"),))
    with pytest.raises(ValueError, match="'owner' is not one of view, edit, admin"):
        argo_sso.check_roles((sso_roles(group="a", access="owner"),))  # type: ignore[arg-type]


# ------------------------------------------------------------------ ECR


def test_ecr_per_stack(dev, prod):
    for result, kms, protected in ((dev, "AES256", False), (prod, "KMS", True)):
        repos = {r.inputs["name"]: r for r in result.by_type("aws:ecr/repository:Repository")}
        cluster = "slipway-prod" if protected else "slipway-dev"
        assert set(repos) == {f"{cluster}/{n}" for n in ("web", "api", "worker")}
        for r in repos.values():
            assert r.inputs["imageTagMutability"] == "IMMUTABLE", r.urn
            assert r.inputs["imageScanningConfiguration"] == {"scanOnPush": True}, r.urn
            assert r.inputs["encryptionConfigurations"] == [{"encryptionType": kms}], r.urn
            assert r.inputs["forceDelete"] is (not protected), r.urn
            assert bool(r.options.get("protect")) is protected, r.urn
    outputs = prod.outputs["ecrRepositoryUrls"]
    assert outputs["api"] == "123456789012.dkr.ecr.us-east-1.amazonaws.com/slipway-prod/api"


def test_ecr_lifecycle_policy():
    rules = lifecycle_policy(7, 20)["rules"]
    assert rules[0]["selection"] == {"tagStatus": "untagged", "countType": "sinceImagePushed", "countUnit": "days",
                                     "countNumber": 7}  # fmt: skip
    assert rules[1]["selection"]["countType"] == "imageCountMoreThan" and rules[1]["selection"]["countNumber"] == 20


# ------------------------------------------------------------------ planner and config


def test_addon_pods_are_planned_on_their_pools(prod):
    cfg = _prod_stack().parse()
    plan = plan_cluster(cfg, "us-east-1")
    names = {pool: {w.name for w in r.demand.workloads} for pool, r in plan.pools.items()}
    assert {"coredns", "aws-load-balancer-controller"} <= names["system"]
    assert {"argo-workflows-controller", "argo-workflows-server"} <= names["argo"]


def test_metrics_server_is_installed_where_an_hpa_needs_it(prod, dev):
    ms = release(prod, "metrics-server")
    assert (ms.inputs["version"], ms.inputs["repositoryOpts"]["repo"], ms.inputs["namespace"]) == (
        "3.13.1", "https://kubernetes-sigs.github.io/metrics-server/", "kube-system")  # fmt: skip
    values = ms.inputs["values"]
    assert values["replicas"] == 2 and values["podDisruptionBudget"] == {"enabled": True, "maxUnavailable": 1}
    assert values["nodeSelector"] == {"slipway.dev/pool": "system"}  # prod's system pool is tainted: tolerate it
    assert {"key": "CriticalAddonsOnly", "operator": "Equal", "value": "true", "effect": "NoSchedule"} in values[
        "tolerations"
    ]
    assert prod.by_type("kubernetes:autoscaling/v2:HorizontalPodAutoscaler")  # the reason it is there
    assert not dev.by_type("kubernetes:autoscaling/v2:HorizontalPodAutoscaler")
    Template(dev.records).resource_count_is(RELEASE, 0, {"chart": "metrics-server"})


def test_metrics_server_follows_autoscaling_unless_configured():
    plain_app = {
        "web": {
            "image": {"repository": "web", "tag": "1.0.0"},
            "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"memory": "256Mi"}},
        }
    }
    hpa_app = {"web": {**plain_app["web"], "autoscaling": {"minReplicas": 2, "maxReplicas": 4}}}
    assert parse_config_values({"apps": hpa_app}, region="us-east-1").wants_metrics_server
    assert not parse_config_values({"apps": plain_app}, region="us-east-1").wants_metrics_server
    assert parse_config_values(
        {"apps": plain_app, "metricsServer": {"enabled": True}}, region="us-east-1"
    ).wants_metrics_server
    off = parse_config_values({"apps": hpa_app, "metricsServer": {"enabled": False}}, region="us-east-1")
    assert not off.wants_metrics_server


def test_metrics_server_pods_are_planned_on_the_system_pool():
    plan = plan_cluster(_prod_stack().parse(), "us-east-1")
    (ms,) = [w for w in plan.pools["system"].demand.workloads if w.name == "metrics-server"]
    assert (ms.replicas, ms.cpu_m, ms.memory_mib) == (2, 100, 200)


def _prod_stack():
    from slipway.cli.render import ROOT
    from slipway.program.stackfile import load_stack_file

    return load_stack_file("prod", ROOT)


def errors(values: dict) -> list[str]:
    with pytest.raises(ConfigError) as exc:
        parse_config_values(values, region="us-east-1")
    return exc.value.messages


def test_argo_config_errors():
    msgs = errors({
        "argo": {
            "enabled": True, "nodePool": "gpu", "authMode": "server",
            "artifacts": {"bucketName": "My_Bucket"},
            "ingress": {"enabled": True, "scheme": "internet-facing"},
            "workflowTemplates": [{"name": "x", "image": "python:latest"}],
        },
        "loadBalancerController": {"enabled": False},
    })  # fmt: skip
    text = "\n".join(msgs)
    assert "argo.nodePool: 'gpu' is not a pool in nodePools — name one of general, or add a pool of that name" in text
    assert "argo.authMode: 'server' serves the Argo UI and API with the server's own service-account" in text
    assert "argo.artifacts.bucketName: 'My_Bucket' is not a valid S3 bucket name" in text
    assert "argo.ingress.certificateArn: null is missing for an internet-facing argo-server" in text
    assert "argo.ingress.enabled: true needs the Load Balancer Controller, which is disabled" in text
    assert "argo.workflowTemplates[0].image: 'python:latest' has no tag or the tag `latest`" in text


@pytest.mark.parametrize("name", ["ab", "a" * 64, "192.168.1.10", "xn--bucket", "bucket-s3alias", "-bucket"])
def test_bad_bucket_names(name):
    (msg,) = errors({"argo": {"enabled": True, "artifacts": {"bucketName": name}}})
    assert "is not a valid S3 bucket name" in msg


def test_bad_repository_names():
    (msg,) = errors({"registry": {"repositories": ["API"]}})
    assert msg.startswith("registry.repositories[0]: 'API' is not a valid ECR repository name")
