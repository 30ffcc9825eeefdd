"""The CI pipelines users copy: consistent with the stacks and the policy pack."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys

import pytest
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
    from slipway.program.stackfile import load_stack_file

    return load_stack_file(stack, ROOT).parse().deploy


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
    assert set(offline) == {
        ("pull-request.yml", "offline"),
        ("pull-request.yml", "plan"),
        ("deploy.yml", "offline"),
        ("plan-comment.yml", "comment"),
    }
    for key, job in offline.items():
        assert set(runner_labels(job["runs-on"])) <= HOSTED, key
        if key != ("plan-comment.yml", "comment"):  # fork pull requests only, by design (below)
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
    for name in ("test", "check", "plan"):
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
    assert offline == {"test", "check", "plan"}
    for name in offline:
        assert "tags" not in jobs[name], name
    assert "rules" not in jobs["test"] and "rules" not in jobs["check"]
    # Every merge request, forks' included: no condition on the source project.
    assert jobs["plan"]["rules"] == [{"if": '$CI_PIPELINE_SOURCE == "merge_request_event"'}]


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


def test_every_pulumi_up_and_preview_refreshes_first():
    """An autoscaler owns the node groups' desiredSize; Pulumi ignores it (ignoreChanges) but sends
    the value from state with any scaling change, so state must hold the live value: refresh."""
    up = load("pulumi-up.yml")["jobs"]["up"]
    step = next(s for s in up["steps"] if str(s.get("uses", "")).startswith("pulumi/actions@"))
    assert step["with"]["refresh"] is True
    preview = next(
        s for s in load("pull-request.yml")["jobs"]["preview"]["steps"]
        if str(s.get("uses", "")).startswith("pulumi/actions@")
    )  # fmt: skip
    assert preview["with"]["command"] == "preview" and preview["with"]["refresh"] is True
    lines = [x for job in gitlab_jobs().values() for x in job.get("script", []) if "pulumi up" in x or
             x.lstrip("- ").startswith("pulumi preview")]  # fmt: skip
    assert len(lines) == 3 and all("--refresh" in x for x in lines), lines


def test_deploy_grants_the_called_workflow_its_oidc_token():
    """A called workflow cannot exceed its caller's permissions (GitHub rejects the run)."""
    up = load("pulumi-up.yml")["jobs"]["up"]
    assert up["permissions"]["id-token"] == "write"
    for name in ("dev", "prod"):
        assert load("deploy.yml")["jobs"][name]["permissions"] == {"contents": "read", "id-token": "write"}, name


# --------------------------------------------------------------------------- slipway plan
#
# Every pull/merge request, forks included, gets `slipway plan` against its target branch
# and one comment (note) holding it, updated on each push. No credentials: hosted runners.
# A fork's GitHub token is read-only, so plan-comment.yml posts for forks, on
# `workflow_run`, from the plan job's artifact, without checking out or running its code.

MARKER = "<!-- slipway-plan -->"


def plan_job() -> dict:
    return load("pull-request.yml")["jobs"]["plan"]


def plan_step(job: dict) -> dict:
    (step,) = [s for s in job["steps"] if s.get("id") == "plan"]
    return step


def comment_script(steps: list[dict]) -> str:
    (step,) = [s for s in steps if str(s.get("uses", "")).startswith("actions/github-script@")]
    return step["with"]["script"]


def test_pr_plan_runs_for_forks_without_secrets():
    job = plan_job()
    assert set(runner_labels(job["runs-on"])) <= HOSTED
    assert "if" not in job and "environment" not in job and "needs" not in job
    text = yaml.safe_dump(job)
    assert "secrets." not in text and "id-token" not in text
    # Write access only to comment; GitHub makes it read-only for a fork's pull request.
    assert job["permissions"] == {"contents": "read", "pull-requests": "write"}


def test_pr_plan_fetches_history_and_plans_every_stack_against_the_target_branch():
    job = plan_job()
    (checkout,) = [s for s in job["steps"] if str(s.get("uses", "")).startswith("actions/checkout@")]
    assert checkout["with"] == {"fetch-depth": 0, "persist-credentials": False}
    assert any(s.get("uses") == "./.github/actions/setup-slipway" for s in job["steps"])
    step = plan_step(job)
    assert step["env"]["BASE_REF"] == "${{ github.base_ref }}"  # through env: no expression in the script
    assert "${{" not in step["run"]
    assert "for file in stacks/Pulumi.*.yaml; do" in step["run"]
    assert './dev plan "$stack" --base "origin/$BASE_REF" --format markdown' in step["run"]
    assert '>> "$GITHUB_STEP_SUMMARY"' in step["run"] and MARKER in step["run"]


