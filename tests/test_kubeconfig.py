"""`slipway kubeconfig`: the identity it pins, how it merges, and the command end to end under moto."""

from __future__ import annotations

import io
import os
import re
import stat
from datetime import UTC, datetime
from pathlib import Path

import boto3
import pytest
import typer
import yaml
from moto import mock_aws
from rich.console import Console

from slipway.cli.kubeconfig import (
    API_VERSION,
    ClusterInfo,
    build_kubeconfig,
    default_path,
    describe_cluster,
    exec_args,
    identity_note,
    kubeconfig_command,
    merge_kubeconfig,
    read_kubeconfig,
    same_role,
    user_entry,
    write_kubeconfig,
)
from slipway.program.config import ConfigError

from tests.helpers import stubbed_client

REGION = "us-east-1"
ACCOUNT = "123456789012"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/platform-admins"
CLUSTER = ClusterInfo(
    name="slipway-dev",
    region=REGION,
    arn=f"arn:aws:eks:{REGION}:{ACCOUNT}:cluster/slipway-dev",
    endpoint="https://ABC.gr7.us-east-1.eks.amazonaws.com",
    ca_data="Q0EtREFUQQ==",
)
OTHER = {
    "apiVersion": "v1",
    "kind": "Config",
    "preferences": {"colors": True},
    "clusters": [{"name": "kind-kind", "cluster": {"server": "https://127.0.0.1:6443"}}],
    "users": [{"name": "kind-kind", "user": {"token": "t"}}],
    "contexts": [{"name": "kind-kind", "context": {"cluster": "kind-kind", "user": "kind-kind"}}],
    "current-context": "kind-kind",
}


def names(doc: dict, key: str) -> list[str]:
    return [e["name"] for e in doc[key]]


# --------------------------------------------------------------------------- pure functions


def test_exec_args_without_identity_use_ambient_credentials():
    assert exec_args("slipway-dev", REGION) == [
        "--region", REGION, "eks", "get-token", "--cluster-name", "slipway-dev", "--output", "json",
    ]  # fmt: skip


def test_exec_args_pin_role_and_profile():
    args = exec_args("slipway-dev", REGION, role_arn=ROLE, profile="deploy")
    assert args[-4:] == ["--role-arn", ROLE, "--profile", "deploy"]
    assert "--role" not in args  # the documented flag is --role-arn


def test_user_entry_sets_aws_profile_only_with_a_profile():
    plain = user_entry("ctx", "slipway-dev", REGION, role_arn=None, profile=None)["user"]["exec"]
    assert plain["apiVersion"] == API_VERSION == "client.authentication.k8s.io/v1beta1"
    assert plain["command"] == "aws" and plain["interactiveMode"] == "IfAvailable"
    assert "env" not in plain
    pinned = user_entry("ctx", "slipway-dev", REGION, role_arn=ROLE, profile="deploy")["user"]["exec"]
    assert pinned["env"] == [{"name": "AWS_PROFILE", "value": "deploy"}]
    assert pinned["args"][pinned["args"].index("--role-arn") + 1] == ROLE


def test_build_names_context_after_cluster_and_cluster_after_arn():
    doc = build_kubeconfig(CLUSTER, role_arn=ROLE)
    assert doc["current-context"] == "slipway-dev"
    assert doc["contexts"] == [{"name": "slipway-dev", "context": {"cluster": CLUSTER.arn, "user": "slipway-dev"}}]
    assert doc["clusters"] == [
        {"name": CLUSTER.arn, "cluster": {"server": CLUSTER.endpoint, "certificate-authority-data": "Q0EtREFUQQ=="}}
    ]
    assert names(doc, "users") == ["slipway-dev"]
    custom = build_kubeconfig(CLUSTER, context="dev-admin")
    assert custom["current-context"] == "dev-admin" and names(custom, "users") == ["dev-admin"]


