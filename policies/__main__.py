"""Pulumi policy pack entry point: `pulumi preview --policy-pack policies`.

The rules live in policies/rules.py as plain functions (tested without Pulumi and
reused offline by `slipway check`); this file only wraps them for pulumi-policy.
Constructing the PolicyPack starts the analyzer server the Pulumi CLI talks to.
"""

from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    PolicyPack,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
)

from policies.rules import RULES, Rule

LEVELS = {"mandatory": EnforcementLevel.MANDATORY, "advisory": EnforcementLevel.ADVISORY}


def _policy(rule: Rule) -> ResourceValidationPolicy:
    def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
        config = args.get_config() if rule.config_defaults else {}
        for v in rule.evaluate(args.resource_type, args.props, config):
            report_violation(f"{v.message} — {v.fix}", args.urn)

    schema = None
    if rule.config_defaults:
        props = {
            k: {"type": "array" if isinstance(d, list) else "integer", "default": d}
            for k, d in rule.config_defaults.items()
        }
        schema = PolicyConfigSchema(properties=props)
    return ResourceValidationPolicy(
        name=rule.name,
        description=rule.description,
        enforcement_level=LEVELS[rule.enforcement],
        validate=validate,
        config_schema=schema,
    )


PolicyPack(name="slipway", policies=[_policy(r) for r in RULES], enforcement_level=EnforcementLevel.ADVISORY)
