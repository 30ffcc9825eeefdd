"""ClusterAccess (access entries, aws-auth bindings) and WorkloadRole (IRSA)."""

from __future__ import annotations

import json

import parliament
import pulumi
import pulumi_kubernetes as k8s

from slipway.components.access import (
    ACCESS_POLICY_ARNS,
    AwsAuthBindings,
    AwsAuthBindingsArgs,
    ClusterAccess,
    ClusterAccessArgs,
    Principal,
    WorkloadRole,
    WorkloadRoleArgs,
    access_entries,
    aws_auth_mappings,
    rbac_bindings,
)
from slipway.components.iam import irsa_trust_policy
from slipway.testing import require_known

ACCT = "123456789012"
ADMINS = Principal(arn=f"arn:aws:iam::{ACCT}:role/platform-admins", access="cluster-admin")
DEVS = Principal(arn=f"arn:aws:iam::{ACCT}:role/teams/developers", access="edit")
ONCALL = Principal(arn=f"arn:aws:iam::{ACCT}:role/oncall", access="admin", namespaces=["payments", "apps"])
ALICE = Principal(arn=f"arn:aws:iam::{ACCT}:user/alice", access="view")
PRINCIPALS = [ADMINS, DEVS, ONCALL, ALICE]
NODE_ROLE = f"arn:aws:iam::{ACCT}:role/node"
OIDC_ARN = f"arn:aws:iam::{ACCT}:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/ABC"
ISSUER = "oidc.eks.us-east-1.amazonaws.com/id/ABC"


def test_access_policy_arns_are_the_aws_managed_ones():
    assert ACCESS_POLICY_ARNS == {
        "cluster-admin": "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy",
        "admin": "arn:aws:eks::aws:cluster-access-policy/AmazonEKSAdminPolicy",
        "edit": "arn:aws:eks::aws:cluster-access-policy/AmazonEKSEditPolicy",
        "view": "arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy",
    }


def test_access_entries_scope():
    entries = {e["key"]: e for e in access_entries(PRINCIPALS)}
    assert set(entries) == {
        f"{ACCT}-role-platform-admins",
        f"{ACCT}-role-teams-developers",
        f"{ACCT}-role-oncall",
        f"{ACCT}-user-alice",
    }
    assert entries[f"{ACCT}-role-platform-admins"]["accessScope"] == {"type": "cluster"}
    oncall = entries[f"{ACCT}-role-oncall"]
    assert oncall["accessScope"] == {"type": "namespace", "namespaces": ["apps", "payments"]}
    assert oncall["policyArn"].endswith("/AmazonEKSAdminPolicy")
    # Access entries keep the role's path.
    assert entries[f"{ACCT}-role-teams-developers"]["principalArn"] == DEVS.arn


def test_keys_follow_the_whole_arn():
    other_account = Principal(arn="arn:aws:iam::210987654321:role/platform-admins", access="view")
    assert other_account.key != ADMINS.key


def test_aws_auth_mappings():
    m = aws_auth_mappings(PRINCIPALS)
    roles = {r["roleArn"]: r for r in m["mapRoles"]}
    # aws-auth needs the role ARN without its path (role/teams/developers → role/developers).
    devs_arn = f"arn:aws:iam::{ACCT}:role/developers"
    assert DEVS.arn not in roles
    assert roles[devs_arn] == {
        "roleArn": devs_arn,
        "username": "developers:{{SessionName}}",
        "groups": ["slipway:edit"],
    }
    assert roles[ONCALL.arn]["groups"] == ["slipway:admin:apps", "slipway:admin:payments"]
    assert m["mapUsers"] == [{"userArn": ALICE.arn, "username": "alice", "groups": ["slipway:view"]}]
    # Users are never put in mapRoles and roles never in mapUsers.
    assert all(":role/" in r["roleArn"] for r in m["mapRoles"])
    assert all(":user/" in u["userArn"] for u in m["mapUsers"])


def test_the_creator_is_never_mapped_again():
    creator = Principal(arn=f"arn:aws:iam::{ACCT}:role/github-actions-deploy", access="cluster-admin", creator=True)
    everyone = [creator, *PRINCIPALS]
    assert creator.arn not in {e["principalArn"] for e in access_entries(everyone)}
    assert creator.aws_auth_arn not in {r["roleArn"] for r in aws_auth_mappings(everyone)["mapRoles"]}
    assert len(access_entries(everyone)) == len(PRINCIPALS)


def test_every_aws_auth_group_has_a_binding():
    m = aws_auth_mappings(PRINCIPALS)
    groups = {g for r in m["mapRoles"] + m["mapUsers"] for g in r["groups"]}
    bindings = {b["group"]: b for b in rbac_bindings(PRINCIPALS)}
    assert set(bindings) == groups
    assert bindings["slipway:cluster-admin"] == {
        "group": "slipway:cluster-admin",
        "namespace": None,
        "clusterRole": "cluster-admin",
    }
    assert bindings["slipway:admin:payments"]["namespace"] == "payments"


TAGS = {"slipway/stack": "test"}


def build_access(mocked, mode):
    def program():
        a = ClusterAccess(
            "access",
            ClusterAccessArgs(cluster_name="demo", authentication_mode=mode, principals=PRINCIPALS, tags=TAGS),
        )
        provider = k8s.Provider("k8s", kubeconfig="{}")
        if mode != "API":
            AwsAuthBindings("bindings", AwsAuthBindingsArgs(principals=PRINCIPALS, k8s_provider=provider))
        return require_known(*a.access_entry_arns.values())

    mocked.build(program)


