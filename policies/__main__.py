"""Pulumi policy pack entry point: `pulumi preview --policy-pack policies`.

The rules live in policies/*_rules.py as plain functions (tested without Pulumi and
reused offline by `slipway check`); this file only wraps them for pulumi-policy.
Per-stack settings: `--policy-pack-config policies/config/<environment>.json`.

The CLI runs this file as the pack's program (`python -m pulumi.policy <engine> policies`,
i.e. `runpy.run_path("policies", run_name="__main__")`); constructing the PolicyPack
starts the analyzer server it talks to. Importing the module builds nothing.

The rules get `args.props` itself, pulumi-policy's unknown-checking proxy: copying it
(`dict(args.props)`) would read every top-level property, so any value unknown during
preview (an ARN, a generated name) would stop every rule on the resource, and every
stack rule for one unknown anywhere in the stack. Rules read only what they need.
"""

import sys
from pathlib import Path
from typing import Any

# run_path puts this folder first on sys.path; its modules (base.py, rules.py, config/, …)
# would then shadow any top-level module of the same name a dependency imports. The
# project is installed (requirements.txt: -e ..[policy]), so import it as slipway.policies.
_here = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _here]

from pulumi_policy import (  # noqa: E402
    EnforcementLevel,
    PolicyConfigSchema,
    PolicyPack,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

try:
    from slipway.policies.base import Resource, Rule, StackRule
    from slipway.policies.rules import RULES, STACK_RULES
except ModuleNotFoundError as exc:  # a policies/venv made before slipway's one namespace
    if exc.name and exc.name.split(".")[0] != "slipway":
        raise
    sys.exit(
        f"error: {exc} — policies/venv holds an older install of this project. Reinstall it: "
        "`cd policies && pulumi install` (or `rm -rf policies/venv` and install requirements.txt into a new one)."
    )

NAME = "slipway"
LEVELS = {"mandatory": EnforcementLevel.MANDATORY, "advisory": EnforcementLevel.ADVISORY}


def _schema(defaults: dict[str, Any]) -> PolicyConfigSchema | None:
    if not defaults:
        return None
    props = {}
    for key, value in defaults.items():
        if isinstance(value, bool):
            props[key] = {"type": "boolean", "default": value}
        elif isinstance(value, int):
            props[key] = {"type": "integer", "default": value}
        else:
            props[key] = {"type": "array", "items": {"type": "string"}, "default": value}
    return PolicyConfigSchema(properties=props)


def _options(opts: Any) -> dict[str, bool]:
    """What the rules see of a resource's options."""
    return {"protect": bool(getattr(opts, "protect", False))}


def _common(rule: Rule | StackRule) -> dict[str, Any]:
    """Constructor arguments every policy takes from its rule."""
    return {
        "name": rule.name,
        "description": rule.description,
        "enforcement_level": LEVELS[rule.enforcement],
        "config_schema": _schema(rule.config_defaults),
    }


def _resource_policy(rule: Rule) -> ResourceValidationPolicy:
    def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
        config = dict(args.get_config()) if rule.config_defaults else {}
        for v in rule.evaluate(args.resource_type, args.props, config, _options(args.opts)):
            report_violation(f"{v.message} — {v.fix}", args.urn)

    return ResourceValidationPolicy(validate=validate, **_common(rule))


def _stack_policy(rule: StackRule) -> StackValidationPolicy:
    def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
        config = dict(args.get_config()) if rule.config_defaults else {}
        resources = [Resource(r.urn, r.resource_type, r.props, _options(r.opts)) for r in args.resources]
        for urn, v in rule.evaluate(resources, config):
            report_violation(f"{v.message} — {v.fix}", urn)

    return StackValidationPolicy(validate=validate, **_common(rule))


def build_policies() -> list[ResourceValidationPolicy | StackValidationPolicy]:
    """Every rule as the pulumi-policy policy the pack serves."""
    return [*(_resource_policy(r) for r in RULES), *(_stack_policy(r) for r in STACK_RULES)]


def main() -> None:
    """Serve the pack (blocks: PolicyPack runs the analyzer's gRPC server until the CLI stops it)."""
    PolicyPack(name=NAME, policies=build_policies(), enforcement_level=EnforcementLevel.ADVISORY)


if __name__ == "__main__":
    main()
