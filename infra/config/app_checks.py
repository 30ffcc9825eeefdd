"""Rules on one `slipway:apps.<name>` entry, run on the raw (camelCase) input so that
every mistake is reported at once, each as `path: value problem — fix` with the stack
file's own paths: image, ports, resources, probes, settings and secrets, jobs (the
rollout strategy's are in app_strategy.py).
`AppConfig.raw_checks` (apps.py) runs them with those of app_exposure_checks.py; rules
across apps are in app_routes.py.

The name rules (port names, environment variables, host names, cron schedules) are the
library's own (slipway.components.app_rules), so a spec built from a stack file
passes App's checks too.
"""

from __future__ import annotations

from typing import Any

from slipway.components.app_rules import CRON, ENV_NAME, IMAGE_TAG, LABEL_VALUE, PORT_NAME
from slipway.components.app_spec import Port
from slipway.program.config.app_secrets import CONFIG_KEY
from slipway.program.config.errors import Issue
from slipway.program.config.schema import (
    DNS1123_LABEL,
    ECR_NAME,
    _dict,
    parse_quantity,
)


def image_checks(data: dict) -> list[Issue]:
    """A pinned, valid tag that is also a label value; an ECR repository name."""
    image = _dict(data.get("image"))
    issues = []
    tag, repo = image.get("tag"), image.get("repository")
    if "tag" in image and (not isinstance(tag, str) or tag.strip() in ("", "latest")):
        issues.append(
            Issue(
                "image.tag",
                tag,
                "is empty or `latest`, so what runs would change without a deploy",
                "set a version tag (CI: pulumi config set --path slipway:apps.<app>.image.tag 1.4.3)",
            )
        )
    elif isinstance(tag, str) and not IMAGE_TAG.fullmatch(tag):
        issues.append(Issue("image.tag", tag, "is not a valid image tag", "use letters, digits, '_', '.', '-'"))
    elif isinstance(tag, str) and not (LABEL_VALUE.fullmatch(tag) and len(tag) <= 63):
        # The tag is also the app.kubernetes.io/version label of every object.
        issues.append(Issue("image.tag", tag, "is not usable as the app.kubernetes.io/version label",
                            "use at most 63 characters, starting and ending with a letter or digit"))  # fmt: skip
    if isinstance(repo, str) and not ECR_NAME.match(repo):
        issues.append(
            Issue(
                "image.repository",
                repo,
                "is not a valid ECR repository name",
                "use lowercase letters, digits and . _ - /",
            )
        )
    return issues  # fmt: skip


def ports_of(data: dict) -> list[dict]:
    """The raw app's ports (mappings only)."""
    ports = data.get("ports", [])
    return [_dict(p) for p in ports] if isinstance(ports, list) else []


def port_checks(data: dict) -> list[Issue]:
    """Port names (IANA, unique)."""
    issues = []
    names = []
    for i, p in enumerate(ports_of(data)):
        name = p.get("name", Port.name)
        if not isinstance(name, str) or not PORT_NAME.fullmatch(name) or len(name) > 15:
            issues.append(Issue(f"ports[{i}].name", name, "is not a port name (IANA_SVC_NAME: ≤ 15 lowercase "
                                "letters, digits, '-')", "use a name such as http or grpc"))  # fmt: skip
        if name in names:
            issues.append(Issue(f"ports[{i}].name", name, "is used twice", "give each port its own name"))
        names.append(name)
    return issues


def port_declared(port: Any, data: dict) -> bool:
    """`port` (a name or a number) is one of the raw app's ports."""
    ports = ports_of(data)
    if isinstance(port, int):
        return any(p.get("containerPort") == port for p in ports)
    return any(p.get("name", Port.name) == port for p in ports)


def resource_checks(data: dict) -> list[Issue]:
    """cpu and memory requests, a memory limit, valid quantities, requests under limits."""
    res = _dict(data.get("resources"))
    requests, limits = _dict(res.get("requests")), _dict(res.get("limits"))
    issues = []
    if "resources" in data:
        for key in ("cpu", "memory"):
            if key not in requests:
                issues.append(Issue(f"resources.requests.{key}", None, "is missing (the scheduler and the capacity "
                                    "planner place pods by requests)", f"add a {key} request, e.g. "
                                    f"{'250m' if key == 'cpu' else '256Mi'}"))  # fmt: skip
        if "memory" not in limits:
            issues.append(
                Issue(
                    "resources.limits.memory",
                    None,
                    "is missing (a leaking pod could take the node)",
                    "set a memory limit ≥ the request, e.g. 2 × the request",
                )
            )
    parsed: dict[str, dict[str, int]] = {"requests": {}, "limits": {}}
    for kind, values in (("requests", requests), ("limits", limits)):
        for key, value in values.items():
            amount, bad = parse_quantity(f"resources.{kind}.{key}", key, value)
            issues += bad
            if amount is not None:
                parsed[kind][key] = amount
    for key in ("cpu", "memory"):
        if key in parsed["requests"] and key in parsed["limits"] and parsed["requests"][key] > parsed["limits"][key]:
            issues.append(
                Issue(
                    f"resources.requests.{key}",
                    requests[key],
                    f"is above the limit {limits[key]}",
                    "lower the request or raise the limit",
                )
            )
    return issues  # fmt: skip