def run_plan_script(script: str, tmp_path, env: dict[str, str], codes: dict[str, int]) -> subprocess.CompletedProcess:
    """`script` (a plan step) in a project whose `./dev plan` is a stub: each stack prints a
    report, or fails, with the exit code `codes` gives it."""
    (tmp_path / "stacks").mkdir()
    for stack in codes:
        (tmp_path / "stacks" / f"Pulumi.{stack}.yaml").write_text("config: {}\n")
    dev = tmp_path / "dev"
    dev.write_text(
        "#!/bin/sh\n"
        'echo "$*" >> calls.log\n'
        + "".join(
            f'[ "$2" = {stack} ] && {{ echo "### slipway plan \\`{stack}\\`"; echo "render log of {stack}" >&2; '
            f"exit {code}; }}\n"
            for stack, code in codes.items()
        )
        + "exit 9\n"
    )
    dev.chmod(0o755)
    bash = shutil.which("bash")
    assert bash
    return subprocess.run(
        [bash, "--noprofile", "--norc", "-eo", "pipefail", "-c", script],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", **env},
    )


def test_pr_plan_keeps_the_comment_when_a_plan_fails_and_fails_last(tmp_path):
    """A blocking plan (exit 1) and a failed one (exit 3) both end up in the comment and the
    summary; the step itself passes, and the job's last step fails on the status."""
    job = plan_job()
    summary, output = tmp_path / "summary.md", tmp_path / "output"
    env = {"BASE_REF": "main", "PR_NUMBER": "42", "RUN_URL": "https://example.test/run/1"}
    env |= {"GITHUB_STEP_SUMMARY": str(summary), "GITHUB_OUTPUT": str(output)}
    proc = run_plan_script(plan_step(job)["run"], tmp_path, env, {"dev": 1, "prod": 3, "stage": 0})
    assert proc.returncode == 0, proc.stderr
    calls = (tmp_path / "calls.log").read_text().splitlines()
    assert sorted(calls) == [f"plan {s} --base origin/main --format markdown" for s in ("dev", "prod", "stage")]
    comment = (tmp_path / "plan" / "comment.md").read_text()
    assert comment.startswith(MARKER + "\n") and comment.count(MARKER) == 1
    assert "### slipway plan `dev`" in comment and "### slipway plan `stage`" in comment
    assert "### slipway plan `prod`: failed (exit 3)" in comment and "render log of prod" in comment
    assert "render log of dev" not in comment, "a plan's own report, not its log"
    assert summary.read_text() == comment
    assert (tmp_path / "plan" / "pr-number").read_text() == "42\n"
    assert output.read_text() == "status=3\n"  # the highest exit code
    names = [s.get("name", s.get("uses")) for s in job["steps"]]
    upload, post, fail = (
        next(s for s in job["steps"] if s.get("name", "").startswith(w)) for w in ("Keep", "Post", "Fail")
    )
    assert names.index(upload["name"]) < names.index(post["name"]) < names.index(fail["name"]) == len(names) - 1
    assert upload["if"] == "always()" and upload["with"]["name"] == "slipway-plan"
    assert fail["if"] == "steps.plan.outputs.status != '0'" and "exit 1" in fail["run"]


def test_pr_plan_step_passes_a_clean_plan(tmp_path):
    output = tmp_path / "output"
    env = {"BASE_REF": "main", "PR_NUMBER": "7", "RUN_URL": "u"}
    env |= {"GITHUB_STEP_SUMMARY": str(tmp_path / "s"), "GITHUB_OUTPUT": str(output)}
    proc = run_plan_script(plan_step(plan_job())["run"], tmp_path, env, {"dev": 0, "prod": 0})
    assert proc.returncode == 0, proc.stderr
    assert output.read_text() == "status=0\n"


