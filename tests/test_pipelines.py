"""The CI pipelines users copy: consistent with the stacks and the policy pack."""

from __future__ import annotations

import json
import re
import subprocess
import sys

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


# --------------------------------------------------------------------------- where the jobs run
#
# The stacks' API endpoints admit only their publicAccessCidrs, and hosted runners have no
# fixed egress addresses: the jobs that talk to the clusters (`pulumi up`, `pulumi
# preview`) run on the self-hosted runner that `slipway:deploy` declares; the offline
# jobs stay on hosted runners, so fork pull requests still get them.

HOSTED = {"ubuntu-latest", "ubuntu-24.04", "ubuntu-22.04"}
SAME_REPO = "github.event.pull_request.head.repo.full_name == github.repository"
FROM_JSON = re.compile(r"^\$\{\{\s*fromJSON\('(?P<json>\[.*\])'\)\s*\}\}$")


def deploy_settings(stack: str):
    from infra.config import LENIENT_IMAGES
    from infra.stackfile import load_stack_file

    token = LENIENT_IMAGES.set(True)
    try:
        return load_stack_file(stack, ROOT).parse().deploy
    finally:
        LENIENT_IMAGES.reset(token)


def runner_labels(runs_on: object) -> list[str]:
    """A job's `runs-on` as labels: a list, one label, or a constant `fromJSON('[...]')`."""
    if isinstance(runs_on, list):
        return runs_on
    match = FROM_JSON.match(str(runs_on))
    if match:
        return json.loads(match["json"])
    assert "${{" not in str(runs_on), f"runs-on {runs_on!r} is not a constant"
    return [str(runs_on)]


def github_jobs() -> dict[tuple[str, str], dict]:
    return {(f.name, name): job for f in sorted(WORKFLOWS.glob("*.yml")) for name, job in load(f.name)["jobs"].items()}


def runs_pulumi(job: dict) -> bool:
    steps = job.get("steps", [])
    return any(
        str(s.get("uses", "")).startswith("pulumi/actions@") or "pulumi " in str(s.get("run", "")) for s in steps
    )


def gitlab() -> dict:
    return yaml.safe_load((ROOT / ".gitlab-ci.yml").read_text())


def gitlab_job(ci: dict, name: str) -> dict:
    """A job with its `extends` templates merged in (top-level keys, as GitLab does)."""
    job = ci[name]
    merged: dict = {}
    for parent in [job["extends"]] if isinstance(job.get("extends"), str) else job.get("extends", []):
        merged |= gitlab_job(ci, parent)
    return merged | {k: v for k, v in job.items() if k != "extends"}


def gitlab_jobs() -> dict[str, dict]:
    ci = gitlab()
    return {name: gitlab_job(ci, name) for name, job in ci.items() if isinstance(job, dict) and "stage" in job}


def gitlab_runs_pulumi(job: dict) -> bool:
    return any(re.search(r"\bpulumi (up|preview)\b", line) for line in job.get("script", []))


def test_every_stack_declares_the_same_deploy_runner():
    labels = {tuple(deploy_settings(s).runner_labels) for s in stacks()}
    assert labels == {("self-hosted", "slipway-deploy")}
    assert {deploy_settings(s).runner for s in stacks()} == {"self-hosted"}


def test_github_pulumi_jobs_run_on_the_stacks_deploy_runner():
    jobs = {key: job for key, job in github_jobs().items() if runs_pulumi(job)}
    assert set(jobs) == {("pull-request.yml", "preview"), ("pulumi-up.yml", "up")}
    for key, job in jobs.items():
        for stack in stacks():
            assert runner_labels(job["runs-on"]) == deploy_settings(stack).runner_labels, (key, stack)


def test_github_preview_never_runs_for_fork_pull_requests():
    workflow = load("pull-request.yml")
    assert set(workflow.get("on", workflow.get(True))) == {"pull_request"}  # not pull_request_target
    assert workflow["jobs"]["preview"]["if"] == SAME_REPO


