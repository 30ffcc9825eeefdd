"""Guardrail module `networks` (see slipway.program.guardrails)."""
