"""The deployer reaches the API server: `slipway:deploy` against `cluster.endpoint`.

Every Kubernetes resource of `pulumi up` (and `pulumi preview`'s diffs) talks to the
API server, so a deployer the endpoint does not admit times out on all of them.
"""

from __future__ import annotations

import json

import pytest
import yaml

from slipway.cli.checks import REACH_CHECK, Finding, deploy_findings, run_checks
from slipway.cli.render import ROOT
from slipway.program.config import ConfigError, parse_config_values
from slipway.program.config.lifecycle import DeployConfig, deploy_issues, reachability_problems
from slipway.program.stackfile import load_stack_file

from tests.helpers import check_settings, project_copy, shipped_stacks, slipway_cli

ALLOWLIST = ["198.51.100.0/24"]
HOSTED_FIX = (
    "deploy from a self-hosted runner: set runner: self-hosted with runnerLabels, and egressCidrs inside "
    "cluster.endpoint.publicAccessCidrs (or privateCidrs for a runner in the VPC)"
)


def deploy(**values) -> DeployConfig:
    return DeployConfig.model_validate(values)


def stack(deploy_values: dict | None, public_access: bool = True, cidrs: list[str] = ALLOWLIST):
    endpoint = {"publicAccess": public_access, **({"publicAccessCidrs": cidrs} if public_access else {})}
    values = {"cluster": {"endpoint": endpoint}}
    if deploy_values is not None:
        values["deploy"] = deploy_values
    return parse_config_values(values, region="us-east-1", stack="t")


# --------------------------------------------------------------------------- reachability_problems


def test_hosted_runner_cannot_reach_an_allow_listed_endpoint():
    assert reachability_problems(deploy(runner="hosted"), True, ALLOWLIST) == [
        (
            "deploy.runner",
            "'hosted' runners have no fixed egress addresses, and this stack's API server admits "
            "198.51.100.0/24: every Kubernetes call of `pulumi up` would time out",
            HOSTED_FIX,
        )
    ]


def test_hosted_runner_cannot_reach_a_private_endpoint():
    ((field, problem, _),) = reachability_problems(deploy(runner="hosted"), False, [])
    assert field == "deploy.runner"
    assert problem == (
        "'hosted' runners have no fixed egress addresses, and this stack's API server admits "
        "no public address (private endpoint): every Kubernetes call of `pulumi up` would time out"
    )


def test_egress_cidr_outside_the_allowlist_is_named():
    runner = deploy(runnerLabels=["self-hosted", "slipway-deploy"], egressCidrs=["192.0.2.10/32"])
    assert reachability_problems(runner, True, ALLOWLIST) == [
        (
            "deploy.egressCidrs",
            "192.0.2.10/32 is outside cluster.endpoint.publicAccessCidrs (198.51.100.0/24): "
            "the API server would refuse the runner",
            "add 192.0.2.10/32 to cluster.endpoint.publicAccessCidrs",
        )
    ]


def test_only_the_egress_cidrs_outside_the_allowlist_are_named():
    runner = deploy(egressCidrs=["198.51.100.7/32", "192.0.2.0/28"])
    problems = reachability_problems(runner, True, ALLOWLIST)
    assert [p[2] for p in problems] == ["add 192.0.2.0/28 to cluster.endpoint.publicAccessCidrs"]


@pytest.mark.parametrize(
    ("egress", "allowlist"),
    [
        (["192.0.2.10/32"], ["198.51.100.0/24", "192.0.2.10/32"]),  # listed exactly
        (["198.51.100.7/32"], ["198.51.100.0/24"]),  # inside a wider range
        (["198.51.100.0/25", "198.51.100.128/25"], ["198.51.100.0/24"]),
    ],
)
def test_egress_cidrs_inside_the_allowlist_reach_it(egress, allowlist):
    assert reachability_problems(deploy(egressCidrs=egress), True, allowlist) == []


def test_a_wider_egress_range_than_the_allowlist_does_not_reach_it():
    ((field, problem, _),) = reachability_problems(deploy(egressCidrs=["198.51.100.0/23"]), True, ALLOWLIST)
    assert field == "deploy.egressCidrs" and problem.startswith("198.51.100.0/23 is outside")


def test_egress_only_runner_cannot_reach_a_private_endpoint():
    assert reachability_problems(deploy(egressCidrs=["192.0.2.10/32"]), False, []) == [
        (
            "deploy.egressCidrs",
            "192.0.2.10/32 reaches only a public endpoint, and this stack's is off",
            "reach it privately (deploy.privateCidrs from a runner in the VPC), or turn on "
            "cluster.endpoint.publicAccess with this CIDR in publicAccessCidrs",
        )
    ]


@pytest.mark.parametrize("public_access", [False, True])
def test_a_runner_with_private_cidrs_reaches_the_private_endpoint(public_access):
    runner = deploy(runnerLabels=["self-hosted", "slipway-deploy"], privateCidrs=["10.30.64.0/24"])
    assert reachability_problems(runner, public_access, ALLOWLIST if public_access else []) == []


