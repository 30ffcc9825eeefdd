"""`slipway backend init`: the Pulumi state bucket under moto — every setting, re-runs, drift, errors, CLI."""

from __future__ import annotations

import json

import boto3
import pytest
import typer
from botocore.stub import Stubber
from moto import mock_aws
from typer.testing import CliRunner

from slipway.cli import backend
from slipway.cli.backend import (
    LIFECYCLE_ID,
    BackendError,
    backend_app,
    bucket_name_problem,
    ensure_state_bucket,
    kms_key_problem,
    login_command,
    region_problem,
    suggest_bucket_name,
)

from tests.helpers import stubbed_client

BUCKET = "acme-pulumi-state"
ACCOUNT = "123456789012"  # moto's default account
KEY_ARN = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"


@pytest.fixture
def aws(monkeypatch, tmp_path):
    """Fake credentials, no developer config, and moto for every AWS call."""
    for var in ("AWS_PROFILE", "AWS_REGION", "AWS_DEFAULT_PROFILE"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_SECURITY_TOKEN", "testing")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    with mock_aws():
        yield


def s3(region: str = "us-east-1"):
    return boto3.client("s3", region_name=region)


def statuses(steps) -> dict[str, str]:
    return {s.setting: s.status for s in steps}


def tls_statement(bucket: str, region: str = "us-east-1") -> dict:
    policy = json.loads(s3(region).get_bucket_policy(Bucket=bucket)["Policy"])
    found = [s for s in policy["Statement"] if s.get("Sid") == backend.TLS_SID]
    assert len(found) == 1, f"expected one {backend.TLS_SID} statement in {policy}"
    return found[0]


def assert_locked_down(bucket: str, region: str = "us-east-1", kms_key_id: str | None = None) -> None:
    """Every setting `init` owns, read back from S3."""
    client = s3(region)
    assert client.get_bucket_versioning(Bucket=bucket).get("Status") == "Enabled"

    rules = client.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
    assert len(rules) == 1, rules
    default = rules[0]["ApplyServerSideEncryptionByDefault"]
    assert default["SSEAlgorithm"] == "aws:kms"
    assert default.get("KMSMasterKeyID") == kms_key_id  # None: the AWS-managed aws/s3 key
    assert rules[0]["BucketKeyEnabled"] is True

    assert client.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "IgnorePublicAcls": True,
        "BlockPublicPolicy": True,
        "RestrictPublicBuckets": True,
    }

    stmt = tls_statement(bucket, region)
    assert stmt["Effect"] == "Deny"
    assert stmt["Principal"] in ("*", {"AWS": "*"})
    assert stmt["Action"] in ("s3:*", ["s3:*"])
    assert stmt["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    resources = [stmt["Resource"]] if isinstance(stmt["Resource"], str) else stmt["Resource"]
    assert sorted(resources) == [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"]

    ownership = client.get_bucket_ownership_controls(Bucket=bucket)["OwnershipControls"]["Rules"]
    assert ownership == [{"ObjectOwnership": "BucketOwnerEnforced"}]

    lifecycle = client.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
    ours = [r for r in lifecycle if r["ID"] == LIFECYCLE_ID]
    assert len(ours) == 1, lifecycle
    assert ours[0]["Status"] == "Enabled"
    assert ours[0]["AbortIncompleteMultipartUpload"] == {"DaysAfterInitiation": backend.ABORT_MULTIPART_DAYS}
    # State must never be lost: no rule of ours expires current or noncurrent versions.
    assert "Expiration" not in ours[0] and "NoncurrentVersionExpiration" not in ours[0], ours[0]


# ------------------------------------------------------------------ the bucket and its settings


def test_new_bucket_in_us_east_1_has_every_setting(aws):
    steps = ensure_state_bucket(s3(), BUCKET, "us-east-1", expected_owner=ACCOUNT)

    assert statuses(steps) == {
        "bucket": "created",
        "object ownership": "created",
        "public access block": "created",
        "default encryption": "created",
        "versioning": "created",
        "bucket policy (TLS only)": "created",
        "lifecycle": "created",
    }
    # us-east-1 buckets report no LocationConstraint.
    assert s3().get_bucket_location(Bucket=BUCKET)["LocationConstraint"] is None
    assert_locked_down(BUCKET)


def test_second_run_is_idempotent(aws):
    ensure_state_bucket(s3(), BUCKET, "us-east-1")
    policy_before = s3().get_bucket_policy(Bucket=BUCKET)["Policy"]

    again = ensure_state_bucket(s3(), BUCKET, "us-east-1")

    assert {s.status for s in again} == {"already set"}, statuses(again)
    assert s3().get_bucket_policy(Bucket=BUCKET)["Policy"] == policy_before
    assert len(s3().get_bucket_lifecycle_configuration(Bucket=BUCKET)["Rules"]) == 1
    assert_locked_down(BUCKET)


def test_other_region_uses_a_location_constraint_and_the_given_key(aws):
    steps = ensure_state_bucket(s3("eu-west-1"), BUCKET, "eu-west-1", kms_key_id=KEY_ARN)

    assert statuses(steps)["bucket"] == "created"
    assert s3("eu-west-1").get_bucket_location(Bucket=BUCKET)["LocationConstraint"] == "eu-west-1"
    assert_locked_down(BUCKET, "eu-west-1", kms_key_id=KEY_ARN)
    assert next(s for s in steps if s.setting == "default encryption").detail.startswith(f"SSE-KMS with {KEY_ARN}")


def test_changing_the_key_updates_encryption_only(aws):
    ensure_state_bucket(s3("eu-west-1"), BUCKET, "eu-west-1")

    steps = ensure_state_bucket(s3("eu-west-1"), BUCKET, "eu-west-1", kms_key_id=KEY_ARN)

    assert {k: v for k, v in statuses(steps).items() if v != "already set"} == {"default encryption": "updated"}
    assert_locked_down(BUCKET, "eu-west-1", kms_key_id=KEY_ARN)


def test_re_run_without_a_key_keeps_the_buckets_customer_key(aws):
    # A teammate re-running `init` without --kms-key-id must not switch the bucket back to aws/s3.
    ensure_state_bucket(s3("eu-west-1"), BUCKET, "eu-west-1", kms_key_id=KEY_ARN)

    steps = ensure_state_bucket(s3("eu-west-1"), BUCKET, "eu-west-1")

    assert {s.status for s in steps} == {"already set"}, statuses(steps)
    encryption = next(s for s in steps if s.setting == "default encryption")
    assert encryption.warning is None
    assert encryption.detail.startswith(f"SSE-KMS with {KEY_ARN}, bucket key on (the bucket's key, kept")
    assert_locked_down(BUCKET, "eu-west-1", kms_key_id=KEY_ARN)


def test_re_run_without_a_key_turns_the_bucket_key_on_and_keeps_the_key(aws):
    client = s3("eu-west-1")
    client.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    rule = {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": KEY_ARN}}
    client.put_bucket_encryption(Bucket=BUCKET, ServerSideEncryptionConfiguration={"Rules": [rule]})

    steps = ensure_state_bucket(client, BUCKET, "eu-west-1")

    encryption = next(s for s in steps if s.setting == "default encryption")
    assert (encryption.status, encryption.warning) == ("updated", None)
    assert_locked_down(BUCKET, "eu-west-1", kms_key_id=KEY_ARN)


def test_an_explicit_new_key_replaces_the_old_one_with_a_warning(aws):
    other = "arn:aws:kms:eu-west-1:123456789012:key/99999999-12ab-34cd-56ef-1234567890ab"
    ensure_state_bucket(s3("eu-west-1"), BUCKET, "eu-west-1", kms_key_id=KEY_ARN)

    steps = ensure_state_bucket(s3("eu-west-1"), BUCKET, "eu-west-1", kms_key_id=other)

    encryption = next(s for s in steps if s.setting == "default encryption")
    assert encryption.status == "updated"
    assert encryption.warning == (
        f"default encryption was {KEY_ARN}; it is now {other} (pass --kms-key-id {KEY_ARN} to keep the old key)"
    )
    assert_locked_down(BUCKET, "eu-west-1", kms_key_id=other)


def test_drift_is_repaired_and_foreign_settings_are_kept(aws):
    client = s3()
    client.create_bucket(Bucket=BUCKET)
    client.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Suspended"})
    client.put_bucket_encryption(
        Bucket=BUCKET,
        ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
        },
    )
    client.put_public_access_block(
        Bucket=BUCKET,
        PublicAccessBlockConfiguration={k: False for k in backend.PUBLIC_ACCESS_BLOCK},
    )
    client.put_bucket_ownership_controls(
        Bucket=BUCKET, OwnershipControls={"Rules": [{"ObjectOwnership": "ObjectWriter"}]}
    )
    reader = {
        "Sid": "CiReadsState",
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:role/ci"},
        "Action": "s3:GetObject",
        "Resource": f"arn:aws:s3:::{BUCKET}/*",
    }
    client.put_bucket_policy(Bucket=BUCKET, Policy=json.dumps({"Version": "2012-10-17", "Statement": [reader]}))
    expiring = {"ID": "tidy", "Status": "Enabled", "Filter": {"Prefix": "tmp/"}, "Expiration": {"Days": 30}}
    client.put_bucket_lifecycle_configuration(Bucket=BUCKET, LifecycleConfiguration={"Rules": [expiring]})

    steps = ensure_state_bucket(client, BUCKET, "us-east-1")

    assert statuses(steps) == {
        "bucket": "already set",
        "object ownership": "updated",
        "public access block": "updated",
        "default encryption": "updated",  # SSE-S3 → SSE-KMS
        "versioning": "updated",  # Suspended → Enabled
        "bucket policy (TLS only)": "created",  # a policy existed, our statement did not
        "lifecycle": "created",
    }
    assert_locked_down(BUCKET)
    policy = json.loads(client.get_bucket_policy(Bucket=BUCKET)["Policy"])
    assert [s["Sid"] for s in policy["Statement"]] == ["CiReadsState", backend.TLS_SID]
    rules = {r["ID"] for r in client.get_bucket_lifecycle_configuration(Bucket=BUCKET)["Rules"]}
    assert rules == {"tidy", LIFECYCLE_ID}
    lifecycle = next(s for s in steps if s.setting == "lifecycle")
    assert lifecycle.warning and "tidy" in lifecycle.warning and "state could be lost" in lifecycle.warning


def test_weakened_tls_statement_is_replaced(aws):
    ensure_state_bucket(s3(), BUCKET, "us-east-1")
    weak = backend.tls_only_statement(BUCKET) | {"Resource": f"arn:aws:s3:::{BUCKET}"}  # objects not covered
    s3().put_bucket_policy(Bucket=BUCKET, Policy=json.dumps({"Version": "2012-10-17", "Statement": [weak]}))

    steps = ensure_state_bucket(s3(), BUCKET, "us-east-1")

    assert statuses(steps)["bucket policy (TLS only)"] == "updated"
    assert_locked_down(BUCKET)


def test_bucket_in_another_region_is_a_user_error(aws):
    s3("eu-west-1").create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})

    with pytest.raises(BackendError) as info:
        ensure_state_bucket(s3(), BUCKET, "us-east-1")

    assert info.value.exit_code == 2
    assert str(info.value) == (
        f"--region 'us-east-1': bucket '{BUCKET}' already exists in eu-west-1 — pass --region eu-west-1"
    )