def test_fork_plan_comments_come_from_workflow_run_without_pr_code():
    workflow = load("plan-comment.yml")
    assert workflow.get("on", workflow.get(True)) == {
        "workflow_run": {"workflows": [load("pull-request.yml")["name"]], "types": ["completed"]}
    }
    assert workflow["permissions"] == {}
    (job,) = workflow["jobs"].values()
    assert job["permissions"] == {"actions": "read", "pull-requests": "write"}
    assert job["if"] == (
        "github.event.workflow_run.event == 'pull_request' && "
        "github.event.workflow_run.head_repository.full_name != github.repository"
    )
    # Nothing of the pull request's is checked out or run: an artifact, read as data.
    for step in job["steps"]:
        assert "run" not in step, step
        assert str(step["uses"]).startswith(("actions/download-artifact@", "actions/github-script@")), step
    (download,) = [s for s in job["steps"] if s["uses"].startswith("actions/download-artifact@")]
    assert download["with"]["run-id"] == "${{ github.event.workflow_run.id }}"
    assert download["with"]["name"] == "slipway-plan" and download["with"]["path"].startswith("${{ runner.temp }}")
    (post,) = [s for s in job["steps"] if s["uses"].startswith("actions/github-script@")]
    assert post["env"]["HEAD_SHA"] == "${{ github.event.workflow_run.head_sha }}"
    assert "secrets." not in yaml.safe_dump(workflow)


def test_one_comment_script_for_both_paths():
    """The plan job posts for pull requests from this repository, plan-comment.yml for forks:
    never both, and with the same script."""
    job = plan_job()
    (post,) = [s for s in job["steps"] if str(s.get("uses", "")).startswith("actions/github-script@")]
    assert post["if"] == (
        "always() && steps.plan.outcome == 'success' && "
        "github.event.pull_request.head.repo.full_name == github.repository"
    )
    assert post["env"]["HEAD_SHA"] == "${{ github.event.pull_request.head.sha }}"
    (fork,) = load("plan-comment.yml")["jobs"].values()
    assert comment_script(job["steps"]) == comment_script(fork["steps"])
    assert MARKER in comment_script(job["steps"])


NODE_HARNESS = """
const fs = require('fs');
const script = fs.readFileSync(process.argv[2], 'utf8');
const state = JSON.parse(fs.readFileSync(process.argv[3], 'utf8'));
const calls = [];
const pulls = {
  get: async (a) => {
    calls.push(['get', a.pull_number]);
    return { data: { number: a.pull_number, head: { sha: state.head } } };
  },
};
const issues = {
  listComments: 'listComments',
  updateComment: async (a) => { calls.push(['update', a.comment_id, a.body]); return { data: {} }; },
  createComment: async (a) => { calls.push(['create', a.issue_number, a.body]); return { data: { html_url: 'u' } }; },
};
const paginate = async (fn, a) => { calls.push(['list', a.issue_number]); return state.comments; };
const github = { rest: { pulls, issues }, paginate };
const core = { setFailed: (m) => calls.push(['failed', m]), notice: (m) => calls.push(['notice', m]), info: () => {} };
const context = { repo: { owner: 'o', repo: 'r' } };
const AsyncFunction = Object.getPrototypeOf(async function () {}).constructor;
new AsyncFunction('require', 'github', 'context', 'core', script)(require, github, context, core)
  .then(() => console.log(JSON.stringify(calls)), (e) => { console.error(e); process.exit(1); });
"""


