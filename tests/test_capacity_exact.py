"""The exact search: bounds that are bounds, a solver that agrees with brute force, plans
proven optimal where the heuristics alone fell short, and the same answer every time."""

from __future__ import annotations

import itertools
import math
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path
from types import SimpleNamespace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from slipway.components.capacity import exact
from slipway.components.capacity.bounds import after_az_loss, bin_bound, nodes_bound
from slipway.components.capacity.catalog import InstanceType, load_catalog
from slipway.components.capacity.demand import PoolDemand, Workload
from slipway.components.capacity.mixing import advise_mix
from slipway.components.capacity.packing import holds, pack, pods_to_place
from slipway.components.capacity.planner import plan_on, plan_pool
from slipway.components.capacity.room import per_node_room
from slipway.components.capacity.search import Budget, heuristic_count, improve, lowest_count

from benchmarks.workloads import WORKLOADS

CATALOG = load_catalog()
ROOT = Path(__file__).resolve().parent.parent


def arch(name: str) -> list:
    return [t for t in CATALOG.types.values() if t.architecture == name and not t.burstable]


def fewest_bins(sizes: list[int], capacity: int) -> int:
    """Brute force: the fewest bins for these items (every assignment up to bin symmetry)."""
    best = len(sizes)

    def place(i: int, loads: list[int]) -> None:
        nonlocal best
        if len(loads) >= best:
            return
        if i == len(sizes):
            best = len(loads)
            return
        for b in range(len(loads)):
            if loads[b] + sizes[i] <= capacity:
                loads[b] += sizes[i]
                place(i + 1, loads)
                loads[b] -= sizes[i]
        place(i + 1, [*loads, sizes[i]])

    place(0, [])
    return best


@settings(max_examples=150, deadline=None)
@given(st.lists(st.integers(1, 100), min_size=1, max_size=9), st.integers(100, 160))
def test_bin_bound_never_exceeds_the_optimum(sizes, capacity):
    assert bin_bound(Counter(sizes), capacity) <= fewest_bins(sizes, capacity)


def test_bin_bound_sees_what_the_sums_miss():
    # Three 2-vCPU pods fit a 7.8-vCPU node, four do not: 42 of them need 14 nodes although
    # their 84 vCPU would fill 11 (the dual-feasible-function bound).
    assert bin_bound(Counter({2000: 42}), 7785) == 14
    # Pods above half a node never share one (L2): 5 of 0.6 need 5.
    assert bin_bound(Counter({600: 5}), 1000) == 5


def placements(workloads: list[Workload], nodes: int):
    """Every way to spread the pods over `nodes` nodes (counts per workload per node)."""
    per_workload = [
        [c for c in itertools.product(range(w.replicas + 1), repeat=nodes) if sum(c) == w.replicas] for w in workloads
    ]
    for combo in itertools.product(*per_workload):
        yield [{w.name: combo[k][i] for k, w in enumerate(workloads) if combo[k][i]} for i in range(nodes)]


def brute_fits(workloads: list[Workload], room: tuple[int, int, int], nodes: int, surge: bool = True) -> bool:
    return any(holds(workloads, [room] * nodes, p, surge) for p in placements(workloads, nodes))


tiny_workloads = st.lists(
    st.builds(
        Workload,
        name=st.sampled_from(["a", "b", "c"]),
        replicas=st.integers(1, 3),
        cpu_m=st.sampled_from([300, 500, 800, 1100]),
        memory_mib=st.sampled_from([256, 700, 1500]),
        max_surge=st.integers(0, 2),
        spread=st.booleans(),
    ),
    min_size=1,
    max_size=3,
    unique_by=lambda w: w.name,
)


@settings(max_examples=120, deadline=None)
@given(tiny_workloads, st.integers(1, 3), st.sampled_from([(1800, 2048, 4), (2000, 4096, 3), (1200, 3000, 8)]))
def test_solver_agrees_with_brute_force(workloads, nodes, room):
    """The MILP encodes the packer's rules exactly: "fits" only with a placement the rules
    accept, "no" only where no placement exists (every placement tried)."""
    answer = exact.fit(workloads, room, nodes, work_limit=10_000)
    truth = brute_fits(workloads, room, nodes)
    assert answer.answer == ("fits" if truth else "no"), (workloads, room, nodes)
    if answer.placement is not None:
        assert holds(workloads, [room] * nodes, answer.placement)


