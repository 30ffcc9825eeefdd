"""Reference workloads for the capacity planner benchmark (deterministic)."""

from __future__ import annotations

import random

from slipway.components.capacity.planner import COREDNS, Workload

# Add-on pods as slipway configures them (requests per pod).
LBC = Workload("aws-load-balancer-controller", 2, 100, 128, max_surge=1)
ARGO_CONTROLLER = Workload("argo-workflows-controller", 1, 100, 256, spread=False)
ARGO_SERVER = Workload("argo-workflows-server", 1, 50, 128, spread=False)


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
    return services + [LBC, ARGO_CONTROLLER, ARGO_SERVER, COREDNS]


SHAPES = [(100, 128), (250, 256), (250, 512), (500, 512), (500, 1024), (1000, 1024), (1000, 2048), (2000, 4096)]


def large(seed: int = 7) -> list[Workload]:
    """Sixty services of mixed shapes and replica counts."""
    rng = random.Random(seed)
    out = []
    for i in range(60):
        cpu, mem = rng.choice(SHAPES)
        out.append(Workload(f"svc-{i:02d}", rng.choice([2, 2, 3, 3, 4, 6]), cpu, mem, max_surge=1))
    return out + [LBC, ARGO_CONTROLLER, ARGO_SERVER, COREDNS]


def memory_heavy() -> list[Workload]:
    """Caches and JVMs: little CPU, a lot of memory."""
    return [
        Workload("redis", 3, 250, 6144, max_surge=0),
        Workload("elasticsearch", 3, 1000, 8192, max_surge=0),
        Workload("jvm-api", 4, 500, 3072, max_surge=1),
        Workload("cache-warmer", 2, 100, 2048, max_surge=1),
        COREDNS,
    ]


WORKLOADS = {"small": small, "medium": medium, "large": large, "memory-heavy": memory_heavy}
