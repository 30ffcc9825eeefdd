"""Guardrail module `quotas` (see slipway.program.guardrails)."""
