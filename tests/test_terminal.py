"""The terminal (issue 14): reports end with a verdict, identifiers wrap only at their separators
at 80 columns (machine output keeps full names), the Mermaid diagram goes to its file, flags are
flags, every `--help` has an example, and a network failure is reported as one — not as "log in".
"""

from __future__ import annotations

import io
import json
import os
import re
from pathlib import Path

import pytest
from rich.console import Console

from slipway.cli.common import SEPARATORS, Wrap, pieces, shorten
from slipway.cli.render import ROOT

from tests.helpers import slipway_cli, slipway_in_process

# Box-drawing characters (U+2500–U+257F) frame rich's tables; what is left are the words.
_WORDS = re.compile(r"[\s\u2500-\u257f]+")


def _boundary(name: str, at: int) -> bool:
    """Can `name` be cut at `at` without splitting a word: an end, or next to a separator."""
    return at in (0, len(name)) or name[at - 1] in SEPARATORS or name[at] in SEPARATORS


def _words(text: str) -> set[str]:
    return {w.strip(",;()`'\"").split("×")[-1] for w in _WORDS.split(text)}


def broken_identifiers(text: str, names: set[str], prose: str = "") -> list[tuple[str, str]]:
    """(word, name) for every word of `text` that is a piece of `name` cut mid-word.

    A word that is a name itself, a word of the report's `prose` (the stack's name in a
    title, a message's words), or shortened on purpose (`…`) is fine; so is a piece of a
    name that begins and ends at separators (a wrap after `/`, `:`, `-`, `.`)."""
    bad = []
    allowed = names | _words(prose)
    for word in _words(text):
        if len(word) < 3 or "…" in word or word in allowed:
            continue
        for name in names:
            spans = [m.start() for m in re.finditer(re.escape(word), name)]
            if spans and not any(_boundary(name, i) and _boundary(name, i + len(word)) for i in spans):
                bad.append((word, name))
    return bad


def in_process(*args: str):
    """`slipway <args>` in this process (typer's runner, 80 columns): for output whose width
    does not matter, without a fresh interpreter's start-up."""
    from typer.testing import CliRunner

    from slipway.cli.main import app

    return CliRunner().invoke(app, list(args), env={"COLUMNS": "80"})


def _env(columns: int) -> dict[str, str]:
    return {**os.environ, "COLUMNS": str(columns)}


# ---------------------------------------------------------------------------------- Wrap


def test_wrap_breaks_identifiers_only_after_separators():
    assert pieces("kubernetes/argo/run-python.yaml") == ["kubernetes/", "argo/", "run-", "python.", "yaml"]
    lines = [line.plain for line in Wrap("kubernetes/argo/workflowtemplate-run-python.yaml").lines(20)]
    assert lines == ["kubernetes/argo/", "workflowtemplate-", "run-python.yaml"]
    assert shorten("BucketServerSideEncryptionConfiguration", 15) == "BucketS…uration"
    assert [line.plain for line in Wrap("a 1×BucketServerSideEncryptionConfiguration").lines(12)] == [
        "a",
        "1×Buck…ation",
    ]
    assert [line.plain for line in Wrap("  indented prose that wraps").lines(12)] == [
        "  indented",
        "prose that",
        "wraps",
    ]


def test_a_narrow_table_of_long_identifiers_never_splits_a_word():
    from slipway.cli.check_cmd import findings_table
    from slipway.cli.checks import Finding

    names = {
        "policy:alb-internal-https",
        "kubernetes/argo/workflowtemplate-run-python.yaml",
        "nodePools.general.pinnedInstanceType",
        "urn:pulumi:dev::slipway::slipway:cluster:EksCluster$aws:eks/cluster:Cluster::cluster-eks",
    }
    findings = [Finding(n, "advisory", n, f"about {n}", "fix it") for n in sorted(names)]
    for width in (60, 80, 120):
        console = Console(file=io.StringIO(), width=width)
        console.print(findings_table("dev", findings))
        text = console.file.getvalue()
        assert all(len(line) <= width for line in text.splitlines())
        assert broken_identifiers(text, names) == [], width