def test_merge_keeps_other_entries_and_sets_current_context():
    new = build_kubeconfig(CLUSTER, role_arn=ROLE)
    merged = merge_kubeconfig(OTHER, new)
    for key in ("clusters", "users", "contexts"):
        assert names(merged, key)[0] == "kind-kind", key
        assert len(merged[key]) == 2, key
    assert merged["current-context"] == "slipway-dev"
    assert merged["preferences"] == {"colors": True}
    assert OTHER["current-context"] == "kind-kind" and len(OTHER["clusters"]) == 1  # input untouched


def test_merge_replaces_same_name_in_place():
    stale = merge_kubeconfig(OTHER, build_kubeconfig(CLUSTER))  # as if written before roleArn was set
    stale["users"].append(stale["users"][1])  # a hand-edited duplicate
    fresh = merge_kubeconfig(stale, build_kubeconfig(CLUSTER, role_arn=ROLE, profile="deploy"))
    assert names(fresh, "users") == ["kind-kind", "slipway-dev"]
    assert names(fresh, "clusters") == ["kind-kind", CLUSTER.arn]
    assert "--role-arn" in fresh["users"][1]["user"]["exec"]["args"]


def test_merge_into_nothing_is_a_complete_kubeconfig():
    merged = merge_kubeconfig(None, build_kubeconfig(CLUSTER))
    assert merged["apiVersion"] == "v1" and merged["kind"] == "Config"
    assert merged["current-context"] == "slipway-dev"


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        (["a"], "kc: is not a kubeconfig (a YAML mapping) — fix it or pass --out FILE"),
        ({"users": {"a": 1}}, "kc: `users` must be a list of named entries"),
        ({"clusters": ["x"]}, "kc: `clusters` must be a list of named entries"),
    ],
)
def test_merge_refuses_a_file_that_is_not_a_kubeconfig(doc, message):
    with pytest.raises(ValueError, match="^" + re.escape(message)):
        merge_kubeconfig(doc, build_kubeconfig(CLUSTER), where="kc")


