"""`slipway size <stack>`: each node pool's capacity plan — what it counted there (every
workload, its pods and requests, and what put it on that pool), then instance type,
nodes, pods, CPU/memory use, $/month — beside what `auto` would choose today and the
cheaper or roomier alternatives, as tables per pool or as JSON (`--json`). A verdict
line ends the report (a `verdict` key in JSON).

Offline: the plan comes from the stack file and the shipped instance catalog.
"""

from __future__ import annotations

import json
from typing import Any, NoReturn

import typer
from rich.table import Table

from slipway.cli.common import Wrap, fail_config, out, print_warnings, verdict_line
from slipway.cli.render import ROOT
from slipway.program.config import ConfigError


def size(
    stack: str = typer.Argument(..., help="Stack whose node pools to size."),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """Show what each node pool runs and its plan: type, nodes, pods, CPU/memory use, $/month, alternatives."""
    from slipway.program.capacity import counted_workloads, plan_cluster
    from slipway.program.stackfile import load_stack_file

    try:
        stackfile = load_stack_file(stack, ROOT)
        checked = stackfile.checked()
        cfg, plan = checked.cfg, checked.plan
        # What `auto` would choose today, pins aside: shown, applied only by `slipway pin --replan`.
        proposal = plan_cluster(cfg, stackfile.region, zones=cfg.network.availability_zones, ignore_pins=True)
    except ConfigError as exc:
        refuse(exc, stack, as_json)
    print_warnings(checked.warnings, stack)
    mixes = mix_advice(cfg, plan, proposal, stackfile.region, zones=cfg.network.availability_zones)
    fewest = fewest_unfixed(cfg, plan)
    sizes = plan.sizes(cfg)
    counted = counted_workloads(cfg)
    changes = {
        name: proposal.pools[name].plan
        for name, pool in cfg.node_pools.items()
        if pool.pinned_instance_type and proposal.pools[name].plan.instance_type.name != pool.pinned_instance_type
    }
    total = sum(r.plan.monthly_usd for r in plan.pools.values())
    peaks = plan.peaks(cfg)
    peak_total = sum(p.peak_usd for p in peaks.values())
    mixable = sorted(name for name, m in mixes.items() if m is not None and m.plan is not None)
    verdict = size_verdict(stack, len(plan.pools), total, len(changes), len(checked.warnings), peak_total, mixable)
    if as_json:
        doc = {
            "stack": stack,
            "catalog": {"region": plan.catalog.region, "priceDate": plan.catalog.price_date},
            "pools": {
                name: {
                    **r.plan.as_dict(),
                    "minSize": sizes[name][1],
                    "desiredSize": sizes[name][2],
                    "maxSize": sizes[name][3],
                    "pinned": cfg.node_pools[name].pinned_instance_type is not None or not cfg.node_pools[name].is_auto,
                    "taints": [str(t) for t in cfg.node_pools[name].taints],
                    "counted": counted_rows(counted[name], r),
                    "bound": bound_dict(r, proposal.pools[name], cfg.node_pools[name]),
                    "mixing": mixes[name].as_dict() if mixes[name] else None,
                    "proposal": proposal.pools[name].plan.as_dict(),
                    "alternatives": [a.as_dict() for a in proposal.pools[name].alternatives],
                    "peak": peak_dict(peaks[name]),
                }
                for name, r in plan.pools.items()
            },
            "totalMonthlyUsd": round(total, 2),
            "autoscaling": cfg.autoscaling.provider,
            "floorMonthlyUsd": round(total, 2),
            "ceilingMonthlyUsd": round(peak_total, 2),
            "verdict": verdict,
        }
        print(json.dumps(doc, indent=2, sort_keys=True))
        return
    for name, r in plan.pools.items():
        out.print(counted_table(name, counted[name], r, [str(t) for t in cfg.node_pools[name].taints]))
        out.print(pool_table(name, r, sizes[name], proposal.pools[name]))
        out.print(Wrap("  " + bound_line(r, proposal.pools[name], cfg.node_pools[name], fewest.get(name))))
        if mixes[name] is not None:
            out.print(Wrap("  " + mix_line(mixes[name])))
        if name in changes:
            new = changes[name]
            out.print(
                f"  auto now proposes {new.nodes} × {new.instance_type.name} (${new.monthly_usd:,.2f}/month): "
                f"`slipway pin {stack} --replan` switches to it, replacing the node group (new nodes first)"
            )
    note = (
        ""
        if plan.catalog.region == stackfile.region
        else (f"; prices are {plan.catalog.region}'s — `slipway catalog refresh --region {stackfile.region}` for yours")
    )
    out.print(peak_table(peaks, cfg.autoscaling.provider))
    out.print(f"nodes: ${total:,.2f}/month on demand at the floor (steady state), ${peak_total:,.2f}/month at the "
              f"ceiling (every HPA at its maximum; prices of {plan.catalog.price_date}{note})")  # fmt: skip
    out.print(verdict, soft_wrap=True)  # one line, whatever the width: scripts grep for it


def mix_advice(cfg, plan, proposal, region: str, zones: list[str] | None) -> dict:
    """Per pool: would a second instance type (same architecture and families) cut its cost by
    10% or more against the best single-type plan under the same rules — `auto`'s proposal
    for an `auto` pool, the stack's own type otherwise? (`slipway.components.capacity.mixing`)"""
    from slipway.components.capacity.mixing import advise_mix
    from slipway.program.capacity import candidates

    out = {}
    for name, result in plan.pools.items():
        pool = cfg.node_pools[name]
        base = proposal.pools[name] if pool.is_auto else result
        out[name] = advise_mix(base.demand, candidates(cfg, pool, plan.catalog, region, zones), base)
    return out


def fewest_unfixed(cfg, plan) -> dict[str, int | None]:
    """For each pool whose desiredSize fixes its count: the fewest nodes of its type the planner
    finds without that setting (what `size` compares the fixed count with)."""
    from dataclasses import replace

    from slipway.components.capacity.planner import plan_on
    from slipway.program.capacity import SEARCH_LIMIT

    out: dict[str, int | None] = {}
    for name, result in plan.pools.items():
        pool = cfg.node_pools[name]
        if pool.desired_size is None:
            continue
        free = replace(result.demand, min_nodes=pool.min_size or 1, max_nodes=pool.max_size or SEARCH_LIMIT)
        found = plan_on(result.plan.instance_type, free)
        out[name] = None if isinstance(found, str) else found.nodes
    return out


def size_verdict(
    stack: str, pools: int, total: float, changes: int, warnings: int, peak: float, mixable: list[str] | None = None
) -> str:
    """The report's last line: every pool holds what it counted (else there is no plan), at what cost,
    and what still asks for a decision."""
    held = "1 pool holds its pods" if pools == 1 else f"{pools} pools hold their pods"
    detail = f"{held}; ${total:,.2f}/month" + (f" (${peak:,.2f} at peak)" if round(peak, 2) != round(total, 2) else "")
    if changes:
        detail += (f"; auto proposes another type for {changes} pinned pool{'s' * (changes != 1)} "
                   f"(`slipway pin {stack} --replan`)")  # fmt: skip
    if mixable:
        detail += f"; a second instance type would cut ≥10% on {', '.join(mixable)} (see above)"
    if warnings:
        detail += f"; {warnings} config warning{'s' * (warnings != 1)} (stderr)"
    return verdict_line(True, detail)


def refuse(exc: ConfigError, stack: str, as_json: bool) -> NoReturn:
    """The stack cannot be sized: its errors on stderr, exactly as `check` and `render` print
    them (one validation path), and with --json a document holding them and a failing verdict."""
    if as_json:
        n = len(exc.messages)
        verdict = verdict_line(False, f"not sized: {n} config error{'s' * (n != 1)} to fix first")
        print(json.dumps({"stack": stack, "errors": exc.messages, "verdict": verdict}, indent=2, sort_keys=True))
    fail_config(exc, stack)


def counted_rows(counted: list, r) -> list[dict[str, Any]]:
    """What a pool's plan counted: each workload (pods, requests, what it is, what put it
    there), then the DaemonSets, one pod on every node."""
    rows = [
        {"workload": c.workload.name, "source": c.source, "placedBy": c.placed_by, "pods": c.workload.replicas,
         "maxSurge": c.workload.max_surge, "cpuMillicores": c.workload.cpu_m, "memoryMiB": c.workload.memory_mib}
        for c in counted
    ]  # fmt: skip
    rows += [
        {"workload": d.name, "source": "DaemonSet", "placedBy": "every node", "pods": r.plan.nodes, "maxSurge": 0,
         "cpuMillicores": d.cpu_m, "memoryMiB": d.memory_mib}
        for d in r.demand.daemonsets
    ]  # fmt: skip
    return rows


def counted_table(name: str, counted: list, r, taints: list[str]) -> Table:
    """Who runs on a pool and what its plan counted for each: pods, requests per pod, and why it is there."""
    title = f"pool {name} runs" + (f" (tainted {', '.join(taints)}: only these tolerate it)" if taints else "")
    rows = counted_rows(counted, r)
    table = Table(title=title, title_justify="left")
    # Identifiers stay whole (the widest one sets the column); only the last column wraps.
    table.add_column("workload", no_wrap=True, min_width=max(len(row["workload"]) for row in rows))
    table.add_column("pods", justify="right", no_wrap=True)
    table.add_column("CPU/pod", justify="right", no_wrap=True)
    table.add_column("mem/pod", justify="right", no_wrap=True)
    table.add_column("counted as", ratio=1)
    for row in rows:
        per_node = row["source"] == "DaemonSet"
        pods = "1/node" if per_node else str(row["pods"]) + (f" (+{row['maxSurge']})" if row["maxSurge"] else "")
        why = row["source"] if per_node else f"{row['source']}, {row['placedBy']}"
        table.add_row(row["workload"], pods, f"{row['cpuMillicores']}m", f"{row['memoryMiB']}Mi", Wrap(why),
                      style="dim" if per_node else None)  # fmt: skip
    if any(row["maxSurge"] for row in rows):
        table.caption = "(+n): extra pods during a rolling update"
    return table


def pool_table(name: str, r, sized: tuple, proposal) -> Table:
    """One pool's table: the chosen plan, `auto`'s proposal when it differs, the alternatives
    and the cost lower bound (`sized` is the pool's (types, min, desired, max))."""
    types, low, want, high = sized
    p = r.plan
    table = Table(title=f"pool {name}: {want} × {p.instance_type.name} (min {low}, max {high})", title_justify="left")
    for col in ("plan", "nodes", "pods", "CPU requested", "memory requested", "pod slots", "$/month"):
        table.add_column(col, justify="left" if col == "plan" else "right")

    def row(label: str, plan, style: str | None = None) -> None:
        table.add_row(
            Wrap(label),
            str(plan.nodes),
            str(plan.pods_used - plan.nodes * plan.daemonset_pods_per_node),
            f"{plan.cpu_used_m / 1000:.2f} / {plan.cpu_alloc_m / 1000:.2f} vCPU ({plan.cpu_utilization:.0%})",
            f"{plan.mem_used_mib / 1024:.1f} / {plan.mem_alloc_mib / 1024:.1f} GiB ({plan.memory_utilization:.0%})",
            f"{plan.pods_used} / {plan.pods_max} ({plan.pod_utilization:.0%})",
            f"${plan.monthly_usd:,.2f}",
            style=style,
        )

    row(f"{p.instance_type.name} (chosen)", p, "bold")
    if proposal.plan.instance_type.name != p.instance_type.name:
        row(f"{proposal.plan.instance_type.name} (auto proposes)", proposal.plan)
    for alt in proposal.alternatives:
        row(alt.instance_type.name, alt, "dim")
    return table


STOPS = {
    "budget": "the solver's run budget was spent",
    "work": "a solver run reached its work limit",
    "size": "the model was too large to ask the solver (over 800 workload × node pairs)",
    "clock": "a solver run hit its wall-clock guard",
}


def _over_candidates(pool) -> bool:
    """An unpinned `auto` pool: its plan is chosen among the candidate types."""
    return pool.is_auto and pool.pinned_instance_type is None


def _fixed_by(pool, plan) -> str | None:
    """The setting that fixes the node count, when one does (then no proof is about packing)."""
    if pool.desired_size is not None:
        return "desiredSize"
    if pool.min_size is not None and plan.nodes <= pool.min_size:
        return "minSize"
    return None


def bound_dict(r, proposal, pool) -> dict[str, Any]:
    """The plan's proven bound, for --json: over every candidate type for an unpinned `auto`
    pool, on the pool's own type for a named or pinned one."""
    source = proposal if _over_candidates(pool) else r
    return {
        "monthlyUsd": round(source.bound_usd, 2),
        "proven": source.proven,
        "gap": round(source.gap, 4),
        "over": "candidates" if _over_candidates(pool) else "instanceType",
        "fixedBy": _fixed_by(pool, r.plan),
        "openBecause": list(source.stops or r.plan.stops),
        "solverRuns": source.solver_runs,
        "timedOut": source.timed_out or r.plan.timed_out,
    }


def bound_line(r, proposal, pool, fewest: int | None = None) -> str:
    """How far the plan may be from the cheapest, in words: "optimal for this pool" only when
    proved; a count fixed by desiredSize or minSize is said to be so. `fewest`: the fewest
    nodes of the pool's type the planner finds when desiredSize does not fix the count."""
    p, fixed = r.plan, _fixed_by(pool, r.plan)
    note = f" (minSize {pool.min_size} sets the count)" if fixed == "minSize" else ""
    same = (proposal.plan.instance_type.name, proposal.plan.nodes) == (p.instance_type.name, p.nodes)
    if _over_candidates(pool) or (pool.is_auto and same and proposal.proven):
        if proposal.proven:
            return (f"optimal for this pool: no single instance type among the {proposal.candidates} candidates "
                    f"holds these pods for less than ${p.monthly_usd:,.2f}/month (proved by bounds and the solver)"
                    f"{note}" + ("" if _over_candidates(pool) else f"; pinned to {p.instance_type.name}, which auto "
                                 "still proposes"))  # fmt: skip
        why = "; ".join(STOPS[s] for s in proposal.stops) or "not settled"
        return (f"could be up to {proposal.gap:.0%} cheaper: a plan at ${proposal.bound_usd:,.2f}/month is not "
                f"ruled out ({why}); this plan holds every pod")  # fmt: skip
    if pool.is_auto:  # pinned
        if proposal.plan.instance_type.name != p.instance_type.name:
            saving = 1 - proposal.plan.monthly_usd / p.monthly_usd if p.monthly_usd else 0.0
            head = (f"pinned to {p.instance_type.name}: auto proposes {proposal.plan.nodes} × "
                    f"{proposal.plan.instance_type.name} for {saving:.0%} less")  # fmt: skip
        else:
            head = f"pinned to {p.instance_type.name}, which auto still proposes"
    else:
        head = f"instance type set by the stack ({p.instance_type.name})"
    if fixed == "desiredSize":
        more = f"; {fewest} would hold these pods" if fewest is not None and fewest < p.nodes else ""
        return f"{head}; desiredSize fixes {p.nodes} nodes{more}"
    if p.proven:
        return f"{head}; {p.nodes} is the fewest nodes of {p.instance_type.name} that hold these pods (proved){note}"
    why = "; ".join(STOPS[s] for s in p.stops) or "not settled"
    return (f"{head}; {p.bound_nodes} × {p.instance_type.name} is not ruled out ({p.nodes - p.bound_nodes} "
            f"node(s) fewer; {why})")  # fmt: skip


def mix_line(advice) -> str:
    """The mixed-pool advice, in words."""
    if advice.outcome == "mix":
        return (f"a mix would cost {advice.saving:.0%} less than {advice.single_plan}: {advice.plan.describe()} = "
                f"${advice.plan.monthly_usd:,.2f}/month under the same rules. A node group has one type: run the "
                "second as another node group, a spot pool, or let a Karpenter NodePool choose")  # fmt: skip
    if advice.outcome == "proved-none":
        return (f"no mix of instance types can cut this pool's cost by 10%: even fractional nodes of the best "
                f"mix cost ${advice.floor_usd:,.2f}/month")  # fmt: skip
    if not advice.runs and not advice.unchecked:
        return (f"no mix of this plan's type (or a runner-up's) with another has the capacity for 10% less; "
                f"fractional nodes of the best mix would cost ${advice.floor_usd:,.2f}/month")  # fmt: skip
    left = f", {advice.unchecked} more not checked" if advice.unchecked else ""
    return (f"no two-type mix found that cuts 10% ({advice.runs} checked{left}); fractional nodes of the best mix "
            f"would cost ${advice.floor_usd:,.2f}/month")  # fmt: skip


def peak_dict(p) -> dict[str, Any]:
    """A pool at peak, for --json."""
    return {
        "autoscaled": p.autoscaled,
        "ceilingNodes": p.ceiling,
        "nodes": p.peak.nodes if p.peak else None,
        "monthlyUsd": round(p.peak_usd, 2),
        "holds": p.holds,
        "hpas": [{"app": a, "minReplicas": lo, "maxReplicas": hi} for a, lo, hi in p.growth],
    }


def peak_table(peaks: dict, provider: str) -> Table:
    """Steady state and peak per pool: nodes and $/month with every HPA at minReplicas, then at
    maxReplicas (surge included), and the ceiling the autoscaler may grow the pool to."""
    table = Table(title=f"steady state and peak (autoscaling: {provider})", title_justify="left")
    table.add_column("pool", no_wrap=True)
    table.add_column("HPAs", min_width=12)
    for col in ("steady", "peak", "ceiling"):
        table.add_column(col, justify="right", no_wrap=True)
    for name, p in peaks.items():
        t = p.steady.instance_type.name
        hpas = ", ".join(f"{a} {lo}→{hi}" for a, lo, hi in p.growth) or "–"
        peak = f"{p.peak.nodes}×{t}" if p.peak else "none fits"
        ceiling = f"{p.ceiling}" + ("" if p.autoscaled else " fixed")
        table.add_row(name, Wrap(hpas), f"{p.steady.nodes}×{t}\n${p.steady.monthly_usd:,.0f}/mo",
                      f"{peak}\n${p.peak_usd:,.0f}/mo", ceiling,
                      style=None if p.holds or not p.growth else "red")  # fmt: skip
    return table
