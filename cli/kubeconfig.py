"""`slipway kubeconfig`: a kubeconfig for a stack's cluster that authenticates as `slipway:identity`.

`aws eks update-kubeconfig` signs tokens with whatever credentials are ambient when
kubectl runs, so a cluster created by a role and then used from a user's shell answers
"You must be logged in to the server (Unauthorized)". The kubeconfig written here pins
the identity the stack maps: `aws eks get-token --role-arn <identity.roleArn>` and the
profile `identity.profile` (default `aws:profile`), exactly the identity `pulumi up`
deploys with.

This module is the command and its AWS calls (the profile's session,
`eks:DescribeCluster`, retried as the role when the profile may only assume it,
`sts:GetCallerIdentity` for the note). The document itself — its names, how it merges
into an existing file, the atomic 0600 write — is cli/kubeconfig_doc.py; its names are
re-exported here.
"""

from __future__ import annotations

import os
from pathlib import Path

import typer
import yaml
from rich.console import Console

from slipway.cli.aws_errors import ACCESS_DENIED, error_code
from slipway.cli.kubeconfig_doc import (
    API_VERSION,
    DEFAULT_PATH,
    INTERACTIVE_MODE,
    ClusterInfo,
    KubeconfigFileError,
    build_kubeconfig,
    default_path,
    exec_args,
    identity_note,
    merge_kubeconfig,
    read_kubeconfig,
    same_role,
    user_entry,
    write_kubeconfig,
)
from slipway.program.config import show

__all__ = [
    "API_VERSION",
    "DEFAULT_PATH",
    "INTERACTIVE_MODE",
    "ROLE_SESSION_NAME",
    "USABLE_STATUSES",
    "ClusterInfo",
    "KubeconfigFileError",
    "build_kubeconfig",
    "default_path",
    "describe_cluster",
    "exec_args",
    "identity_note",
    "kubeconfig_command",
    "merge_kubeconfig",
    "read_kubeconfig",
    "same_role",
    "user_entry",
    "write_kubeconfig",
]

# EKS cluster states: https://docs.aws.amazon.com/eks/latest/APIReference/API_Cluster.html
USABLE_STATUSES = ("ACTIVE", "UPDATING")


def _session(profile: str | None, region: str, field: str, err: Console):
    import boto3
    from botocore.exceptions import ProfileNotFound

    try:
        return boto3.Session(profile_name=profile, region_name=region)
    except ProfileNotFound:
        err.print(
            f"error: {field}: {show(profile)} is not a profile in your AWS config — create it "
            f"(`aws configure sso --profile {profile}`) or fix {field} in the stack file",
            highlight=False,
        )
        raise typer.Exit(2) from None


ROLE_SESSION_NAME = "slipway-kubeconfig"


def _not_found(name: str, region: str, stack: str, err: Console) -> None:
    err.print(
        f"error: EKS cluster {name!r} not found in {region} — deploy it first (`pulumi up --stack {stack}`), "
        "or check slipway:clusterName, aws:region and the AWS account of your credentials",
        highlight=False,
    )


def needs(name: str, region: str, stack: str) -> str:
    """What the kubeconfig is made of and how to get it without slipway reaching AWS."""
    return (
        f"the kubeconfig needs the cluster's API endpoint and CA certificate, which only eks:DescribeCluster "
        f"on {name!r} in {region} returns, asked with the stack's credentials. Once AWS is reachable, run this "
        f"again. Offline, if you can read the stack's Pulumi state (e.g. `pulumi login --local`): `pulumi stack "
        f"output kubeconfig --show-secrets --stack {stack} > kubeconfig` holds both; kubectl itself still needs "
        "the API server and AWS credentials for its token (aws eks get-token)"
    )


def _profile(session) -> str | None:
    """The session's named profile; None for boto3's `default` (what `aws sso login` uses anyway)."""
    name = getattr(session, "profile_name", None)
    return None if name in (None, "default") else name


def _aws_failed(e: Exception, name: str, region: str, stack: str, profile: str | None, err: Console) -> None:
    """Print why a call to AWS failed: the network (and what the kubeconfig needs), the credentials, or else."""
    from slipway.cli.common import cannot_reach, credentials_failure, log_in, network_failure

    if network_failure(e):
        err.print(f"error: {cannot_reach(e, f'EKS in {region}')}\n{needs(name, region, stack)}", highlight=False)
    elif credentials_failure(e):
        err.print(f"error: no usable AWS credentials ({e}) — {log_in(profile)}", highlight=False)
    else:
        err.print(f"error: could not ask EKS in {region} about {name!r}: {e}", highlight=False)


def _describe_as_role(session, role_arn: str, name: str, region: str, stack: str, first: Exception, err: Console):
    """DescribeCluster as `role_arn` (assumed with `session`), after the session itself was denied."""
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    second = f"and sts:AssumeRole into {role_arn} failed"
    try:
        creds = session.client("sts").assume_role(RoleArn=role_arn, RoleSessionName=ROLE_SESSION_NAME)["Credentials"]
        second = f"and as {role_arn}"
        as_role = boto3.Session(
            aws_access_key_id=creds["AccessKeyId"],
            aws_secret_access_key=creds["SecretAccessKey"],
            aws_session_token=creds["SessionToken"],
            region_name=region,
        )
        return as_role.client("eks").describe_cluster(name=name)["cluster"]
    except (BotoCoreError, ClientError) as e:
        if isinstance(e, ClientError) and error_code(e) == "ResourceNotFoundException":
            _not_found(name, region, stack, err)
            raise typer.Exit(1) from None
        if isinstance(e, BotoCoreError):
            _aws_failed(e, name, region, stack, _profile(session), err)
            raise typer.Exit(1) from None
        err.print(
            f"error: AWS refused eks:DescribeCluster on {name!r} in {region} with your credentials ({first}), "
            f"{second} ({e}) — check the identity with `slipway doctor {stack} --only identity`",
            highlight=False,
        )
        raise typer.Exit(1) from None


