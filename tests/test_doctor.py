"""`slipway doctor`: the cluster checks (Stubber: moto has no EKS access entries or
cluster versions), the runner and the CLI."""

from __future__ import annotations

import datetime as dt

import boto3
import pytest
from botocore.stub import Stubber
from typer.testing import CliRunner

from infra.cli import app
from infra.config import parse_config_values
from infra.doctor import run
from infra.doctor.cluster_checks import check_cluster, check_identity, check_nodegroups, principal_of
from infra.doctor.model import DoctorContext, Finding

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
    stub(ctx, "eks").add_response("list_access_entries", {"accessEntries": entries}, {"clusterName": CLUSTER})
    findings = check_identity(ctx)
    assert findings[-1].status == status  # alice is in the config, but only the cluster's entries count
    if status == "fail":
        assert f"{CLUSTER} has no access entry for it" in findings[-1].detail


def test_config_map_clusters_point_at_aws_auth():
    ctx = context([{"arn": ALICE, "access": "cluster-admin"}], cluster=live(mode="CONFIG_MAP"))
    caller(ctx, ALICE)
    findings = check_identity(ctx)
    assert [f.subject for f in by_status(findings, "warn")] == ["aws-auth"]
    assert "kubectl -n kube-system get configmap aws-auth" in by_status(findings, "warn")[0].fix


# ------------------------------------------------------------------ cluster and support


def versions(status: str) -> dict:
    return {"clusterVersions": [{"clusterVersion": "1.34", "versionStatus": status,
                                 "endOfStandardSupportDate": dt.datetime(2026, 12, 2)}]}  # fmt: skip


def test_active_cluster_in_standard_support_passes():
    ctx = context(cluster=live())
    stub(ctx, "eks").add_response(
        "describe_cluster_versions", versions("STANDARD_SUPPORT"), {"clusterVersions": ["1.34"]}
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
        "describe_cluster_versions", versions("EXTENDED_SUPPORT"), {"clusterVersions": ["1.33"]}
    )
    findings = check_cluster(ctx)
    assert [f.status for f in findings] == ["pass", "warn", "warn"]
    assert "the stack pins 1.34" in findings[1].detail
    assert "$0.60/h" in findings[2].detail and "slipway:cluster.version" in findings[2].fix


def test_a_failed_cluster_fails_and_a_missing_one_is_preflight():
    ctx = context(cluster={**live(status="FAILED"), "health": {"issues": [{"message": "subnet not found"}]}})
    stub(ctx, "eks").add_response(
        "describe_cluster_versions", versions("STANDARD_SUPPORT"), {"clusterVersions": ["1.34"]}
    )
    first = check_cluster(ctx)[0]
    assert first.status == "fail" and first.detail == "FAILED: subnet not found"
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
    assert "3 of 2–6 × m7i.large" in findings[0].detail
    assert findings[1].detail.startswith("InsufficientFreeAddresses: subnet-0abc has no free IPs")
    assert "prefixDelegation" in findings[1].fix


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
    assert (f.check, f.status, f.subject) == ("nodegroups", "warn", "ListNodegroups")
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