def test_api_mode_creates_entries_and_associations(mocked):
    build_access(mocked, "API")
    entries = {r.name: r for r in mocked.of_type("aws:eks/accessEntry:AccessEntry")}
    assocs = {r.name: r for r in mocked.of_type("aws:eks/accessPolicyAssociation:AccessPolicyAssociation")}
    assert set(entries) == set(assocs) == {f"access-{p.key}" for p in PRINCIPALS}
    for p in PRINCIPALS:
        e, a = entries[f"access-{p.key}"], assocs[f"access-{p.key}"]
        assert e.inputs == {"clusterName": "demo", "principalArn": p.arn, "type": "STANDARD", "tags": TAGS}, e.urn
        assert a.inputs["policyArn"] == ACCESS_POLICY_ARNS[p.access], a.urn
        assert a.inputs["principalArn"] == p.arn, a.urn
        assert e.urn in a.dependencies, a.urn
    assert assocs[f"access-{ACCT}-role-oncall"].inputs["accessScope"] == {
        "type": "namespace",
        "namespaces": ["apps", "payments"],
    }


def test_config_map_mode_creates_bindings_only(mocked):
    build_access(mocked, "CONFIG_MAP")
    assert not mocked.of_type("aws:eks/accessEntry:AccessEntry")
    crbs = {
        r.inputs["metadata"]["name"]: r
        for r in mocked.of_type("kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding")
    }
    rbs = mocked.of_type("kubernetes:rbac.authorization.k8s.io/v1:RoleBinding")
    assert set(crbs) == {"slipway-cluster-admin", "slipway-edit", "slipway-view"}
    assert crbs["slipway-edit"].inputs["roleRef"] == {
        "apiGroup": "rbac.authorization.k8s.io",
        "kind": "ClusterRole",
        "name": "edit",
    }
    assert crbs["slipway-edit"].inputs["subjects"] == [
        {"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": "slipway:edit"}
    ]
    assert sorted(r.inputs["metadata"]["namespace"] for r in rbs) == ["apps", "payments"]


def test_both_modes(mocked):
    build_access(mocked, "API_AND_CONFIG_MAP")
    assert mocked.count("aws:eks/accessEntry:AccessEntry") == 4
    assert mocked.count("kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding") == 3


def test_irsa_trust_policy_exact():
    assert irsa_trust_policy(OIDC_ARN, f"https://{ISSUER}", "kube-system", "aws-load-balancer-controller") == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Federated": OIDC_ARN},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {
                    "StringEquals": {
                        f"{ISSUER}:sub": "system:serviceaccount:kube-system:aws-load-balancer-controller",
                        f"{ISSUER}:aud": "sts.amazonaws.com",
                    }
                },
            }
        ],
    }


STATEMENTS = [
    {"Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject"], "Resource": "arn:aws:s3:::artifacts/*"},
]


def build_workload(mocked, create_sa=True):
    def program():
        provider = k8s.Provider("k8s", kubeconfig="{}")
        w = WorkloadRole(
            "argo-server",
            WorkloadRoleArgs(
                namespace="argo",
                # not the component's name: the trust and the ServiceAccount must use this one
                service_account="argo-workflow",
                oidc_provider_arn=pulumi.Output.from_input(OIDC_ARN),
                oidc_issuer=pulumi.Output.from_input(ISSUER),
                k8s_provider=provider,
                policy_statements=STATEMENTS,
                managed_policies={"readonly": "arn:aws:iam::aws:policy/ReadOnlyAccess"},
                create_service_account=create_sa,
            ),
        )
        return require_known(w.role_arn, w.role_name)

    mocked.build(program)


def test_workload_role_trust_and_service_account_agree(mocked):
    build_workload(mocked)
    role = mocked.one("aws:iam/role:Role", "argo-server-role")
    trust = json.loads(role.inputs["assumeRolePolicy"])
    assert trust == irsa_trust_policy(OIDC_ARN, ISSUER, "argo", "argo-workflow")
    sa = mocked.one("kubernetes:core/v1:ServiceAccount", "argo-server-sa")
    meta = sa.inputs["metadata"]
    sub = trust["Statement"][0]["Condition"]["StringEquals"][f"{ISSUER}:sub"]
    assert sub == f"system:serviceaccount:{meta['namespace']}:{meta['name']}"
    assert (meta["namespace"], meta["name"]) == ("argo", "argo-workflow")
    assert meta["annotations"]["eks.amazonaws.com/role-arn"] == role.state["arn"]
    policy = mocked.one("aws:iam/rolePolicy:RolePolicy", "argo-server-policy")
    assert json.loads(policy.inputs["policy"])["Statement"] == STATEMENTS
    att = mocked.one("aws:iam/rolePolicyAttachment:RolePolicyAttachment", "argo-server-readonly")
    assert att.inputs["policyArn"] == "arn:aws:iam::aws:policy/ReadOnlyAccess"


def test_workload_role_without_service_account(mocked):
    build_workload(mocked, create_sa=False)
    assert not mocked.of_type("kubernetes:core/v1:ServiceAccount")


def test_the_emitted_role_policy_passes_parliament(mocked):
    build_workload(mocked)
    emitted = mocked.one("aws:iam/rolePolicy:RolePolicy", "argo-server-policy").inputs["policy"]
    policy = parliament.analyze_policy_string(emitted)
    assert [f.issue for f in policy.findings] == []