def _create_refused(stub: Stubber, code: str, **error) -> None:
    """The bucket does not exist (HeadBucket 404), then CreateBucket fails with `code`."""
    stub.add_client_error("head_bucket", service_error_code="404", http_status_code=404)
    stub.add_client_error("create_bucket", service_error_code=code, **error)


def test_bucket_owned_by_another_account_is_refused(aws):
    client, stub = stubbed_client("s3")
    stub.add_client_error("head_bucket", service_error_code="403", http_status_code=403)
    with stub, pytest.raises(BackendError) as info:
        ensure_state_bucket(client, BUCKET, "us-east-1", expected_owner=ACCOUNT)

    assert info.value.exit_code == 1
    assert "belongs to another AWS account" in str(info.value) and "choose another --bucket" in str(info.value)
    stub.assert_no_pending_responses()


def test_name_taken_between_head_and_create_is_refused(aws):
    client, stub = stubbed_client("s3", "eu-west-1")
    _create_refused(
        stub,
        "BucketAlreadyExists",
        http_status_code=409,
        expected_params={"Bucket": BUCKET, "CreateBucketConfiguration": {"LocationConstraint": "eu-west-1"}},
    )
    with stub, pytest.raises(BackendError) as info:
        ensure_state_bucket(client, BUCKET, "eu-west-1")

    assert info.value.exit_code == 1 and "is taken by another AWS account" in str(info.value)