# ---------------------------------------------------------------------------------- check


@pytest.fixture(scope="module")
def check80(tmp_path_factory, dev) -> tuple[str, list[dict], Path]:
    """`slipway check dev` at 80 columns (a real terminal run), and its findings as `--json` lists
    them (the same `run_checks` over the same render: the session's in-process `dev`)."""
    from slipway.cli.checks import run_checks
    from slipway.policies.rules import stack_policy_config
    from slipway.program.stackfile import load_stack_file

    out = tmp_path_factory.mktemp("check") / "dev"
    proc = slipway_cli("check", "dev", "--out", str(out), env=_env(80))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    cfg = load_stack_file("dev", ROOT).parse()
    policy = stack_policy_config(cfg.environment, cfg.cluster.prefix_delegation)
    findings = run_checks(dev, cfg.cluster.version, policy, cfg=cfg)
    return proc.stdout, [f.as_dict() for f in findings], out


def test_check_prints_findings_then_the_render_then_the_verdict(check80):
    text, findings, _ = check80
    lines = text.rstrip().splitlines()
    assert text.index("checks for dev") < text.index("stack dev:") < text.index(" finding(s) over ")
    assert lines[-1].startswith("verdict: PASS — 0 mandatory"), lines[-1]
    assert isinstance(findings, list) and findings  # JSON stays a list of findings, full names
    assert "kubernetes/argo/workflowtemplate-run-python.yaml" in {f["resource"] for f in findings}


def test_check_at_80_columns_never_splits_an_identifier(check80):
    text, findings, out = check80
    records = json.loads((out / "resources.json").read_text())
    names = {f["check"] for f in findings} | {f["resource"] for f in findings}
    names |= {r["name"] for r in records} | {r["type"].split(":")[-1] for r in records}
    names |= set(json.loads((out / "summary.json").read_text()))
    assert all(len(line) <= 80 for line in text.splitlines())
    prose = " ".join(f"{f['message']} {f['fix']}" for f in findings) + " checks for dev stack dev"
    assert broken_identifiers(text, names, prose) == []


def test_check_lists_the_config_warnings_as_advisory_findings():
    from slipway.cli.check_cmd import markdown
    from slipway.cli.checks import config_findings

    said = "network.cidr: '10.0.0.0/16' overlaps stack prod's VPC — choose another /16 (e.g. 10.1.0.0/16)"
    (finding,) = config_findings([said])
    assert finding.as_dict() == {
        "check": "config",
        "severity": "advisory",
        "resource": "network.cidr",
        "message": "'10.0.0.0/16' overlaps stack prod's VPC",
        "fix": "choose another /16 (e.g. 10.1.0.0/16)",
    }
    comment = markdown("dev", [finding], 95)
    assert "| config | advisory | `network.cidr` |" in comment
    assert comment.splitlines()[-1] == "**verdict: PASS — 0 mandatory, 1 advisory, 0 info**"


def test_check_markdown_ends_with_the_verdict():
    from slipway.cli.check_cmd import markdown
    from slipway.cli.checks import Finding

    blocking = [Finding("policy:x", "mandatory", "r", "m", "f")] * 2
    assert (
        markdown("dev", blocking, 3).splitlines()[-1] == "**verdict: FAIL — 2 mandatory finding(s) block this change**"
    )
    many = [Finding("policy:x", "mandatory", f"resource-{i}", "m" * 300, "f" * 100) for i in range(500)]
    text = markdown("dev", many, 500)
    assert len(text) < 65536 and text.splitlines()[-1].startswith("**verdict: FAIL")


# ---------------------------------------------------------------------------------- other reports


