"""Reference workloads for the capacity planner benchmark (deterministic).

Each is a pool's pods and the AZ rules it is planned under. The first four are the
planner's original references; the rest stress what a greedy packer misses: large pods
whose surge must land beside spread replicas, many apps with spread caps, pods bound by
pod slots rather than CPU or memory, skewed sizes, a prod pool of 3 AZs that must
survive the loss of one, and a pool where only the solver finds the optimum.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

from slipway.components.capacity.planner import COREDNS, Workload

# Add-on pods as slipway configures them (requests per pod).
LBC = Workload("aws-load-balancer-controller", 2, 100, 128, max_surge=1)
ARGO_CONTROLLER = Workload("argo-workflows-controller", 1, 100, 256, spread=False)
ARGO_SERVER = Workload("argo-workflows-server", 1, 50, 128, spread=False)
ADDONS = [LBC, ARGO_CONTROLLER, ARGO_SERVER, COREDNS]


def small() -> list[Workload]:
    """One app, two replicas at 250m / 64Mi."""
    return [Workload("app", 2, 250, 64, max_surge=1), COREDNS]


def medium() -> list[Workload]:
    """Eight services of a typical product team, plus LBC and Argo."""
    services = [
        Workload("web", 3, 250, 256, max_surge=1),
        Workload("api", 3, 500, 512, max_surge=1),
        Workload("worker", 2, 500, 1024, max_surge=1),
        Workload("auth", 2, 250, 256, max_surge=1),
        Workload("search", 2, 500, 1536, max_surge=1),
        Workload("notifications", 2, 100, 128, max_surge=1),
        Workload("billing", 2, 250, 512, max_surge=1),
        Workload("reports", 2, 250, 768, max_surge=1),
    ]
    return services + ADDONS


SHAPES = [(100, 128), (250, 256), (250, 512), (500, 512), (500, 1024), (1000, 1024), (1000, 2048), (2000, 4096)]


def large(seed: int = 7) -> list[Workload]:
    """Sixty services of mixed shapes and replica counts (194 pods)."""
    rng = random.Random(seed)
    out = []
    for i in range(60):
        cpu, mem = rng.choice(SHAPES)
        out.append(Workload(f"svc-{i:02d}", rng.choice([2, 2, 3, 3, 4, 6]), cpu, mem, max_surge=1))
    return out + ADDONS


def memory_heavy() -> list[Workload]:
    """Caches and JVMs: little CPU, a lot of memory."""
    return [
        Workload("redis", 3, 250, 6144, max_surge=0),
        Workload("elasticsearch", 3, 1000, 8192, max_surge=0),
        Workload("jvm-api", 4, 500, 3072, max_surge=1),
        Workload("cache-warmer", 2, 100, 2048, max_surge=1),
        COREDNS,
    ]


def large_pods_surge() -> list[Workload]:
    """Twelve apps of 3–4 replicas at 2 vCPU / 4 GiB, spread one per node, each rolling out
    with a surge pod that must find a node without its own replicas; a few small services."""
    big = [Workload(f"engine-{i:02d}", 3 + i % 2, 2000, 4096, max_surge=1) for i in range(12)]
    small_ = [Workload(f"edge-{i}", 2, 250, 256, max_surge=1) for i in range(6)]
    return big + small_ + ADDONS


def spread_caps(seed: int = 11) -> list[Workload]:
    """Ninety small apps of 2–3 replicas, each spread (at most ⌈replicas / nodes⌉ per node)."""
    rng = random.Random(seed)
    return [
        Workload(f"app-{i:02d}", rng.choice([2, 2, 3]), rng.choice([100, 150, 250, 400]),
                 rng.choice([128, 256, 384, 512]), max_surge=1)
        for i in range(90)
    ] + ADDONS  # fmt: skip


def tiny_pods() -> list[Workload]:
    """Two hundred sidecar-sized pods (25m / 48Mi): pod slots, not CPU or memory, bound them."""
    return [Workload(f"fn-{i:02d}", 10, 25, 48, max_surge=2) for i in range(20)] + [COREDNS]


def skewed(seed: int = 5) -> list[Workload]:
    """Sixty services with skewed sizes (log-normal CPU, 1–8 GiB per vCPU), 2–6 replicas."""
    rng = random.Random(seed)
    out = []
    for i in range(60):
        cpu = min(6000, max(50, round(rng.lognormvariate(5.8, 1.0) / 50) * 50))
        mem = max(64, round(cpu * rng.choice([1, 2, 2, 4, 8]) * 1.024))
        out.append(Workload(f"svc-{i:02d}", rng.choice([2, 3, 3, 4, 6]), cpu, mem, max_surge=rng.choice([1, 1, 2])))
    return out + ADDONS


def prod_three_az() -> list[Workload]:
    """A prod pool on 3 AZs that must keep every pod after losing one: large pods, so the
    repack of the lost zone's pods onto the surviving nodes is tight."""
    return [
        Workload("api", 6, 1500, 3072, max_surge=2),
        Workload("worker", 6, 1800, 2048, max_surge=1),
        Workload("search", 3, 2500, 12288, max_surge=1),
        Workload("ingest", 4, 1200, 1536, max_surge=1),
        Workload("ledger", 3, 900, 6144, max_surge=1),
        Workload("web", 4, 500, 768, max_surge=1),
    ] + ADDONS


def solver_decides() -> list[Workload]:
    """A random pool (plan_exactness's generator, seed 3, pool 28) where the heuristics stop at
    9 × m6a.4xlarge and only the solver finds 4 × m6a.8xlarge, 11% cheaper: large pods whose
    surges (up to 2 × 4 vCPU) must land beside their spread replicas."""
    shapes = [(5, 750, 318, 0), (3, 4000, 13528, 2), (6, 1500, 1253, 0), (4, 250, 232, 1), (2, 2000, 3322, 1),
              (4, 4000, 26392, 1), (2, 50, 32, 0), (1, 750, 7172, 1), (2, 1500, 675, 2), (2, 1000, 1059, 1),
              (5, 4000, 8148, 1), (3, 1500, 2499, 1), (2, 3000, 1433, 2), (3, 3000, 26426, 1), (5, 500, 4357, 1),
              (1, 750, 645, 1), (4, 250, 2380, 1), (3, 4000, 17554, 1), (3, 3000, 13393, 0)]  # fmt: skip
    return [Workload(f"s{i}", r, c, m, max_surge=s) for i, (r, c, m, s) in enumerate(shapes)] + [COREDNS]


@dataclass(frozen=True)
class Reference:
    """A workload and the AZ rules its pool is planned under."""

    make: Callable[[], list[Workload]]
    azs: int = 2
    survive_az_loss: bool = False


WORKLOADS: dict[str, Reference] = {
    "small": Reference(small),
    "medium": Reference(medium),
    "large": Reference(large),
    "memory-heavy": Reference(memory_heavy),
    "large-pods-surge": Reference(large_pods_surge),
    "spread-caps": Reference(spread_caps),
    "tiny-pods": Reference(tiny_pods),
    "skewed": Reference(skewed),
    "prod-3az": Reference(prod_three_az, azs=3, survive_az_loss=True),
    "large-3az": Reference(large, azs=3, survive_az_loss=True),
    "solver-decides": Reference(solver_decides),
}
