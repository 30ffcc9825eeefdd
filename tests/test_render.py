"""The offline render: files written, determinism, secrets, unknowns, exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pulumi
import pulumi_aws as aws
import pytest

from slipway.cli.render import ROOT, RenderError, render_stack, run_program
from slipway.program.stackfile import load_stack_file
from slipway.testing.mocks import kubeconfig

from tests.helpers import check_settings, project_copy, slipway_cli, slipway_in_process


def test_render_writes_the_expected_files(dev):
    names = {p.relative_to(dev.out_dir).as_posix() for p in dev.files}
    assert {"resources.json", "outputs.json", "components.mmd", "summary.json"} <= names
    assert "iam/trust/cluster-node-role.json" in names
    resources = json.loads((dev.out_dir / "resources.json").read_text())
    assert {r["type"] for r in resources} >= {
        "aws:ec2/vpc:Vpc",
        "eks:index:Cluster",
        "eks:index:ManagedNodeGroup",
        "aws:eks/accessEntry:AccessEntry",
    }
    for r in resources:
        assert set(r) >= {"urn", "type", "name", "parent", "dependencies", "inputs"}, r["urn"]


def test_outputs_users_need(dev):
    outputs = json.loads((dev.out_dir / "outputs.json").read_text())
    assert outputs["clusterName"] == "slipway-dev"
    assert outputs["clusterEndpoint"].startswith("https://") and outputs["clusterEndpoint"].endswith(
        ".gr7.us-east-1.eks.amazonaws.com"
    )
    assert outputs["kubeconfig"] == "[secret]"
    assert set(outputs["privateSubnetIds"]) == {"us-east-1a", "us-east-1b"}


def test_mermaid_diagram_shows_the_component_tree(dev):
    text = (dev.out_dir / "components.mmd").read_text()
    assert text.startswith("flowchart LR")
    for comp in ("network", "cluster", "cluster-access", "cluster-eks", "cluster-general", "namespaces"):
        assert f'["{comp}<br/>' in text, comp


def test_render_is_deterministic(tmp_path, prod):
    a = prod  # the session's render of prod, earlier in this process
    b = render_stack("prod", tmp_path / "b")
    files_a = sorted(p.relative_to(a.out_dir) for p in a.out_dir.rglob("*") if p.is_file())
    files_b = sorted(p.relative_to(b.out_dir) for p in b.out_dir.rglob("*") if p.is_file())
    assert files_a == files_b
    for rel in files_a:
        assert (a.out_dir / rel).read_bytes() == (b.out_dir / rel).read_bytes(), rel


def _all_text(out_dir: Path) -> str:
    return "\n".join(p.read_text() for p in out_dir.rglob("*") if p.is_file())


def test_secret_values_never_in_clear(dev):
    text = _all_text(dev.out_dir)
    kc = kubeconfig("slipway-dev", "us-east-1", "x", None, True)
    ca = kc["clusters"][0]["cluster"]["certificate-authority-data"]
    assert ca not in text and "get-token" not in text
    assert '"kubeconfig": "[secret]"' in (dev.out_dir / "resources.json").read_text()


def test_secure_config_values_stay_secret(tmp_path):
    """A `secure:` value is never decrypted offline, and the key is passed as secret."""
    root = project_copy(tmp_path, append="  slipway:apiToken:\n    secure: v1:c2VjcmV0LXZhbHVlLWNpcGhlcnRleHQ=\n")
    stack = load_stack_file("dev", root)
    assert "slipway:apiToken" in stack.secret_keys
    assert stack.pulumi_config()["slipway:apiToken"] == "<secret slipway:apiToken>"


def test_unknown_values_are_an_error():
    stack = load_stack_file("dev", ROOT)

    def leaky():
        vpc = aws.ec2.Vpc("v", cidr_block="10.0.0.0/16")
        # The mocks return no ipv6AssociationId: in a preview it stays unknown.
        aws.ec2.Subnet("s", vpc_id=vpc.ipv6_association_id, cidr_block="10.0.0.0/24")
        pulumi.export("leak", vpc.ipv6_association_id)

    with pytest.raises(RenderError) as exc:
        run_program(stack, program=leaky)
    msg = str(exc.value)
    assert "unknown value" in msg and "aws:ec2/subnet:Subnet::s input.vpcId" in msg and "stack output 'leak'" in msg


def _break(text: str) -> str:
    text = text.replace("      maxSize: 6\n", "      minSize: 8\n      maxSize: 6\n")
    return text.replace("natStrategy: single", "natStrategy: sometimes")


def test_cli_config_error_exits_2_with_every_message(tmp_path):
    root = project_copy(tmp_path, text=_break)
    proc = slipway_cli("render", "dev", root=root)
    assert proc.returncode == 2, proc.stderr
    err = " ".join(proc.stderr.split())
    assert "nodePools.general.minSize: 8 is above maxSize 6 — lower minSize or raise maxSize" in err
    assert "network.natStrategy: 'sometimes' is not allowed" in err
    assert "Traceback" not in proc.stderr
    assert not (root / "build").exists()  # nothing rendered, nothing registered


def test_cli_unknown_stack_exits_2():
    proc = slipway_in_process("render", "staging")
    assert proc.returncode == 2
    assert "'staging' has no file stacks/Pulumi.staging.yaml — use one of dev, prod" in " ".join(proc.stderr.split())


def test_cli_render_all_with_progress_is_deterministic_across_processes(tmp_path, dev, prod):
    proc = slipway_cli("render", "--all", "--out", str(tmp_path), fresh=True)
    assert proc.returncode == 0, proc.stderr
    assert "dev: ok" in proc.stderr and "prod: ok" in proc.stderr
    # Each stack rendered in its own process is byte-identical to this process's render.
    for session in (dev, prod):
        files = sorted(p.relative_to(session.out_dir) for p in session.out_dir.rglob("*") if p.is_file())
        assert files
        for rel in files:
            assert (tmp_path / session.stack / rel).read_bytes() == (session.out_dir / rel).read_bytes(), rel


def test_cli_check_exits_0_with_the_findings_of_the_in_process_checks(tmp_path, dev):
    """The CLI's side of test_program's shipped-stacks check: same findings, none mandatory, exit 0."""
    from slipway.cli.checks import run_checks

    proc = slipway_in_process("check", "dev", "--format", "json", "--out", str(tmp_path / "dev"))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    version, policy_config = check_settings("dev")
    assert json.loads(proc.stdout) == [f.as_dict() for f in run_checks(dev, version, policy_config)]


def test_secret_config_stays_secret_through_resources_and_outputs(tmp_path):
    import pulumi_kubernetes as k8s

    from slipway.cli.render import write_render
    from slipway.program.main import secret_config

    stack = load_stack_file("dev", project_copy(tmp_path, append="  slipway:apiToken:\n    secure: v1:AAAA\n"))
    clear = "tok-3f9a-clear-value"
    values = stack.values | {"slipway:apiToken": clear}
    stack.values = values

    def program():
        token = secret_config("apiToken")
        k8s.core.v1.Secret("token", metadata={"name": "token", "namespace": "apps"}, string_data={"TOKEN": token})
        pulumi.export("token", token)

    monitor = run_program(stack, program=program)
    result = write_render(stack, monitor, tmp_path / "out")
    assert result.outputs["token"] == "[secret]"
    text = _all_text(result.out_dir)
    assert clear not in text
    assert "[secret]" in (result.out_dir / "kubernetes" / "apps" / "secret-token.yaml").read_text()


def test_secret_config_refuses_plain_text(tmp_path):
    from slipway.program.config import ConfigError
    from slipway.program.main import secret_config

    stack = load_stack_file("dev", project_copy(tmp_path, append="  slipway:apiToken: not-so-secret\n"))
    with pytest.raises(ConfigError) as exc:
        run_program(stack, program=lambda: secret_config("apiToken"))
    assert "slipway:apiToken: is stored in plain text but holds a secret" in str(exc.value)


def test_duplicate_urns_fail_as_in_a_real_deployment():
    stack = load_stack_file("dev", ROOT)

    def twice():
        aws.ec2.Vpc("same", cidr_block="10.0.0.0/16")
        aws.ec2.Vpc("same", cidr_block="10.1.0.0/16")

    with pytest.raises(Exception) as exc:
        run_program(stack, program=twice)
    assert "duplicate resource URN" in str(exc.value) and "aws:ec2/vpc:Vpc::same" in str(exc.value)


def test_stack_with_a_secure_key_renders(tmp_path):
    root = project_copy(tmp_path, append="  slipway:apiToken:\n    secure: v1:AAAA\n")
    result = render_stack("dev", tmp_path / "out", root=root)
    assert result.outputs["clusterName"] == "slipway-dev"