def test_default_path_is_first_kubeconfig_entry_else_home(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    first, second = tmp_path / "a", tmp_path / "b"
    assert default_path({"KUBECONFIG": f"{os.pathsep}{first}{os.pathsep}{second}"}) == first
    assert default_path({"KUBECONFIG": ""}) == tmp_path / ".kube" / "config"
    assert default_path({}) == tmp_path / ".kube" / "config"


def test_write_is_0600_even_over_a_0644_file(tmp_path):
    path = tmp_path / "kube" / "config"
    path.parent.mkdir()
    path.write_text("apiVersion: v1\n")
    path.chmod(0o644)
    write_kubeconfig(path, build_kubeconfig(CLUSTER))
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert read_kubeconfig(path)["current-context"] == "slipway-dev"
    assert sorted(p.name for p in path.parent.iterdir()) == ["config"]  # no temp file left


def test_write_through_a_symlink_keeps_the_link(tmp_path):
    real = tmp_path / "dotfiles" / "kubeconfig"
    real.parent.mkdir()
    real.write_text("")
    link = tmp_path / "config"
    link.symlink_to(real)
    write_kubeconfig(link, build_kubeconfig(CLUSTER))
    assert link.is_symlink() and yaml.safe_load(real.read_text())["current-context"] == "slipway-dev"
    assert stat.S_IMODE(real.stat().st_mode) == 0o600


def test_read_missing_is_none_and_bad_yaml_names_the_file(tmp_path):
    assert read_kubeconfig(tmp_path / "none") is None
    bad = tmp_path / "bad"
    bad.write_text("clusters: [\n")
    with pytest.raises(ValueError, match=f"^{bad}: is not valid YAML"):
        read_kubeconfig(bad)


@pytest.mark.parametrize(
    ("caller", "same"),
    [
        (f"arn:aws:sts::{ACCOUNT}:assumed-role/platform-admins/alice", True),
        (f"arn:aws:sts::{ACCOUNT}:assumed-role/Platform-Admins/ci-run-42", True),
        ("arn:aws:sts::999999999999:assumed-role/platform-admins/alice", False),
        (f"arn:aws:sts::{ACCOUNT}:assumed-role/developers/alice", False),
        (f"arn:aws:iam::{ACCOUNT}:user/alice", False),
        (f"arn:aws-cn:sts::{ACCOUNT}:assumed-role/platform-admins/alice", False),
        ("not-an-arn", False),
    ],
)
def test_same_role_matches_sessions_of_the_role(caller, same):
    assert same_role(caller, ROLE) is same


def test_same_role_ignores_the_role_path():
    sso = f"arn:aws:iam::{ACCOUNT}:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_Admin_0123abcd"
    assert same_role(f"arn:aws:sts::{ACCOUNT}:assumed-role/AWSReservedSSO_Admin_0123abcd/bob", sso)


def test_identity_note():
    session = f"arn:aws:sts::{ACCOUNT}:assumed-role/platform-admins/alice"
    user = f"arn:aws:iam::{ACCOUNT}:user/alice"
    assert identity_note(session, ROLE, "deploy") is None
    assert identity_note(user, ROLE, "deploy") == (
        f"note: you are {user}, kubectl will act as {ROLE} (get-token --role-arn, assumed with profile deploy); "
        "your identity must be allowed to assume it"
    )
    assert identity_note(user, None, None) == (
        f"note: kubectl will act as {user} (the credentials in kubectl's environment, as now)"
    )
    assert identity_note(None, None, None) is None


class _Eks:
    def __init__(self, cluster: dict):
        self.cluster = cluster

    def describe_cluster(self, name: str) -> dict:
        return {"cluster": self.cluster}


class _Session:
    def __init__(self, cluster: dict):
        self.eks = _Eks(cluster)

    def client(self, service: str):
        return self.eks


def _described(status: str) -> dict:
    return {
        "arn": CLUSTER.arn,
        "status": status,
        "endpoint": CLUSTER.endpoint,
        "certificateAuthority": {"data": CLUSTER.ca_data},
    }


@pytest.mark.parametrize(
    ("status", "hint"),
    [("CREATING", "wait until it is ACTIVE"), ("DELETING", "being deleted"), ("FAILED", "EKS console")],
)
def test_cluster_not_active_is_refused_with_its_status(status, hint):
    err = Console(file=io.StringIO(), width=400)
    with pytest.raises(typer.Exit) as exc:
        describe_cluster(_Session(_described(status)), "slipway-dev", REGION, "dev", err)
    assert exc.value.exit_code == 1
    text = err.file.getvalue()
    assert f"error: EKS cluster 'slipway-dev' in {REGION} is {status} — " in text and hint in text


def test_cluster_updating_is_usable_with_a_warning():
    err = Console(file=io.StringIO(), width=400)
    info = describe_cluster(_Session(_described("UPDATING")), "slipway-dev", REGION, "dev", err)
    assert info.endpoint == CLUSTER.endpoint and "warning: EKS cluster 'slipway-dev' is UPDATING" in err.file.getvalue()


# --------------------------------------------------------------------------- the command, under moto


@pytest.fixture
def aws(tmp_path, monkeypatch):
    """An isolated home and AWS config with profile `deploy`, and moto in place of AWS."""
    home = tmp_path / "home"
    (home / ".aws").mkdir(parents=True)
    (home / ".aws" / "config").write_text(f"[profile deploy]\nregion = {REGION}\n")
    (home / ".aws" / "credentials").write_text("[deploy]\naws_access_key_id = AKIDEPLOY\naws_secret_access_key = s\n")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(home / ".aws" / "config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(home / ".aws" / "credentials"))
    for var in ("KUBECONFIG", "AWS_PROFILE", "AWS_DEFAULT_PROFILE"):
        monkeypatch.delenv(var, raising=False)
    with mock_aws():
        yield home


def make_stack(root: Path, config: dict, name: str = "t") -> Path:
    (root / "stacks").mkdir(parents=True, exist_ok=True)
    (root / "stacks" / f"Pulumi.{name}.yaml").write_text(yaml.safe_dump({"config": config}))
    return root


def create_cluster(name: str = "slipway-t") -> dict:
    eks = boto3.Session(profile_name="deploy", region_name=REGION).client("eks")
    eks.create_cluster(name=name, roleArn=f"arn:aws:iam::{ACCOUNT}:role/eks", resourcesVpcConfig={"subnetIds": []})
    return eks.describe_cluster(name=name)["cluster"]


PINNED = {
    "aws:region": REGION,
    "aws:profile": "deploy",
    "slipway:identity": {"roleArn": ROLE},
    "slipway:access": {"principals": [{"arn": ROLE, "access": "cluster-admin", "creator": True}]},
}


def run(root: Path, *args, **kwargs) -> tuple[str, str]:
    out, err = Console(file=io.StringIO(), width=400), Console(file=io.StringIO(), width=400)
    kubeconfig_command("t", *args, root=root, out=out, err=err, **kwargs)
    return out.file.getvalue(), err.file.getvalue()


def run_failing(root: Path, *args, **kwargs) -> tuple[int, str]:
    err = Console(file=io.StringIO(), width=400)
    with pytest.raises(typer.Exit) as exc:
        kubeconfig_command("t", *args, root=root, out=Console(file=io.StringIO()), err=err, **kwargs)
    return exc.value.exit_code, err.file.getvalue()


def test_end_to_end_merges_into_home_kubeconfig_as_the_mapped_role(aws, tmp_path):
    root = make_stack(tmp_path / "proj", PINNED)
    described = create_cluster()
    kube = aws / ".kube" / "config"
    kube.parent.mkdir()
    kube.write_text(yaml.safe_dump(OTHER))
    kube.chmod(0o644)

    out, _ = run(root)

    doc = yaml.safe_load(kube.read_text())
    assert stat.S_IMODE(kube.stat().st_mode) == 0o600
    assert doc["current-context"] == "slipway-t"
    assert names(doc, "contexts") == ["kind-kind", "slipway-t"]
    ca = described["certificateAuthority"]["data"]
    assert doc["clusters"][1] == {
        "name": described["arn"],
        "cluster": {"server": described["endpoint"], "certificate-authority-data": ca},
    }
    exec_ = doc["users"][1]["user"]["exec"]
    assert exec_["args"] == exec_args("slipway-t", REGION, role_arn=ROLE, profile="deploy")
    assert exec_["env"] == [{"name": "AWS_PROFILE", "value": "deploy"}]
    assert f"added context slipway-t (cluster {described['arn']}) in {kube}, now current" in out
    # moto's caller is an IAM user, not a session of the role: say who kubectl will be.
    assert f"kubectl will act as {ROLE}" in out
    assert out.rstrip().endswith("next: kubectl get nodes")

    again, _ = run(root)
    assert "updated context slipway-t" in again
    assert names(yaml.safe_load(kube.read_text()), "users") == ["kind-kind", "slipway-t"]


def test_end_to_end_out_file_and_context(aws, tmp_path, monkeypatch):
    root = make_stack(tmp_path / "proj", {"aws:region": REGION, "slipway:clusterName": "platform-dev"})
    create_cluster("platform-dev")
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "ignored"))
    target = tmp_path / "out" / "kubeconfig"

    out, _ = run(root, target, "dev")

    doc = yaml.safe_load(target.read_text())
    assert doc["current-context"] == "dev" and stat.S_IMODE(target.stat().st_mode) == 0o600
    exec_ = doc["users"][0]["user"]["exec"]
    assert exec_["args"] == exec_args("platform-dev", REGION) and "env" not in exec_
    assert not (tmp_path / "ignored").exists()
    assert f"next: kubectl --kubeconfig {target} get nodes" in out