def test_render_writes_the_diagram_to_its_file_and_prints_it_only_when_asked(tmp_path):
    proc = slipway_cli("render", "dev", "--out", str(tmp_path / "dev"), env=_env(80))
    assert proc.returncode == 0, proc.stderr
    assert "flowchart" not in proc.stdout and "components.mmd" in proc.stdout
    assert (tmp_path / "dev" / "components.mmd").read_text().startswith("flowchart")
    assert proc.stdout.rstrip().splitlines()[-1].startswith("verdict: PASS — rendered ")
    shown = in_process("render", "dev", "--out", str(tmp_path / "dev2"), "--mermaid")
    diagram = (tmp_path / "dev2" / "components.mmd").read_text()
    assert shown.exit_code == 0 and diagram in shown.stdout  # whole lines: not wrapped at 80 columns


def test_plan_markdown_ends_with_its_verdict():
    proc = in_process("plan", "dev", "--base", "none", "--format", "markdown")
    assert proc.exit_code == 0, proc.output
    last = proc.stdout.rstrip().splitlines()[-1]
    assert last.startswith("**verdict: ") and last.endswith(" changes, no hazards**"), last


def test_doctor_report_ends_with_a_verdict_and_wraps_subjects_at_separators():
    from slipway.cli.doctor import run
    from slipway.cli.doctor.model import Finding

    arn = "arn:aws:iam::123456789012:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_PlatformAdmins_0123abcd"
    findings = [
        Finding("identity", "fail", arn, "not mapped in the cluster", "add it to slipway:access.principals"),
        Finding("subnet-tags", "pass", "subnet-0123456789abcdef0", "tagged kubernetes.io/role/elb"),
    ]
    console = Console(file=io.StringIO(), width=80)
    console.print(run.table(findings, "slipway doctor dev"))
    console.print(run.summary(findings))
    text = console.file.getvalue()
    assert broken_identifiers(text, {arn, "subnet-0123456789abcdef0", "kubernetes.io/role/elb"}) == []
    assert text.rstrip().splitlines()[-1] == "verdict: FAIL — 1 check(s) failed"
    assert run.verdict(findings[1:]) == "verdict: PASS — no check failed"


# ---------------------------------------------------------------------------------- help and flags


def _commands():
    import typer.main

    from slipway.cli.main import app

    root = typer.main.get_command(app)
    yield (), root
    for name, command in root.commands.items():
        yield (name,), command
        for sub, subcommand in getattr(command, "commands", {}).items():
            yield (name, sub), subcommand


def _is_bool(param) -> bool:
    """A boolean parameter: typer's own type descriptor (typer ≥ 0.20), else click's type."""
    described = getattr(param, "type_descriptor", None)
    if described is not None:
        return "bool" in str(described.annotation)
    return getattr(getattr(param, "type", None), "name", "") == "boolean"


def test_every_command_and_group_help_has_an_example_and_flags_take_no_value():
    from typer.testing import CliRunner

    from slipway.cli.main import app

    seen = []
    for path, command in _commands():
        result = CliRunner().invoke(app, [*path, "--help"], env={"COLUMNS": "120"})
        assert result.exit_code == 0, (path, result.output)
        assert "Example" in result.output, path
        assert "<bool>" not in result.output, path  # a flag is shown as a flag, not `--json <bool>`
        for param in command.params:
            if _is_bool(param) and param.param_type_name == "option":
                assert param.is_flag, (path, param.opts)
        seen.append(" ".join(path))
    assert {"check", "plan", "doctor", "render", "pin", "backend init", "catalog refresh", "kubeconfig"} <= set(seen)


def test_a_flag_given_a_value_is_refused():
    proc = slipway_in_process("size", "dev", "--json", "true")
    assert proc.returncode == 2 and "true" in proc.stderr


# ---------------------------------------------------------------------------------- network failures

CLOSED = "http://127.0.0.1:9"  # the discard port: nothing listens, so the connection is refused at once


def _aws_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        AWS_CONFIG_FILE=os.devnull,
        AWS_SHARED_CREDENTIALS_FILE=os.devnull,
        AWS_EC2_METADATA_DISABLED="true",
        AWS_MAX_ATTEMPTS="1",
        COLUMNS="200",
        **extra,
    )
    return env


