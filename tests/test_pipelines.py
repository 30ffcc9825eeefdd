"""The CI pipelines users copy: consistent with the stacks and the policy pack."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys

import yaml

from slipway.cli.render import ROOT

from tests.helpers import shipped_stacks

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
# preview`) run on the self-hosted runners that `slipway:deploy` declares — previews,
# which run branch code, on the preview runner, `pulumi up` on the deploy runner, never
# the other way round; the offline jobs stay on hosted runners, so fork pull requests
# still get them.

HOSTED = {"ubuntu-latest", "ubuntu-24.04", "ubuntu-22.04"}
SAME_REPO = "github.event.pull_request.head.repo.full_name == github.repository"
FROM_JSON = re.compile(r"^\$\{\{\s*fromJSON\('(?P<json>\[.*\])'\)\s*\}\}$")


def deploy_settings(stack: str):
    from slipway.program.config import LENIENT_IMAGES
    from slipway.program.stackfile import load_stack_file

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


def pulumi_command(job: dict) -> str:
    """`up` or `preview`: what a GitHub job runs through pulumi/actions."""
    (step,) = [s for s in job["steps"] if str(s.get("uses", "")).startswith("pulumi/actions@")]
    return step["with"]["command"]


def test_every_stack_declares_the_same_two_runners():
    labels = {
        (tuple(deploy_settings(s).runner_labels), tuple(deploy_settings(s).preview_runner_labels)) for s in stacks()
    }
    assert labels == {(("self-hosted", "slipway-deploy"), ("self-hosted", "slipway-preview"))}
    assert {deploy_settings(s).runner for s in stacks()} == {"self-hosted"}


def test_the_preview_and_deploy_runners_are_different_machines():
    """A job runs on any runner carrying all its labels: neither set may contain the other."""
    for stack in stacks():
        up, preview = set(deploy_settings(stack).runner_labels), set(deploy_settings(stack).preview_runner_labels)
        assert up - preview and preview - up, stack


def test_github_previews_run_on_the_preview_runner_and_up_on_the_deploy_runner():
    jobs = {key: job for key, job in github_jobs().items() if runs_pulumi(job)}
    assert set(jobs) == {("pull-request.yml", "preview"), ("pulumi-up.yml", "up")}
    assert {key: pulumi_command(job) for key, job in jobs.items()} == {
        ("pull-request.yml", "preview"): "preview",
        ("pulumi-up.yml", "up"): "up",
    }
    for stack in stacks():
        settings = deploy_settings(stack)
        preview = runner_labels(jobs["pull-request.yml", "preview"]["runs-on"])
        up = runner_labels(jobs["pulumi-up.yml", "up"]["runs-on"])
        assert preview == settings.preview_runner_labels == ["self-hosted", "slipway-preview"], stack
        assert up == settings.runner_labels == ["self-hosted", "slipway-deploy"], stack
        assert set(preview) != set(up)


def test_github_up_runs_only_for_main():
    up = load("pulumi-up.yml")["jobs"]["up"]
    assert up["if"] == "github.ref == 'refs/heads/main'"
    workflow = load("deploy.yml")
    assert workflow.get("on", workflow.get(True)) == {"push": {"branches": ["main"]}}
    # Nothing else calls pulumi-up.yml or runs on the deploy runner.
    callers = {key for key, job in github_jobs().items() if job.get("uses") == "./.github/workflows/pulumi-up.yml"}
    assert callers == {("deploy.yml", "dev"), ("deploy.yml", "prod")}
    on_deploy_runner = {key for key, job in github_jobs().items() if "slipway-deploy" in str(job.get("runs-on"))}
    assert on_deploy_runner == {("pulumi-up.yml", "up")}


# --------------------------------------------------------------------------- whose secrets
#
# Each stack's passphrase and roles live in GitHub environments, not repository secrets:
# preview-<stack> for a pull request's preview (preview-prod with reviewers), dev and
# production for `pulumi up` (deployment branches: main). A pull request never holds prod's
# passphrase unless someone approves preview-prod.


def test_github_jobs_that_read_secrets_run_in_an_environment():
    readers = {key: job for key, job in github_jobs().items() if "secrets." in yaml.safe_dump(job)}
    assert set(readers) == {("pull-request.yml", "preview"), ("pulumi-up.yml", "up")}
    for key, job in readers.items():
        assert job.get("environment"), key


def test_github_preview_runs_in_its_stacks_preview_environment():
    preview = load("pull-request.yml")["jobs"]["preview"]
    assert preview["environment"] == "preview-${{ matrix.stack }}"
    (gate,) = [s for s in preview["steps"] if s.get("id") == "gate"]
    assert "the environment $ENVIRONMENT" in gate["run"]
    assert gate["env"]["ENVIRONMENT"] == "preview-${{ matrix.stack }}"


def test_github_up_runs_in_the_stacks_deploy_environment():
    jobs = load("deploy.yml")["jobs"]
    assert {name: jobs[name]["with"]["environment"] for name in ("dev", "prod")} == {
        "dev": "dev",
        "prod": "production",
    }
    assert load("pulumi-up.yml")["jobs"]["up"]["environment"] == "${{ inputs.environment }}"


def test_self_hosted_jobs_leave_no_git_credentials_behind():
    for key, job in github_jobs().items():
        if "self-hosted" not in str(job.get("runs-on")):
            continue
        checkout = [s for s in job["steps"] if str(s.get("uses", "")).startswith("actions/checkout@")]
        assert checkout and all(s["with"]["persist-credentials"] is False for s in checkout), key


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


def test_gitlab_previews_run_on_the_preview_runner_and_up_on_the_deploy_runner():
    jobs = {name: job for name, job in gitlab_jobs().items() if gitlab_runs_pulumi(job)}
    assert set(jobs) == {"preview", "deploy-dev", "deploy-prod"}
    for stack in stacks():
        settings = deploy_settings(stack)
        # GitLab has no implicit `self-hosted` label: the runner is registered with the rest.
        preview = [label for label in settings.preview_runner_labels if label != "self-hosted"]
        up = [label for label in settings.runner_labels if label != "self-hosted"]
        assert jobs["preview"]["tags"] == preview == ["slipway-preview"], stack
        assert jobs["deploy-dev"]["tags"] == jobs["deploy-prod"]["tags"] == up == ["slipway-deploy"], stack
    assert ".pulumi" not in gitlab() or "tags" not in gitlab()[".pulumi"]  # each job names its runner


def test_gitlab_preview_never_runs_for_fork_merge_requests():
    (rule,) = gitlab_jobs()["preview"]["rules"]
    # Credentials are checked in before_script: environment-scoped variables may be
    # undefined when GitLab evaluates rules.
    assert rule["if"] == (
        '$CI_PIPELINE_SOURCE == "merge_request_event" && $CI_MERGE_REQUEST_SOURCE_PROJECT_ID == $CI_PROJECT_ID'
    )


def test_gitlab_preview_skips_cleanly_without_its_environments_credentials():
    preview = gitlab_jobs()["preview"]
    gate = preview["before_script"][0]
    assert isinstance(gate, str) and gate.strip().endswith("fi") and "exit 0" in gate
    for variable in ("AWS_PREVIEW_ROLE_ARN", "PULUMI_CONFIG_PASSPHRASE", "PULUMI_BACKEND_URL"):
        assert f'[ -z "${{{variable}:-}}" ]' in gate, variable
    # Then the same setup as every pulumi job (a nested list: GitLab flattens it).
    assert preview["before_script"][1:] == [gitlab()[".pulumi"]["before_script"]]


def test_gitlab_secrets_are_scoped_to_each_jobs_environment():
    jobs = gitlab_jobs()
    assert jobs["preview"]["environment"] == {"name": "preview/$STACK", "action": "prepare"}
    assert jobs["deploy-dev"]["environment"] == "dev"
    assert jobs["deploy-prod"]["environment"] == "production"
    for name in ("test", "check"):
        assert "environment" not in jobs[name], name


def test_gitlab_pulumi_jobs_use_no_shared_cache():
    for name, job in gitlab_jobs().items():
        if gitlab_runs_pulumi(job):
            assert job["cache"] == [], name
            assert job["variables"]["PIP_NO_CACHE_DIR"] == "1" and job["variables"]["GIT_STRATEGY"] == "clone", name
    setup = gitlab()[".pulumi"]["before_script"]
    assert 'python -m venv --clear .venv && .venv/bin/pip install -q -e ".[policy]" awscli' in setup


def test_gitlab_offline_jobs_run_on_shared_runners():
    jobs = gitlab_jobs()
    offline = {name for name, job in jobs.items() if not gitlab_runs_pulumi(job)}
    assert offline == {"test", "check"}
    for name in offline:
        assert "tags" not in jobs[name] and "rules" not in jobs[name], name


def setup_action() -> dict:
    return yaml.safe_load((ROOT / ".github" / "actions" / "setup-slipway" / "action.yml").read_text())


def test_setup_action_installs_the_aws_cli_into_the_jobs_venv():
    """The kubeconfig runs `aws eks get-token` with the job's role: never a runner's own `aws`."""
    steps = setup_action()["runs"]["steps"]
    (install,) = [s for s in steps if "awscli" in s.get("run", "")]
    assert '"$PYTHON" -m venv --clear .venv' in install["run"]
    assert '.venv/bin/python -m pip install --quiet -e ".[$EXTRAS]" awscli' in install["run"]
    assert 'echo "$PWD/.venv/bin" >> "$GITHUB_PATH"' in install["run"]  # first on PATH from the next step
    (verify,) = [s for s in steps if "command -v aws" in s.get("run", "")]
    assert '"$(command -v aws)" != "$PWD/.venv/bin/aws"' in verify["run"] and "exit 1" in verify["run"]
    text = yaml.safe_dump(setup_action())
    for reused in ("RUNNER_TOOL_CACHE", "awscli-exe-linux", "command -v aws >/dev/null"):
        assert reused not in text, reused


def test_setup_action_takes_nothing_from_a_self_hosted_runners_caches():
    steps = setup_action()["runs"]["steps"]
    (python,) = [s for s in steps if str(s.get("uses", "")).startswith("actions/setup-python@")]
    # setup-python installs into AGENT_TOOLSDIRECTORY when set: this job's RUNNER_TEMP on self-hosted runners.
    assert python["env"]["AGENT_TOOLSDIRECTORY"] == (
        "${{ runner.environment != 'github-hosted' && format('{0}/python-toolcache', runner.temp) || '' }}"
    )
    assert python["with"]["cache"] == "${{ runner.environment == 'github-hosted' && 'pip' || '' }}"
    (install,) = [s for s in steps if "awscli" in s.get("run", "")]
    assert install["run"].startswith('if [ "${RUNNER_ENVIRONMENT:-}" != "github-hosted" ]; then')
    assert "export PIP_NO_CACHE_DIR=1" in install["run"]
    assert 'echo "PULUMI_HOME=$RUNNER_TEMP/pulumi-home" >> "$GITHUB_ENV"' in install["run"]


def test_setup_action_can_use_the_runners_own_python():
    """actions/setup-python supports only GitHub's images' operating systems (Ubuntu on Linux)."""
    action = setup_action()
    assert action["inputs"]["python"]["default"] == "setup-python"
    steps = action["runs"]["steps"]
    (python,) = [s for s in steps if str(s.get("uses", "")).startswith("actions/setup-python@")]
    assert python["if"] == "inputs.python == 'setup-python'"
    (install,) = [s for s in steps if "awscli" in s.get("run", "")]
    assert install["env"]["PYTHON"] == (
        "${{ inputs.python == 'setup-python' && steps.setup-python.outputs.python-path || inputs.python }}"
    )
    assert "sys.version_info < (3, 11)" in install["run"]


def test_setup_action_python_gate(tmp_path):
    """The version check the action runs on the chosen interpreter."""
    (install,) = [s for s in setup_action()["runs"]["steps"] if "awscli" in s.get("run", "")]
    (gate,) = [line for line in install["run"].splitlines() if "sys.version_info" in line]
    command = gate.split(" || ")[0].replace('"$PYTHON"', "python")
    bash = shutil.which("bash")
    assert bash
    proc = subprocess.run([bash, "-c", command], capture_output=True, text=True, env={"PATH": str(tmp_path)})
    assert proc.returncode != 0  # no python on PATH at all
    (tmp_path / "python").symlink_to(sys.executable)
    proc = subprocess.run([bash, "-c", command], capture_output=True, text=True, env={"PATH": str(tmp_path)})
    assert proc.returncode == (0 if sys.version_info >= (3, 11) else 1), proc.stderr


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
