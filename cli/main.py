"""`slipway` command line: render, size and check stacks offline; diagnose them on AWS.

Exit codes: 0 ok · 1 a check (or doctor) found a problem, or AWS refused · 2 the stack
config (or a flag) is wrong · 3 the render itself failed (a mock is missing, a value
is unknown).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import NoReturn

import typer
from rich.console import Console
from rich.table import Table

from slipway.cli.backend import backend_app
from slipway.cli.pin import pin_command
from slipway.cli.render import ROOT, RenderError, RenderResult, render_stack, summary
from slipway.components.validation import ArgsError
from slipway.program.config import ConfigError
from slipway.program.stackfile import stack_names

app = typer.Typer(add_completion=False, no_args_is_help=True, help=__doc__.splitlines()[0])
out = Console()
err = Console(stderr=True)


def _fail_config(exc: ConfigError, stack: str) -> NoReturn:
    """Print the config errors of `stack` (unless `exc` names another) and exit 2."""
    exc.stack = exc.stack or stack
    err.print(f"[bold red]error:[/] {exc}", markup=True, highlight=False)
    raise typer.Exit(2)


def _summary_table(result: RenderResult) -> Table:
    table = Table(title=f"stack {result.stack}: {len(result.records)} resources", title_justify="left")
    table.add_column("component")
    table.add_column("resources", justify="right")
    table.add_column("types")
    for comp, types in summary(result.records).items():
        table.add_row(comp, str(sum(types.values())), ", ".join(f"{n}×{t.split(':')[-1]}" for t, n in types.items()))
    return table


def _render(stack: str, out_dir: Path | None, quiet: bool = False, lenient_images: bool = False) -> RenderResult:
    try:
        result = render_stack(stack, out_dir, lenient_images=lenient_images)
    except ConfigError as exc:
        _fail_config(exc, stack)
    except ArgsError as exc:  # a component refused what the program gave it: still the stack's config
        err.print(f"[bold red]error:[/] stack {stack!r}: {exc}", markup=True, highlight=False)
        raise typer.Exit(2) from None
    except RenderError as exc:
        err.print(f"[bold red]render failed:[/] {exc}", highlight=False)
        raise typer.Exit(3) from None
    if not quiet:
        out.print(_summary_table(result))
        rel = result.out_dir.relative_to(ROOT) if result.out_dir.is_relative_to(ROOT) else result.out_dir
        out.print(f"wrote {len(result.files)} files to {rel}/ (deterministic; diff it in review)")
    return result


@app.command()
def render(
    stacks: list[str] = typer.Argument(None, help="Stacks to render (names of stacks/Pulumi.<stack>.yaml)."),
    all_stacks: bool = typer.Option(False, "--all", help="Render every stack in stacks/."),
    out_dir: Path = typer.Option(None, "--out", help="Output folder (default build/<stack>/)."),
    diagram: bool = typer.Option(True, help="Print the component tree as a Mermaid diagram."),
) -> None:
    """Run the program offline under mocks and write every resource, manifest and IAM document."""
    names = stack_names(ROOT) if all_stacks else (stacks or [])
    if not names:
        err.print(
            "error: name a stack (e.g. `slipway render dev`) or pass --all; "
            f"stacks here: {', '.join(stack_names(ROOT)) or '(none)'}"
        )
        raise typer.Exit(2)
    if len(names) == 1:
        result = _render(names[0], out_dir)
        if diagram:
            out.print("\n```mermaid\n" + (result.out_dir / "components.mmd").read_text() + "```", markup=False)
        return
    # One process per stack: the Pulumi SDK keeps global state (root stack, event
    # loop) that a second program run in the same process would inherit.
    import subprocess

    from rich.progress import Progress

    failed: list[str] = []
    with Progress(console=err, transient=False) as progress:
        task = progress.add_task("rendering", total=len(names))
        for name in names:
            progress.update(task, description=f"rendering {name}")
            cmd = [sys.executable, "-m", "slipway.cli.main", "render", name, "--no-diagram"]
            if out_dir:
                cmd += ["--out", str(out_dir / name)]
            proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
            status = "ok" if proc.returncode == 0 else f"failed (exit {proc.returncode})"
            progress.console.print(f"  {name}: {status}")
            if proc.returncode:
                failed.append(name)
                progress.console.print(proc.stderr.strip() or proc.stdout.strip(), markup=False, highlight=False)
            progress.advance(task)
    if failed:
        err.print(f"render failed for: {', '.join(failed)}")
        raise typer.Exit(3)


@app.command()
def check(
    stack: str = typer.Argument(..., help="Stack to render and check."),
    out_dir: Path = typer.Option(None, "--out", help="Render folder (default build/<stack>/)."),
    fmt: str = typer.Option("table", "--format", help="table | markdown | json"),
) -> None:
    """Render a stack, then validate manifests (kubernetes-validate) and IAM policies (parliament)."""
    if fmt not in ("table", "markdown", "json"):
        err.print(f"error: --format {fmt!r} is not supported — use table, markdown or json")
        raise typer.Exit(2)
    from slipway.cli.checks import run_checks
    from slipway.policies.rules import stack_policy_config
    from slipway.program.config import LENIENT_IMAGES
    from slipway.program.stackfile import load_stack_file

    result = _render(stack, out_dir, quiet=fmt != "table", lenient_images=True)
    token = LENIENT_IMAGES.set(True)
    try:
        cfg = load_stack_file(stack, ROOT).parse()
    finally:
        LENIENT_IMAGES.reset(token)
    findings = run_checks(
        result, cfg.cluster.version, stack_policy_config(cfg.environment, cfg.cluster.prefix_delegation), cfg=cfg
    )
    blocking = [f for f in findings if f.severity == "mandatory"]
    if fmt == "json":
        print(json.dumps([f.as_dict() for f in findings], indent=2))
    elif fmt == "markdown":
        print(_markdown(stack, findings))
    else:
        table = Table(title=f"checks for {stack}", title_justify="left")
        for col in ("check", "severity", "resource", "message", "fix"):
            table.add_column(col, overflow="fold")
        for f in findings:
            style = {"mandatory": "red", "advisory": "yellow"}.get(f.severity, "dim")
            table.add_row(f.check, f"[{style}]{f.severity}[/]", f.resource, f.message, f.fix)
        if findings:
            out.print(table)
        out.print(
            f"{len(blocking)} mandatory, {len(findings) - len(blocking)} other finding(s) "
            f"over {len(result.records)} resources"
        )
    if blocking:
        raise typer.Exit(1)


@app.command()
def size(
    stack: str = typer.Argument(..., help="Stack whose node pools to size."),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """Show each node pool's plan: type, nodes, pods, CPU/memory use, $/month, and alternatives."""
    from slipway.program.capacity import plan_cluster
    from slipway.program.stackfile import load_stack_file

    try:
        stackfile = load_stack_file(stack, ROOT)
        cfg, plan = stackfile.plan()
        # What `auto` would choose today, pins aside: shown, applied only by `slipway pin --replan`.
        proposal = plan_cluster(cfg, stackfile.region, zones=cfg.network.availability_zones, ignore_pins=True)
    except ConfigError as exc:
        _fail_config(exc, stack)
    sizes = plan.sizes(cfg)
    changes = {
        name: proposal.pools[name].plan
        for name, pool in cfg.node_pools.items()
        if pool.pinned_instance_type and proposal.pools[name].plan.instance_type.name != pool.pinned_instance_type
    }
    if as_json:
        doc = {
            "stack": stack,
            "catalog": {"region": plan.catalog.region, "priceDate": plan.catalog.price_date},
            "pools": {
                name: {
                    **r.plan.as_dict(),
                    "minSize": sizes[name][1],
                    "desiredSize": sizes[name][2],
                    "maxSize": sizes[name][3],
                    "pinned": cfg.node_pools[name].pinned_instance_type is not None or not cfg.node_pools[name].is_auto,
                    "lowerBoundUsd": round(proposal.pools[name].lower_bound_usd, 2),
                    "proposal": proposal.pools[name].plan.as_dict(),
                    "alternatives": [a.as_dict() for a in proposal.pools[name].alternatives],
                }
                for name, r in plan.pools.items()
            },
            "totalMonthlyUsd": round(sum(r.plan.monthly_usd for r in plan.pools.values()), 2),
        }
        print(json.dumps(doc, indent=2, sort_keys=True))
        return
    for name, r in plan.pools.items():
        out.print(_pool_table(name, r, sizes[name], proposal.pools[name]))
        if name in changes:
            new = changes[name]
            out.print(
                f"  auto now proposes {new.nodes} × {new.instance_type.name} (${new.monthly_usd:,.2f}/month): "
                f"`slipway pin {stack} --replan` switches to it, replacing the node group (new nodes first)"
            )
    total = sum(r.plan.monthly_usd for r in plan.pools.values())
    note = (
        ""
        if plan.catalog.region == stackfile.region
        else (f"; prices are {plan.catalog.region}'s — `slipway catalog refresh --region {stackfile.region}` for yours")
    )
    out.print(f"nodes: ${total:,.2f}/month on demand (prices of {plan.catalog.price_date}{note})")