def test_a_self_hosted_runner_without_addresses_proves_nothing():
    assert reachability_problems(deploy(runnerLabels=["self-hosted", "x"]), True, ALLOWLIST) == [
        (
            "deploy.egressCidrs",
            "is empty, so nothing shows the runner can reach the API server",
            "list the runner's egress CIDRs (inside cluster.endpoint.publicAccessCidrs) or its privateCidrs",
        )
    ]


# --------------------------------------------------------------------------- the preview runner
#
# Pull-request previews run branch code, so they get a runner of their own; it must reach
# the API server as well. egressCidrs speaks for both runners unless previewEgressCidrs is
# set; privateCidrs for both.

RUNNERS = {"runnerLabels": ["self-hosted", "slipway-deploy"], "previewRunnerLabels": ["self-hosted", "slipway-preview"]}


def test_a_preview_runner_leaving_through_egress_cidrs_is_checked_once():
    assert reachability_problems(deploy(**RUNNERS, egressCidrs=["198.51.100.7/32"]), True, ALLOWLIST) == []
    problems = reachability_problems(deploy(**RUNNERS, egressCidrs=["192.0.2.10/32"]), True, ALLOWLIST)
    assert [field for field, _, _ in problems] == ["deploy.egressCidrs"]  # not repeated for the preview runner


def test_preview_egress_outside_the_allowlist_is_named():
    runner = deploy(**RUNNERS, egressCidrs=["198.51.100.7/32"], previewEgressCidrs=["192.0.2.20/32"])
    assert reachability_problems(runner, True, ALLOWLIST) == [
        (
            "deploy.previewEgressCidrs",
            "192.0.2.20/32 is outside cluster.endpoint.publicAccessCidrs (198.51.100.0/24): "
            "the API server would refuse the preview runner",
            "add 192.0.2.20/32 to cluster.endpoint.publicAccessCidrs",
        )
    ]
    allowed = [*ALLOWLIST, "192.0.2.20/32"]
    assert reachability_problems(runner, True, allowed) == []


def test_preview_egress_cannot_reach_a_private_endpoint():
    runner = deploy(**RUNNERS, previewEgressCidrs=["192.0.2.20/32"], privateCidrs=[])
    problems = reachability_problems(runner, False, [])
    assert ("deploy.previewEgressCidrs", "192.0.2.20/32 reaches only a public endpoint, and this stack's is off") in [
        (field, problem) for field, problem, _ in problems
    ]


def test_private_cidrs_speak_for_both_runners():
    runner = deploy(**RUNNERS, previewEgressCidrs=["192.0.2.20/32"], privateCidrs=["10.30.64.0/24"])
    assert reachability_problems(runner, False, []) == []


def test_a_preview_runner_without_addresses_proves_nothing():
    # People deploy from the allow-listed network, CI previews: the preview runner is unproven.
    runner = deploy(runner="workstation", previewRunnerLabels=["self-hosted", "slipway-preview"])
    assert reachability_problems(runner, True, ALLOWLIST) == [
        (
            "deploy.previewEgressCidrs",
            "is empty (and so is egressCidrs), so nothing shows the preview runner can reach the API server",
            "list the preview runner's egress CIDRs (inside cluster.endpoint.publicAccessCidrs) or its privateCidrs",
        )
    ]
    # A self-hosted deploy runner without addresses is named once, for both.
    both = reachability_problems(deploy(**RUNNERS), True, ALLOWLIST)
    assert [field for field, _, _ in both] == ["deploy.egressCidrs"]


def test_check_names_the_preview_runner_field():
    cfg = stack({**RUNNERS, "egressCidrs": ["198.51.100.7/32"], "previewEgressCidrs": ["192.0.2.20/32"]})
    (finding,) = deploy_findings(cfg)
    assert (finding.severity, finding.resource) == ("mandatory", "slipway:deploy.previewEgressCidrs")


@pytest.mark.parametrize(
    ("up", "preview", "field"),
    [
        (["self-hosted", "slipway-deploy"], ["self-hosted", "slipway-deploy"], "deploy.previewRunnerLabels"),
        (["self-hosted", "slipway-deploy"], ["self-hosted"], "deploy.previewRunnerLabels"),
        (["self-hosted"], ["self-hosted", "slipway-preview"], "deploy.runnerLabels"),
    ],
)
def test_runners_whose_labels_contain_each_other_are_refused(up, preview, field):
    """A job goes to any runner that carries all of its labels (GitHub runs-on, GitLab tags)."""
    (issue,) = deploy_issues({"deploy": {"runnerLabels": up, "previewRunnerLabels": preview}})
    assert issue["path"] == field
    with pytest.raises(ConfigError, match="could run on the machine that"):
        stack({"runnerLabels": up, "previewRunnerLabels": preview, "egressCidrs": ALLOWLIST})


def test_runners_with_a_label_each_are_accepted():
    assert deploy_issues({"deploy": {**RUNNERS, "previewEgressCidrs": ["192.0.2.20/32"]}}) == []


