"""`slipway kubeconfig`: a kubeconfig for a stack's cluster that authenticates as `slipway:identity`.

`aws eks update-kubeconfig` signs tokens with whatever credentials are ambient when
kubectl runs, so a cluster created by a role and then used from a user's shell answers
"You must be logged in to the server (Unauthorized)". The kubeconfig written here pins
the identity the stack maps: `aws eks get-token --role-arn <identity.roleArn>` and the
profile `identity.profile` (default `aws:profile`), exactly the identity `pulumi up`
deploys with.

Names (chosen so a re-run replaces its own entries and nothing else):

* context: `--context`, default the cluster name (`slipway-dev`), so
  `kubectl config use-context slipway-dev` reads like the stack;
* user: the context name, because it carries this stack's identity;
* cluster: the cluster ARN, as `aws eks update-kubeconfig` names it — unique across
  accounts and regions, and the same endpoint and CA whoever wrote it.

Entries of the same name are replaced, all others kept, `current-context` set, and the
file written atomically with mode 0600 (it names roles and profiles).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import typer
import yaml
from rich.console import Console

from slipway.cli.aws_errors import ACCESS_DENIED, error_code
from slipway.program.config import show

# v1beta1 is what `aws eks update-kubeconfig` writes and every supported kubectl reads.
# https://github.com/aws/aws-cli/blob/develop/awscli/customizations/eks/update_kubeconfig.py
API_VERSION = "client.authentication.k8s.io/v1beta1"
# The value v1beta1 uses when unset (update-kubeconfig leaves it out), written out so the
# file reads the same under v1, where it is required. IfAvailable lets `aws` prompt for
# an MFA code when a profile's assume-role asks for one.
# https://kubernetes.io/docs/reference/config-api/kubeconfig.v1/#ExecConfig
INTERACTIVE_MODE = "IfAvailable"
DEFAULT_PATH = Path("~/.kube/config")
# EKS cluster states: https://docs.aws.amazon.com/eks/latest/APIReference/API_Cluster.html
USABLE_STATUSES = ("ACTIVE", "UPDATING")


class KubeconfigFileError(ValueError):
    """An existing kubeconfig file that cannot be merged into; str() names the file and the fix."""


@dataclass(frozen=True, kw_only=True)
class ClusterInfo:
    """What a kubeconfig needs from `eks:DescribeCluster`."""

    name: str
    region: str
    arn: str
    endpoint: str
    ca_data: str
    """certificateAuthority.data: the cluster CA, base64 PEM, as kubeconfig wants it."""
    status: str = "ACTIVE"


def exec_args(cluster_name: str, region: str, *, role_arn: str | None = None, profile: str | None = None) -> list[str]:
    """Arguments of `aws` that print an EKS token for `cluster_name` as the mapped identity.

    Flags from https://docs.aws.amazon.com/cli/latest/reference/eks/get-token.html.
    `--profile` is passed as a flag, not only as AWS_PROFILE: botocore ignores exported
    AWS_ACCESS_KEY_ID only for a profile given explicitly, so with AWS_PROFILE alone stray
    keys in kubectl's shell would sign the token (botocore `create_credential_resolver`).
    """
    args = ["--region", region, "eks", "get-token", "--cluster-name", cluster_name, "--output", "json"]
    if role_arn:
        args += ["--role-arn", role_arn]
    if profile:
        args += ["--profile", profile]
    return args


def user_entry(name: str, cluster_name: str, region: str, *, role_arn: str | None, profile: str | None) -> dict:
    """A kubeconfig `users[]` entry with exec auth through `aws eks get-token`."""
    exec_: dict[str, Any] = {
        "apiVersion": API_VERSION,
        "command": "aws",
        "args": exec_args(cluster_name, region, role_arn=role_arn, profile=profile),
        "interactiveMode": INTERACTIVE_MODE,
    }
    if profile:
        # As update-kubeconfig writes it; also read by tools kubectl may chain to.
        exec_["env"] = [{"name": "AWS_PROFILE", "value": profile}]
    return {"name": name, "user": {"exec": exec_}}


def build_kubeconfig(
    cluster: ClusterInfo, *, context: str | None = None, role_arn: str | None = None, profile: str | None = None
) -> dict:
    """A standalone kubeconfig for `cluster` whose current context authenticates as the identity."""
    ctx = context or cluster.name
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "preferences": {},
        "clusters": [
            {
                "name": cluster.arn,
                "cluster": {"server": cluster.endpoint, "certificate-authority-data": cluster.ca_data},
            }
        ],
        "users": [user_entry(ctx, cluster.name, cluster.region, role_arn=role_arn, profile=profile)],
        "contexts": [{"name": ctx, "context": {"cluster": cluster.arn, "user": ctx}}],
        "current-context": ctx,
    }


def _check_shape(doc: Any, where: str) -> Mapping[str, Any]:
    if doc is None:
        return {}
    if not isinstance(doc, Mapping):
        raise KubeconfigFileError(f"{where}: is not a kubeconfig (a YAML mapping) — fix it or pass --out FILE")
    for key in ("clusters", "users", "contexts"):
        items = doc.get(key)
        if items is not None and not (isinstance(items, list) and all(isinstance(i, dict) for i in items)):
            raise KubeconfigFileError(
                f"{where}: `{key}` must be a list of named entries — fix it (kubectl config view) or pass --out FILE"
            )
    return doc


def merge_kubeconfig(existing: Mapping[str, Any] | None, new: Mapping[str, Any], where: str = "kubeconfig") -> dict:
    """`existing` with `new`'s clusters, users and contexts: same names replaced in place,
    others kept in order, `current-context` set to `new`'s. Neither input is modified."""
    merged = dict(_check_shape(existing, where))
    merged.setdefault("apiVersion", "v1")
    merged.setdefault("kind", "Config")
    merged.setdefault("preferences", {})
    for key in ("clusters", "users", "contexts"):
        items = list(merged.get(key) or [])
        for entry in new.get(key) or []:
            same = [i for i, e in enumerate(items) if e.get("name") == entry["name"]]
            if same:
                items[same[0]] = entry
                # A hand-edited file can repeat a name; kubectl would use the first, so keep only ours.
                items = [e for i, e in enumerate(items) if i not in same[1:]]
            else:
                items.append(entry)
        merged[key] = items
    merged["current-context"] = new["current-context"]
    return merged


