"""`slipway doctor`: the cluster checks (Stubber: moto has no EKS access entries or
cluster versions), the runner and the CLI."""

from __future__ import annotations

import datetime as dt

import boto3
import pytest
from botocore.stub import Stubber
from typer.testing import CliRunner

from slipway.cli.doctor import run
from slipway.cli.doctor.cluster_checks import check_cluster, check_nodegroups
from slipway.cli.doctor.identity_checks import check_identity, principal_of
from slipway.cli.doctor.model import DoctorContext, Finding
from slipway.cli.main import app
from slipway.program.config import parse_config_values

ACCOUNT = "123456789012"
ADMINS = f"arn:aws:iam::{ACCOUNT}:role/platform-admins"
ALICE = f"arn:aws:iam::{ACCOUNT}:user/alice"
CLUSTER = "slipway-test"


@pytest.fixture(autouse=True)
def fake_credentials(monkeypatch):
    for key, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                       "AWS_DEFAULT_REGION": "us-east-1"}.items():  # fmt: skip
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)


def context(principals=None, identity=None, cluster: dict | None = None, version: str = "1.34") -> DoctorContext:
    values = {"access": {"principals": principals or []}, "cluster": {"version": version}}
    if identity:
        values["identity"] = identity
    cfg = parse_config_values(values, region="us-east-1")
    ctx = DoctorContext("test", "us-east-1", cfg, CLUSTER, boto3.Session(region_name="us-east-1"))
    ctx._cache["cluster"] = cluster
    return ctx


def stub(ctx: DoctorContext, service: str) -> Stubber:
    stubber = Stubber(ctx.client(service))
    stubber.activate()
    return stubber


def caller(ctx: DoctorContext, arn: str) -> None:
    stub(ctx, "sts").add_response("get_caller_identity", {"Arn": arn, "Account": ACCOUNT, "UserId": "AIDA"})


def live(mode: str = "API", status: str = "ACTIVE", version: str = "1.34") -> dict:
    return {"name": CLUSTER, "status": status, "version": version, "platformVersion": "eks.12",
            "accessConfig": {"authenticationMode": mode}, "upgradePolicy": {"supportType": "STANDARD"}}  # fmt: skip


def by_status(findings: list[Finding], status: str) -> list[Finding]:
    return [f for f in findings if f.status == status]


# ------------------------------------------------------------------ identity


def test_an_assumed_role_session_is_its_role():
    assert principal_of(f"arn:aws:sts::{ACCOUNT}:assumed-role/platform-admins/alice@example.com") == ADMINS
    assert principal_of(ALICE) == ALICE


def test_preflight_created_by_a_role_kubectl_as_a_user_is_the_unauthorized_trap():
    ctx = context([{"arn": ADMINS, "access": "cluster-admin", "creator": True}])
    caller(ctx, ALICE)
    findings = check_identity(ctx)
    (fail,) = by_status(findings, "fail")
    assert fail.subject == ALICE
    assert "You must be logged in to the server (Unauthorized)" in fail.detail
    assert f"created by role {ADMINS} and kubectl runs as a user" in fail.detail
    assert f"add {{arn: {ALICE}, access: cluster-admin}}" in fail.fix
    assert f"slipway:identity.roleArn to a mapped role ({ADMINS})" in fail.fix
    (warn,) = by_status(findings, "warn")  # alice would become creator instead of platform-admins
    assert warn.subject == "creator" and ADMINS in warn.fix


def test_preflight_assuming_the_mapped_role_passes():
    ctx = context([{"arn": ADMINS, "access": "cluster-admin", "creator": True}], identity={"roleArn": ADMINS})
    caller(ctx, f"arn:aws:sts::{ACCOUNT}:assumed-role/platform-admins/alice")
    findings = check_identity(ctx)
    assert by_status(findings, "fail") == [] and by_status(findings, "warn") == []
    assert any(f.subject == ADMINS and "listed in slipway:access.principals" in f.detail for f in findings)


