"""Name and value rules of an app spec, shared by App's checks (app_validation*.py) and
the stack-config schema (slipway.program.config.app_checks), so both accept the same
names: Kubernetes's name formats, AWS's, cron schedules, counts and percentages.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, cast

from slipway.components.app_spec import AppSpec, Port, Probe
from slipway.components.validation import Issue, is_int

# Kubernetes name rules. An app's name names its Service (DNS-1035: starts with a
# letter), and `<app>-<job>` names a CronJob, whose Jobs append 11 characters.
APP_NAME = re.compile(r"[a-z]([-a-z0-9]*[a-z0-9])?")
MAX_APP_NAME = 40
MAX_CRON_JOB_NAME = 52
DNS1123_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
PORT_NAME = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")  # IANA_SVC_NAME, ≤ 15 characters
ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
IMAGE_TAG = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}")
LABEL_VALUE = re.compile(r"(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?")  # ≤ 63 characters
HOSTNAME = re.compile(r"(\*\.)?([a-z0-9]([-a-z0-9]*[a-z0-9])?\.)+[a-z]{2,63}")
ALB_GROUP = re.compile(r"[a-z0-9]([-a-z0-9.]*[a-z0-9])?")
ACM_ARN = re.compile(r"arn:aws(-cn|-us-gov)?:acm:[a-z0-9-]+:\d{12}:certificate/[0-9a-f-]{36}")
CRON = re.compile(r"@(yearly|annually|monthly|weekly|daily|midnight|hourly)|(\S+\s+){4}\S+")
PERCENT = re.compile(r"\d{1,3}%")


def seq(value: Any) -> Sequence[Any]:
    """`value` if it is a list or tuple (never a string), else ()."""
    if isinstance(value, Sequence) and not isinstance(value, str):
        return cast("Sequence[Any]", value)
    return ()


def port_known(port: Any, spec: AppSpec) -> bool:
    """`port` (a name or a number) is one of the spec's ports."""
    ports = [p for p in seq(spec.ports) if isinstance(p, Port)]
    if is_int(port):
        return any(p.container_port == port for p in ports)
    return any(p.name == port for p in ports)


def count_or_percent(value: Any) -> int | None:
    """An int ≥ 0, or "N%" with 0 ≤ N ≤ 100 (as a percentage); None when invalid."""
    if is_int(value):
        return value if value >= 0 else None
    if isinstance(value, str) and PERCENT.fullmatch(value) and int(value[:-1]) <= 100:
        return int(value[:-1])
    return None


def readiness_for_ingress_issue(readiness: Probe | None) -> Issue:
    """An app with an ingress needs an HttpGet readiness probe: the ALB health-checks its path."""
    return Issue(
        "probes.readiness",
        readiness,
        "needs an HttpGet probe when the app has an ingress (the ALB health-checks that path)",
        "set probes=Probes(readiness=Probe(handler=HttpGet(path='/ready')))",
    )


__all__ = [
    "ACM_ARN",
    "ALB_GROUP",
    "APP_NAME",
    "CRON",
    "DNS1123_LABEL",
    "ENV_NAME",
    "HOSTNAME",
    "IMAGE_TAG",
    "LABEL_VALUE",
    "MAX_APP_NAME",
    "MAX_CRON_JOB_NAME",
    "PERCENT",
    "PORT_NAME",
    "count_or_percent",
    "port_known",
    "readiness_for_ingress_issue",
    "seq",
]
