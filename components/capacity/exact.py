"""Exact packing: does a pool's demand fit on n nodes of one type, decided by a MILP solver.

The same rules as the heuristic packer (`packing.py`), written as an integer program and
solved by HiGHS (`highspy`):

* x[w, i] pods of workload w on node i, Σᵢ x[w, i] = replicas, x[w, i] ≤ ⌈replicas / n⌉
  when the workload spreads;
* each node's CPU, memory and pod slots (what `per_node_room` leaves after the DaemonSets)
  hold its pods;
* for each workload with maxSurge s (rollouts run one Deployment at a time), s surge pods
  y[w, i] fit in what the steady placement leaves free, at most ⌈(replicas + s) / n⌉ of
  that workload per node;
* (the AZ-loss rule, every pod on the nodes left after the largest AZ is lost, is a second
  call without surge: `search.check` and `mixing` make it).

The answer is "fits" (with the placement), "does not fit" (proved), or "unknown" when the
solver's work limit is reached. The limit is counted in branch-and-bound nodes, not
seconds, so the answer is the same on a fast machine and a slow one; a generous
wall-clock limit only guards against a pathological model and says so when it fires.

Why HiGHS: it is MIT-licensed, ships binary wheels for Linux (x86_64, aarch64), macOS
(x86_64, arm64) and Windows that need only numpy, and with one thread and a node limit its
answers do not depend on timing. OR-Tools CP-SAT was the other candidate: its wheels pull in
pandas and protobuf 6, which pip refuses beside pulumi-policy's protobuf~=5.29 pin, so the
policy pack and the planner could not share an environment. On speed neither wins: the same
model in CP-SAT 9.15 with one worker (in a separate virtualenv, on six of the benchmarks'
hardest checks) was faster on two (0.2 s vs HiGHS's 4.1 s and 0.7 s), as fast on two, and
slower on two (11.5 s vs 0.5 s, 29 s vs 17.5 s); two workers sped some up and slowed others,
and CP-SAT's parallel search is not deterministic.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any, Literal

import numpy as np

from slipway.components.capacity.bounds import after_az_loss
from slipway.components.capacity.demand import Workload
from slipway.components.capacity.packing import holds

WORK_LIMIT = 1000
"""Branch-and-bound nodes one fit check may explore before it answers "unknown". Measured
here at 4–13 ms a node on models of 200–400 (workload, node) pairs, so a run takes at most
~13 s on this machine; the plan's time is mostly its runs' nodes."""
SAFETY_SECONDS = 60.0
"""Wall-clock guard per fit check, far above what the work limit allows (so a slower machine
reaches the work limit first, and gets the same answer); a check that reaches it reports
`timed_out`, and validation warns that the plan may differ elsewhere."""
MAX_PLACEMENTS = 800
"""Largest model asked of the solver, in (workload, node) pairs. The work limit counts
branch-and-bound nodes, but the root node (LP, cuts, heuristics) grows with the model: on
this benchmark's pools a check of ~700 pairs takes about a second, one of ~2,700 half a
minute. Past this size the answer is "unknown" at once, whatever the machine."""

Answer = Literal["fits", "no", "unknown"]


@dataclass(frozen=True)
class Fit:
    """The answer for one node count."""

    answer: Answer
    placement: list[dict[str, int]] | None = None
    """Pods per workload on each node (steady state) when it fits."""
    timed_out: bool = False
    """The wall-clock guard fired (the answer is "unknown" and may differ on another machine)."""
    too_large: bool = False
    """Not asked: the model would exceed `MAX_PLACEMENTS` (the answer is "unknown")."""
    work: int = 0
    """Branch-and-bound nodes the run explored (what a work budget is counted in)."""


def _cap(w: Workload, extra: int, nodes: int) -> int:
    total = w.replicas + extra
    return min(math.ceil(total / nodes), total) if w.spread else total


@cache
def _quiet_highs_class() -> Any:
    """A HiGHS solver that writes nothing on stdout (`slipway size --json` prints JSON there).

    highspy.Highs() installs its callback hook in __init__ (`enableCallbacks`), and that
    prints HiGHS's banner before any option can turn output off; the planner uses no
    callbacks, so the hook is left out."""
    import highspy

    class Quiet(highspy.Highs):
        def enableCallbacks(self) -> None:
            pass

    return Quiet


class _Model:
    """Columns and rows of one integer program, built row-wise."""

    def __init__(self) -> None:
        self.lower: list[float] = []
        self.upper: list[float] = []
        self.integer: list[int] = []
        self.row_lower: list[float] = []
        self.row_upper: list[float] = []
        self.starts: list[int] = [0]
        self.index: list[int] = []
        self.value: list[float] = []

    def col(self, low: float, high: float, integer: bool = True) -> int:
        self.lower.append(low)
        self.upper.append(high)
        self.integer.append(1 if integer else 0)
        return len(self.lower) - 1

    def row(self, terms: Sequence[tuple[int, float]], low: float, high: float) -> None:
        for j, a in terms:
            if a:
                self.index.append(j)
                self.value.append(a)
        self.starts.append(len(self.index))
        self.row_lower.append(low)
        self.row_upper.append(high)

    def solve(self, work_limit: int, seconds: float) -> tuple[Answer, list[float], bool, int]:
        import highspy

        inf = highspy.kHighsInf
        lp = highspy.HighsLp()
        lp.num_col_ = len(self.lower)
        lp.num_row_ = len(self.row_lower)
        lp.col_cost_ = np.zeros(lp.num_col_)
        lp.col_lower_ = np.array(self.lower, dtype=np.float64)
        lp.col_upper_ = np.array([inf if u == math.inf else u for u in self.upper], dtype=np.float64)
        lp.row_lower_ = np.array([-inf if v == -math.inf else v for v in self.row_lower], dtype=np.float64)
        lp.row_upper_ = np.array([inf if v == math.inf else v for v in self.row_upper], dtype=np.float64)
        lp.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
        lp.a_matrix_.start_ = np.array(self.starts, dtype=np.int32)
        lp.a_matrix_.index_ = np.array(self.index, dtype=np.int32)
        lp.a_matrix_.value_ = np.array(self.value, dtype=np.float64)
        lp.integrality_ = [highspy.HighsVarType(k) for k in self.integer]
        h = _quiet_highs_class()()
        for option, value in (
            ("output_flag", False),
            ("threads", 1),
            ("random_seed", 0),
            ("mip_max_nodes", work_limit),
            ("time_limit", seconds),
            # Presolve's probing of these many binaries costs more than it saves: measured on
            # the benchmark's hardest checks, a proof of "does not fit" went from 2.5 s to 0.03 s
            # without it, and no check got slower by more than a quarter.
            ("presolve", "off"),
        ):
            h.setOptionValue(option, value)
        h.passModel(lp)
        # kWarning is how a run that reaches a limit ends; kError means it did not run: HiGHS
        # keeps one thread scheduler per process, and a solve elsewhere in this process with
        # another thread count makes run() refuse ours. Reset it once and retry.
        if h.run() == highspy.HighsStatus.kError:
            highspy.Highs.resetGlobalScheduler(True)
            if h.run() == highspy.HighsStatus.kError:
                return "unknown", [], False, 0
        status = h.getModelStatus()
        work = max(int(h.getInfo().mip_node_count), 1)
        ms = highspy.HighsModelStatus
        if status == ms.kInfeasible:
            return "no", [], False, work
        # A zero objective: the first feasible point is optimal (kOptimal); one found just as
        # the node limit is reached ends as kSolutionLimit with a feasible solution.
        if status == ms.kOptimal or h.getInfo().primal_solution_status == highspy.kSolutionStatusFeasible:
            return "fits", list(h.getSolution().col_value), False, work
        return "unknown", [], status == ms.kTimeLimit, work


def fit(
    workloads: Sequence[Workload],
    room: tuple[int, int, int],
    nodes: int,
    surge: bool = True,
    work_limit: int = WORK_LIMIT,
    seconds: float = SAFETY_SECONDS,
) -> Fit:
    """Can every pod (and, with `surge`, each workload's surge in turn) be placed on `nodes`
    nodes that each leave `room` (CPU millicores, memory MiB, pods) for the pool's pods?"""
    return fit_nodes(workloads, [room] * max(nodes, 0), surge, work_limit, seconds)


def fit_nodes(
    workloads: Sequence[Workload],
    rooms: Sequence[tuple[int, int, int]],
    surge: bool = True,
    work_limit: int = WORK_LIMIT,
    seconds: float = SAFETY_SECONDS,
) -> Fit:
    """`fit` on nodes of different sizes (a pool of mixed instance types): `rooms[i]` is
    what node i leaves for the pool's pods."""
    nodes = len(rooms)
    if nodes < 1 or min(min(r) for r in rooms) < 0:
        return Fit("no")
    ws = [w for w in workloads if w.replicas > 0]
    if len(ws) * nodes > MAX_PLACEMENTS:
        return Fit("unknown", too_large=True)
    m = _Model()
    x = [[m.col(0, _cap(w, 0, nodes)) for _ in range(nodes)] for w in ws]
    # Per-node use (continuous, bounded by the room): the surge rows then need two terms each.
    use_cpu = [m.col(0, r[0], integer=False) for r in rooms]
    use_mem = [m.col(0, r[1], integer=False) for r in rooms]
    use_pods = [m.col(0, r[2], integer=False) for r in rooms]
    for k, w in enumerate(ws):
        m.row([(x[k][i], 1) for i in range(nodes)], w.replicas, w.replicas)
    for i in range(nodes):
        m.row([(x[k][i], w.cpu_m) for k, w in enumerate(ws)] + [(use_cpu[i], -1)], 0, 0)
        m.row([(x[k][i], w.memory_mib) for k, w in enumerate(ws)] + [(use_mem[i], -1)], 0, 0)
        m.row([(x[k][i], 1) for k in range(len(ws))] + [(use_pods[i], -1)], 0, 0)
    if surge:
        for k, w in enumerate(ws):
            if w.max_surge <= 0:
                continue
            cap = _cap(w, w.max_surge, nodes)
            y = [m.col(0, min(w.max_surge, cap)) for _ in range(nodes)]
            m.row([(y[i], 1) for i in range(nodes)], w.max_surge, w.max_surge)
            for i, (cpu_room, mem_room, pod_room) in enumerate(rooms):
                m.row([(y[i], w.cpu_m), (use_cpu[i], 1)], -math.inf, cpu_room)
                m.row([(y[i], w.memory_mib), (use_mem[i], 1)], -math.inf, mem_room)
                m.row([(y[i], 1), (use_pods[i], 1)], -math.inf, pod_room)
                m.row([(y[i], 1), (x[k][i], 1)], -math.inf, cap)
    # Nodes of one size are interchangeable: order them by CPU in use so the solver does not
    # explore every permutation of one packing.
    for i in range(nodes - 1):
        if rooms[i] == rooms[i + 1]:
            m.row([(use_cpu[i], 1), (use_cpu[i + 1], -1)], 0, math.inf)
    answer, values, timed_out, work = m.solve(work_limit, seconds)
    if answer != "fits":
        return Fit(answer, timed_out=timed_out, work=work)
    placement: list[dict[str, int]] = []
    for i in range(nodes):
        counts = {w.name: round(values[x[k][i]]) for k, w in enumerate(ws)}
        placement.append({name: c for name, c in counts.items() if c})
    # Believed only once checked by the packer's own rules (a tolerance slip would show here).
    return Fit("fits", placement, work=work) if holds(ws, rooms, placement, surge) else Fit("unknown", work=work)


def fit_parts(
    workloads: Sequence[Workload],
    parts: Sequence[tuple[tuple[int, int, int], int]],
    az_count: int,
    survive_az_loss: bool,
    work_limit: int = WORK_LIMIT,
) -> Fit:
    """`fit_nodes` on `n` nodes of each (room, n) part, under every rule: with
    `survive_az_loss`, the nodes left when an AZ is lost (each part losing its share, its
    nodes spread evenly over the AZs) must also hold every pod. The solver alone decides:
    what mixed-pool advice and the benchmarks' independent re-checks ask."""
    rooms = [room for room, n in parts for _ in range(n)]
    steady = fit_nodes(workloads, rooms, work_limit=work_limit)
    if steady.answer != "fits" or not survive_az_loss:
        return steady
    left = [room for room, n in parts for _ in range(after_az_loss(n, az_count))]
    after = fit_nodes(workloads, left, surge=False, work_limit=work_limit)
    return steady if after.answer == "fits" else after