@app.command()
def doctor(
    stack: str = typer.Argument(..., help="Stack to diagnose (before `pulumi up`: preflight; after: live checks)."),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
    profile: str = typer.Option(None, "--profile", help="AWS profile (default: identity.profile, then aws:profile)."),
    only: list[str] = typer.Option(None, "--only", help="Run only these checks (repeatable), e.g. --only subnet-tags."),
) -> None:
    """Diagnose the stack from AWS's side: access, cluster, nodes, subnets, images, ALBs, quotas.

    Exit code 1 when a check fails.
    """
    from botocore.exceptions import (
        BotoCoreError,
        CredentialRetrievalError,
        NoCredentialsError,
        ProfileNotFound,
        SSOError,
        TokenRetrievalError,
    )
    from rich.progress import Progress

    from slipway.cli.doctor import run

    checks = run.all_checks()
    names = [run.check_name(c) for c in checks]
    unknown = [o for o in only or [] if o not in names]
    if unknown:
        err.print(f"error: --only {unknown[0]!r} is not a doctor check — use one of {', '.join(names)}")
        raise typer.Exit(2)
    if only:
        checks = [c for c in checks if run.check_name(c) in only]
    try:
        ctx = run.build_context(stack, ROOT, profile)
    except ConfigError as exc:
        _fail_config(exc, stack)
    except ProfileNotFound as exc:
        err.print(f"error: AWS profile not found ({exc}) — fix --profile, slipway:identity.profile or aws:profile, "
                  "or configure it: aws configure sso --profile <name>")  # fmt: skip
        raise typer.Exit(2) from None
    try:
        with Progress(console=err, transient=True, disable=as_json) as progress:
            task = progress.add_task("doctor", total=len(checks))

            def report(name: str, done: int) -> None:
                progress.update(task, description=name, completed=done)

            findings = run.run_checks(ctx, checks, report)
            progress.update(task, completed=len(checks))
            live = ctx.cluster() is not None
    except NoCredentialsError:
        err.print("error: no AWS credentials — set aws:profile in the stack (or --profile), export AWS_PROFILE, "
                  "or `aws sso login`")  # fmt: skip
        raise typer.Exit(2) from None
    except (run.BadCredentials, SSOError, TokenRetrievalError, CredentialRetrievalError) as exc:
        login = f"aws sso login --profile {ctx.profile}" if ctx.profile else "aws sso login"
        err.print(f"error: AWS rejected the credentials ({exc}) — log in again (`{login}`) or refresh the keys")
        raise typer.Exit(2) from None
    except BotoCoreError as exc:
        err.print(f"error: AWS could not be reached: {exc} — check the network, the region and AWS_ENDPOINT_URL")
        raise typer.Exit(1) from None
    code = run.exit_code(findings)
    phase = "live" if live else "unknown" if ctx.cluster_unreadable else "preflight"
    if as_json:
        print(json.dumps({"stack": stack, "region": ctx.region, "cluster": ctx.cluster_name, "phase": phase,
                          "findings": [f.as_dict() for f in findings], "ok": code == 0}, indent=2))  # fmt: skip
        raise typer.Exit(code)
    title = {"live": "live", "preflight": "preflight (the cluster does not exist yet)",
             "unknown": f"cluster unknown (eks:DescribeCluster: {ctx.cluster_unreadable})"}[phase]  # fmt: skip
    out.print(run.table(findings, f"slipway doctor {stack} — {ctx.cluster_name} in {ctx.region}, {title}"))
    out.print(run.summary(findings))
    raise typer.Exit(code)