@settings(max_examples=60, deadline=None)
@given(tiny_workloads, st.sampled_from([(1800, 2048, 4), (2000, 4096, 3)]), st.booleans())
def test_a_proven_count_is_the_fewest(workloads, room, survive):
    """When the search says proven, no smaller count fits (brute force), AZ loss included."""
    demand = PoolDemand("p", tuple(workloads), daemonsets=(), az_count=2, survive_az_loss=survive, max_nodes=6)
    if any(w.cpu_m > room[0] or w.memory_mib > room[1] for w in workloads):
        return
    count = heuristic_count(demand, room, lowest_count(demand, room))
    if count.nodes is None:
        return
    count = improve(demand, room, count, Budget(20, work=10_000), below=count.nodes)
    assert count.bound <= count.nodes
    # The count found holds the pods under every rule, the AZ loss included (brute force).
    assert holds(workloads, [room] * count.nodes, count.placement)
    if survive:
        left = after_az_loss(count.nodes, 2)
        assert left >= 1 and brute_fits(workloads, room, left, surge=False)
    for n in range(max(demand.az_count, 1), count.bound):
        fits = brute_fits(workloads, room, n)
        if survive and fits:
            fits = brute_fits(workloads, room, after_az_loss(n, 2), surge=False) if after_az_loss(n, 2) else False
        assert not fits, f"{n} nodes fit, below the proven bound {count.bound}"


# Found by a search over small pools: the heuristics' first count is 7; 6 hold the pods (the
# shaken surge packer finds them), and only the solver proves that 4 and 5 do not.
MISSED = (
    Workload("w0", 2, 900, 1024, max_surge=1),
    Workload("w1", 4, 300, 256, max_surge=2),
    Workload("w2", 4, 700, 256, max_surge=0),
)
MISSED_ROOM = (1800, 4096, 30)


def test_the_solver_settles_what_the_heuristics_leave_open():
    demand = PoolDemand("p", MISSED, daemonsets=(), az_count=1)
    first = heuristic_count(demand, MISSED_ROOM, lowest_count(demand, MISSED_ROOM))
    assert (first.nodes, first.bound) == (7, 4)
    assert [exact.fit(MISSED, MISSED_ROOM, n).answer for n in (4, 5, 6)] == ["no", "no", "fits"]
    settled = improve(demand, MISSED_ROOM, first, Budget(3), below=7)
    assert (settled.nodes, settled.bound) == (6, 6) and settled.proven
    assert holds(MISSED, [MISSED_ROOM] * 6, settled.placement)


def test_a_spent_budget_leaves_an_honest_gap():
    demand = PoolDemand("p", MISSED, daemonsets=(), az_count=1)
    first = heuristic_count(demand, MISSED_ROOM, lowest_count(demand, MISSED_ROOM))
    one = improve(demand, MISSED_ROOM, first, Budget(1), below=7)  # 5 proved too few, 4 never asked
    assert (one.nodes, one.bound, one.proven) == (6, 4, False)
    none = improve(demand, MISSED_ROOM, first, Budget(0), below=7)  # no solver: heuristics only
    assert (none.nodes, none.bound, none.proven) == (6, 4, False)


def test_feasibility_is_not_monotone_in_the_node_count():
    """Spread caps tighten as nodes are added: 5 nodes hold this pool, 6 do not. On 6 nodes,
    `b`'s two surge pods may only join nodes without a `b` (⌈(4 + 2) / 6⌉ = 1), and of those
    two, one is full with `a`; on 5 the cap is 2 and any `b` node has room. So a count that
    fails proves nothing about the counts below it."""
    work = [Workload("a", 1, 1500, 100), Workload("b", 4, 700, 100, max_surge=2)]
    room = (1500, 2048, 8)
    assert [exact.fit(work, room, n).answer for n in (4, 5, 6, 7)] == ["no", "fits", "no", "fits"]


def test_issue_large_is_five_c6g_8xlarge():
    """Issue 17: 'large' was planned as 46 × c6g.xlarge ($4,567); 5 × c6g.8xlarge holds it."""
    ref = WORKLOADS["large"]
    demand = PoolDemand("large", tuple(ref.make()))
    on_type = plan_on(CATALOG.get("c6g.8xlarge"), demand)
    assert on_type.nodes == 5 and on_type.proven
    assert holds(demand.workloads, [per_node_room(on_type.instance_type, demand)] * 5, on_type.placement)
    result = plan_pool(demand, arch("arm64"))
    assert result.plan.nodes == 5 and result.plan.instance_type.name == "c6g.8xlarge"
    assert result.proven and result.gap == 0 and result.bound_usd == pytest.approx(result.plan.monthly_usd)


