"""What the Pulumi engine hands the program: the stack's config, which keys are secrets,
and secret values as Outputs (never plain text)."""

from __future__ import annotations

import json
import os

import pulumi

from slipway.program.config import (
    NAMESPACE,
    ConfigError,
    StackConfig,
    parse_config_values,
)


def runtime_config() -> dict[str, str]:
    """Every config key the engine gave this program (full keys, string values)."""
    from pulumi.runtime import config as rc

    values: dict[str, str] = {}
    if "PULUMI_CONFIG" in os.environ:
        values.update(json.loads(os.environ["PULUMI_CONFIG"]))
    values.update(rc.CONFIG.get())
    return values


def secret_keys() -> set[str]:
    """Config keys the engine marked secret (`pulumi config set --secret`, `secure:` in the stack file)."""
    from pulumi.runtime import config as rc

    return set(rc._SECRET_KEYS.get()) | set(rc.get_config_secret_keys_env())


def secret_config(key: str) -> pulumi.Output[str]:
    """`slipway:<key>` as a Pulumi secret Output: it stays `[secret]` in state, previews and renders.

    A value stored in plain text is refused: it would already sit unencrypted in
    the stack file and in every state snapshot.
    """
    full = f"{NAMESPACE}:{key}"
    if full not in runtime_config():
        raise ConfigError([f"{full}: is not set — run `pulumi config set --secret {full} <value>`"])
    if full not in secret_keys():
        raise ConfigError(
            [
                f"{full}: is stored in plain text but holds a secret — re-set it with "
                f"`pulumi config set --secret {full} <value>` (and rotate it: it is in git history)"
            ]
        )
    return pulumi.Config(NAMESPACE).require_secret(key)


def load_config() -> tuple[StackConfig, dict[str, str]]:
    """Parse this stack's `slipway:` namespace (plus `aws:region`/`aws:profile`).

    Returns the config and the `aws:` settings; ConfigError lists every issue.
    """
    values = runtime_config()
    ns = {k.split(":", 1)[1]: v for k, v in values.items() if k.startswith(f"{NAMESPACE}:")}
    aws_settings = {k.split(":", 1)[1]: v for k, v in values.items() if k.startswith("aws:")}
    cfg = parse_config_values(
        ns,
        region=aws_settings.get("region", ""),
        stack=pulumi.get_stack(),
        aws_profile=aws_settings.get("profile"),
        secret_keys=secret_keys(),
    )
    return cfg, aws_settings