def test_github_offline_jobs_run_on_hosted_runners():
    offline = {key: job for key, job in github_jobs().items() if "steps" in job and not runs_pulumi(job)}
    assert set(offline) == {("pull-request.yml", "offline"), ("deploy.yml", "offline")}
    for key, job in offline.items():
        assert set(runner_labels(job["runs-on"])) <= HOSTED, key
        assert "if" not in job, key  # fork pull requests get them too


def test_gitlab_pulumi_jobs_run_on_the_stacks_deploy_runner():
    jobs = {name: job for name, job in gitlab_jobs().items() if gitlab_runs_pulumi(job)}
    assert set(jobs) == {"preview", "deploy-dev", "deploy-prod"}
    for name, job in jobs.items():
        for stack in stacks():
            # GitLab has no implicit `self-hosted` label: the runner is registered with the rest.
            wanted = [label for label in deploy_settings(stack).runner_labels if label != "self-hosted"]
            assert job["tags"] == wanted == ["slipway-deploy"], (name, stack)


def test_gitlab_preview_never_runs_for_fork_merge_requests():
    (rule,) = gitlab_jobs()["preview"]["rules"]
    assert rule["if"] == (
        '$CI_PIPELINE_SOURCE == "merge_request_event" && $CI_MERGE_REQUEST_SOURCE_PROJECT_ID == $CI_PROJECT_ID'
        " && $AWS_PREVIEW_ROLE_ARN && $PULUMI_CONFIG_PASSPHRASE"
    )


def test_gitlab_offline_jobs_run_on_shared_runners():
    jobs = gitlab_jobs()
    offline = {name for name, job in jobs.items() if not gitlab_runs_pulumi(job)}
    assert offline == {"test", "check"}
    for name in offline:
        assert "tags" not in jobs[name] and "rules" not in jobs[name], name


def test_setup_action_installs_the_aws_cli_the_kubeconfig_calls():
    action = yaml.safe_load((ROOT / ".github" / "actions" / "setup-slipway" / "action.yml").read_text())
    steps = action["runs"]["steps"]
    assert any(str(s.get("uses", "")).startswith("actions/setup-python@") for s in steps)
    (aws,) = [s for s in steps if "awscli-exe-linux" in s.get("run", "")]
    assert aws["run"].startswith("if command -v aws >/dev/null 2>&1; then")
    assert 'echo "$dir/bin" >> "$GITHUB_PATH"' in aws["run"]


def test_pulumi_up_passes_the_stacks_max_parallel():
    up = load("pulumi-up.yml")["jobs"]["up"]
    (read,) = [s for s in up["steps"] if s.get("id") == "deploy"]
    step = next(s for s in up["steps"] if str(s.get("uses", "")).startswith("pulumi/actions@"))
    assert step["with"]["parallel"] == "${{ steps.deploy.outputs.parallel }}"
    ci = gitlab()
    assert ci["variables"]["PARALLEL_OF"] == read["env"]["PARALLEL_OF"]
    for stack in stacks():
        (line,) = [x for x in gitlab_jobs()[f"deploy-{stack}"]["script"] if "pulumi up" in x]
        assert f'--parallel "$(python -c "$PARALLEL_OF" {stack})"' in line
        proc = subprocess.run(
            [sys.executable, "-c", read["env"]["PARALLEL_OF"], stack], capture_output=True, text=True, cwd=ROOT
        )
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout == f"{deploy_settings(stack).max_parallel}\n"


def test_deploy_grants_the_called_workflow_its_oidc_token():
    """A called workflow cannot exceed its caller's permissions (GitHub rejects the run)."""
    up = load("pulumi-up.yml")["jobs"]["up"]
    assert up["permissions"]["id-token"] == "write"
    for name in ("dev", "prod"):
        assert load("deploy.yml")["jobs"][name]["permissions"] == {"contents": "read", "id-token": "write"}, name