# solver-decides takes ~2 s per architecture (its point is the solver's work): the benchmark runs it.
@pytest.mark.parametrize("name", sorted(set(WORKLOADS) - {"solver-decides"}))
def test_benchmark_plans_are_proven_and_hold(name):
    """Every reference workload, on each architecture: proven optimal, and the placement holds."""
    ref = WORKLOADS[name]
    demand = PoolDemand(name, tuple(ref.make()), az_count=ref.azs, survive_az_loss=ref.survive_az_loss)
    for candidates in (arch("arm64"), arch("x86_64")):
        result = plan_pool(demand, candidates)
        plan = result.plan
        assert result.proven, (name, plan.instance_type.name, result.bound_usd)
        assert holds(demand.workloads, [per_node_room(plan.instance_type, demand)] * plan.nodes, plan.placement)
        if ref.survive_az_loss:  # the nodes left after losing the fullest AZ hold every pod
            left, room = after_az_loss(plan.nodes, ref.azs), per_node_room(plan.instance_type, demand)
            repacked = pack(pods_to_place(demand.workloads, left), left, room)
            placed = repacked.placed if repacked else exact.fit(demand.workloads, room, left, surge=False).placement
            assert placed is not None and holds(demand.workloads, [room] * left, placed, surge=False)


def test_plans_are_the_same_every_time():
    """Same inputs, same plan — in another process, with another hash seed, from cold caches:
    the solver's limits count work, not seconds."""
    code = (
        "import json\n"
        "from benchmarks.workloads import WORKLOADS\n"
        "from slipway.components.capacity.catalog import load_catalog\n"
        "from slipway.components.capacity.planner import PoolDemand, plan_pool\n"
        "cands = [t for t in load_catalog().types.values() if t.architecture == 'x86_64' and not t.burstable]\n"
        "for name in ('skewed', 'prod-3az', 'memory-heavy'):\n"
        "    ref = WORKLOADS[name]\n"
        "    r = plan_pool(PoolDemand(name, tuple(ref.make()), az_count=ref.azs,"
        " survive_az_loss=ref.survive_az_loss), cands)\n"
        "    print(json.dumps([r.plan.as_dict(), r.plan.placement, r.bound_usd, r.solver_runs], sort_keys=True))\n"
    )
    runs = [
        subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            check=True,
            cwd=ROOT,
            env={**os.environ, "PYTHONHASHSEED": seed},
        ).stdout  # fmt: skip
        for seed in ("1", "2")
    ]
    assert runs[0] == runs[1] and runs[0].count("\n") == 3


def test_too_large_a_model_is_not_asked():
    many = [Workload(f"w{i}", 2, 100, 128) for i in range(41)]
    answer = exact.fit(many, (4000, 8000, 50), 20)  # 820 pairs > MAX_PLACEMENTS
    assert answer.answer == "unknown" and answer.too_large
    budget = Budget(1)
    budget.fit(many, (4000, 8000, 50), 20, surge=True)
    assert budget.spent == 0  # nothing ran, nothing spent


