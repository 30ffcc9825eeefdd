"""The one validation path: every command and `pulumi up` take it, so every refusal is
seen by every one of them.

`validate()` parses the `slipway:` namespace (the schema), checks what must be pinned
(for a render or a deploy), sizes the pools (the capacity planner) and runs the
guardrails (`slipway.program.guardrails`). Errors raise one ConfigError; warnings are
returned for the caller to print (the CLI to stderr, the program through the engine's
log). Nothing here registers a resource.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from slipway.program.config import ConfigError, StackConfig, parse_config_values
from slipway.program.guardrails import Site, run_guardrails

if TYPE_CHECKING:
    from slipway.program.capacity import ClusterPlan


@dataclass
class Validated:
    """A stack that passed: its config, its pools' plan, and the warnings to show."""

    cfg: StackConfig
    plan: ClusterPlan
    warnings: list[str]


def account_of(values: Mapping[str, Any]) -> str | None:
    """The stack's AWS account where the stack file says it: `aws:allowedAccountIds` holding one id.

    (pulumi-aws refuses to run against any other account when it is set.)
    """
    raw = values.get("aws:allowedAccountIds")
    if isinstance(raw, str) and raw.startswith("["):
        import json

        try:
            raw = json.loads(raw)
        except ValueError:
            return None
    if isinstance(raw, list) and len(raw) == 1 and isinstance(raw[0], str | int):
        return str(raw[0])
    return None


def validate(
    values: Mapping[str, Any],
    *,
    stack: str,
    root: Path | None,
    secret_keys: Iterable[str] = (),
    require_pins: bool = True,
) -> Validated:
    """Validate one stack's config (full keys: `aws:region`, `slipway:network`, …).

    `require_pins`: a render or deploy needs AZs and `auto` types pinned (`slipway pin`);
    `size` and `pin` themselves do not. Raises ConfigError with every error found.
    """
    from slipway.program.capacity import plan_cluster
    from slipway.program.config import NAMESPACE
    from slipway.program.wiring import unpinned_issues

    ns = {k.split(":", 1)[1]: v for k, v in values.items() if k.split(":", 1)[0] == NAMESPACE}
    region = str(values.get("aws:region") or "")
    profile = values.get("aws:profile")
    cfg = parse_config_values(
        ns, region=region, stack=stack, aws_profile=str(profile) if profile else None, secret_keys=secret_keys
    )
    errors = unpinned_issues(cfg, stack) if require_pins else []
    try:
        plan = plan_cluster(cfg, region, zones=cfg.network.availability_zones, stack=stack)
    except ConfigError as exc:
        raise ConfigError(errors + exc.messages, stack) from None
    site = Site(stack=stack, region=region, root=root, account=account_of(values), values=dict(values))
    findings = run_guardrails(cfg, plan, site)
    errors += [str(f) for f in findings if f.severity == "error"]
    if errors:
        raise ConfigError(errors, stack)
    warnings = [str(f) for f in findings if f.severity == "warning"]
    warnings += [
        f"nodePools.{name}: the planner's exact search hit its wall-clock guard, so this plan may differ on a "
        f"slower machine — pin the pool's type and count (`slipway pin {stack or '<stack>'}`, nodePools.{name}"
        ".desiredSize) to keep it"
        for name, result in sorted(plan.pools.items())
        if result.timed_out or (result.plan is not None and result.plan.timed_out)
    ]
    return Validated(cfg, plan, warnings)


# Where the program's warnings go: the offline render collects them (and prints them once);
# under `pulumi up` (None) they go to the engine's log, shown in the CLI's diagnostics.
WARNINGS: ContextVar[list[str] | None] = ContextVar("slipway_warnings", default=None)


def emit_warnings(warnings: Iterable[str], stack: str) -> None:
    """Hand the program's config warnings to whoever runs it."""
    sink = WARNINGS.get()
    for w in warnings:
        if sink is not None:
            sink.append(w)
        else:
            import pulumi

            pulumi.log.warn(f"slipway config ({stack}): {w}")
