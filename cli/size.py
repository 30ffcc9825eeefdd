"""`slipway size <stack>`: each node pool's capacity plan — instance type, nodes, pods,
CPU/memory use, $/month — beside what `auto` would choose today and the cheaper or
roomier alternatives, as one table per pool or as JSON (`--json`).

Offline: the plan comes from the stack file and the shipped instance catalog.
"""

from __future__ import annotations

import json

import typer
from rich.table import Table

from slipway.cli.common import fail_config, out
from slipway.cli.render import ROOT
from slipway.program.config import ConfigError


def size(
    stack: str = typer.Argument(..., help="Stack whose node pools to size."),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """Show each node pool's plan: type, nodes, pods, CPU/memory use, $/month, and alternatives."""
    from slipway.program.capacity import plan_cluster
    from slipway.program.stackfile import load_stack_file

    try:
        stackfile = load_stack_file(stack, ROOT)
        cfg, plan = stackfile.plan()
        # What `auto` would choose today, pins aside: shown, applied only by `slipway pin --replan`.
        proposal = plan_cluster(cfg, stackfile.region, zones=cfg.network.availability_zones, ignore_pins=True)
    except ConfigError as exc:
        fail_config(exc, stack)
    sizes = plan.sizes(cfg)
    changes = {
        name: proposal.pools[name].plan
        for name, pool in cfg.node_pools.items()
        if pool.pinned_instance_type and proposal.pools[name].plan.instance_type.name != pool.pinned_instance_type
    }
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
                    "lowerBoundUsd": round(proposal.pools[name].lower_bound_usd, 2),
                    "proposal": proposal.pools[name].plan.as_dict(),
                    "alternatives": [a.as_dict() for a in proposal.pools[name].alternatives],
                }
                for name, r in plan.pools.items()
            },
            "totalMonthlyUsd": round(sum(r.plan.monthly_usd for r in plan.pools.values()), 2),
        }
        print(json.dumps(doc, indent=2, sort_keys=True))
        return
    for name, r in plan.pools.items():
        out.print(pool_table(name, r, sizes[name], proposal.pools[name]))
        if name in changes:
            new = changes[name]
            out.print(
                f"  auto now proposes {new.nodes} × {new.instance_type.name} (${new.monthly_usd:,.2f}/month): "
                f"`slipway pin {stack} --replan` switches to it, replacing the node group (new nodes first)"
            )
    total = sum(r.plan.monthly_usd for r in plan.pools.values())
    note = (
        ""
        if plan.catalog.region == stackfile.region
        else (f"; prices are {plan.catalog.region}'s — `slipway catalog refresh --region {stackfile.region}` for yours")
    )
    out.print(f"nodes: ${total:,.2f}/month on demand (prices of {plan.catalog.price_date}{note})")


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
            label,
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
    bound = proposal.lower_bound_usd
    if bound:
        table.add_row("lower bound", "", "", "", "", "", f"${bound:,.2f}", style="italic")
        table.caption = (
            f"plan ÷ lower bound = {p.monthly_usd / bound:.2f}× (bound: requests at the cheapest $/vCPU and $/GiB; "
            "CPU/memory include DaemonSets)"
        )
    return table