@app.command()
def kubeconfig(
    stack: str = typer.Argument(..., help="Stack whose EKS cluster to write a kubeconfig for."),
    out_file: Path = typer.Option(
        None,
        "--out",
        help="Kubeconfig to write or merge into (default: first file in $KUBECONFIG, else ~/.kube/config).",
    ),
    context: str = typer.Option(None, "--context", help="Context name (default: the cluster name)."),
    print_only: bool = typer.Option(False, "--print", help="Print a standalone kubeconfig to stdout; write no file."),
) -> None:
    """Write a kubeconfig that authenticates as the stack's slipway:identity (not your shell's credentials)."""
    from slipway.cli.kubeconfig import kubeconfig_command

    try:
        kubeconfig_command(stack, out_file, context, print_only, root=ROOT, out=out, err=err)
    except ConfigError as exc:
        _fail_config(exc, stack)


def _pool_table(name: str, r, sized: tuple, proposal) -> Table:
    types, low, want, high = sized
    p = r.plan
    table = Table(title=f"pool {name}: {want} × {p.instance_type.name} (min {low}, max {high})", title_justify="left")
    for col in ("plan", "nodes", "pods", "CPU requested", "memory requested", "pod slots", "$/month"):
        table.add_column(col, justify="left" if col == "plan" else "right")

    def row(label: str, plan, style: str | None = None) -> None:
        table.add_row(
            label,
            str(plan.nodes),
            str(plan.pods_used - plan.nodes * plan.daemonset_pods_per_node),
            f"{plan.cpu_used_m / 1000:.2f} / {plan.cpu_alloc_m / 1000:.2f} vCPU ({plan.cpu_utilization:.0%})",
            f"{plan.mem_used_mib / 1024:.1f} / {plan.mem_alloc_mib / 1024:.1f} GiB ({plan.memory_utilization:.0%})",
            f"{plan.pods_used} / {plan.pods_max} ({plan.pod_utilization:.0%})",
            f"${plan.monthly_usd:,.2f}",
            style=style,
        )

    row(f"{p.instance_type.name} (chosen)", p, "bold")
    if proposal.plan.instance_type.name != p.instance_type.name:
        row(f"{proposal.plan.instance_type.name} (auto proposes)", proposal.plan)
    for alt in proposal.alternatives:
        row(alt.instance_type.name, alt, "dim")
    bound = proposal.lower_bound_usd
    if bound:
        table.add_row("lower bound", "", "", "", "", "", f"${bound:,.2f}", style="italic")
        table.caption = (
            f"plan ÷ lower bound = {p.monthly_usd / bound:.2f}× (bound: requests at the cheapest $/vCPU and $/GiB; "
            "CPU/memory include DaemonSets)"
        )
    return table