def test_preview_runner_fields_are_validated():
    issues = deploy_issues({"deploy": {"previewRunnerLabels": [], "previewEgressCidrs": ["192.0.2.300/32"]}})
    assert [issue["path"] for issue in issues] == ["deploy.previewEgressCidrs[0]", "deploy.previewRunnerLabels"]


# --------------------------------------------------------------------------- slipway check


def test_check_flags_a_deployer_that_cannot_reach_as_mandatory():
    assert deploy_findings(stack({"runner": "hosted"})) == [
        Finding(
            REACH_CHECK,
            "mandatory",
            "slipway:deploy.runner",
            "'hosted' runners have no fixed egress addresses, and this stack's API server admits "
            "198.51.100.0/24: every Kubernetes call of `pulumi up` would time out",
            HOSTED_FIX,
        )
    ]
    (finding,) = deploy_findings(stack({"egressCidrs": ["192.0.2.10/32"]}))
    assert (finding.check, finding.severity, finding.resource) == (
        "deployer-reaches-endpoint",
        "mandatory",
        "slipway:deploy.egressCidrs",
    )
    assert finding.fix == "add 192.0.2.10/32 to cluster.endpoint.publicAccessCidrs"


def test_check_passes_a_deployer_that_reaches():
    assert deploy_findings(stack({"egressCidrs": ["192.0.2.10/32"]}, cidrs=[*ALLOWLIST, "192.0.2.10/32"])) == []
    assert deploy_findings(stack({"privateCidrs": ["10.30.64.0/24"]}, public_access=False)) == []


def test_check_says_when_the_deployer_is_undeclared():
    assert deploy_findings(stack(None)) == [
        Finding(
            "deployer-reaches-endpoint",
            "advisory",
            "slipway:deploy",
            "the deployer is undeclared: nothing shows that the runner of `pulumi up` can reach the API "
            "server, and hosted CI runners have no fixed egress addresses",
            "declare slipway:deploy: runner: self-hosted, runnerLabels (the pipelines' runs-on/tags), and "
            "egressCidrs inside cluster.endpoint.publicAccessCidrs (or privateCidrs for a runner in the VPC)",
        )
    ]


def test_run_checks_adds_the_deploy_findings_given_the_stack_config(dev):
    version, policy_config = check_settings("dev")
    without = run_checks(dev, version, policy_config)
    assert REACH_CHECK not in {f.check for f in without}
    bad = stack({"runner": "hosted"})
    assert run_checks(dev, version, policy_config, cfg=bad) == without + deploy_findings(bad)


def test_cli_check_fails_a_stack_whose_deployer_cannot_reach(tmp_path):
    """`slipway check` end to end: the shipped dev stack, deployed from hosted runners."""

    def hosted(config: dict) -> None:
        config["slipway:deploy"] = {"runner": "hosted", "runnerLabels": ["ubuntu-latest"]}

    root = project_copy(tmp_path, edit=hosted)
    proc = slipway_cli("check", "dev", "--format", "json", "--out", str(tmp_path / "out"), root=root)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    reach = [f for f in json.loads(proc.stdout) if f["check"] == "deployer-reaches-endpoint"]
    config = yaml.safe_load((root / "stacks" / "Pulumi.dev.yaml").read_text())["config"]
    cidrs = ", ".join(config["slipway:cluster"]["endpoint"]["publicAccessCidrs"])
    assert reach == [
        {
            "check": "deployer-reaches-endpoint",
            "severity": "mandatory",
            "resource": "slipway:deploy.runner",
            "message": f"'hosted' runners have no fixed egress addresses, and this stack's API server admits "
            f"{cidrs}: every Kubernetes call of `pulumi up` would time out",
            "fix": HOSTED_FIX,
        }
    ]


# --------------------------------------------------------------------------- shipped stacks


def parsed(name: str):
    return load_stack_file(name, ROOT).parse()


@pytest.mark.parametrize("name", shipped_stacks())
def test_shipped_stacks_declare_a_deployer_that_reaches_their_endpoint(name):
    cfg = parsed(name)
    assert cfg.deploy is not None, f"{name} declares no slipway:deploy"
    assert cfg.deploy.runner == "self-hosted"
    assert cfg.deploy.runner_labels == ["self-hosted", "slipway-deploy"]
    # Pull-request previews never run on the deploy runner.
    assert cfg.deploy.preview_runner_labels == ["self-hosted", "slipway-preview"]
    assert not cfg.deploy.preview_egress_cidrs  # the preview runner leaves through egressCidrs too
    endpoint = cfg.cluster.endpoint
    assert reachability_problems(cfg.deploy, endpoint.public_access, endpoint.public_access_cidrs) == []
    assert deploy_findings(cfg) == []


def test_shipped_stacks_admit_the_runner_egress_next_to_the_people():
    prod = parsed("prod").cluster.endpoint.public_access_cidrs
    dev = parsed("dev").cluster.endpoint.public_access_cidrs
    assert "198.51.100.0/24" in prod and "192.0.2.10/32" in prod  # the VPN stays; the runner is added
    assert "192.0.2.10/32" in dev
    assert parsed("prod").deploy.egress_cidrs == parsed("dev").deploy.egress_cidrs == ["192.0.2.10/32"]