def test_end_to_end_kubeconfig_env_is_the_default_target(aws, tmp_path, monkeypatch):
    root = make_stack(tmp_path / "proj", PINNED)
    create_cluster()
    first = tmp_path / "first"
    monkeypatch.setenv("KUBECONFIG", f"{first}{os.pathsep}{tmp_path / 'second'}")
    run(root)
    assert yaml.safe_load(first.read_text())["current-context"] == "slipway-t"
    assert not (tmp_path / "second").exists()


def test_print_writes_no_file(aws, tmp_path, capsys):
    root = make_stack(tmp_path / "proj", PINNED)
    create_cluster()
    _, err = run(root, None, None, True)
    doc = yaml.safe_load(capsys.readouterr().out)
    assert doc["current-context"] == "slipway-t" and "--role-arn" in doc["users"][0]["user"]["exec"]["args"]
    assert f"kubectl will act as {ROLE}" in err
    assert not (aws / ".kube").exists()


def test_missing_cluster_names_cluster_region_and_pulumi_up(aws, tmp_path):
    root = make_stack(tmp_path / "proj", PINNED)
    code, err = run_failing(root)
    assert code == 1
    assert f"error: EKS cluster 'slipway-t' not found in {REGION} — deploy it first (`pulumi up --stack t`)" in err


