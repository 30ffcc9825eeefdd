"""`slipway doctor <stack>`: the command around the checks of cli/doctor/ — choose them
(`--only`), build their AWS context, run them with a progress bar, turn credential and
network failures into one-line errors, and print the findings (a table, or `--json`).

Exit 0 when every check passes, 1 when one fails or AWS cannot be reached, 2 for a bad
stack config, flag, profile or credentials.
"""

# typer declares arguments and options as call defaults by design (as in cli/main.py).
# ruff: noqa: B008

from __future__ import annotations

import json

import typer

from slipway.cli.common import cannot_reach, err, fail_config, network_failure, out, verdict_line
from slipway.cli.render import ROOT
from slipway.program.config import ConfigError


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
        fail_config(exc, stack)
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
        if network_failure(exc):
            said = cannot_reach(exc)
            verdict = verdict_line(False, "AWS could not be reached: nothing was checked")
            if as_json:
                print(json.dumps({"stack": stack, "error": said, "findings": [], "ok": False, "verdict": verdict}))
            err.print(f"error: {said}", highlight=False)
            err.print(verdict, highlight=False, soft_wrap=True)
            raise typer.Exit(1) from None
        # Not the network: a missing region, a broken config file, … — botocore says which.
        err.print(f"error: AWS SDK error ({type(exc).__name__}): {exc} — fix the stack's aws:region / "
                  "aws:profile or your AWS config", highlight=False)  # fmt: skip
        raise typer.Exit(2) from None
    code = run.exit_code(findings)
    phase = "live" if live else "unknown" if ctx.cluster_unreadable else "preflight"
    if as_json:
        print(json.dumps({"stack": stack, "region": ctx.region, "cluster": ctx.cluster_name, "phase": phase,
                          "findings": [f.as_dict() for f in findings], "ok": code == 0,
                          "verdict": run.verdict(findings)}, indent=2))  # fmt: skip
        raise typer.Exit(code)
    title = {"live": "live", "preflight": "preflight (the cluster does not exist yet)",
             "unknown": f"cluster unknown (eks:DescribeCluster: {ctx.cluster_unreadable})"}[phase]  # fmt: skip
    out.print(run.table(findings, f"slipway doctor {stack} — {ctx.cluster_name} in {ctx.region}, {title}"))
    out.print(run.summary(findings))
    raise typer.Exit(code)
