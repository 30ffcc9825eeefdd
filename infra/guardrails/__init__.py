"""Guardrails: what a stack's config gets wrong that no single field shows.

The schema (`slipway.program.config`) checks each field and each section; the
capacity planner checks that pools hold their pods. A guardrail looks wider: at the
other stacks in `stacks/` (a copied stack that collides with its source), at AWS's
quotas with the plan's numbers, at a certificate's region. Each returns `Finding`s:
an error stops every command (`render`, `check`, `size`, `plan`, `pulumi up`) before
any resource is registered; a warning is printed by each of them (and by `pulumi up`
through the engine's log) and listed by `slipway check`.

Guardrails register themselves in `GUARDRAILS` (see `slipway.program.validate`, the one
validation path every command takes).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from slipway.program.config.errors import show

if TYPE_CHECKING:
    from slipway.program.capacity import ClusterPlan
    from slipway.program.config import StackConfig
    from slipway.program.stackfile import StackFile

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Finding:
    """One guardrail result, as users read it: `path: value problem — fix`."""

    severity: Severity
    path: str
    """The `slipway:` key path (without the prefix), e.g. `network.cidr`."""
    value: Any
    problem: str
    fix: str

    def __str__(self) -> str:
        value = "" if self.value is None else f"{show(self.value)} "
        return f"{self.path}: {value}{self.problem} — {self.fix}"


@dataclass(frozen=True)
class Site:
    """Where a stack lives: its name, region and account, and the project that holds it."""

    stack: str
    region: str
    root: Path | None = None
    """The project folder (Pulumi.yaml and stacks/); None when unknown (guardrails across stacks are skipped)."""
    account: str | None = None
    """The AWS account the stack deploys to, where the stack file says it (`aws:allowedAccountIds` with one id)."""
    values: dict[str, Any] = field(default_factory=dict[str, Any])
    """The stack's full config keys (`aws:region`, `slipway:network`, …) as written."""

    @cached_property
    def siblings(self) -> list[tuple[StackFile, StackConfig]]:
        """The other stacks under root/stacks, each file with its parsed config, read once for all
        guardrails (ones that do not load or parse are skipped: their own run reports them)."""
        if self.root is None:
            return []
        from slipway.program.config import ConfigError
        from slipway.program.stackfile import load_stack_file, stack_names

        out: list[tuple[StackFile, StackConfig]] = []
        for name in stack_names(self.root):
            if name == self.stack:
                continue
            try:
                stackfile = load_stack_file(name, self.root)
                out.append((stackfile, stackfile.parse()))
            except ConfigError:
                continue
        return out


Guardrail = Callable[["StackConfig", "ClusterPlan", Site], list[Finding]]
GUARDRAILS: list[Guardrail] = []


def guardrail(fn: Guardrail) -> Guardrail:
    """Register a guardrail (a decorator); registration order is report order."""
    GUARDRAILS.append(fn)
    return fn


def run_guardrails(cfg: StackConfig, plan: ClusterPlan, site: Site) -> list[Finding]:
    """Every registered guardrail's findings: errors first, then in MODULES order (whatever
    order the modules happened to be imported in)."""
    load_all()
    order = {f"{__name__}.{m}": i for i, m in enumerate(MODULES)}
    ranked = sorted(GUARDRAILS, key=lambda g: order.get(g.__module__, len(order)))
    found = [f for g in ranked for f in g(cfg, plan, site)]
    return sorted(found, key=lambda f: f.severity != "error")


# The guardrail modules of this package; each registers its checks when imported.
MODULES: tuple[str, ...] = (
    "siblings",
    "networks",
    "certificates",
    "pools",
    "quotas",
    "limits",
    "autoscaling",
    "delivery",
)


def load_all() -> None:
    """Import the guardrail modules (each registers itself once)."""
    import importlib

    for name in MODULES:
        importlib.import_module(f"{__name__}.{name}")