def test_us_east_1_create_has_no_location_constraint(aws):
    client, stub = stubbed_client("s3")
    # expected_params is exact: any CreateBucketConfiguration would fail the stub.
    _create_refused(stub, "AccessDenied", http_status_code=403, expected_params={"Bucket": BUCKET})
    with stub, pytest.raises(BackendError) as info:
        ensure_state_bucket(client, BUCKET, "us-east-1")

    assert info.value.exit_code == 1
    assert "AWS refused CreateBucket" in str(info.value) and "s3:CreateBucket" in str(info.value)


def _client_error(code: str, message: str, operation: str):
    from botocore.exceptions import ClientError

    return ClientError({"Error": {"Code": code, "Message": message}}, operation)


@pytest.mark.parametrize(
    ("code", "operation", "fix"),
    [
        (
            "InvalidBucketAclWithObjectOwnership",
            "PutBucketOwnershipControls",
            f"remove them (aws s3api put-bucket-acl --bucket {BUCKET} --acl private), then re-run",
        ),
        ("IllegalLocationConstraintException", "CreateBucket", "pass --region of a region enabled for the account"),
        ("MalformedPolicy", "PutBucketPolicy", f"aws s3api get-bucket-policy --bucket {BUCKET}"),
        ("KMS.DisabledException", "PutBucketEncryption", "check that the key is enabled and its key policy"),
        ("KMS.NotFoundException", "PutBucketEncryption", "or omit --kms-key-id to use aws/s3"),
    ],
)
def test_refusals_other_than_access_denied_show_code_message_and_fix(code, operation, fix):
    error = backend._refused(_client_error(code, "S3 says no", operation), BUCKET)

    assert str(error).startswith(f"AWS refused {operation} on bucket '{BUCKET}': {code}: S3 says no — ")
    assert fix in str(error)
    assert "your credentials need" not in str(error)


