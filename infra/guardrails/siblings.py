"""Guardrails across stacks: a stack copied from another one and left unedited.

AWS holds some names unique per account and region (an EKS cluster, a KMS alias, an
ECR repository) and S3 bucket names unique everywhere. A `staging` stack copied from
`dev` keeps dev's `clusterName`, so everything derived from it collides: the schema
sees nothing wrong, and the first `pulumi up` fails part-way with AlreadyExists after
the VPC and NAT gateways are made. Each name is derived here the way the program
derives it (`physical_names`) and compared with every other stack in `stacks/` that
deploys to the same region and account (an account counts as the same unless both
stacks name theirs in `aws:allowedAccountIds`).

A copied stack also keeps `environment`, which sets the ownership tags and, for
`prod`, deletion protection and `protect`: a stack whose name says otherwise is warned.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from slipway.program.config import default_cluster_name
from slipway.program.guardrails import Finding, Site, guardrail
from slipway.program.validate import account_of

if TYPE_CHECKING:
    from slipway.program.capacity import ClusterPlan
    from slipway.program.config import StackConfig


@dataclass(frozen=True)
class PhysicalName:
    """A name AWS holds unique, as one stack's config derives it."""

    path: str
    """The `slipway:` key that decides it (what the user changes)."""
    kind: str
    """What it names, as users know it: `EKS cluster name`, `KMS alias`, …"""
    value: str
    scope: Literal["region", "global"]
    """`region`: unique per account and region; `global`: unique across AWS (S3)."""


def secrets_key_alias(cluster_name: str) -> str:
    """The alias of the cluster's secrets KMS key (components/cluster.py `_create_secrets_key`)."""
    return f"alias/{cluster_name}-secrets"


def registry_prefix(cluster_name: str) -> str:
    """The ECR repositories' name prefix (infra/main.py, `RegistryArgs.prefix`)."""
    return f"{cluster_name}/"


def physical_names(cfg: StackConfig, stack: str) -> list[PhysicalName]:
    """Every name a stack's resources get from its config that AWS holds unique.

    Not listed, because generated (a random suffix, or unique by construction): IAM roles
    and policies, security groups, launch templates, node groups (unique per cluster), the
    OIDC provider (the cluster's issuer), and ALB names (the Load Balancer Controller
    hashes the cluster name into them). Helm releases and namespaces live inside the cluster.
    """
    cluster = default_cluster_name(cfg.cluster_name, stack)
    names = [
        PhysicalName("clusterName", "EKS cluster name", cluster, "region"),
        PhysicalName("clusterName", "KMS alias (alias/<clusterName>-secrets)", secrets_key_alias(cluster), "region"),
        PhysicalName("clusterName", "ECR repository prefix (<clusterName>/)", registry_prefix(cluster), "region"),
    ]
    if cfg.argo.enabled and cfg.argo.artifacts.bucket_name:
        names.append(
            PhysicalName("argo.artifacts.bucketName", "Argo artifacts bucket", cfg.argo.artifacts.bucket_name, "global")
        )
    return names


def _words(text: str) -> set[str]:
    return set(re.split(r"[^a-z0-9]+", text.lower())) - {""}


def owns(stack: str, value: str) -> bool:
    """Whether a name says it is the stack's: it holds every word of the stack's name
    (`slipway-dev` is dev's, not staging's)."""
    return _words(stack) <= _words(value)


def _fix(name: PhysicalName, stack: str, theirs: list[PhysicalName]) -> str:
    if name.path == "clusterName":
        own = default_cluster_name(None, stack)
        example = f", e.g. {own!r}" if all(n.value != own for n in theirs) else ""
        return f"set slipway:clusterName to a name of its own{example}"
    return f"set slipway:{name.path} to a name of its own, or remove it (Pulumi then generates a unique one)"


def _where(name: PhysicalName, region: str, account: str | None, other_account: str | None) -> str:
    if name.scope == "global":
        return "and S3 bucket names are global"
    if account and other_account:
        return f"in {region} of the same account ({account})"
    return f"in {region} of the same account (as far as known: aws:allowedAccountIds would tell them apart)"


