"""What one node pool must run: its workloads, the DaemonSets on every node, and its constraints.

The planner's input. `PoolDemand` sums the requests once (cached), since the
planner reads the sums for every candidate instance type.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property


@dataclass(frozen=True)
class Workload:
    """Pods of one Deployment/StatefulSet (or add-on) that run on a pool."""

    name: str
    replicas: int
    cpu_m: int
    """CPU request per pod, millicores."""
    memory_mib: int
    """Memory request per pod, MiB."""
    max_surge: int = 0
    """Extra pods during a rolling update (RollingUpdate maxSurge, absolute), at most
    `replicas`: the Deployment controller never scales the new ReplicaSet past the replica
    count (kubernetes/kubernetes pkg/controller/deployment/util/deployment_util.go,
    NewRSNewReplicas: the scale-up is min(maxTotalPods − current, replicas − newRS))."""
    spread: bool = True
    """Spread replicas over nodes (topology spread / anti-affinity)."""

    def __post_init__(self) -> None:
        if self.max_surge > self.replicas:
            object.__setattr__(self, "max_surge", max(self.replicas, 0))


@dataclass(frozen=True)
class DaemonSet:
    """A DaemonSet: one pod on every node."""

    name: str
    cpu_m: int
    memory_mib: int


# DaemonSets on every EKS node slipway builds, with their requests.
# aws-node (VPC CNI) requests 25m; kube-proxy 100m (EKS add-on manifests); neither
# requests memory.
AWS_NODE = DaemonSet("aws-node", 25, 0)
KUBE_PROXY = DaemonSet("kube-proxy", 100, 0)
DEFAULT_DAEMONSETS = (AWS_NODE, KUBE_PROXY)

# Cluster add-on pods and the requests slipway gives them.
COREDNS = Workload("coredns", 2, 100, 70, max_surge=1)
"""EKS CoreDNS add-on: 2 replicas, requests 100m / 70Mi."""


@dataclass(frozen=True)
class PoolDemand:
    """What one pool must run, and the constraints it is planned under."""

    name: str
    workloads: tuple[Workload, ...]
    daemonsets: tuple[DaemonSet, ...] = DEFAULT_DAEMONSETS
    az_count: int = 2
    survive_az_loss: bool = False
    min_nodes: int = 1
    """Fewest nodes (the pool's minSize)."""
    max_nodes: int = 100
    """Most nodes a plan may use (the pool's maxSize, else a search limit)."""
    autoscale_max: int | None = None
    """maxSize to give the node group; default: 1.5 × the planned nodes (room for an autoscaler)."""
    prefix_delegation: bool = False

    @cached_property
    def total_cpu_m(self) -> int:
        """CPU requested by every pod of every workload, millicores."""
        return sum(w.replicas * w.cpu_m for w in self.workloads)

    @cached_property
    def total_memory_mib(self) -> int:
        """Memory requested by every pod of every workload, MiB."""
        return sum(w.replicas * w.memory_mib for w in self.workloads)

    @cached_property
    def total_pods(self) -> int:
        return sum(w.replicas for w in self.workloads)

    @cached_property
    def daemonset_cpu_m(self) -> int:
        """CPU the DaemonSets request on every node, millicores."""
        return sum(d.cpu_m for d in self.daemonsets)

    @cached_property
    def daemonset_memory_mib(self) -> int:
        """Memory the DaemonSets request on every node, MiB."""
        return sum(d.memory_mib for d in self.daemonsets)
