"""Guardrail module `pools`: a tainted pool is dedicated (see slipway.program.guardrails).

A taint keeps pods off a pool unless they tolerate it, and slipway writes the
tolerations: so it gives them only to what the config places on a tainted pool
explicitly — the apps the pool lists in `dedicatedTo`, its declared `pods`, Argo when
`argo.nodePool` names it, the cluster add-ons when it is the pool marked `system`.
Naming a tainted pool (`apps.<app>.nodePool`) says where an app runs, not that it may:
without this check, any app that named the pool would silently get its toleration,
and a pool tainted to keep others off would not be dedicated at all.
"""

from __future__ import annotations

import difflib
from typing import TYPE_CHECKING

from slipway.program.guardrails import Finding, Site, guardrail

if TYPE_CHECKING:
    from slipway.program.capacity import ClusterPlan
    from slipway.program.config import StackConfig


def taints_text(cfg: StackConfig, pool: str) -> str:
    """A pool's taints as `kubectl describe node` shows them: `dedicated=argo:NoSchedule`."""
    return ", ".join(str(t) for t in cfg.node_pools[pool].taints)


def _untainted(cfg: StackConfig) -> str:
    names = sorted(n for n, p in cfg.node_pools.items() if not p.taints)
    return f"an untainted pool ({', '.join(names)})" if names else "an untainted pool (add one to nodePools)"


def app_findings(cfg: StackConfig) -> list[Finding]:
    """Every app on a tainted pool is one of the pool's tenants (`dedicatedTo`)."""
    from slipway.program.capacity import app_pool

    out: list[Finding] = []
    for name, app in sorted(cfg.apps.items()):
        pool = app_pool(cfg, app)
        spec = cfg.node_pools[pool]
        if not spec.taints or name in spec.dedicated_to:
            continue
        tenant = f"add {name} to nodePools.{pool}.dedicatedTo (the pool's tenants get its tolerations)"
        if app.node_pool:
            problem = f"is tainted ({taints_text(cfg, pool)}) and {name} does not tolerate it"
            out.append(Finding("error", f"apps.{name}.nodePool", pool, problem, f"{tenant}, or run {name} on "
                                                                                f"{_untainted(cfg)}"))  # fmt: skip
        else:
            problem = (f"is unset, so {name} runs on the default pool {pool!r}, which is tainted "
                       f"({taints_text(cfg, pool)}) and {name} does not tolerate it")  # fmt: skip
            out.append(Finding("error", f"apps.{name}.nodePool", None, problem,
                               f"set nodePool to {_untainted(cfg)}, or {tenant}"))  # fmt: skip
    return out


def tenant_findings(cfg: StackConfig) -> list[Finding]:
    """Each pool's `dedicatedTo`: on a tainted pool, naming apps that run there."""
    from slipway.program.capacity import app_pool

    out: list[Finding] = []
    for pool, spec in sorted(cfg.node_pools.items()):
        if not spec.dedicated_to:
            continue
        key = f"nodePools.{pool}.dedicatedTo"
        if not spec.taints:
            out.append(Finding("error", key, spec.dedicated_to, "is set but the pool has no taints, so any pod may "
                               "run there and the pool is dedicated to no one",
                               f"add a taint (taints: [{{key: dedicated, value: {pool}, effect: NoSchedule}}]), "
                               "or remove dedicatedTo"))  # fmt: skip
            continue
        for i, name in enumerate(spec.dedicated_to):
            app = cfg.apps.get(name)
            if app is None:
                if name == "argo":
                    fix = "remove it: Argo runs on a tainted pool when argo.nodePool names it"
                else:
                    guess = difflib.get_close_matches(name, sorted(cfg.apps), n=1)
                    fix = f"did you mean {guess[0]!r}?" if guess else "name apps declared under apps"
                    fix = f"{fix} (apps: {', '.join(sorted(cfg.apps)) or 'none'})"
                out.append(Finding("error", f"{key}[{i}]", name, "is not an app in apps", fix))
                continue
            where = app_pool(cfg, app)
            if where != pool:
                how = f"apps.{name}.nodePool" if app.node_pool else "the default pool"
                out.append(Finding("error", f"{key}[{i}]", name, f"runs on pool {where!r} ({how}), not on {pool}",
                                   f"set apps.{name}.nodePool: {pool}, or remove {name} from dedicatedTo"))  # fmt: skip
    return out


def addon_findings(cfg: StackConfig) -> list[Finding]:
    """Add-ons reach a tainted pool only where the config puts them: Argo by `argo.nodePool`,
    the others on a pool marked `system` (or named so)."""
    from slipway.program.capacity import system_pool

    out: list[Finding] = []
    system = system_pool(cfg)
    spec = cfg.node_pools[system]
    if spec.taints and not (spec.system or system == "system"):
        # Add-ons are pinned (nodeSelector, tolerations) only to a marked system pool:
        # on this default one they would be counted here but could not run here.
        out.append(Finding("error", f"nodePools.{system}.taints", [str(t) for t in spec.taints],
                           "taint the pool the cluster add-ons (CoreDNS, …) are counted on, but no pool is marked "
                           "system: true, so they get no toleration and cannot run there",
                           f"mark the add-ons' pool with system: true (it gets their tolerations), or remove the "
                           f"taints of {system}"))  # fmt: skip
    if cfg.argo.enabled and cfg.argo.node_pool is None and spec.taints:
        out.append(Finding("error", "argo.nodePool", None,
                           f"is unset, so Argo and every workflow pod would run on the system pool {system!r}, "
                           f"which is tainted ({taints_text(cfg, system)}) for the cluster add-ons",
                           f"set argo.nodePool: a pool of its own, or {system} to share it on purpose"))  # fmt: skip
    return out


@guardrail
def dedicated_pools(cfg: StackConfig, plan: ClusterPlan, site: Site) -> list[Finding]:
    """A tainted pool runs only what the config places there explicitly."""
    return app_findings(cfg) + tenant_findings(cfg) + addon_findings(cfg)


@guardrail
def idle_pools(cfg: StackConfig, plan: ClusterPlan, site: Site) -> list[Finding]:
    """A pool nothing is placed on (no app, add-on or `pods:`) still runs, and bills, its nodes."""
    from slipway.program.capacity import counted_workloads

    counted = counted_workloads(cfg)
    out = []
    for name, result in sorted(plan.pools.items()):
        if counted.get(name):
            continue
        p = result.plan
        out.append(Finding("warning", f"nodePools.{name}", None,
                           f"runs nothing slipway places (no app, add-on or pods: is counted there), yet is "
                           f"{p.nodes} × {p.instance_type.name} (${p.monthly_usd:,.2f}/month)",
                           f"remove the pool, or place work there (apps.<app>.nodePool: {name}, or pods: for "
                           "what you run yourself)"))  # fmt: skip
    return out
