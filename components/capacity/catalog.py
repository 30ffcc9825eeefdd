"""Instance types and what a node of each can really run.

The numbers are the EKS AMI's: max pods from the VPC CNI's ENI/IP limits, the
kubelet's kube-reserved CPU and memory, the hard eviction threshold, and the
hypervisor's share of memory that never shows up as node capacity.

Sources: awslabs/amazon-eks-ami `nodeadm/internal/kubelet/eni_max_pods.go` and
`config.go` (max pods, kube-reserved), `max-pods-calculator.sh` (prefix delegation);
aws/karpenter-provider-aws `VM_MEMORY_OVERHEAD_PERCENT` (7.5%).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

DATA_FILE = Path(__file__).resolve().parent.parent / "data" / "instances.json"

EVICTION_HARD_MEMORY_MIB = 100
"""kubelet `evictionHard: memory.available: 100Mi` on EKS AMIs."""
VM_MEMORY_OVERHEAD = 0.075
"""Share of nominal memory the hypervisor and kernel keep; Karpenter's default."""
HOURS_PER_MONTH = 730


@dataclass(frozen=True)
class InstanceType:
    """One EC2 instance type as the planner needs it."""

    name: str
    vcpu: int
    memory_mib: int
    max_enis: int
    ipv4_per_eni: int
    architecture: str
    """x86_64 or arm64."""
    burstable: bool
    hourly_usd: float | None
    """On-demand Linux price in the catalog's region; None if unknown."""
    zones: tuple[str, ...] = ()
    """AZs of the catalog's region that offer the type (empty: not recorded)."""

    @property
    def family(self) -> str:
        return self.name.split(".")[0]

    @property
    def monthly_usd(self) -> float:
        return (self.hourly_usd or 0.0) * HOURS_PER_MONTH

    def max_pods(self, prefix_delegation: bool = False) -> int:
        return max_pods(self.max_enis, self.ipv4_per_eni, self.vcpu, prefix_delegation)

    def allocatable(self, prefix_delegation: bool = False) -> tuple[int, int, int]:
        """(CPU millicores, memory MiB, pods) a node offers to pods, DaemonSets included."""
        pods = self.max_pods(prefix_delegation)
        cpu = self.vcpu * 1000 - kube_reserved_cpu_millicores(self.vcpu)
        mem = (
            math.floor(self.memory_mib * (1 - VM_MEMORY_OVERHEAD))
            - kube_reserved_memory_mib(pods)
            - EVICTION_HARD_MEMORY_MIB
        )
        return cpu, mem, pods


def max_pods(enis: int, ipv4_per_eni: int, vcpu: int, prefix_delegation: bool = False) -> int:
    """Pods a node can address with the VPC CNI.

    Secondary IPs: `ENIs × (IPs per ENI − 1) + 2` (each ENI's primary IP is the
    node's; +2 for host-network pods). Prefix delegation gives each slot a /28
    (16 IPs), and EKS caps the result at 110 (≤ 30 vCPU) or 250.
    """
    if not prefix_delegation:
        return enis * (ipv4_per_eni - 1) + 2
    cap = 110 if vcpu <= 30 else 250
    return min(enis * ((ipv4_per_eni - 1) * 16) + 2, cap)


def kube_reserved_memory_mib(max_pods_per_node: int) -> int:
    """EKS AMI kube-reserved memory: 11 MiB per pod + 255 MiB."""
    return 11 * max_pods_per_node + 255


def kube_reserved_cpu_millicores(vcpu: int) -> int:
    """EKS AMI kube-reserved CPU: 6% of core 1, 1% of core 2, 0.5% of cores 3–4, 0.25% above."""
    millis = 0.0
    for core in range(1, vcpu + 1):
        millis += 60 if core == 1 else 10 if core == 2 else 5 if core <= 4 else 2.5
    return math.ceil(millis)


@dataclass(frozen=True)
class Catalog:
    """The instance data the planner uses: its region, price date and types."""

    region: str
    price_date: str
    types: dict[str, InstanceType]

    def get(self, name: str) -> InstanceType | None:
        return self.types.get(name)

    def priced(self) -> list[InstanceType]:
        return [t for t in self.types.values() if t.hourly_usd]


def catalog_from_dict(doc: dict[str, Any]) -> Catalog:
    types = {
        name: InstanceType(
            name=name,
            vcpu=t["vcpu"],
            memory_mib=t["memoryMiB"],
            max_enis=t["maxEnis"],
            ipv4_per_eni=t["ipv4PerEni"],
            architecture=t["architecture"],
            burstable=t["burstable"],
            hourly_usd=t.get("hourlyUsd"),
            zones=tuple(t.get("zones", [])),
        )
        for name, t in doc["types"].items()
    }
    return Catalog(region=doc["region"], price_date=doc["priceDate"], types=types)


@cache
def load_catalog(path: Path = DATA_FILE) -> Catalog:
    """The catalog shipped with slipway (or one written by `slipway catalog refresh`)."""
    return catalog_from_dict(json.loads(Path(path).read_text()))