@guardrail
def unique_names(cfg: StackConfig, plan: ClusterPlan, site: Site) -> list[Finding]:
    """A name AWS holds unique, also derived by another stack of the same account and region.

    An error for the stack whose name does not say the name is its own (the copy); the
    stack it was copied from (`slipway-dev` for dev) is only warned, once, so that a
    half-edited copy never stops its source from deploying. Where neither or both say
    so, both are errors.
    """
    mine = physical_names(cfg, site.stack)
    out: list[Finding] = []
    for sibling, config in site.siblings:
        theirs = physical_names(config, sibling.name)
        other_account = account_of(sibling.values)
        same_place = sibling.region == site.region and (
            site.account is None or other_account is None or site.account == other_account
        )
        clashes = [
            name
            for name in mine
            if any(n.kind == name.kind and n.value == name.value for n in theirs)
            and (name.scope == "global" or same_place)
        ]
        warned: set[str] = set()
        for name in clashes:
            where = _where(name, site.region, site.account, other_account)
            decider = default_cluster_name(cfg.cluster_name, site.stack) if name.path == "clusterName" else name.value
            if not owns(site.stack, decider) or owns(sibling.name, decider):
                problem = f"is also stack {sibling.name}'s {name.kind}, {where}, so AWS refuses the second"
                out.append(Finding("error", name.path, name.value, problem, _fix(name, site.stack, theirs)))
            elif name.path not in warned:  # one warning per setting: the copy's errors list each name
                warned.add(name.path)
                what = ", ".join(n.kind.split(" (")[0] for n in clashes if n.path == name.path)
                problem = (
                    f"is also what stack {sibling.name} derives its {what} from, {where}, so that stack is refused"
                )
                fix = f"nothing to do here: stack {sibling.name} must set slipway:{name.path} to a name of its own"
                out.append(Finding("warning", name.path, decider, problem, fix))
    return out


# What a stack's name says it is: its words (split at `-`, `_`, `.` and digits).
_INTENT: dict[str, set[str]] = {
    "prod": {"prod", "production", "prd"},
    "staging": {"staging", "stage", "stg"},
    "dev": {"dev", "develop", "development"},
}
# The environments that contradict each intent.
_WRONG: dict[str, set[str]] = {"prod": {"dev", "staging"}, "staging": {"dev"}, "dev": {"prod"}}


def stack_intent(stack: str) -> str | None:
    """`prod`, `staging` or `dev` when the stack's name says so (prod wins), else None."""
    words = set(re.split(r"[-_.\d]+", stack.lower()))
    return next((intent for intent, said in _INTENT.items() if words & said), None)


@guardrail
def environment_matches_name(cfg: StackConfig, plan: ClusterPlan, site: Site) -> list[Finding]:
    """`environment` contradicting the stack's name (a copied stack keeps its source's)."""
    intent = stack_intent(site.stack)
    if intent is None or cfg.environment not in _WRONG[intent]:
        return []
    unset = "slipway:environment" not in site.values
    default = " (the default: slipway:environment is not set)" if unset else ""
    effect = (
        "so it gets none of prod's guards (deletion protection, `protect`, prod's policies)"
        if intent == "prod"
        else "so it gets prod's protection and policies"
        if cfg.environment == "prod"
        else f"so its resources are tagged slipway/environment: {cfg.environment}"
    )
    return [
        Finding(
            "warning",
            "environment",
            cfg.environment,
            f"is the environment{default} of stack {site.stack!r}, whose name says {intent}, {effect}",
            f"set slipway:environment: {intent}, or rename the stack if {cfg.environment} is meant",
        )
    ]


@guardrail
def stack_file_keys(cfg: StackConfig, plan: ClusterPlan, site: Site) -> list[Finding]:
    """A key written twice in the stack's own file. The commands load the file themselves and
    refuse it first (`load_stack_file`); under `pulumi up` the engine reads it, so ask here."""
    from slipway.program.stackfile import duplicate_keys

    path = site.root / "stacks" / f"Pulumi.{site.stack}.yaml" if site.root else None
    return duplicate_keys(path) if path is not None and path.is_file() else []