def test_unknown_refusal_shows_code_and_message_only():
    error = backend._refused(_client_error("OperationAborted", "try again", "PutBucketPolicy"), BUCKET)

    assert str(error) == f"AWS refused PutBucketPolicy on bucket '{BUCKET}': OperationAborted: try again"


@pytest.mark.parametrize("code", ["AccessDenied", "AccessDeniedException"])
def test_access_denied_names_the_iam_action(code):
    error = backend._refused(_client_error(code, "denied", "PutBucketEncryption"), BUCKET)

    assert str(error).endswith("— your credentials need s3:PutEncryptionConfiguration on it")


def test_acl_grants_on_an_existing_bucket_are_explained(aws):
    client, stub = stubbed_client("s3")
    stub.add_response("head_bucket", {"BucketRegion": "us-east-1"})
    stub.add_client_error("get_bucket_ownership_controls", service_error_code="OwnershipControlsNotFoundError")
    stub.add_client_error(
        "put_bucket_ownership_controls",
        service_error_code="InvalidBucketAclWithObjectOwnership",
        service_message="Bucket cannot have ACLs set with ObjectOwnership's BucketOwnerEnforced setting",
    )
    with stub, pytest.raises(BackendError) as info:
        ensure_state_bucket(client, BUCKET, "us-east-1")

    assert str(info.value) == (
        f"AWS refused PutBucketOwnershipControls on bucket '{BUCKET}': InvalidBucketAclWithObjectOwnership: "
        "Bucket cannot have ACLs set with ObjectOwnership's BucketOwnerEnforced setting — the bucket has ACL "
        "grants, which BucketOwnerEnforced (ACLs disabled) does not allow — remove them "
        f"(aws s3api put-bucket-acl --bucket {BUCKET} --acl private), then re-run"
    )
    stub.assert_no_pending_responses()


