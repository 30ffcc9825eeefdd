"""Rules across `slipway:apps`: names, pools and namespaces that exist, and one ALB
group per scheme whose members agree (scheme, TLS policy, certificates) and route each
(host, path) to one app. argo-server's Ingress joins its group's checks.
"""

from __future__ import annotations

from slipway.components.app_rules import APP_NAME, DNS1123_LABEL, MAX_APP_NAME, MAX_CRON_JOB_NAME
from slipway.components.app_spec import DEFAULT_SSL_POLICY, IngressSpec, default_alb_group
from slipway.program.config.errors import Issue
from slipway.program.config.model import kubernetes_namespace
from slipway.program.config.schema import _dict

ARGO = "argo.ingress"  # argo-server's Ingress as a member of an ALB group


def cross_app_checks(
    apps: dict[str, dict], cluster: str, pools: list[str], argo_ingress: dict | None = None
) -> list[Issue]:
    """Rules across apps: one ALB group must agree; (host, path) unique; pools exist.

    `apps` are the raw (camelCase) entries of `slipway:apps`, by name.

    `argo_ingress` (argo-server's, in the group `<cluster>-<scheme>`) joins its group's
    checks under the name `argo.ingress` (no app can have it) and that config path.
    """
    issues: list[Issue] = []
    groups: dict[str, list[tuple[str, dict]]] = {}
    routes: dict[tuple[str, str, str], str] = {}
    where: dict[str, str] = {}  # member name → config path of its ingress
    for name, app in apps.items():
        app = _dict(app)
        # The name names the Service too: DNS-1035 (it starts with a letter).
        if not APP_NAME.fullmatch(str(name)) or len(str(name)) > MAX_APP_NAME:
            issues.append(
                Issue(
                    f"apps.{name}",
                    name,
                    f"is not an app name (a DNS-1035 label of at most {MAX_APP_NAME} characters, starting with a "
                    "letter)",
                    "use lowercase letters, digits and '-', e.g. api",
                )
            )
        for i, job in enumerate(app.get("cronJobs") or []):
            full = f"{name}-{_dict(job).get('name', '')}"
            if len(full) > MAX_CRON_JOB_NAME:
                issues.append(
                    Issue(
                        f"apps.{name}.cronJobs[{i}].name",
                        _dict(job).get("name"),
                        f"makes the CronJob name {full!r} longer than the {MAX_CRON_JOB_NAME} characters Kubernetes "
                        "allows",
                        "shorten the job (or the app) name",
                    )
                )
        pool = app.get("nodePool")
        if pool is not None and pool not in pools:
            issues.append(
                Issue(f"apps.{name}.nodePool", pool, "is not a pool in nodePools", f"use one of {', '.join(pools)}")
            )
        ns = app.get("namespace", name)
        if isinstance(ns, str) and (not DNS1123_LABEL.fullmatch(ns) or kubernetes_namespace(ns)):
            issues.append(
                Issue(
                    f"apps.{name}.namespace",
                    ns,
                    "is not a namespace for applications",
                    "use a dedicated namespace (default: the app's name)",
                )
            )
        ingress = _dict(app.get("ingress"))
        if ingress.get("enabled") is not True:
            continue
        where[name] = f"apps.{name}.ingress"
        _route(name, ingress, cluster, groups, routes, where, issues)
    if argo_ingress and argo_ingress.get("enabled") is True:
        where[ARGO] = "argo.ingress"
        host = argo_ingress.get("host")
        as_app = {"scheme": argo_ingress.get("scheme", IngressSpec.scheme), "hosts": [host] if host else None,
                  "certificateArn": argo_ingress.get("certificateArn")}  # fmt: skip
        _route(ARGO, as_app, cluster, groups, routes, where, issues)
    _group_agreement(groups, where, issues)
    return issues


def _route(name: str, ingress: dict, cluster: str, groups: dict, routes: dict, where: dict, issues: list) -> None:
    """Put one Ingress in its ALB group; each (group, host, path) goes to one member."""
    scheme = ingress.get("scheme", IngressSpec.scheme)
    group = ingress.get("group") or default_alb_group(cluster, scheme)
    groups.setdefault(group, []).append((name, ingress))
    # Raw data: a mistyped hosts/paths (not a list) is the schema's to report; route it as the default.
    hosts, paths = ingress.get("hosts"), ingress.get("paths")
    for host in hosts if isinstance(hosts, list) and hosts else ["*"]:
        for path in paths if isinstance(paths, list) and paths else list(IngressSpec.paths):
            key = (group, str(host), str(path))
            if key in routes:
                issues.append(
                    Issue(
                        f"{where[name]}.host" if name == ARGO else f"{where[name]}.paths",
                        None if name == ARGO and host == "*" else host if name == ARGO else path,
                        f"on host {host} is already routed to {routes[key]} in ALB group {group}",
                        "give each app its own host or path",
                    )
                )
            routes.setdefault(key, name)


def _group_agreement(groups: dict[str, list[tuple[str, dict]]], where: dict[str, str], issues: list) -> None:
    """One bad Ingress blocks its whole group (kubernetes-sigs/aws-load-balancer-controller#3790):
    settings that configure the shared ALB must agree within a group."""
    for group, members in groups.items():
        for field, default in (("scheme", IngressSpec.scheme), ("sslPolicy", DEFAULT_SSL_POLICY)):
            values = {str(m.get(field, default)) for _, m in members}
            if len(values) > 1:
                who = ", ".join(f"{n}={m.get(field, default)}" for n, m in members)
                issues.append(
                    Issue(
                        f"{where[members[0][0]]}.{field}",
                        sorted(values),
                        f"differs within ALB group {group} ({who}); one mismatching Ingress blocks the whole group",
                        f"use the same {field} for every app in the group, or give one a different ingress.group",
                    )
                )
        tls = {bool(m.get("certificateArn")) for _, m in members}
        if len(tls) > 1:
            who = ", ".join(f"{n} {'HTTPS' if m.get('certificateArn') else 'HTTP only'}" for n, m in members)
            issues.append(
                Issue(
                    f"{where[members[0][0]]}.certificateArn",
                    None,
                    f"is set on some apps of ALB group {group} but not others ({who}); the group's "
                    "listeners and redirect would conflict",
                    "give every app of the group a certificate (or none), or split the group",
                )
            )
