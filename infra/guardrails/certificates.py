"""Guardrail module `certificates` (see slipway.program.guardrails)."""