def describe_cluster(
    session, name: str, region: str, stack: str, err: Console, *, role_arn: str | None = None
) -> ClusterInfo:
    """`eks:DescribeCluster` as a ClusterInfo; exits 1 with a one-line reason when AWS says no.

    Called with `session`'s credentials (the profile's). When those are denied and the
    stack maps `role_arn`, it is retried as that role, the identity kubectl will use:
    a user may be allowed only to assume the role.
    """
    from botocore.exceptions import BotoCoreError, ClientError

    from slipway.cli.common import credentials_failure

    try:
        c = session.client("eks").describe_cluster(name=name)["cluster"]
    except ClientError as e:
        code = error_code(e)
        if code == "ResourceNotFoundException":
            _not_found(name, region, stack, err)
            raise typer.Exit(1) from None
        if credentials_failure(e):
            _aws_failed(e, name, region, stack, _profile(session), err)
            raise typer.Exit(1) from None
        if role_arn and code in ACCESS_DENIED:
            c = _describe_as_role(session, role_arn, name, region, stack, e, err)
        else:
            err.print(
                f"error: AWS refused eks:DescribeCluster on {name!r} in {region}: {e} — check the identity "
                "(aws sts get-caller-identity) and that it may call eks:DescribeCluster",
                highlight=False,
            )
            raise typer.Exit(1) from None
    except BotoCoreError as e:
        _aws_failed(e, name, region, stack, _profile(session), err)
        raise typer.Exit(1) from None
    info = ClusterInfo(
        name=name,
        region=region,
        arn=c.get("arn", ""),
        endpoint=c.get("endpoint") or "",
        ca_data=(c.get("certificateAuthority") or {}).get("data") or "",
        status=c.get("status", "UNKNOWN"),
    )
    if info.status not in USABLE_STATUSES or not (info.endpoint and info.ca_data and info.arn):
        hint = {
            "CREATING": "wait until it is ACTIVE (creation takes 10–15 minutes)",
            "PENDING": "wait until it is ACTIVE",
            "DELETING": f"it is being deleted; recreate it with `pulumi up --stack {stack}`",
            "FAILED": f"see the failure in the EKS console, then `pulumi up --stack {stack}`",
        }.get(info.status, "wait until it is ACTIVE")
        err.print(f"error: EKS cluster {name!r} in {region} is {info.status} — {hint}", highlight=False)
        raise typer.Exit(1)
    if info.status == "UPDATING":
        err.print(f"warning: EKS cluster {name!r} is UPDATING; kubectl works, but may be slow until ACTIVE")
    return info


def _caller_arn(session) -> str | None:
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        return session.client("sts").get_caller_identity()["Arn"]
    except (BotoCoreError, ClientError):
        return None  # only feeds a note


def kubeconfig_command(
    stack: str,
    out_file: Path | None = None,
    context: str | None = None,
    print_only: bool = False,
    *,
    root: Path | None = None,
    out: Console | None = None,
    err: Console | None = None,
) -> Path | None:
    """`slipway kubeconfig`: write (or print) the stack's kubeconfig; returns the file written.

    Raises ConfigError for a bad stack file (the CLI reports it with exit 2) and
    typer.Exit for bad flags (2), an unusable kubeconfig file (2) and AWS refusals (1).
    """
    from slipway.program.stackfile import load_stack_target

    out = out or Console()
    err = err or Console(stderr=True)
    if print_only and out_file is not None:
        err.print("error: --print and --out both given — --print writes no file; drop one of them")
        raise typer.Exit(2)
    if context is not None and not context.strip():
        err.print("error: --context '' is empty — name the context (default: the cluster name)")
        raise typer.Exit(2)
    if root is None:
        from slipway.cli.render import ROOT

        root = ROOT
    target = load_stack_target(stack, root)
    cfg, region, profile = target.cfg, target.stackfile.region, target.profile
    field = "slipway:identity.profile" if cfg.identity.profile else "aws:profile"
    role_arn = cfg.identity.role_arn

    session = _session(profile, region, field, err)
    cluster = describe_cluster(session, target.cluster_name, region, stack, err, role_arn=role_arn)
    doc = build_kubeconfig(cluster, context=context, role_arn=role_arn, profile=profile)
    ctx = doc["current-context"]
    note = identity_note(_caller_arn(session), role_arn, profile)

    if print_only:
        print(yaml.safe_dump(doc, sort_keys=False, default_flow_style=False), end="")
        if note:
            err.print(note, highlight=False)
        return None

    path = out_file.expanduser() if out_file is not None else default_path()
    try:
        existing = read_kubeconfig(path)
        merged = merge_kubeconfig(existing, doc, where=str(path))
        write_kubeconfig(path, merged)
    except KubeconfigFileError as e:
        err.print(f"error: {e}", highlight=False)
        raise typer.Exit(2) from None
    except OSError as e:
        err.print(f"error: cannot write {path} ({e.strerror}) — fix its permissions or pass --out FILE")
        raise typer.Exit(2) from None
    updated = any(c.get("name") == ctx for c in (existing or {}).get("contexts") or [])
    from slipway.cli.common import Wrap

    out.print(Wrap(f"{'updated' if updated else 'added'} context {ctx} (cluster {cluster.arn}) in {path}, now current"))
    if note:
        out.print(Wrap(note))
    on_path = out_file is None or Path(os.path.realpath(path)) == Path(os.path.realpath(default_path()))
    out.print(Wrap("next: kubectl get nodes" if on_path else f"next: kubectl --kubeconfig {path} get nodes"))
    return path