def test_region_not_enabled_is_explained(aws):
    client, stub = stubbed_client("s3", "ap-east-1")
    _create_refused(
        stub, "IllegalLocationConstraintException", service_message="The ap-east-1 location constraint is not valid."
    )
    with stub, pytest.raises(BackendError) as info:
        ensure_state_bucket(client, BUCKET, "ap-east-1")

    assert "IllegalLocationConstraintException: The ap-east-1 location constraint is not valid." in str(info.value)
    assert "pass --region of a region enabled for the account" in str(info.value)
    assert "your credentials need" not in str(info.value)


def test_kms_key_in_another_region_is_refused_by_describe_key(aws):
    key = boto3.client("kms", region_name="eu-west-1").create_key()["KeyMetadata"]

    with pytest.raises(BackendError) as info:
        backend.verify_kms_key(boto3.client("kms", region_name="eu-west-1"), key["KeyId"], "us-east-1")

    assert info.value.exit_code == 2
    assert "is in eu-west-1, but the bucket is in us-east-1" in str(info.value)


# ------------------------------------------------------------------ validation and output (no AWS)


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("ab", "3 to 63"),
        ("a" * 64, "3 to 63"),
        ("Acme-State", "lowercase"),
        ("acme_state", "lowercase"),
        ("-acme-state", "start and end"),
        ("acme-state.", "start and end"),
        ("acme..state", "two adjacent periods"),
        ("192.168.5.4", "IP address"),
        ("xn--acme", "'xn--'"),
        ("sthree-acme", "'sthree-'"),
        ("amzn-s3-demo-acme", "'amzn-s3-demo-'"),
        ("acme-s3alias", "'-s3alias'"),
        ("acme--ol-s3", "'--ol-s3'"),
        ("acme.mrap", "'.mrap'"),
        ("acme--x-s3", "'--x-s3'"),
        ("acme--table-s3", "'--table-s3'"),
    ],
)
def test_invalid_bucket_names(name, why):
    problem = bucket_name_problem(name)
    assert problem and why in problem, (name, problem)


@pytest.mark.parametrize("name", ["abc", "acme-pulumi-state", "acme.pulumi.state", "a" * 63, "123-state"])
def test_valid_bucket_names(name):
    assert bucket_name_problem(name) is None


def test_bucket_name_suggestion():
    assert suggest_bucket_name("Acme_Pulumi State") == "acme-pulumi-state"
    assert suggest_bucket_name("ab") is None


def test_region_validation():
    assert region_problem("eu-west-1") is None
    assert region_problem("useast-1") == "is not an AWS region S3 serves — did you mean 'us-east-1'?"
    assert region_problem("EU-WEST-1") == "is not an AWS region S3 serves — did you mean 'eu-west-1'?"
    assert region_problem("mars-1") is not None


def test_kms_key_validation():
    assert kms_key_problem(KEY_ARN, "eu-west-1") is None
    assert kms_key_problem("alias/pulumi-state", "eu-west-1") is None
    assert kms_key_problem("1234abcd-12ab-34cd-56ef-1234567890ab", "eu-west-1") is None
    assert kms_key_problem("mrk-1234abcd12ab34cd56ef1234567890ab", "eu-west-1") is None
    assert "bucket's region" in kms_key_problem(KEY_ARN, "us-east-1")
    assert "is not a KMS key id" in kms_key_problem("my key", "us-east-1")


