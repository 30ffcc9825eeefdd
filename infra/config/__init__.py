"""A stack's `slipway:` config: schema (`schema.py`), messages (`errors.py`), parsing (here).

Parsed before any resource is registered; errors are collected, never one per run,
and each names the field path, the bad value, what is wrong and how to fix it::

    nodePools.general.desiredSize: 5 is above maxSize 3 — raise maxSize or lower desiredSize
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import ValidationError

from slipway.components.network import EKS_UNSUPPORTED_ZONE_IDS
from slipway.program.config.access import AccessConfig, IdentityConfig, PrincipalConfig
from slipway.program.config.app_secrets import secret_references
from slipway.program.config.apps import AppConfig
from slipway.program.config.cluster import SUPPORTED_KUBERNETES_VERSIONS, ClusterConfig
from slipway.program.config.errors import ConfigError, Issue, format_errors, show
from slipway.program.config.model import DNS1123_LABEL
from slipway.program.config.network import NetworkConfig
from slipway.program.config.node_pools import NodePoolConfig
from slipway.program.config.stack import StackConfig, default_cluster_name

NAMESPACE = "slipway"


# Regions EKS serves (commercial partition), to catch typos such as `us-east1`.
# Source: AWS "Amazon EKS endpoints and quotas".
EKS_REGIONS = frozenset(
    {
        "us-east-1", "us-east-2", "us-west-1", "us-west-2",
        "af-south-1", "ap-east-1", "ap-east-2", "ap-south-1", "ap-south-2",
        "ap-northeast-1", "ap-northeast-2", "ap-northeast-3",
        "ap-southeast-1", "ap-southeast-2", "ap-southeast-3", "ap-southeast-4",
        "ap-southeast-5", "ap-southeast-7",
        "ca-central-1", "ca-west-1",
        "eu-central-1", "eu-central-2", "eu-north-1", "eu-south-1", "eu-south-2",
        "eu-west-1", "eu-west-2", "eu-west-3",
        "il-central-1", "me-central-1", "me-south-1", "mx-central-1", "sa-east-1",
    }
)  # fmt: skip


def usable_zones(zones: Iterable[tuple[str, str]]) -> list[str]:
    """The names, in order, of the (name, zone ID) pairs a cluster's subnets may use.

    AZ slots are lettered a–f, and EKS refuses the zone IDs in EKS_UNSUPPORTED_ZONE_IDS
    (names map to zone IDs per account, so "us-east-1a" may be use1-az3).
    """
    return [name for name, zone_id in zones if name[-1] in "abcdef" and zone_id not in EKS_UNSUPPORTED_ZONE_IDS]


SCHEMA_KEYS = frozenset(f.alias or n for n, f in StackConfig.model_fields.items())


def _decode(value: Any) -> Any:
    """Config values arrive from the Pulumi CLI as strings, objects and lists as JSON."""
    if isinstance(value, str) and value[:1] in ("{", "["):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


def _secret_references(values: Mapping[str, Any]) -> set[str]:
    """The config keys that app secrets and Argo SSO name (they hold secrets, whatever their storage)."""
    sso = _decode(values.get("argo"))
    sso = sso.get("sso") if isinstance(sso, dict) else None
    refs = [sso.get(k) for k in ("clientIdKey", "clientSecretKey")] if isinstance(sso, dict) else []
    return set(secret_references(_decode(values.get("apps")))) | {r for r in refs if isinstance(r, str)}


def _region_messages(region: str | None) -> list[str]:
    if not region:
        return ["aws:region: is required — add `aws:region: us-east-1` (or your region) to the stack file"]
    if region not in EKS_REGIONS:
        guess = difflib.get_close_matches(region, sorted(EKS_REGIONS), n=1)
        return [
            f"aws:region: {show(region)} is not an AWS region EKS serves — "
            + (f"did you mean {guess[0]!r}?" if guess else "use a region such as us-east-1")
        ]
    return []


def parse_config_values(
    values: Mapping[str, Any],
    region: str | None = None,
    stack: str | None = None,
    aws_profile: str | None = None,
    secret_keys: Iterable[str] = (),
) -> StackConfig:
    """Validate the `slipway:` namespace (keys without the prefix) into a StackConfig.

    `region` is `aws:region` and `aws_profile` `aws:profile` (the identity `pulumi up`
    deploys with), checked here so every mistake is in one list. Keys stored as
    secrets, or named by app secrets or Argo SSO, that are not schema fields (tokens,
    passwords) are left to `slipway.program.runtime.secret_config` and never reach the
    schema or an error message.
    Raises ConfigError with every issue found.
    """
    secret = {k.split(":", 1)[-1] for k in secret_keys}
    # Keys holding secrets are not schema fields: those stored as secrets, and those a
    # secret reference names even when stored in plain text (reported once, by the
    # reference, never also as an unknown key).
    hidden = (secret | _secret_references(values)) - SCHEMA_KEYS
    data = {k: _decode(v) for k, v in values.items() if k not in hidden}
    messages = _region_messages(region)
    context = {
        "environment": data.get("environment", "dev"),
        "region": region,
        "stack": stack or "stack",
        # What app secrets may refer to: slipway: keys that are set, and which are secrets.
        "config_keys": set(values),
        "secret_keys": secret,
    }
    parsed: StackConfig | None = None
    try:
        parsed = StackConfig.model_validate(data, context=context)
    except ValidationError as exc:
        messages.extend(format_errors(exc, StackConfig))
    if parsed is not None and aws_profile and parsed.identity.profile and parsed.identity.profile != aws_profile:
        messages.append(
            f"slipway:identity.profile: {show(parsed.identity.profile)} differs from aws:profile {show(aws_profile)}, "
            "so kubectl would act as another identity than the one that deploys (the cause of "
            "'You must be logged in to the server (Unauthorized)') — remove identity.profile "
            "(it defaults to aws:profile) or make them equal"
        )
    if messages:
        raise ConfigError(messages, stack)
    return parsed


__all__ = [
    "AppConfig",
    "DNS1123_LABEL",
    "EKS_REGIONS",
    "NAMESPACE",
    "SUPPORTED_KUBERNETES_VERSIONS",
    "AccessConfig",
    "ClusterConfig",
    "ConfigError",
    "IdentityConfig",
    "Issue",
    "NetworkConfig",
    "NodePoolConfig",
    "PrincipalConfig",
    "StackConfig",
    "default_cluster_name",
    "parse_config_values",
    "show",
    "usable_zones",
]