@pytest.mark.skipif(shutil.which("node") is None, reason="needs node (GitHub's runners have it)")
def test_comment_script_creates_then_updates_one_comment(tmp_path):
    node = shutil.which("node")
    assert node
    script = comment_script(plan_job()["steps"])
    (tmp_path / "script.js").write_text(script)
    (tmp_path / "harness.js").write_text(NODE_HARNESS)
    plan_dir = tmp_path / "plan"
    plan_dir.mkdir()

    def run(number: str, body: str, comments: list[dict], head: str = "abc") -> list:
        (plan_dir / "pr-number").write_text(number + "\n")
        (plan_dir / "comment.md").write_text(body)
        (tmp_path / "state.json").write_text(json.dumps({"head": "abc", "comments": comments}))
        env = {"PATH": "/usr/bin:/bin", "PLAN_DIR": str(plan_dir), "HEAD_SHA": head, "RUN_URL": "https://run"}
        proc = subprocess.run(
            [node, "harness.js", "script.js", "state.json"], cwd=tmp_path, capture_output=True, text=True, env=env
        )
        assert proc.returncode == 0, proc.stderr
        return json.loads(proc.stdout)

    body = MARKER + "\n### slipway plan `dev`\n"
    others = [
        {"id": 1, "user": {"login": "someone"}, "body": MARKER + " quoted"},
        {"id": 2, "user": {"login": "github-actions[bot]"}, "body": "another bot comment"},
    ]
    assert run("12", body, others) == [["get", 12], ["list", 12], ["create", 12, body]]
    mine = {"id": 3, "user": {"login": "github-actions[bot]"}, "body": MARKER + "\nold plan"}
    assert run("12", body, [*others, mine]) == [["get", 12], ["list", 12], ["update", 3, body]]
    # A newer push moved the pull request on: this plan is stale, nothing is written.
    assert run("12", body, [mine], head="old")[-1][0] == "notice"
    # The number comes from the pull request's artifact: a number, or nothing is done.
    assert run("12; rm -rf /", body, [])[0][0] == "failed"
    # Over GitHub's size: cut at a line, open <details> closed, the marker kept once.
    long = "<details><summary>x</summary>\n\n" + "| row |\n" * 20000
    [*_, (action, _, posted)] = run("12", MARKER + "\n" + long, [])
    assert action == "create" and len(posted) <= 65536 and posted.count(MARKER) == 1
    assert posted.startswith(MARKER) and "</details>" in posted and "cut to fit" in posted


# --------------------------------------------------------------------------- slipway plan on GitLab


def test_gitlab_plans_every_merge_request_against_its_target_branch():
    job = gitlab_jobs()["plan"]
    assert job["variables"]["GIT_DEPTH"] == "0"  # the whole history
    assert job["needs"] == []  # beside the tests, not after them
    script = "\n".join(job["script"])
    assert 'git fetch --quiet origin "+refs/heads/$target:refs/remotes/origin/$target"' in script
    assert 'target="$CI_MERGE_REQUEST_TARGET_BRANCH_NAME"' in script and 'base="origin/$target"' in script
    assert './dev plan "$stack" --base "$base" --format markdown' in script
    assert job["artifacts"] == {"when": "always", "paths": ["plan-report.md"], "expose_as": "slipway plan"}
    assert 'if [ -z "${GITLAB_PLAN_TOKEN:-}" ]; then' in script  # no token: a notice, no note
    assert "$" not in job["variables"]["PLAN_NOTE"], "GitLab expands $ in variables"


def gitlab_plan_script(*keep: str) -> str:
    """The plan job's script entries that contain one of `keep`, as one bash script."""
    return "\n".join(line for line in gitlab_jobs()["plan"]["script"] if any(k in line for k in keep))


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_gitlab_plan_bases_a_detached_pipeline_on_the_merge_base(tmp_path):
    """A plain merge request pipeline runs the branch unmerged: its base is where it left the
    target, not the target's tip (whose newer commits would show as undone)."""
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@t", "-c", "init.defaultBranch=main"]
    upstream, work = tmp_path / "upstream", tmp_path / "work"
    for args in (["init", "-q", str(upstream)], ["-C", str(upstream), "commit", "-q", "--allow-empty", "-m", "a"]):
        subprocess.run([*git, *args], check=True)
    subprocess.run([*git, "clone", "-q", str(upstream), str(work)], check=True)
    fork_point = subprocess.run([*git, "-C", str(work), "rev-parse", "HEAD"], capture_output=True, text=True).stdout
    subprocess.run([*git, "-C", str(work), "commit", "-q", "--allow-empty", "-m", "branch"], check=True)
    subprocess.run([*git, "-C", str(upstream), "commit", "-q", "--allow-empty", "-m", "main moved on"], check=True)
    tip = subprocess.run([*git, "-C", str(upstream), "rev-parse", "HEAD"], capture_output=True, text=True).stdout
    script = gitlab_plan_script("git fetch") + '\necho "$base"'
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "CI_PROJECT_ID": "1", "CI_MERGE_REQUEST_PROJECT_ID": "1"}
    env["CI_MERGE_REQUEST_TARGET_BRANCH_NAME"] = "main"
    for event, expected in (("detached", fork_point.strip()), ("merged_result", "origin/main")):
        proc = subprocess.run(
            ["bash", "-eo", "pipefail", "-c", script],
            cwd=work,
            capture_output=True,
            text=True,
            env={**env, "CI_MERGE_REQUEST_EVENT_TYPE": event},
        )
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout.strip() == expected, event
    fetched = subprocess.run([*git, "-C", str(work), "rev-parse", "origin/main"], capture_output=True, text=True)
    assert fetched.stdout == tip