def test_kubeconfig_print_says_network_and_what_it_needs_when_aws_cannot_be_reached():
    env = _aws_env(AWS_ENDPOINT_URL=CLOSED, AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing")
    proc = slipway_cli("kubeconfig", "dev", "--print", env=env, timeout=60)
    said = " ".join(proc.stderr.split())
    assert proc.returncode == 1 and proc.stdout == ""
    assert "cannot reach EKS in us-east-1 (http://127.0.0.1:9/" in said and "network failure" in said
    assert "log in" not in said and "aws sso login" not in said
    assert "API endpoint and CA certificate" in said and "eks:DescribeCluster" in said
    assert "pulumi stack output kubeconfig --show-secrets --stack dev" in said


def test_kubeconfig_without_credentials_says_log_in():
    proc = slipway_cli("kubeconfig", "dev", "--print", env=_aws_env(), timeout=60)
    said = " ".join(proc.stderr.split())
    assert proc.returncode == 1 and "no usable AWS credentials" in said and "aws sso login" in said
    assert "network failure" not in said


def test_pin_and_catalog_refresh_report_a_network_failure(tmp_path):
    env = _aws_env(AWS_ENDPOINT_URL=CLOSED, AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing")
    pin = slipway_cli("pin", "dev", "--replan", "--dry-run", env=env, timeout=60)
    said = " ".join(pin.stderr.split())
    assert pin.returncode == 2 and "cannot reach AWS (http://127.0.0.1:9/" in said and "log in" not in said
    refresh = slipway_cli(
        "catalog", "refresh", "--region", "us-east-1", "--out", str(tmp_path / "c.json"), env=env, timeout=60
    )
    said = " ".join(refresh.stderr.split())
    assert refresh.returncode == 1 and "network failure" in said and "refused" not in said
    assert not (tmp_path / "c.json").exists()


def test_backend_tells_the_network_from_the_credentials():
    from botocore.exceptions import ClientError, EndpointConnectionError, NoCredentialsError, ReadTimeoutError

    from slipway.cli.backend.errors import aws_failure

    down = aws_failure(EndpointConnectionError(endpoint_url="https://s3.us-east-1.amazonaws.com/b"))
    assert str(down).startswith("cannot reach AWS (https://s3.us-east-1.amazonaws.com/b): network failure")
    assert down.exit_code == 1
    slow = aws_failure(ReadTimeoutError(endpoint_url="https://sts.amazonaws.com/"))
    assert "network failure (ReadTimeoutError)" in str(slow)
    nobody = aws_failure(NoCredentialsError(), "admin")
    assert nobody.exit_code == 2 and "aws sso login --profile admin" in str(nobody)
    expired = ClientError({"Error": {"Code": "ExpiredToken", "Message": "expired"}}, "GetCallerIdentity")
    assert "log in" in str(aws_failure(expired)) and "network" not in str(aws_failure(expired))


def test_catalog_refresh_never_defaults_into_site_packages():
    from slipway.cli.catalog_cmd import default_target

    project = Path("/srv/project")
    installed = Path("/srv/project/.venv/lib/python3.12/site-packages/slipway/components/data/instances.json")
    assert default_target(installed, project) is None
    checkout = project / "components" / "data" / "instances.json"
    assert default_target(checkout, project) == checkout


def test_every_help_example_fits_one_line_at_80_columns():
    """An example wrapped mid-command cannot be copied: each fits its 80-column line whole."""
    from typer.testing import CliRunner

    from slipway.cli.main import app

    for path, command in _commands():
        examples = [ln.strip() for ln in (command.help or "").splitlines() if ln.strip().startswith("slipway ")]
        examples += [ln.strip() for ln in (command.epilog or "").splitlines() if ln.strip().startswith("slipway ")]
        shown = CliRunner().invoke(app, [*path, "--help"], env={"COLUMNS": "80"}).output
        lines = [" ".join(ln.split()) for ln in shown.splitlines()]
        for example in examples:
            assert " ".join(example.split()) in lines, (path, example)
