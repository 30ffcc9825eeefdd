"""Guardrail module `pools` (see slipway.program.guardrails)."""