def test_login_command():
    # https://www.pulumi.com/docs/iac/operations/stack-management/using-a-diy-backend/#aws-s3
    assert login_command(BUCKET, "eu-west-1") == f"pulumi login 's3://{BUCKET}?region=eu-west-1&awssdk=v2'"
    assert (
        login_command(BUCKET, "us-east-1", "ops")
        == f"pulumi login 's3://{BUCKET}?region=us-east-1&awssdk=v2&profile=ops'"
    )


# ------------------------------------------------------------------ CLI

cli = typer.Typer()
cli.add_typer(backend_app, name="backend")


@cli.callback()
def _root() -> None:
    """A stand-in for slipway's app (keeps `backend` a sub-command)."""


def run(*args: str):
    result = CliRunner().invoke(cli, ["backend", "init", *args])
    # User mistakes and AWS refusals end in a clean exit, never a traceback.
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result


def test_cli_creates_then_re_applies(aws):
    first = run("--bucket", BUCKET, "--region", "eu-west-1")

    assert first.exit_code == 0, first.output
    for setting in ("bucket", "versioning", "default encryption", "public access block", "lifecycle"):
        assert setting in first.stdout
    assert "created" in first.stdout
    assert f"pulumi login 's3://{BUCKET}?region=eu-west-1&awssdk=v2'" in first.stdout.splitlines()
    assert '--secrets-provider="awskms://alias/<key-alias>?region=eu-west-1"' in first.stdout
    assert_locked_down(BUCKET, "eu-west-1")

    second = run("--bucket", BUCKET, "--region", "eu-west-1")

    assert second.exit_code == 0, second.output
    assert "already set" in second.stdout and "created" not in second.stdout


def test_cli_region_defaults_to_the_environment(aws):
    result = run("--bucket", BUCKET)

    assert result.exit_code == 0, result.output
    assert f"pulumi login 's3://{BUCKET}?region=us-east-1&awssdk=v2'" in result.stdout
    assert s3().get_bucket_location(Bucket=BUCKET)["LocationConstraint"] is None


def test_cli_profile_goes_into_the_login_url(aws, tmp_path, monkeypatch):
    monkeypatch.delenv("AWS_DEFAULT_REGION")  # the environment would win over the profile's region
    (tmp_path / "config").write_text("[profile ops]\nregion = eu-central-1\n")
    (tmp_path / "credentials").write_text("[ops]\naws_access_key_id = testing\naws_secret_access_key = testing\n")

    result = run("--bucket", BUCKET, "--profile", "ops")

    assert result.exit_code == 0, result.output
    assert f"pulumi login 's3://{BUCKET}?region=eu-central-1&awssdk=v2&profile=ops'" in result.stdout
    assert s3("eu-central-1").get_bucket_location(Bucket=BUCKET)["LocationConstraint"] == "eu-central-1"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--bucket", "Acme_State"],
            "error: --bucket 'Acme_State' may hold only lowercase letters, digits, '.' and '-', and must start "
            "and end with a letter or digit — try 'acme-state'",
        ),
        (
            ["--bucket", BUCKET, "--region", "eu-wset-1"],
            "error: --region 'eu-wset-1' is not an AWS region S3 serves — did you mean 'eu-west-1'?",
        ),
        (
            ["--bucket", BUCKET, "--region", "us-east-1", "--kms-key-id", KEY_ARN],
            f"error: --kms-key-id '{KEY_ARN}' is in eu-west-1, but the bucket is in us-east-1; S3 needs a key in "
            "the bucket's region — or omit it to use aws/s3",
        ),
        (
            ["--bucket", BUCKET, "--profile", "nope"],
            "error: --profile 'nope' is not in your AWS config — list profiles with `aws configure list-profiles`",
        ),
    ],
    ids=["bucket", "region", "kms-key-id", "profile"],
)
def test_cli_user_errors_exit_2_before_any_aws_call(aws, args, message):
    result = run(*args)

    assert result.exit_code == 2, result.output
    assert result.stderr.strip() == message
    assert s3().list_buckets()["Buckets"] == []


def test_cli_bucket_in_another_region_exits_2(aws):
    s3("eu-west-1").create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})

    result = run("--bucket", BUCKET, "--region", "us-east-1")

    assert result.exit_code == 2, result.output
    assert "pass --region eu-west-1" in result.stderr