def test_the_solver_prints_nothing_on_stdout():
    """`slipway size --json` writes JSON on stdout: HiGHS's banner must not land there."""
    code = (
        "from slipway.components.capacity import exact\n"
        "from slipway.components.capacity.demand import Workload\n"
        "exact.fit([Workload('a', 3, 900, 512, max_surge=1)], (2000, 4096, 10), 2)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert proc.stdout == ""


def test_another_highs_user_in_the_process_does_not_silence_the_solver():
    """HiGHS keeps one thread scheduler per process: after a solve with its default threads
    (a user's own program, say), the planner's threads=1 run is refused unless it resets it."""
    code = (
        "import highspy\n"
        "h = highspy.Highs(); h.setOptionValue('output_flag', False)\n"
        "x = h.addVariable(0, 3, type=highspy.HighsVarType.kInteger); h.addConstr(x >= 1.5); h.minimize(x)\n"
        "from slipway.components.capacity import exact\n"
        "from slipway.components.capacity.demand import Workload\n"
        "print(exact.fit([Workload('a', 3, 900, 512, max_surge=1)], (2000, 4096, 10), 2, work_limit=10).answer)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert proc.stdout.strip().splitlines()[-1] == "fits"


def test_nodes_bound_counts_each_rollout():
    """While a workload rolls out, its surge pods run beside every steady pod."""
    work = [Workload("a", 3, 1000, 100, max_surge=1)]
    assert nodes_bound(work, (1500, 1000, 10), surge=False) == 3
    assert nodes_bound(work, (3000, 1000, 10), surge=False) == 1
    assert nodes_bound(work, (3000, 1000, 10)) == 2  # four pods of 1 vCPU on 3-vCPU nodes


def test_a_mix_is_advised_where_whole_nodes_waste():
    """Three m6a.2xlarge are needed for one pod too many; two plus an m6a.xlarge hold it all."""
    work = (
        Workload("w0", 2, 2000, 2048, max_surge=1),
        Workload("w1", 3, 500, 4096, max_surge=1),
        Workload("w2", 2, 2000, 2048, max_surge=1),
        Workload("w3", 2, 3000, 8192, max_surge=1),
    )
    demand = PoolDemand("p", work)
    x86 = arch("x86_64")
    result = plan_pool(demand, x86)
    advice = advise_mix(demand, x86, result)
    assert advice.outcome == "mix" and advice.saving >= 0.10
    assert advice.plan.monthly_usd <= 0.9 * result.plan.monthly_usd
    rooms = [per_node_room(t, demand) for t, n in advice.plan.parts for _ in range(n)]
    assert holds(work, rooms, advice.plan.placement)  # the mix obeys the plan's rules
    assert math.isclose(advice.as_dict()["mix"]["monthlyUsd"], round(advice.plan.monthly_usd, 2))


def test_no_mix_when_the_lp_floor_rules_it_out():
    demand = PoolDemand("large", tuple(WORKLOADS["large"].make()))
    arm = arch("arm64")
    advice = advise_mix(demand, arm, plan_pool(demand, arm))
    assert advice.outcome == "proved-none" and advice.floor_usd >= 0.9 * advice.single_usd and advice.runs == 0


def test_a_run_cut_by_the_clock_is_said(monkeypatch):
    """The wall-clock guard is the one thing that could make a plan differ between machines:
    when it fires, validation warns (stderr, `pulumi.log.warn`, `slipway check`) with the fix."""
    from slipway.cli.render import ROOT
    from slipway.components.capacity import planner, search
    from slipway.program.stackfile import load_stack_file

    monkeypatch.setattr(planner, "lowest_count", lambda demand, room: 1)  # leave a gap to settle
    monkeypatch.setattr(search, "pack_with_surge", lambda *a, **k: None)
    monkeypatch.setattr(exact, "fit_nodes", lambda *a, **k: exact.Fit("unknown", timed_out=True))
    checked = load_stack_file("dev", ROOT).checked()
    [warning] = [w for w in checked.warnings if "wall-clock guard" in w]
    assert warning.startswith("nodePools.general: ") and "slipway pin dev" in warning


def test_a_run_cut_by_its_work_limit_proves_nothing():
    """At its work limit the solver says "unknown", never "no": a proof is not claimed."""
    work = [Workload("w0", 1, 1100, 512), Workload("w1", 4, 900, 1024), Workload("w2", 2, 300, 256),
            Workload("w3", 2, 700, 256, max_surge=1), Workload("w4", 4, 500, 1024, max_surge=2)]  # fmt: skip
    room = (2000, 4096, 30)
    assert exact.fit(work, room, 6, work_limit=1).answer == "unknown"
    assert exact.fit(work, room, 6, work_limit=5000).answer == "no"
    budget = Budget(1, work=1)
    assert budget.fit(work, room, 6, surge=True).answer == "unknown" and budget.stops == {"work"}


FAKE_TYPES = [
    InstanceType("fake.large", 2, 4096, 3, 10, "x86_64", False, 0.10),
    InstanceType("fake.xlarge", 4, 8192, 4, 15, "x86_64", False, 0.19),
    InstanceType("fake.2xlarge", 8, 16384, 4, 15, "x86_64", False, 0.40),
]


def test_the_pool_bound_is_a_bound_and_closes_with_the_solver():
    """Without the solver this pool's plan is optimal but unproven, and its bound is below the
    true optimum (brute force over every type and count); with it, proven."""
    work = (Workload("w0", 1, 700, 1024, max_surge=1), Workload("w1", 3, 900, 256, max_surge=1),
            Workload("w2", 3, 900, 2048, max_surge=1))  # fmt: skip
    demand = PoolDemand("p", work, daemonsets=(), az_count=1, max_nodes=5)
    optimum = min(
        n * t.monthly_usd
        for t in FAKE_TYPES
        for n in range(1, 6)
        if brute_fits(list(work), per_node_room(t, demand), n)
    )
    alone = plan_pool(demand, FAKE_TYPES, runs=0)
    assert not alone.proven and alone.stops == ("budget",)
    assert alone.bound_usd <= optimum - 1 and alone.plan.monthly_usd == pytest.approx(optimum)
    settled = plan_pool(demand, FAKE_TYPES)
    assert settled.proven and settled.plan.monthly_usd == pytest.approx(optimum) and settled.stops == ()


def test_a_floor_above_max_size_is_no_gap():
    """A type that needs more nodes than maxSize allows is ruled out, not left open."""
    work = (Workload("a", 6, 1500, 1024, max_surge=1),)
    demand = PoolDemand("p", work, daemonsets=(), az_count=2, max_nodes=3)
    result = plan_pool(demand, FAKE_TYPES)
    assert "above maxSize 3" in result.rejected["fake.large"]
    assert result.proven and result.gap == 0


def test_an_advised_mix_survives_the_loss_of_an_az():
    """Mixes for a pool that must survive an AZ loss obey that rule too (each type loses its
    share): checked here by a separate solve of the nodes left."""
    work = (Workload("w0", 1, 2000, 8192, max_surge=1), Workload("w1", 1, 500, 1024, max_surge=1),
            Workload("w2", 1, 1000, 1024, max_surge=1), Workload("w3", 2, 3000, 8192, max_surge=1))  # fmt: skip
    demand = PoolDemand("p", work, az_count=3, survive_az_loss=True)
    x86 = arch("x86_64")
    advice = advise_mix(demand, x86, plan_pool(demand, x86))
    assert advice.outcome in {"none-found", "mix"} and advice.runs == 8
    if advice.plan is not None:
        left = [per_node_room(t, demand) for t, n in advice.plan.parts for _ in range(after_az_loss(n, 3))]
        assert exact.fit_nodes(work, left, surge=False).answer == "fits"


def _pool(auto=True, pinned=None, desired=None, min_size=None):
    return SimpleNamespace(is_auto=auto, pinned_instance_type=pinned, desired_size=desired, min_size=min_size)


def _result(t, nodes, bound_nodes=None, proven=True, bound_usd=None, stops=(), candidates=40):
    price = CATALOG.get(t).monthly_usd
    plan = SimpleNamespace(instance_type=CATALOG.get(t), nodes=nodes, bound_nodes=bound_nodes or nodes,
                           proven=(bound_nodes or nodes) >= nodes, stops=stops, monthly_usd=nodes * price,
                           timed_out=False)  # fmt: skip
    return SimpleNamespace(plan=plan, proven=proven, bound_usd=bound_usd or nodes * price, gap=0.0 if proven else 0.2,
                           stops=stops, candidates=candidates, solver_runs=2, timed_out=False)  # fmt: skip


def test_size_words_each_kind_of_bound():
    from slipway.cli.size import bound_dict, bound_line

    auto = _result("m6a.large", 3)
    assert bound_line(auto, auto, _pool()).startswith("optimal for this pool: no single instance type among the 40")
    open_ = _result("m6a.large", 3, proven=False, bound_usd=100.0, stops=("budget", "size"))
    line = bound_line(open_, open_, _pool())
    assert line.startswith("could be up to 20% cheaper: a plan at $100.00/month is not ruled out")
    assert "run budget was spent" in line and "too large to ask the solver" in line
    pinned = _result("m6a.large", 3)
    other = _result("c6i.large", 3)
    assert bound_line(pinned, other, _pool(pinned="m6a.large")).startswith(
        "pinned to m6a.large: auto proposes 3 × c6i.large for"
    )
    named = _result("m6a.large", 5)
    fixed = bound_line(named, named, _pool(auto=False, desired=5), fewest=2)
    assert fixed.endswith("desiredSize fixes 5 nodes; 2 would hold these pods") and "proved" not in fixed
    short = _result("m6a.large", 5, bound_nodes=4, stops=("work",))
    assert bound_line(short, short, _pool(auto=False)).endswith(
        "4 × m6a.large is not ruled out (1 node(s) fewer; a solver run reached its work limit)"
    )
    assert bound_dict(named, named, _pool(auto=False, desired=5))["over"] == "instanceType"
    assert bound_dict(named, named, _pool(auto=False, desired=5))["fixedBy"] == "desiredSize"
    assert bound_dict(auto, auto, _pool())["over"] == "candidates"