def test_gitlab_plan_notes_once_and_fails_last(tmp_path):
    """The report holds every stack; without a token a notice, no note; the job fails on a
    blocking or failed plan only after that."""
    script = "export target base\n" + gitlab_plan_script("for file in stacks", "GITLAB_PLAN_TOKEN", '"$status" -ne 0')
    env = {"target": "main", "base": "origin/main", "CI_JOB_URL": "https://job"}
    blocked, clean = tmp_path / "blocked", tmp_path / "clean"
    blocked.mkdir(), clean.mkdir()
    proc = run_plan_script(script, blocked, env, {"dev": 1, "prod": 0})
    assert proc.returncode == 1
    report = (blocked / "plan-report.md").read_text()
    assert report.startswith(MARKER + "\n") and report.count(MARKER) == 1
    assert "### slipway plan `dev`" in report and "### slipway plan `prod`" in report
    assert "GITLAB_PLAN_TOKEN is not set" in proc.stdout and "exited 1" in proc.stdout
    proc = run_plan_script(script, clean, env, {"dev": 0})
    assert proc.returncode == 0, proc.stderr


def test_gitlab_plan_note_is_created_then_updated(tmp_path):
    """PLAN_NOTE against a stand-in for GitLab's API: one note, found by author and marker."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    notes: list[dict] = [
        {"id": 1, "author": {"id": 5}, "body": MARKER + " by someone else"},
        {"id": 2, "author": {"id": 9}, "body": "the bot, another note"},
    ]
    seen: list[tuple[str, str, str | None]] = []

    class API(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def reply(self, data: object, headers: dict[str, str] | None = None) -> None:
            raw = json.dumps(data).encode()
            self.send_response(200)
            for key, value in {"Content-Type": "application/json", **(headers or {})}.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        def do_GET(self) -> None:
            seen.append(("GET", self.path, self.headers["PRIVATE-TOKEN"]))
            if self.path == "/api/v4/user":
                return self.reply({"id": 9})
            page = int(self.path.rsplit("page=", 1)[1])  # one note a page: the paging is followed
            more = {"X-Next-Page": str(page + 1)} if page < len(notes) else {"X-Next-Page": ""}
            return self.reply(notes[page - 1 : page], more)

        def write(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))["body"]
            seen.append((self.command, self.path, body))
            if self.command == "POST":
                notes.append({"id": 3, "author": {"id": 9}, "body": body})
            self.reply({"id": 3})

        do_POST = do_PUT = write

    server = ThreadingHTTPServer(("127.0.0.1", 0), API)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        env = {
            "PATH": "/usr/bin:/bin",
            "NO_PROXY": "*",
            "CI_API_V4_URL": f"http://127.0.0.1:{server.server_address[1]}/api/v4",
            "CI_MERGE_REQUEST_PROJECT_ID": "77",
            "CI_MERGE_REQUEST_IID": "4",
            "GITLAB_PLAN_TOKEN": "glpat-test",
        }
        code = gitlab_jobs()["plan"]["variables"]["PLAN_NOTE"]
        for body in ("first plan", "second plan"):
            (tmp_path / "plan-report.md").write_text(MARKER + "\n" + body)
            proc = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, env=env)
            assert proc.returncode == 0, proc.stderr
    finally:
        server.shutdown()
    writes = [(method, path, body) for method, path, body in seen if method in ("POST", "PUT")]
    assert writes == [
        ("POST", "/api/v4/projects/77/merge_requests/4/notes", MARKER + "\nfirst plan"),
        ("PUT", "/api/v4/projects/77/merge_requests/4/notes/3", MARKER + "\nsecond plan"),
    ]
    assert {token for method, _, token in seen if method == "GET"} == {"glpat-test"}