def test_preflight_with_no_creator_marked_the_deployer_becomes_admin():
    ctx = context()
    caller(ctx, ALICE)
    assert [f.status for f in check_identity(ctx)] == ["pass", "pass"]


@pytest.mark.parametrize("entries, status", [([ALICE], "pass"), ([ADMINS], "fail")])
def test_live_cluster_is_judged_by_its_access_entries(entries, status):
    ctx = context([{"arn": ALICE, "access": "cluster-admin"}], cluster=live())
    caller(ctx, ALICE)
    eks = stub(ctx, "eks")
    eks.add_response("list_access_entries", {"accessEntries": entries}, {"clusterName": CLUSTER})
    if status == "pass":
        eks.add_response("list_associated_access_policies", {"clusterName": CLUSTER, "principalArn": ALICE,
                         "associatedAccessPolicies": [{"policyArn": "arn:aws:eks::aws:cluster-access-policy/"
                                                       "AmazonEKSClusterAdminPolicy"}]},
                         {"clusterName": CLUSTER, "principalArn": ALICE})  # fmt: skip
    findings = check_identity(ctx)
    assert findings[-1].status == status  # alice is in the config, but only the cluster's entries count
    if status == "fail":
        assert f"{CLUSTER} has no access entry for it" in findings[-1].detail
        assert f"Mapped: {ADMINS}." in findings[-1].detail
        assert "Only roles are mapped, and you are a user." in findings[-1].detail


def test_an_access_entry_without_policy_or_group_is_forbidden_everywhere():
    ctx = context([{"arn": ALICE, "access": "cluster-admin"}], cluster=live())
    caller(ctx, ALICE)
    eks = stub(ctx, "eks")
    eks.add_response("list_access_entries", {"accessEntries": [ALICE]}, {"clusterName": CLUSTER})
    eks.add_response("list_associated_access_policies", {"clusterName": CLUSTER, "principalArn": ALICE,
                     "associatedAccessPolicies": []})  # fmt: skip
    eks.add_response("describe_access_entry", {"accessEntry": {"principalArn": ALICE, "kubernetesGroups": []}})
    last = check_identity(ctx)[-1]
    assert last.status == "warn" and "Forbidden" in last.detail


def test_config_map_clusters_point_at_aws_auth():
    ctx = context([{"arn": ALICE, "access": "cluster-admin"}], cluster=live(mode="CONFIG_MAP"))
    caller(ctx, ALICE)
    findings = check_identity(ctx)
    (warn,) = by_status(findings, "warn")
    assert warn.subject == ALICE and "aws-auth ConfigMap" in warn.detail
    assert "kubectl -n kube-system get configmap aws-auth" in warn.fix


def test_api_and_config_map_without_an_entry_defers_to_aws_auth():
    ctx = context([{"arn": ALICE, "access": "cluster-admin"}], cluster=live(mode="API_AND_CONFIG_MAP"))
    caller(ctx, ALICE)
    stub(ctx, "eks").add_response("list_access_entries", {"accessEntries": [ADMINS]}, {"clusterName": CLUSTER})
    assert [f.status for f in check_identity(ctx)] == ["pass", "warn"]


def test_a_role_the_caller_cannot_assume_fails_before_the_cluster():
    ctx = context([{"arn": ADMINS, "access": "cluster-admin"}], identity={"roleArn": ADMINS})
    sts = stub(ctx, "sts")
    sts.add_response("get_caller_identity", {"Arn": ALICE, "Account": ACCOUNT, "UserId": "AIDA"})
    sts.add_client_error("assume_role", "AccessDenied", "not authorized to perform sts:AssumeRole")
    (_, fail) = check_identity(ctx)
    assert fail.status == "fail" and fail.subject == ADMINS
    assert "sts:AssumeRole" in fail.detail and "trust policy" in fail.fix


def test_a_refused_describe_cluster_is_reported_not_raised():
    ctx = context([{"arn": ALICE, "access": "cluster-admin"}])
    ctx._cache.clear()
    stub(ctx, "eks").add_client_error("describe_cluster", "AccessDeniedException", "no")
    caller(ctx, ALICE)
    findings = check_identity(ctx)
    assert any(f.status == "warn" and "eks:DescribeCluster failed" in f.detail for f in findings)
    (f,) = check_cluster(ctx)
    assert f.status == "warn" and "allow eks:DescribeCluster" in f.fix


