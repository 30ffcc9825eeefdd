"""What `App` checks before it registers anything: `app_args_issues(name, args)`.

Every rule reports `<field path>: <bad value> <problem> — <fix>` (components/validation.py)
and all of them run, so one error lists every mistake, including the rules that compare
fields (ports named by probes and the Service, requests under limits, autoscaling
bounds). Here: the name, image, ports, resources, probes and settings; the rollout rules
are in app_validation_rollout.py (canary/blueGreen: app_validation_progressive.py), the
exposure ones in app_validation_exposure.py.

The stack-config schema (slipway.program.config.app_checks) applies the same rules to
the stack file, with its camelCase paths, before any of this runs; these catch what a
Python caller passes directly.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, cast

from slipway.components.app_rules import (
    APP_NAME,
    DNS1123_LABEL,
    ENV_NAME,
    IMAGE_TAG,
    LABEL_VALUE,
    MAX_APP_NAME,
    MAX_CRON_JOB_NAME,
    PORT_NAME,
    port_known,
)
from slipway.components.app_spec import AppSpec, Exec, HttpGet, Image, Port, Probe, Probes, Resources, TcpSocket
from slipway.components.app_validation_exposure import ingress_issues, service_account_issues, service_issues
from slipway.components.app_validation_progressive import progressive_issues
from slipway.components.app_validation_rollout import autoscaling_issues, budget_issues, job_issues, strategy_issues
from slipway.components.capacity.quantity import cpu_millicores, memory_mib
from slipway.components.spec import placement_issues
from slipway.components.validation import (
    Issue,
    choice_issues,
    int_issues,
    is_int,
    str_list_issues,
    str_map_issues,
    type_issues,
    under,
)


def app_args_issues(name: str, args: Any) -> list[Issue]:
    """Everything wrong with App(name, args); fields relative to AppArgs (`spec.…`)."""
    issues: list[Issue] = []
    if not (isinstance(name, str) and APP_NAME.fullmatch(name) and len(name) <= MAX_APP_NAME):
        issues.append(
            Issue(
                "name",
                name,
                f"is not an app name (a DNS-1035 label of at most {MAX_APP_NAME} "
                "characters, starting with a letter; it names the Service)",
                "use lowercase letters, digits and '-', e.g. api",
            )
        )
    if not (isinstance(args.namespace, str) and DNS1123_LABEL.fullmatch(args.namespace) and len(args.namespace) <= 63):
        issues.append(
            Issue(
                "namespace",
                args.namespace,
                "is not a namespace name (a DNS-1123 label)",
                "use lowercase letters, digits and '-'",
            )
        )
    if not isinstance(args.spec, AppSpec):
        return [*issues, *type_issues("spec", args.spec, AppSpec, "pass AppSpec(image=..., resources=...)")]
    spec: AppSpec = args.spec
    issues += under("spec", app_spec_issues(spec))
    if isinstance(name, str):
        for job in spec.cron_jobs if isinstance(spec.cron_jobs, Mapping) else ():
            if len(full := f"{name}-{job}") > MAX_CRON_JOB_NAME:
                issues.append(
                    Issue(
                        f"spec.cron_jobs.{job}",
                        job,
                        f"makes the CronJob name {full!r} longer than "
                        f"the {MAX_CRON_JOB_NAME} characters Kubernetes allows",
                        "shorten the job (or the app) name",
                    )
                )
    if spec.service_account is not None and (args.oidc_provider_arn is None or args.oidc_issuer is None):
        issues.append(
            Issue(
                "oidc_provider_arn",
                args.oidc_provider_arn,
                "is needed for service_account (its IAM role trusts the cluster's OIDC provider)",
                "pass the cluster's oidc_provider_arn and oidc_issuer, or drop spec.service_account",
            )
        )
    return issues


def app_spec_issues(spec: AppSpec) -> list[Issue]:
    """Everything wrong with an AppSpec; fields relative to it (`ports[0].name`)."""
    return [
        *_image_issues(spec.image),
        *int_issues("replicas", spec.replicas, minimum=0),
        *_port_issues(spec.ports),
        *_resource_issues(spec.resources),
        *_probe_issues(spec),
        *_env_issues(spec),
        *under("placement", placement_issues(spec.placement)),
        *strategy_issues(spec.strategy),
        *progressive_issues(spec),
        *service_issues(spec),
        *ingress_issues(spec),
        *autoscaling_issues(spec),
        *budget_issues(spec.disruption_budget),
        *service_account_issues(spec.service_account),
        *job_issues(spec),
    ]


def _image_issues(image: Any) -> list[Issue]:
    """A tag that is also a label value; a repository without a tag."""
    if not isinstance(image, Image):
        return type_issues("image", image, Image, "pass Image(repository=..., tag=...)")
    issues: list[Issue] = []
    tag, repo = image.tag, image.repository
    if not (isinstance(tag, str) and IMAGE_TAG.fullmatch(tag) and LABEL_VALUE.fullmatch(tag) and len(tag) <= 63):
        issues.append(
            Issue(
                "image.tag",
                tag,
                "is not an image tag that can also be the app.kubernetes.io/version label",
                "use ≤ 63 letters, digits, '_', '.', '-', starting and ending with a letter or digit, e.g. '1.4.3'",
            )
        )
    if isinstance(repo, str) and (not repo or ":" in repo.rsplit("/", 1)[-1] or "@" in repo or repo != repo.strip()):
        issues.append(
            Issue(
                "image.repository",
                repo,
                "is not a repository without a tag",
                "pass the repository alone (e.g. 'ghcr.io/org/app') and the version in image.tag",
            )
        )
    return issues


def _port_issues(ports: Any) -> list[Issue]:
    """Port names (IANA, unique), numbers and protocols."""
    if isinstance(ports, str | Mapping) or not isinstance(ports, Sequence):
        return [Issue("ports", ports, "is not a list of Port", "pass ports=[Port(name='http', container_port=8080)]")]
    issues: list[Issue] = []
    names: list[str] = []
    for i, p in enumerate(cast("Sequence[Any]", ports)):
        if not isinstance(p, Port):
            issues += type_issues(f"ports[{i}]", p, Port, "pass Port(name='http', container_port=8080)")
            continue
        if not (isinstance(p.name, str) and PORT_NAME.fullmatch(p.name) and len(p.name) <= 15):
            issues.append(
                Issue(
                    f"ports[{i}].name",
                    p.name,
                    "is not a port name (IANA_SVC_NAME: ≤ 15 lowercase letters, digits, '-')",
                    "use a name such as http or grpc",
                )
            )
        elif p.name in names:
            issues.append(Issue(f"ports[{i}].name", p.name, "is used twice", "give each port its own name"))
        names.append(p.name)
        issues += int_issues(f"ports[{i}].container_port", p.container_port, minimum=1, maximum=65535)
        issues += choice_issues(f"ports[{i}].protocol", p.protocol, ("TCP", "UDP"), "a port protocol")
    return issues


def _resource_issues(r: Any) -> list[Issue]:
    """cpu and memory requests, a memory limit, valid quantities, requests under limits."""
    if not isinstance(r, Resources):
        return type_issues("resources", r, Resources, "pass Resources(requests={'cpu': '250m', 'memory': '256Mi'})")
    example = "{'cpu': '250m', 'memory': '256Mi'}"
    issues = str_map_issues("resources.requests", r.requests, example=example)
    issues += str_map_issues("resources.limits", r.limits, example="{'memory': '512Mi'}")
    if issues:
        return issues
    for key in ("cpu", "memory"):
        if key not in r.requests:
            issues.append(
                Issue(
                    f"resources.requests.{key}",
                    None,
                    "is missing (the scheduler and the capacity planner place pods by requests)",
                    f"add a {key} request, e.g. {'250m' if key == 'cpu' else '256Mi'}",
                )
            )
    if "memory" not in r.limits:
        issues.append(
            Issue(
                "resources.limits.memory",
                None,
                "is missing (a leaking pod could take the node)",
                "set a memory limit ≥ the request, e.g. 2 × the request",
            )
        )
    parsed: dict[str, dict[str, int]] = {"requests": {}, "limits": {}}
    for kind, values in (("requests", r.requests), ("limits", r.limits)):
        for key in ("cpu", "memory"):
            if key in values:
                try:
                    parsed[kind][key] = (cpu_millicores if key == "cpu" else memory_mib)(values[key])
                except ValueError:
                    issues.append(
                        Issue(
                            f"resources.{kind}.{key}",
                            values[key],
                            f"is not a {key} quantity",
                            f"write it like {'250m' if key == 'cpu' else '256Mi'}",
                        )
                    )
    for key in ("cpu", "memory"):
        if key in parsed["requests"] and key in parsed["limits"] and parsed["requests"][key] > parsed["limits"][key]:
            issues.append(
                Issue(
                    f"resources.requests.{key}",
                    r.requests[key],
                    f"is above the limit {r.limits[key]}",
                    "lower the request or raise the limit",
                )
            )
    return issues


def _probe_issues(spec: AppSpec) -> list[Issue]:
    """One known handler each, paths from /, ports that exist, timings in range."""
    probes = spec.probes
    if not isinstance(probes, Probes):
        return type_issues("probes", probes, Probes, "pass Probes(readiness=Probe(...), ...)")
    issues: list[Issue] = []
    for kind in ("readiness", "liveness", "startup"):
        p, where = getattr(probes, kind), f"probes.{kind}"
        if p is None:
            continue
        if not isinstance(p, Probe):
            issues += type_issues(where, p, Probe, "pass Probe(handler=HttpGet(path='/ready'))")
            continue
        h = p.handler
        if isinstance(h, HttpGet):
            if not (isinstance(h.path, str) and h.path.startswith("/")):
                issues.append(Issue(f"{where}.handler.path", h.path, "does not start with '/'", f"write /{h.path}"))
        elif isinstance(h, Exec):
            issues += str_list_issues(f"{where}.handler.command", h.command, example="/app/healthcheck")
        elif not isinstance(h, TcpSocket):
            issues.append(
                Issue(
                    f"{where}.handler",
                    h,
                    "is not a probe handler",
                    "pass HttpGet(path=...), TcpSocket(port=...) or Exec(command=[...])",
                )
            )
        if isinstance(h, HttpGet | TcpSocket) and not port_known(h.port, spec):
            issues.append(
                Issue(
                    f"{where}.handler.port", h.port, "is not one of the app's ports", "use a name or number from ports"
                )
            )
        for attr, low, high in (
            ("initial_delay_seconds", 0, 3600),
            ("period_seconds", 1, 3600),
            ("timeout_seconds", 1, 600),
            ("failure_threshold", 1, 100),
            ("success_threshold", 1, 100),
        ):
            issues += int_issues(f"{where}.{attr}", getattr(p, attr), minimum=low, maximum=high)
        if kind != "readiness" and p.success_threshold != 1 and is_int(p.success_threshold):
            issues.append(
                Issue(
                    f"{where}.success_threshold",
                    p.success_threshold,
                    f"is not 1 (Kubernetes requires 1 for a {kind} probe)",
                    "remove it (default 1)",
                )
            )
    return issues


def _env_issues(spec: AppSpec) -> list[Issue]:
    """Environment names for env/config/secrets; string values; every secret has a value."""
    issues: list[Issue] = []
    for section, values in (("env", spec.env), ("config", spec.config), ("secrets", spec.secrets)):
        if not isinstance(values, Mapping):
            issues.append(Issue(section, values, "is not a mapping", "pass a dict of ENV_NAME → value"))
            continue
        for key, value in values.items():
            if not (isinstance(key, str) and ENV_NAME.fullmatch(key)):
                issues.append(
                    Issue(
                        f"{section}.{key}",
                        key,
                        "is not an environment variable name",
                        "use letters, digits and '_', not starting with a digit",
                    )
                )
            # Typed Input[str], but a caller without a type checker can pass None (a missing config value).
            if section == "secrets" and value is None:  # pyright: ignore[reportUnnecessaryComparison]
                issues.append(
                    Issue(
                        f"{section}.{key}",
                        None,
                        "has no value",
                        "pass the secret's value, e.g. pulumi.Config().require_secret('<key>'), or remove the entry",
                    )
                )
            elif section != "secrets" and not isinstance(value, str):
                issues.append(Issue(f"{section}.{key}", value, "is not a string", f"write {str(value)!r}"))
            elif section == "secrets" and isinstance(value, str) and not value:
                issues.append(Issue(f"{section}.{key}", value, "is an empty secret", "pass the secret's value"))
    issues += choice_issues("secrets_as", spec.secrets_as, ("env", "files"), "a way to pass secrets")
    return issues


__all__ = ["app_args_issues", "app_spec_issues"]
