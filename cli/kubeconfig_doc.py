"""The kubeconfig document `slipway kubeconfig` writes: built, merged into an existing file,
read and written — pure data and file handling, no AWS (cli/kubeconfig.py asks AWS for
the cluster and runs the command).

The user entry authenticates through `aws eks get-token` as the stack's identity
(`--role-arn identity.roleArn`, `--profile identity.profile`, default `aws:profile`).
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

import yaml

# v1beta1 is what `aws eks update-kubeconfig` writes and every supported kubectl reads.
# https://github.com/aws/aws-cli/blob/develop/awscli/customizations/eks/update_kubeconfig.py
API_VERSION = "client.authentication.k8s.io/v1beta1"
# The value v1beta1 uses when unset (update-kubeconfig leaves it out), written out so the
# file reads the same under v1, where it is required. IfAvailable lets `aws` prompt for
# an MFA code when a profile's assume-role asks for one.
# https://kubernetes.io/docs/reference/config-api/kubeconfig.v1/#ExecConfig
INTERACTIVE_MODE = "IfAvailable"
DEFAULT_PATH = Path("~/.kube/config")


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
