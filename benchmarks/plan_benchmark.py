"""Capacity planner benchmark: plan cost ÷ lower bound, eksctl's default, planning time.

    .venv/bin/python -m benchmarks.plan_benchmark [--survive-az-loss] [--repeat N]

Targets (issue #4): ≤ 1.15× the lower bound on medium and large; < 1 s for 60 services.
Not a test: it measures, it does not assert.

Two bounds are shown. "lower bound" is the issue's: the pods' requests priced at the
cheapest $/vCPU and $/GiB among the candidates (nominal capacity). "usable bound" is
the cheapest fractional fleet covering the requests with each type's *usable*
capacity (after kube-reserved, eviction threshold, VM overhead and DaemonSets), so
plan ÷ usable bound is what packing (whole nodes, spread, surge, AZs) costs on top.
"""

from __future__ import annotations

import argparse
import time

from rich.console import Console
from rich.table import Table

from slipway.components.capacity.catalog import load_catalog
from slipway.components.capacity.planner import PoolDemand, plan_on, plan_pool, usable_capacity_bound

from benchmarks.workloads import WORKLOADS

EKSCTL_DEFAULT = ("m5.large", 2)  # eksctl pkg/apis/eksctl.io/v1alpha5/types.go


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--survive-az-loss", action="store_true", help="plan as prod does (3 AZs, lose one)")
    parser.add_argument("--repeat", type=int, default=5, help="runs per workload; the best time is reported")
    parser.add_argument("--burstable", action="store_true", help="allow t3/t3a/t4g (dev stacks may)")
    args = parser.parse_args()
    catalog = load_catalog()
    candidates = [t for t in catalog.types.values() if args.burstable or not t.burstable]
    azs = 3 if args.survive_az_loss else 2
    table = Table(
        title=f"capacity plans ({catalog.region} on-demand, prices {catalog.price_date}, {azs} AZs"
        f"{', survive AZ loss' if args.survive_az_loss else ''})"
    )
    for col in (
        "workload",
        "pods",
        "plan",
        "$/month",
        "lower bound",
        "plan ÷ bound",
        "÷ usable bound",
        "eksctl 2×m5.large",
        "planning time",
    ):
        table.add_column(col, justify="right" if col != "plan" else "left")
    for name, make in WORKLOADS.items():
        workloads = tuple(make())
        demand = PoolDemand(name, workloads, az_count=azs, survive_az_loss=args.survive_az_loss)
        best = float("inf")
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            result = plan_pool(demand, candidates)
            best = min(best, time.perf_counter() - t0)
        plan = result.plan
        eks_type, eks_nodes = EKSCTL_DEFAULT
        fixed = PoolDemand(name, workloads, az_count=azs, min_nodes=eks_nodes, max_nodes=eks_nodes)
        eksctl = plan_on(catalog.get(eks_type), fixed)
        eksctl_cell = (
            f"${eks_nodes * catalog.get(eks_type).monthly_usd:,.0f}" if not isinstance(eksctl, str) else "does not fit"
        )
        table.add_row(
            name,
            str(demand.total_pods),
            f"{plan.nodes} × {plan.instance_type.name}" if plan else "none",
            f"${plan.monthly_usd:,.0f}" if plan else "-",
            f"${result.lower_bound_usd:,.0f}",
            f"{result.efficiency:.2f}×",
            f"{plan.monthly_usd / usable_capacity_bound(demand, candidates):.2f}×" if plan else "-",
            eksctl_cell,
            f"{best * 1000:.0f} ms",
        )
    Console().print(table)


if __name__ == "__main__":
    main()