def test_unknown_profile_names_the_field(aws, tmp_path):
    root = make_stack(tmp_path / "proj", {**PINNED, "aws:profile": "nosuch"})
    code, err = run_failing(root)
    assert code == 2
    assert err.startswith("error: aws:profile: 'nosuch' is not a profile in your AWS config — create it")


def test_print_and_out_together_are_refused(aws, tmp_path):
    code, err = run_failing(tmp_path, tmp_path / "k", None, True)
    assert code == 2 and err.startswith("error: --print and --out both given")


def test_empty_context_is_refused(aws, tmp_path):
    code, err = run_failing(tmp_path, None, " ")
    assert code == 2 and err.startswith("error: --context '' is empty")


def test_corrupt_kubeconfig_is_not_overwritten(aws, tmp_path):
    root = make_stack(tmp_path / "proj", PINNED)
    create_cluster()
    target = tmp_path / "kc"
    target.write_text("- just\n- a list\n")
    code, err = run_failing(root, target)
    assert code == 2 and err.startswith(f"error: {target}: is not a kubeconfig (a YAML mapping)")
    assert target.read_text() == "- just\n- a list\n"


def test_unknown_stack_is_a_config_error(aws, tmp_path):
    make_stack(tmp_path / "proj", PINNED)
    with pytest.raises(ConfigError, match="'nope' has no file stacks/Pulumi.nope.yaml — use one of t"):
        kubeconfig_command("nope", root=tmp_path / "proj", out=Console(file=io.StringIO()))


# --------------------------------------------------------------------------- DescribeCluster as identity.roleArn


class _DeniedSession:
    """The profile's session: eks:DescribeCluster denied; sts stubbed (assume_role as given)."""

    def __init__(self):
        (self.eks, self.eks_stub), (self.sts, self.sts_stub) = (
            stubbed_client("eks", REGION),
            stubbed_client("sts", REGION),
        )
        self.eks_stub.add_client_error(
            "describe_cluster",
            service_error_code="AccessDeniedException",
            service_message="User: arn:aws:iam::123456789012:user/alice is not authorized to perform: "
            "eks:DescribeCluster",
            http_status_code=403,
            expected_params={"name": "slipway-t"},
        )
        self.eks_stub.activate()
        self.sts_stub.activate()

    def client(self, service: str):
        return {"eks": self.eks, "sts": self.sts}[service]

    def assume_role_works(self):
        self.sts_stub.add_response(
            "assume_role",
            {
                "Credentials": {
                    "AccessKeyId": "ASIAROLEEXAMPLE0001",
                    "SecretAccessKey": "role-secret",
                    "SessionToken": "role-token",
                    "Expiration": datetime(2099, 1, 1, tzinfo=UTC),
                },
                "AssumedRoleUser": {
                    "AssumedRoleId": "AROAEXAMPLE:slipway-kubeconfig",
                    "Arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/platform-admins/slipway-kubeconfig",
                },
            },
            expected_params={"RoleArn": ROLE, "RoleSessionName": "slipway-kubeconfig"},
        )