def default_path(environ: Mapping[str, str] | None = None) -> Path:
    """Where kubectl reads first: the first entry of $KUBECONFIG, else ~/.kube/config."""
    environ = os.environ if environ is None else environ
    first = next((p for p in environ.get("KUBECONFIG", "").split(os.pathsep) if p.strip()), None)
    return Path(first).expanduser() if first else DEFAULT_PATH.expanduser()


def read_kubeconfig(path: Path) -> dict | None:
    """The kubeconfig at `path`, or None when there is none; KubeconfigFileError if unreadable."""
    try:
        text = path.read_text()
    except FileNotFoundError:
        return None
    except OSError as e:
        raise KubeconfigFileError(
            f"{path}: cannot be read ({e.strerror}) — fix its permissions or pass --out FILE"
        ) from None
    try:
        return dict(_check_shape(yaml.safe_load(text), str(path))) or None
    except yaml.YAMLError as e:
        raise KubeconfigFileError(f"{path}: is not valid YAML ({e}) — fix it or pass --out FILE") from None


def write_kubeconfig(path: Path, doc: Mapping[str, Any]) -> None:
    """Write `doc` to `path` atomically with mode 0600 (through a symlink, to its target)."""
    target = Path(os.path.realpath(path))
    target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")  # created 0600
    try:
        with os.fdopen(fd, "w") as f:
            yaml.safe_dump(dict(doc), f, sort_keys=False, default_flow_style=False)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o600)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def same_role(caller_arn: str, role_arn: str) -> bool:
    """Whether `sts get-caller-identity`'s ARN is a session of `role_arn`.

    `arn:aws:sts::<acct>:assumed-role/<name>/<session>` matches
    `arn:aws:iam::<acct>:role[/<path>]/<name>` (the session ARN drops the path);
    compared case-insensitively, as IAM role names are.
    """
    c, r = caller_arn.split(":", 5), role_arn.split(":", 5)
    if len(c) < 6 or len(r) < 6 or c[1] != r[1] or c[4] != r[4]:
        return False
    kind, _, rest = c[5].partition("/")
    if kind == "assumed-role":
        name = rest.split("/", 1)[0]
    elif kind == "role":
        name = rest.rsplit("/", 1)[-1]
    else:
        return False
    return name.lower() == r[5].rsplit("/", 1)[-1].lower()


def identity_note(caller_arn: str | None, role_arn: str | None, profile: str | None) -> str | None:
    """One line saying which identity kubectl will present, when that is not plainly the caller."""
    via = f"profile {profile}" if profile else "the credentials in kubectl's environment"
    if role_arn:
        if caller_arn and same_role(caller_arn, role_arn):
            return None
        who = caller_arn or "(unknown: sts:GetCallerIdentity failed)"
        return (
            f"note: you are {who}, kubectl will act as {role_arn} (get-token --role-arn, assumed with {via}); "
            "your identity must be allowed to assume it"
        )
    if caller_arn:
        return f"note: kubectl will act as {caller_arn} ({via}, as now)"
    return None


# --------------------------------------------------------------------------- command


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

    try:
        c = session.client("eks").describe_cluster(name=name)["cluster"]
    except ClientError as e:
        code = error_code(e)
        if code == "ResourceNotFoundException":
            _not_found(name, region, stack, err)
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
        err.print(
            f"error: could not reach EKS in {region}: {e} — log in (`aws sso login`) or export credentials",
            highlight=False,
        )
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
    out.print(
        f"{'updated' if updated else 'added'} context {ctx} (cluster {cluster.arn}) in {path}, now current",
        highlight=False,
    )
    if note:
        out.print(note, highlight=False)
    on_path = out_file is None or Path(os.path.realpath(path)) == Path(os.path.realpath(default_path()))
    out.print(
        "next: kubectl get nodes" if on_path else f"next: kubectl --kubeconfig {path} get nodes",
        highlight=False,
    )
    return path
