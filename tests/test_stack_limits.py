"""Review fixes for issue 14: stack files Pulumi would refuse, AWS's hard limits on tags and
inline policies, and reports that still come out (with a verdict) when a stack is refused."""

from __future__ import annotations

import json

import pytest

from slipway.cli.render import ROOT
from slipway.program.config import ConfigError
from slipway.program.stackfile import load_stack_file

from tests.helpers import project_copy, slipway_cli


def refused(root, stack: str = "dev") -> list[str]:
    with pytest.raises(ConfigError) as exc:
        load_stack_file(stack, root).checked()
    return exc.value.messages


def test_a_key_without_a_namespace_is_refused_as_pulumi_refuses_it(tmp_path):
    # sdk/go/common/resource/config/key.go ParseKey: keys are `<namespace>:<name>`.
    root = project_copy(tmp_path, append="  clusterName: other-name\n")
    assert refused(root) == [
        "Pulumi.dev.yaml: key 'clusterName' has no namespace, and Pulumi only reads `<namespace>:<name>` keys — "
        "write it as `slipway:clusterName` (or `aws:clusterName` for the AWS provider)"
    ]


def test_the_old_config_form_of_a_key_counts_as_the_same_key(tmp_path):
    root = project_copy(tmp_path, append="  slipway:config:clusterName: other-name\n")
    assert refused(root) == [
        "Pulumi.dev.yaml: slipway:clusterName is set twice (as 'slipway:config:clusterName' too) and one would "
        "silently win — keep one"
    ]


def test_a_stack_file_that_is_not_a_mapping_is_a_config_error_and_never_breaks_its_siblings(tmp_path):
    root = project_copy(tmp_path)
    (root / "stacks" / "Pulumi.junk.yaml").write_text("- a\n")
    assert refused(root, "junk") == [
        "Pulumi.junk.yaml: is a YAML list, not a stack file — write a mapping with a `config:` key (see "
        "stacks/Pulumi.dev.yaml)"
    ]
    assert load_stack_file("dev", root).checked().cfg.cluster_name == "slipway-dev"  # dev still validates


def test_reserved_and_too_many_tags_are_refused(tmp_path):
    many = "".join(f"    t{i}: v\n" for i in range(44))
    root = project_copy(
        tmp_path,
        text=lambda t: t.replace(
            "    cost-center: engineering\n", f"    cost-center: engineering\n    aws:owner: me\n{many}"
        ),
    )
    messages = refused(root)
    assert (
        "tags.aws:owner: 'me' uses the aws: prefix, which AWS reserves for its own tags (every tagging API "
        "refuses it) — choose a key without aws:" in messages
    )
    assert (
        "tags: '47 tags' leave the private subnets with 54 tags (3 of slipway's ownership tags and 4 for "
        "discovery and Name), and AWS allows 50 per resource — keep at most 43 keys in slipway:tags" in messages
    )


def test_an_inline_policy_over_iams_limit_is_refused(tmp_path):
    statement = {"Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject"]}

    def edit(config):
        statements = config["slipway:apps"]["api"]["serviceAccount"]["policyStatements"]
        statements += [{**statement, "Resource": f"arn:aws:s3:::bucket-number-{i:04d}/*"} for i in range(150)]

    (message,) = [m for m in refused(project_copy(tmp_path, edit=edit)) if "policyStatements" in m]
    assert message.startswith(
        "apps.api.serviceAccount.policyStatements: '151 statements' make an inline role policy of 16,196 characters"
    )
    assert "and IAM allows 10,240 per role (a hard limit) — merge statements" in message


def test_check_markdown_and_json_still_report_a_refused_stack(tmp_path):
    root = project_copy(tmp_path, append="  clusterName: other-name\n")
    md = slipway_cli("check", "dev", "--format", "markdown", root=root)
    assert md.returncode == 2
    assert md.stdout.rstrip().splitlines()[-1] == "**verdict: FAIL — 1 mandatory finding(s) block this change**"
    assert "| config | mandatory |" in md.stdout
    as_json = slipway_cli("check", "dev", "--json", root=root)
    (finding,) = json.loads(as_json.stdout)
    assert as_json.returncode == 2 and finding["check"] == "config" and finding["severity"] == "mandatory"
    assert as_json.stderr.rstrip().splitlines()[-1] == "verdict: FAIL — 1 config error in stack 'dev' to fix first"


def test_a_flag_given_a_value_is_not_taken_for_a_stack():
    proc = slipway_cli("render", "dev", "--mermaid", "false", root=ROOT)
    assert proc.returncode == 2
    assert "'false' is not a stack: flags take no value — write --mermaid, not --mermaid false" in " ".join(
        proc.stderr.split()
    )


def test_a_pool_nothing_runs_on_is_warned_with_its_cost(tmp_path):
    root = project_copy(tmp_path, stack="prod", text=lambda t: t.replace("    nodePool: argo", "    nodePool: system"))
    warnings = load_stack_file("prod", root).checked().warnings
    assert (
        "nodePools.argo: runs nothing slipway places (no app, add-on or pods: is counted there), yet is "
        "3 × m6a.large ($189.22/month) — remove the pool, or place work there (apps.<app>.nodePool: argo, or "
        "pods: for what you run yourself)"
    ) in warnings
