"""Guardrail module `siblings` (see slipway.program.guardrails)."""
