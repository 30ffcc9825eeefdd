"""App's checks on how its pods roll out, scale, are disrupted, and run as jobs: strategy,
autoscaling, disruption budget, CronJobs and the migration Job (see app_validation.py)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from slipway.components.app_rules import CRON, DNS1123_LABEL, count_or_percent
from slipway.components.app_spec import (
    AppSpec,
    AutoscalingSpec,
    CronJobSpec,
    DisruptionBudgetSpec,
    MigrationSpec,
    Resources,
    Strategy,
)
from slipway.components.validation import Issue, choice_issues, int_issues, str_list_issues, type_issues


def strategy_issues(s: Any) -> list[Issue]:
    """The rollout strategy: counts or percentages, never both 0, deadlines Kubernetes accepts."""
    if not isinstance(s, Strategy):
        return type_issues("strategy", s, Strategy, "pass Strategy(...)")
    issues = choice_issues(
        "strategy.type", s.type, ("RollingUpdate", "Recreate", "canary", "blueGreen"), "a rollout strategy"
    )
    issues += int_issues("strategy.min_ready_seconds", s.min_ready_seconds, minimum=0)
    issues += int_issues("strategy.progress_deadline_seconds", s.progress_deadline_seconds, minimum=1)
    if not issues and s.progress_deadline_seconds <= s.min_ready_seconds:
        issues.append(
            Issue(
                "strategy.progress_deadline_seconds",
                s.progress_deadline_seconds,
                f"is not above min_ready_seconds {s.min_ready_seconds} (Kubernetes rejects it)",
                "raise progress_deadline_seconds",
            )
        )
    if s.type not in ("RollingUpdate", "canary"):  # a canary's pods come up by maxSurge/maxUnavailable too
        return issues
    values = {}
    for key in ("max_surge", "max_unavailable"):
        values[key] = count_or_percent(getattr(s, key))
        if values[key] is None:
            issues.append(
                Issue(
                    f"strategy.{key}",
                    getattr(s, key),
                    "is not a pod count or a percentage",
                    "write a whole number (1) or a percentage ('25%')",
                )
            )
    if values["max_surge"] == 0 and values["max_unavailable"] == 0:
        issues.append(
            Issue(
                "strategy.max_unavailable",
                s.max_unavailable,
                "is 0 while max_surge is 0, so a rollout can never start (Kubernetes rejects it)",
                "allow max_surge=1 (or max_unavailable=1)",
            )
        )
    return issues


def autoscaling_issues(spec: AppSpec) -> list[Issue]:
    """The autoscaler: bounds in order, a target, and the request each target is measured against."""
    a = spec.autoscaling
    if a is None:
        return []
    if not isinstance(a, AutoscalingSpec):
        return type_issues("autoscaling", a, AutoscalingSpec, "pass AutoscalingSpec(...) or None")
    issues = int_issues("autoscaling.min_replicas", a.min_replicas, minimum=1)
    issues += int_issues("autoscaling.max_replicas", a.max_replicas, minimum=1)
    if not issues and a.min_replicas > a.max_replicas:
        issues.append(
            Issue(
                "autoscaling.min_replicas",
                a.min_replicas,
                f"is above max_replicas {a.max_replicas}",
                "lower min_replicas or raise max_replicas",
            )
        )
    requests: Mapping[str, str] = spec.resources.requests if isinstance(spec.resources, Resources) else {}
    for attr, resource in (("target_cpu_utilization", "cpu"), ("target_memory_utilization", "memory")):
        value = getattr(a, attr)
        if value is None:
            continue
        issues += int_issues(f"autoscaling.{attr}", value, minimum=1, maximum=1000)
        if isinstance(requests, Mapping) and resource not in requests:
            issues.append(
                Issue(
                    f"autoscaling.{attr}",
                    value,
                    f"needs a {resource} request (utilization is measured against it)",
                    f"add resources.requests['{resource}']",
                )
            )
    if a.target_cpu_utilization is None and a.target_memory_utilization is None:
        issues.append(
            Issue("autoscaling", a, "has no target", "set target_cpu_utilization or target_memory_utilization")
        )
    return issues


def budget_issues(b: Any) -> list[Issue]:
    """The disruption budget: exactly one of max_unavailable / min_available, a count or a percentage."""
    if b is None:
        return []
    if not isinstance(b, DisruptionBudgetSpec):
        return type_issues("disruption_budget", b, DisruptionBudgetSpec, "pass DisruptionBudgetSpec(...) or None")
    if (b.max_unavailable is None) == (b.min_available is None):
        return [
            Issue(
                "disruption_budget",
                b,
                "sets both or neither of max_unavailable and min_available",
                "set exactly one (the other None)",
            )
        ]
    attr = "max_unavailable" if b.max_unavailable is not None else "min_available"
    if count_or_percent(getattr(b, attr)) is None:
        return [
            Issue(
                f"disruption_budget.{attr}",
                getattr(b, attr),
                "is not a pod count or a percentage",
                "write a whole number (1) or a percentage ('50%')",
            )
        ]
    return []


def job_issues(spec: AppSpec) -> list[Issue]:
    """The CronJobs (names, schedules, commands) and the migration Job."""
    jobs = spec.cron_jobs
    if not isinstance(jobs, Mapping):
        return [
            Issue(
                "cron_jobs",
                jobs,
                "is not a mapping of name → CronJobSpec",
                "pass cron_jobs={'report': CronJobSpec(schedule=..., command=[...])}",
            )
        ]
    issues: list[Issue] = []
    for name, job in jobs.items():
        where = f"cron_jobs.{name}"
        if not (isinstance(name, str) and DNS1123_LABEL.fullmatch(name) and len(name) <= 40):
            issues.append(
                Issue(
                    where,
                    name,
                    "is not a DNS-1123 name of at most 40 characters",
                    "use lowercase letters, digits and '-'",
                )
            )
        if not isinstance(job, CronJobSpec):
            issues += type_issues(where, job, CronJobSpec, "pass CronJobSpec(schedule=..., command=[...])")
            continue
        if not (isinstance(job.schedule, str) and CRON.fullmatch(job.schedule.strip())):
            issues.append(
                Issue(
                    f"{where}.schedule",
                    job.schedule,
                    "is not a cron schedule",
                    "write five fields (minute hour day month weekday), e.g. '*/15 * * * *'",
                )
            )
        issues += str_list_issues(f"{where}.command", job.command, example="/app/report")
        issues += str_list_issues(f"{where}.args", job.args, example="--since", allow_empty=True)
        issues += choice_issues(
            f"{where}.concurrency_policy",
            job.concurrency_policy,
            ("Allow", "Forbid", "Replace"),
            "a concurrency policy",
        )
        for attr in ("successful_jobs_history_limit", "failed_jobs_history_limit"):
            issues += int_issues(f"{where}.{attr}", getattr(job, attr), minimum=0, maximum=100)
        if job.time_zone is not None and not (isinstance(job.time_zone, str) and job.time_zone):
            issues.append(Issue(f"{where}.time_zone", job.time_zone, "is not a time zone", "write e.g. 'Etc/UTC'"))
    m = spec.migration
    if m is not None and not isinstance(m, MigrationSpec):
        issues += type_issues("migration", m, MigrationSpec, "pass MigrationSpec(command=[...]) or None")
    elif m is not None:
        issues += str_list_issues("migration.command", m.command, example="/app/migrate")
        issues += str_list_issues("migration.args", m.args, example="up", allow_empty=True)
        issues += int_issues("migration.backoff_limit", m.backoff_limit, minimum=0)
        issues += int_issues("migration.active_deadline_seconds", m.active_deadline_seconds, minimum=1)
    return issues


__all__ = ["autoscaling_issues", "budget_issues", "job_issues", "strategy_issues"]