# ------------------------------------------------------------------ cluster and support


def versions(status: str) -> dict:
    return {"clusterVersions": [{"clusterVersion": "1.34", "versionStatus": status,
                                 "endOfStandardSupportDate": dt.datetime(2026, 12, 2)}]}  # fmt: skip


def test_active_cluster_in_standard_support_passes():
    ctx = context(cluster=live())
    stub(ctx, "eks").add_response(
        "describe_cluster_versions", versions("STANDARD_SUPPORT"), {"clusterVersions": ["1.34"], "includeAll": True}
    )
    findings = check_cluster(ctx)
    assert [f.status for f in findings] == ["pass", "pass"]
    assert (
        findings[1].detail
        == "Kubernetes 1.34 in standard support; standard support ends 2026-12-02; upgrade policy STANDARD"
    )


def test_extended_support_and_version_drift_warn():
    ctx = context(cluster=live(version="1.33"), version="1.34")
    stub(ctx, "eks").add_response(
        "describe_cluster_versions", versions("EXTENDED_SUPPORT"), {"clusterVersions": ["1.33"], "includeAll": True}
    )
    findings = check_cluster(ctx)
    assert [f.status for f in findings] == ["pass", "warn", "warn"]
    assert "the stack pins 1.34" in findings[1].detail
    assert "$0.60/h" in findings[2].detail and "slipway:cluster.version" in findings[2].fix


def test_health_issues_fail_even_on_an_active_cluster():
    ctx = context(cluster={**live(), "health": {"issues": [{"code": "KmsKeyDisabled", "message": "key disabled"}]}})
    stub(ctx, "eks").add_response("describe_cluster_versions", versions("STANDARD_SUPPORT"),
                                  {"clusterVersions": ["1.34"], "includeAll": True})  # fmt: skip
    findings = check_cluster(ctx)
    assert [f.status for f in findings] == ["warn", "fail", "pass"]
    assert findings[1].subject == "KmsKeyDisabled" and "enable-key" in findings[1].fix


def test_a_cluster_newer_than_the_pin_cannot_be_downgraded():
    ctx = context(cluster=live(version="1.35"), version="1.34")
    answer = {"clusterVersions": [{"clusterVersion": "1.35", "status": "standard-support"}]}
    stub(ctx, "eks").add_response(
        "describe_cluster_versions", answer, {"clusterVersions": ["1.35"], "includeAll": True}
    )
    findings = check_cluster(ctx)
    assert 'EKS cannot downgrade: set slipway:cluster.version to "1.35"' in findings[1].fix
    assert findings[2].status == "pass"  # the lowercase, hyphenated `status` is understood


def test_a_failed_cluster_fails_and_a_missing_one_is_preflight():
    ctx = context(cluster={**live(status="FAILED"), "health": {"issues": [{"message": "subnet not found"}]}})
    stub(ctx, "eks").add_response(
        "describe_cluster_versions", versions("STANDARD_SUPPORT"), {"clusterVersions": ["1.34"], "includeAll": True}
    )
    first, issue = check_cluster(ctx)[:2]
    assert first.status == "fail" and first.detail.startswith("FAILED")
    assert issue.status == "fail" and issue.detail == "subnet not found"
    assert [f.status for f in check_cluster(context(cluster=None))] == ["skip"]


# ------------------------------------------------------------------ node groups