@pytest.fixture
def role_sessions(monkeypatch):
    """Every boto3.Session(...) built with explicit keys, recorded (the rest still runs under moto)."""
    made = []
    real = boto3.Session

    def spy(*args, **kwargs):
        if "aws_access_key_id" in kwargs:
            made.append(kwargs)
        return real(*args, **kwargs)

    monkeypatch.setattr(boto3, "Session", spy)
    return made


def test_denied_describe_is_retried_as_the_mapped_role(aws, role_sessions):
    described = create_cluster()
    session = _DeniedSession()
    session.assume_role_works()
    err = Console(file=io.StringIO(), width=400)

    info = describe_cluster(session, "slipway-t", REGION, "t", err, role_arn=ROLE)

    assert info.arn == described["arn"] and info.endpoint == described["endpoint"]
    assert role_sessions == [
        {
            "aws_access_key_id": "ASIAROLEEXAMPLE0001",
            "aws_secret_access_key": "role-secret",
            "aws_session_token": "role-token",
            "region_name": REGION,
        }
    ]
    assert err.file.getvalue() == ""
    session.eks_stub.assert_no_pending_responses()
    session.sts_stub.assert_no_pending_responses()


def test_end_to_end_user_who_may_only_assume_the_role_gets_a_kubeconfig(aws, tmp_path, monkeypatch, role_sessions):
    root = make_stack(tmp_path / "proj", PINNED)
    create_cluster()
    session = _DeniedSession()
    session.assume_role_works()
    monkeypatch.setattr("slipway.cli.kubeconfig._session", lambda *args: session)
    target = tmp_path / "kc"

    out, _ = run(root, target)

    assert "added context slipway-t" in out
    assert yaml.safe_load(target.read_text())["users"][0]["user"]["exec"]["args"] == exec_args(
        "slipway-t", REGION, role_arn=ROLE, profile="deploy"
    )


def test_denied_describe_and_denied_assume_role_name_both_and_doctor(aws, role_sessions):
    create_cluster()
    session = _DeniedSession()
    session.sts_stub.add_client_error(
        "assume_role", service_error_code="AccessDenied", service_message="not allowed", http_status_code=403
    )
    err = Console(file=io.StringIO(), width=400)

    with pytest.raises(typer.Exit) as exc:
        describe_cluster(session, "slipway-t", REGION, "t", err, role_arn=ROLE)

    text = err.file.getvalue()
    assert exc.value.exit_code == 1
    assert text.startswith("error: AWS refused eks:DescribeCluster on 'slipway-t' in us-east-1 with your credentials (")
    assert f"and sts:AssumeRole into {ROLE} failed (" in text and "not allowed" in text
    assert text.rstrip().endswith("— check the identity with `slipway doctor t --only identity`")
    assert role_sessions == []


def test_denied_describe_without_a_role_is_not_retried(aws):
    session = _DeniedSession()  # no assume_role stubbed: a call would fail the stub
    err = Console(file=io.StringIO(), width=400)

    with pytest.raises(typer.Exit) as exc:
        describe_cluster(session, "slipway-t", REGION, "t", err)

    assert exc.value.exit_code == 1
    assert "error: AWS refused eks:DescribeCluster on 'slipway-t' in us-east-1:" in err.file.getvalue()


def test_denied_as_the_role_too_names_both_and_doctor(aws, monkeypatch):
    session = _DeniedSession()
    session.assume_role_works()
    as_role = _DeniedSession()  # the role's session is denied as well
    monkeypatch.setattr(boto3, "Session", lambda **kwargs: as_role)
    err = Console(file=io.StringIO(), width=400)

    with pytest.raises(typer.Exit) as exc:
        describe_cluster(session, "slipway-t", REGION, "t", err, role_arn=ROLE)

    text = err.file.getvalue()
    assert exc.value.exit_code == 1
    assert "with your credentials (" in text and f"and as {ROLE} (" in text
    assert text.rstrip().endswith("— check the identity with `slipway doctor t --only identity`")
    as_role.eks_stub.assert_no_pending_responses()
