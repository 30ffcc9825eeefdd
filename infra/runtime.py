"""What the Pulumi engine hands the program: the stack's config, which keys are secrets,
and secret values as Outputs (never plain text)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pulumi

from slipway.program.config import NAMESPACE, ConfigError
from slipway.program.validate import Validated, validate


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


def project_root() -> Path | None:
    """The project folder (where Pulumi.yaml and stacks/ are), as the engine reports it."""
    root = pulumi.get_root_directory()
    return Path(root) if root else None


def load_config() -> tuple[Validated, dict[str, str]]:
    """Validate this stack's config the one way every command does (`slipway.program.validate`).

    Returns the validated config (with its capacity plan and warnings) and the `aws:`
    settings; ConfigError lists every issue.
    """
    values = runtime_config()
    aws_settings = {k.split(":", 1)[1]: v for k, v in values.items() if k.startswith("aws:")}
    validated = validate(values, stack=pulumi.get_stack(), root=project_root(), secret_keys=secret_keys())
    return validated, aws_settings
