"""The CI pipelines users copy: consistent with the stacks and the policy pack."""

from __future__ import annotations

import yaml

from infra.render import ROOT
from tests.conftest import shipped_stacks

WORKFLOWS = ROOT / ".github" / "workflows"


def stacks() -> set[str]:
    return set(shipped_stacks())


def load(name: str) -> dict:
    return yaml.safe_load((WORKFLOWS / name).read_text())


def test_pr_previews_every_stack_with_the_policy_pack():
    preview = load("pull-request.yml")["jobs"]["preview"]
    assert set(preview["strategy"]["matrix"]["stack"]) == stacks()
    assert preview["permissions"] == {"contents": "read", "id-token": "write", "pull-requests": "write"}
    step = next(s for s in preview["steps"] if str(s.get("uses", "")).startswith("pulumi/actions@"))
    assert step["with"]["command"] == "preview" and step["with"]["comment-on-pr"] is True
    assert step["with"]["edit-pr-comment"] is True and step["with"]["policyPacks"] == "policies"
    assert step["if"] == "steps.gate.outputs.enabled == 'true'"  # skips cleanly without credentials


def test_offline_job_needs_no_credentials():
    offline = load("pull-request.yml")["jobs"]["offline"]
    text = yaml.safe_dump(offline)
    assert "secrets." not in text and "id-token" not in text
    assert any(s.get("run") == "./dev test" for s in offline["steps"])


def test_deploy_runs_dev_then_prod_behind_an_environment():
    jobs = load("deploy.yml")["jobs"]
    assert jobs["dev"]["needs"] == "offline" and jobs["prod"]["needs"] == "dev"
    assert jobs["prod"]["with"] == {"stack": "prod", "environment": "production"}
    up = load("pulumi-up.yml")["jobs"]["up"]
    assert up["environment"] == "${{ inputs.environment }}"


def test_policy_pack_configs_exist_for_every_stack():
    for stack in stacks():
        assert (ROOT / "policies" / "config" / f"{stack}.json").exists(), stack


def test_gitlab_has_the_same_stages():
    ci = yaml.safe_load((ROOT / ".gitlab-ci.yml").read_text())
    assert ci["stages"] == ["test", "check", "preview", "deploy"]
    assert {s for m in ci["preview"]["parallel"]["matrix"] for s in m["STACK"]} == stacks()
    assert ci["deploy-prod"]["rules"][0]["when"] == "manual" and ci["deploy-prod"]["needs"] == ["deploy-dev"]
    assert ci[".pulumi"]["id_tokens"]["AWS_WEB_IDENTITY_TOKEN"]["aud"] == "sts.amazonaws.com"
