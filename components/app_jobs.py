"""The App's jobs as pure functions of its `AppSpec`: CronJobs, and the migration Job that
runs before each rollout of a new image tag.

Over time: a Job's pod template is immutable, so the migration Job's name carries a
hash of the image tag — a new tag is a rename, i.e. a new Job created (and run) before
the Deployment rolls, then the old one deleted. Job pods carry the component label
`cronjob`/`migration`, never `server`, so the app's Service, PDB and HPA never select them.
"""

from __future__ import annotations

import hashlib
from typing import Any

from slipway.components.app_manifests import container, labels, pod_spec
from slipway.components.app_spec import AppSpec


def cron_jobs(
    app: str, namespace: str, spec: AppSpec, *, part_of: str, service_account: str | None
) -> list[dict[str, Any]]:
    """One CronJob `<app>-<name>` per entry of `spec.cron_jobs`, in the app's image and settings."""
    out: list[dict[str, Any]] = []
    for job_name, job in spec.cron_jobs.items():
        name = f"{app}-{job_name}"
        main = container(app, spec, command=list(job.command), args=list(job.args))
        cron: dict[str, Any] = {
            "schedule": job.schedule,
            "concurrencyPolicy": job.concurrency_policy,
            "successfulJobsHistoryLimit": job.successful_jobs_history_limit,
            "failedJobsHistoryLimit": job.failed_jobs_history_limit,
            "jobTemplate": {
                "spec": {
                    "backoffLimit": 2,
                    "template": {
                        "metadata": {"labels": labels(app, spec.image.tag, part_of, "cronjob")},
                        "spec": pod_spec(app, spec, service_account, main, restart="Never"),
                    },
                }
            },
        }
        if job.time_zone:
            cron["timeZone"] = job.time_zone
        out.append(
            {
                "apiVersion": "batch/v1",
                "kind": "CronJob",
                "metadata": {
                    "name": name,
                    "namespace": namespace,
                    "labels": labels(app, spec.image.tag, part_of, "cronjob"),
                },
                "spec": cron,
            }
        )
    return out


def migration_job_name(app: str, tag: str) -> str:
    """A name per image tag: a new tag is a new Job, so the migration runs again."""
    return f"{app}-migrate-{hashlib.sha256(tag.encode()).hexdigest()[:8]}"


def migration_job(
    app: str, namespace: str, spec: AppSpec, *, part_of: str, service_account: str | None
) -> dict[str, Any] | None:
    """The migration Job for the spec's image tag (None without a migration)."""
    m = spec.migration
    if m is None:
        return None
    main = container(app, spec, command=list(m.command), args=list(m.args))
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {
            "name": migration_job_name(app, spec.image.tag),
            "namespace": namespace,
            "labels": labels(app, spec.image.tag, part_of, "migration"),
            "annotations": {"pulumi.com/replaceUnready": "true"},
        },
        "spec": {
            "backoffLimit": m.backoff_limit,
            "activeDeadlineSeconds": m.active_deadline_seconds,
            "template": {
                "metadata": {"labels": labels(app, spec.image.tag, part_of, "migration")},
                "spec": pod_spec(app, spec, service_account, main, restart="Never"),
            },
        },
    }


__all__ = ["cron_jobs", "migration_job", "migration_job_name"]