def test_node_group_health_issues_fail_with_their_fix():
    ctx = context(cluster=live())
    eks = stub(ctx, "eks")
    eks.add_response("list_nodegroups", {"nodegroups": ["system", "general"]}, {"clusterName": CLUSTER})
    ok = {"nodegroupName": "general", "status": "ACTIVE", "instanceTypes": ["m7i.large"],
          "scalingConfig": {"minSize": 2, "maxSize": 6, "desiredSize": 3}, "health": {"issues": []}}  # fmt: skip
    broken = {**ok, "nodegroupName": "system", "status": "DEGRADED", "health": {"issues": [
        {"code": "InsufficientFreeAddresses", "message": "subnet-0abc has no free IPs", "resourceIds": ["subnet-0abc"]}
    ]}}  # fmt: skip
    eks.add_response("describe_nodegroup", {"nodegroup": ok}, {"clusterName": CLUSTER, "nodegroupName": "general"})
    eks.add_response("describe_nodegroup", {"nodegroup": broken}, {"clusterName": CLUSTER, "nodegroupName": "system"})
    findings = check_nodegroups(ctx)
    assert [(f.subject, f.status) for f in findings] == [("general", "pass"), ("system", "fail")]
    assert [f.subject for f in run.run_check(ctx_again(broken, ok), check_nodegroups)] == ["system", "general"]
    assert "3 of 2–6 × m7i.large" in findings[0].detail
    assert findings[1].detail.startswith("InsufficientFreeAddresses: subnet-0abc has no free IPs")
    assert "prefixDelegation" in findings[1].fix


def ctx_again(*groups: dict) -> DoctorContext:
    ctx = context(cluster=live())
    eks = stub(ctx, "eks")
    eks.add_response("list_nodegroups", {"nodegroups": [g["nodegroupName"] for g in groups]})
    for g in sorted(groups, key=lambda g: g["nodegroupName"]):
        eks.add_response("describe_nodegroup", {"nodegroup": g})
    return ctx


def test_a_failed_node_group_without_issues_fails():
    ng = {"nodegroupName": "general", "status": "CREATE_FAILED", "instanceTypes": ["m7i.large"],
          "scalingConfig": {"minSize": 2, "maxSize": 6, "desiredSize": 3}}  # fmt: skip
    (f,) = check_nodegroups(ctx_again(ng))
    assert f.status == "fail" and "describe-scaling-activities" in f.fix


def test_expired_credentials_stop_the_run():
    ctx = context(cluster=live())
    stub(ctx, "eks").add_client_error("list_nodegroups", "ExpiredTokenException", "expired")
    with pytest.raises(run.BadCredentials, match="ExpiredTokenException"):
        run.run_check(ctx, check_nodegroups)


def test_no_node_groups_means_pending_pods():
    ctx = context(cluster=live())
    stub(ctx, "eks").add_response("list_nodegroups", {"nodegroups": []}, {"clusterName": CLUSTER})
    (f,) = check_nodegroups(ctx)
    assert f.status == "fail" and "Pending" in f.detail


# ------------------------------------------------------------------ runner and CLI


def test_an_aws_refusal_becomes_a_warning_naming_the_call():
    ctx = context(cluster=live())
    stub(ctx, "eks").add_client_error("list_nodegroups", "AccessDeniedException", "not allowed")
    (f,) = run.run_check(ctx, check_nodegroups)
    assert (f.check, f.status, f.subject) == ("nodegroups", "warn", "ListNodegroups")  # the --only name
    assert "allow the API call ListNodegroups" in f.fix


def test_a_warn_or_fail_finding_must_carry_a_fix():
    with pytest.raises(ValueError, match="needs a fix"):
        Finding("x", "fail", "y", "broken")


def test_exit_code_is_one_only_on_failures():
    assert run.exit_code([Finding("a", "pass", "s", "d"), Finding("a", "warn", "s", "d", "f")]) == 0
    assert run.exit_code([Finding("a", "fail", "s", "d", "f")]) == 1


def test_cli_rejects_an_unknown_check_and_a_bad_stack():
    result = CliRunner().invoke(app, ["doctor", "dev", "--only", "subnet-tag"])
    assert result.exit_code == 2
    assert "--only 'subnet-tag' is not a doctor check" in result.output and "subnet-tags" in result.output
    result = CliRunner().invoke(app, ["doctor", "nope"])
    assert result.exit_code == 2 and "Pulumi.nope.yaml" in result.output
