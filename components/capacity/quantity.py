"""Kubernetes resource quantities: "250m" CPU, "512Mi" memory, as the planner's integers."""

from __future__ import annotations

import math
import re

_CPU = re.compile(r"^(?P<num>\d+(\.\d+)?)(?P<milli>m)?$")
_MEM = re.compile(r"^(?P<num>\d+(\.\d+)?)(?P<unit>Ki|Mi|Gi|Ti|k|M|G|T)?$")
_MEM_FACTORS = {
    None: 1,
    "Ki": 2**10,
    "Mi": 2**20,
    "Gi": 2**30,
    "Ti": 2**40,
    "k": 10**3,
    "M": 10**6,
    "G": 10**9,
    "T": 10**12,
}


def cpu_millicores(value: str | int | float) -> int:
    """ "250m" → 250, "1" / 1 → 1000, "0.5" → 500 (rounded up to whole millicores)."""
    m = _CPU.match(str(value).strip())
    if not m:
        raise ValueError(f"{value!r} is not a CPU quantity (write 250m, 0.5 or 2)")
    num = float(m["num"])
    return math.ceil(num if m["milli"] else num * 1000)


def memory_mib(value: str | int) -> int:
    """ "512Mi" → 512, "1Gi" → 1024, "500M" → 477 (decimal units converted, rounded up)."""
    m = _MEM.match(str(value).strip())
    if not m:
        raise ValueError(f"{value!r} is not a memory quantity (write 256Mi or 1Gi)")
    return math.ceil(float(m["num"]) * _MEM_FACTORS[m["unit"]] / 2**20)