def test_cli_bucket_of_another_account_exits_1(aws, monkeypatch):
    client, stub = stubbed_client("s3")
    stub.add_client_error("head_bucket", service_error_code="403", http_status_code=403)
    sts = boto3.client("sts", region_name="us-east-1")
    kms = boto3.client("kms", region_name="us-east-1")
    monkeypatch.setattr(backend, "_clients", lambda profile, region: (client, sts, kms, "us-east-1"))

    with stub:
        result = run("--bucket", BUCKET)

    assert result.exit_code == 1, result.output
    assert "belongs to another AWS account" in result.stderr
    assert "pulumi login" not in result.stdout


def _key(region: str = "eu-west-1", **kwargs) -> str:
    return boto3.client("kms", region_name=region).create_key(**kwargs)["KeyMetadata"]["KeyId"]


def test_cli_uses_an_enabled_key_and_a_re_run_without_it_keeps_it(aws):
    key = _key()

    first = run("--bucket", BUCKET, "--region", "eu-west-1", "--kms-key-id", key)

    assert first.exit_code == 0, first.output
    assert_locked_down(BUCKET, "eu-west-1", kms_key_id=key)

    second = run("--bucket", BUCKET, "--region", "eu-west-1")

    assert second.exit_code == 0, second.output
    assert "created" not in second.stdout and "updated" not in second.stdout
    assert "warning" not in second.stderr
    assert_locked_down(BUCKET, "eu-west-1", kms_key_id=key)


@pytest.mark.parametrize(
    ("make_key", "message"),
    [
        (
            lambda: "1234abcd-12ab-34cd-56ef-1234567890ab",
            "error: --kms-key-id '1234abcd-12ab-34cd-56ef-1234567890ab' is not a KMS key in eu-west-1 — list keys "
            "with `aws kms list-aliases --region eu-west-1`, or omit it to use aws/s3",
        ),
        (
            lambda: "alias/nope",
            "error: --kms-key-id 'alias/nope' is not a KMS key in eu-west-1",
        ),
        (
            lambda: _disabled_key(),
            "key is Disabled — enable it or pick another",
        ),
        (
            lambda: _key(KeySpec="RSA_2048", KeyUsage="SIGN_VERIFY"),
            "key is RSA_2048 for SIGN_VERIFY; S3 needs a symmetric encryption key",
        ),
    ],
    ids=["unknown-id", "unknown-alias", "disabled", "asymmetric"],
)
def test_cli_unusable_key_exits_2_before_any_change(aws, make_key, message):
    key = make_key()

    result = run("--bucket", BUCKET, "--region", "eu-west-1", "--kms-key-id", key)

    assert result.exit_code == 2, result.output
    assert result.stderr.startswith(f"error: --kms-key-id '{key}'") and message in result.stderr
    assert s3("eu-west-1").list_buckets()["Buckets"] == []


def _disabled_key() -> str:
    key = _key()
    boto3.client("kms", region_name="eu-west-1").disable_key(KeyId=key)
    return key


def test_cli_describe_key_refused_warns_and_continues(aws, monkeypatch):
    kms, stub = stubbed_client("kms", "eu-west-1")
    stub.add_client_error(
        "describe_key",
        service_error_code="AccessDeniedException",
        http_status_code=400,
        expected_params={"KeyId": KEY_ARN},
    )
    clients = (s3("eu-west-1"), boto3.client("sts", region_name="eu-west-1"), kms, "eu-west-1")
    monkeypatch.setattr(backend, "_clients", lambda profile, region: clients)

    with stub:
        result = run("--bucket", BUCKET, "--region", "eu-west-1", "--kms-key-id", KEY_ARN)

    assert result.exit_code == 0, result.output
    assert f"warning: --kms-key-id '{KEY_ARN}': could not check the key (kms:DescribeKey refused)" in result.stderr
    assert_locked_down(BUCKET, "eu-west-1", kms_key_id=KEY_ARN)
    stub.assert_no_pending_responses()