app.add_typer(backend_app, name="backend")
app.command("pin")(pin_command)

catalog_app = typer.Typer(help="The instance catalog the capacity planner uses.", no_args_is_help=True)
app.add_typer(catalog_app, name="catalog")


@catalog_app.command("refresh")
def catalog_refresh(
    region: str = typer.Option(..., "--region", help="Region to read instance types, offerings and prices for."),
    out_file: Path = typer.Option(None, "--out", help="Where to write (default: the catalog slipway ships)."),
    profile: str = typer.Option(None, "--profile", help="AWS profile (default: the environment's credentials)."),
) -> None:
    """Rebuild the catalog from EC2 DescribeInstanceTypes/Offerings and the Pricing API."""
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError
    from rich.progress import Progress

    from slipway.components.capacity.catalog import DATA_FILE
    from slipway.components.capacity.refresh import refresh_catalog
    from slipway.program.config import EKS_REGIONS

    if region not in EKS_REGIONS:
        err.print(f"error: --region {region!r} is not a region EKS serves — use e.g. us-east-1")
        raise typer.Exit(2)
    session = boto3.Session(profile_name=profile, region_name=region)
    target = out_file or DATA_FILE
    try:
        with Progress(console=err) as progress:
            task = progress.add_task("instance types", total=None)

            def report(what: str, done: int, total: int) -> None:
                progress.update(task, description=what, completed=done, total=total)

            doc = refresh_catalog(
                region,
                session.client("ec2"),
                # The Pricing API is served from us-east-1 for every region.
                session.client("pricing", region_name="us-east-1"),
                progress=report,
            )
    except (BotoCoreError, ClientError) as exc:
        err.print(f"error: AWS refused the catalog refresh: {exc} — check credentials (aws sts get-caller-identity) "
                  "and that they allow ec2:DescribeInstanceTypes, ec2:DescribeInstanceTypeOfferings, "
                  "ec2:DescribeAvailabilityZones and pricing:GetProducts")  # fmt: skip
        raise typer.Exit(1) from None
    target.write_text(json.dumps(doc, indent=1, sort_keys=True) + "\n")
    priced = sum(1 for t in doc["types"].values() if t.get("hourlyUsd"))
    out.print(f"wrote {len(doc['types'])} instance types ({priced} priced) for {region} to {target}")


def _markdown(stack: str, findings) -> str:
    limit = 60000  # GitHub rejects comments over 65,536 characters
    lines = [
        f"### slipway check `{stack}`",
        "",
        "| check | severity | resource | message | fix |",
        "|---|---|---|---|---|",
    ]
    shown = 0
    for f in findings:
        row = f"| {f.check} | {f.severity} | `{f.resource}` | {f.message} | {f.fix} |".replace("\n", " ")
        if sum(len(x) + 1 for x in lines) + len(row) > limit:
            break
        lines.append(row)
        shown += 1
    if shown < len(findings):
        lines.append(f"\n… {len(findings) - shown} more finding(s) not shown (comment size limit).")
    if not findings:
        lines.append("| – | – | – | no findings | – |")
    return "\n".join(lines)


def main() -> None:
    """Console-script entry point."""
    try:
        app()
    except KeyboardInterrupt:  # pragma: no cover
        sys.exit(130)


if __name__ == "__main__":  # pragma: no cover
    main()