def probe_checks(data: dict) -> list[Issue]:
    """One handler each, paths from /, ports that exist."""
    issues = []
    for kind, probe in _dict(data.get("probes")).items():
        probe = _dict(probe)
        # `httpGet:` with nothing under it (null) is no handler: YAML reads an empty key as null.
        handlers = [h for h in ("httpGet", "tcpSocket", "exec") if probe.get(h) is not None]
        if not handlers:
            issues.append(Issue(f"probes.{kind}", sorted(probe), "has no handler (httpGet, tcpSocket or exec with "
                                "its settings)", "add one, e.g. httpGet: {path: /healthz, port: http}"))  # fmt: skip
        elif len(handlers) > 1:
            issues.append(Issue(f"probes.{kind}", sorted(probe), "needs exactly one of httpGet, tcpSocket, exec",
                                "keep one handler"))  # fmt: skip
        http = _dict(probe.get("httpGet"))
        path = http.get("path")
        if isinstance(path, str) and not path.startswith("/"):
            issues.append(Issue(f"probes.{kind}.httpGet.path", path, "does not start with '/'",
                                f"write /{path}"))  # fmt: skip
        threshold = probe.get("successThreshold", 1)
        if kind != "readiness" and isinstance(threshold, int) and threshold != 1:
            issues.append(Issue(f"probes.{kind}.successThreshold", threshold,
                                f"is not 1 (Kubernetes requires 1 for a {kind} probe)",
                                "remove it (default 1)"))  # fmt: skip
        for h in ("httpGet", "tcpSocket"):
            port = _dict(probe.get(h)).get("port")
            if port is not None and not port_declared(port, data):
                issues.append(
                    Issue(
                        f"probes.{kind}.{h}.port",
                        port,
                        "is not one of the app's ports",
                        "use a name or number from ports",
                    )
                )
    return issues  # fmt: skip


def env_checks(data: dict, context: dict) -> list[Issue]:
    """Environment names; secrets written as config key names (never echoing a value)."""
    issues = []
    for section in ("env", "config", "secrets"):
        for key in _dict(data.get(section)):
            if not ENV_NAME.fullmatch(str(key)):
                issues.append(
                    Issue(
                        f"{section}.{key}",
                        key,
                        "is not an environment variable name",
                        "use letters, digits and '_', not starting with a digit",
                    )
                )
    for env, ref in _dict(data.get("secrets")).items():
        if not isinstance(ref, str) or not CONFIG_KEY.match(ref):
            # Never echo what was written here: it may be the secret itself.
            issues.append(
                Issue(
                    f"secrets.{env}",
                    "(value hidden)",
                    "is not the name of a config key; a secret's value never goes in the stack file",
                    f"run `pulumi config set --secret slipway:<key> <value>` and write {env}: <key>",
                )
            )
    # Whether each named key is set, and set as a secret, is checked across apps (one
    # message per key): app_secrets.secret_reference_issues, from StackConfig.
    return issues  # fmt: skip


def cron_checks(data: dict) -> list[Issue]:
    """CronJob names (DNS-1123, unique) and schedules."""
    issues = []
    jobs = data.get("cronJobs", [])
    names = []
    for i, job in enumerate(jobs if isinstance(jobs, list) else []):
        job = _dict(job)
        name, schedule = job.get("name"), job.get("schedule")
        if isinstance(name, str) and (not DNS1123_LABEL.match(name) or len(name) > 40):
            issues.append(
                Issue(
                    f"cronJobs[{i}].name",
                    name,
                    "is not a DNS-1123 name of at most 40 characters",
                    "use lowercase letters, digits and '-'",
                )
            )
        if name in names:
            issues.append(Issue(f"cronJobs[{i}].name", name, "is used twice", "name each CronJob once"))
        names.append(name)
        if isinstance(schedule, str) and not CRON.fullmatch(schedule.strip()):
            issues.append(
                Issue(
                    f"cronJobs[{i}].schedule",
                    schedule,
                    "is not a cron schedule",
                    "write five fields (minute hour day month weekday), e.g. '*/15 * * * *'",
                )
            )
    return issues  # fmt: skip
