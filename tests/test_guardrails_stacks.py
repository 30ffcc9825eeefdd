"""Guardrails across a project's stacks and on a stack file's own text (issue 14).

A copied stack colliding with its source (`infra/guardrails/siblings.py`), overlapping
networks (`networks.py`), certificates of another region or account (`certificates.py`)
and keys written twice in a stack file (`infra/stackfile.py`). Messages are checked
exactly; each is `path: value problem — fix`.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path

import pytest
import yaml

from slipway.cli.render import ROOT
from slipway.program.config import ConfigError
from slipway.program.guardrails import Site
from slipway.program.guardrails.certificates import arn_region_account, certificate_location
from slipway.program.guardrails.networks import free_ranges, network_overlaps
from slipway.program.guardrails.siblings import (
    environment_matches_name,
    owns,
    physical_names,
    stack_intent,
    unique_names,
)
from slipway.program.stackfile import load_stack_file, stack_names
from slipway.program.validate import account_of, validate

from tests.helpers import project_copy, shipped_stacks, slipway_cli

DEV = (ROOT / "stacks" / "Pulumi.dev.yaml").read_text()
UNKNOWN_ACCOUNT = "in us-east-1 of the same account (as far as known: aws:allowedAccountIds would tell them apart)"


def add_stack(root: Path, name: str, text: str) -> Path:
    (root / "stacks" / f"Pulumi.{name}.yaml").write_text(text)
    return root


def copied(tmp_path: Path, edit=lambda t: t) -> Path:
    """A project holding dev and `staging`, a copy of dev changed by `edit` (a text edit)."""
    return add_stack(project_copy(tmp_path), "staging", edit(DEV))


def refusal(stack: str, root: Path) -> list[str]:
    with pytest.raises(ConfigError) as exc:
        load_stack_file(stack, root).checked()
    assert exc.value.stack == stack
    return exc.value.messages


def ours(messages: list[str], *paths: str) -> list[str]:
    """The messages about `paths` (other guardrails may add their own)."""
    return [m for m in messages if m.startswith(paths)]


# ------------------------------------------------------------------ a copied stack


def test_an_unedited_copy_collides_with_its_source(tmp_path):
    root = copied(tmp_path)
    assert ours(refusal("staging", root), "clusterName") == [
        f"clusterName: 'slipway-dev' is also stack dev's EKS cluster name, {UNKNOWN_ACCOUNT}, so AWS refuses the "
        "second — set slipway:clusterName to a name of its own, e.g. 'slipway-staging'",
        f"clusterName: 'alias/slipway-dev-secrets' is also stack dev's KMS alias (alias/<clusterName>-secrets), "
        f"{UNKNOWN_ACCOUNT}, so AWS refuses the second — set slipway:clusterName to a name of its own, e.g. "
        "'slipway-staging'",
        f"clusterName: 'slipway-dev/' is also stack dev's ECR repository prefix (<clusterName>/), {UNKNOWN_ACCOUNT}, "
        "so AWS refuses the second — set slipway:clusterName to a name of its own, e.g. 'slipway-staging'",
    ]
    # The source keeps deploying: its name says `slipway-dev` is its own. It is told once.
    assert ours(load_stack_file("dev", root).checked().warnings, "clusterName") == [
        f"clusterName: 'slipway-dev' is also what stack staging derives its EKS cluster name, KMS alias, ECR "
        f"repository prefix from, {UNKNOWN_ACCOUNT}, so that stack is refused — nothing to do here: stack staging "
        "must set slipway:clusterName to a name of its own"
    ]


def test_a_copy_with_its_own_cluster_name_passes_but_is_told_its_environment_and_network(tmp_path):
    root = copied(tmp_path, lambda t: t.replace("slipway:clusterName: slipway-dev", "slipway:clusterName: slipway-stg"))
    # (sorted: guardrails report in the order their modules were first imported)
    assert sorted(
        ours(load_stack_file("staging", root).checked().warnings, "clusterName", "environment", "network")
    ) == [
        "environment: 'dev' is the environment of stack 'staging', whose name says staging, so its resources are "
        "tagged slipway/environment: dev — set slipway:environment: staging, or rename the stack if dev is meant",
        "network.cidr: '10.20.0.0/16' overlaps stack dev's VPC (10.20.0.0/16): VPCs with overlapping ranges can "
        "never be peered or routed to each other (transit gateway, VPN) — before the first `pulumi up` (a new range "
        "replaces the VPC and everything in it), use a range no other stack uses, e.g. 10.0.0.0/16 (free: "
        "10.0.0.0/16, 10.1.0.0/16, 10.2.0.0/16)",
    ]


def test_a_copy_without_a_cluster_name_gets_the_default_and_passes(tmp_path):
    root = copied(tmp_path, lambda t: t.replace("  slipway:clusterName: slipway-dev\n", ""))
    assert ours(load_stack_file("staging", root).checked().warnings, "clusterName") == []


def test_both_are_refused_when_neither_name_says_whose_it_is(tmp_path):
    both = lambda t: t.replace("slipway:clusterName: slipway-dev", "slipway:clusterName: platform")  # noqa: E731
    root = add_stack(project_copy(tmp_path, text=both), "staging", both(DEV))
    for stack, other in (("dev", "staging"), ("staging", "dev")):
        assert ours(refusal(stack, root), "clusterName")[0] == (
            f"clusterName: 'platform' is also stack {other}'s EKS cluster name, {UNKNOWN_ACCOUNT}, so AWS refuses "
            f"the second — set slipway:clusterName to a name of its own, e.g. 'slipway-{stack}'"
        )


def accounts(dev: str | None, staging: str | None):
    def pin(account: str | None):
        return lambda t: (
            t
            if account is None
            else t.replace(
                "  aws:region: us-east-1\n", f'  aws:region: us-east-1\n  aws:allowedAccountIds: ["{account}"]\n'
            )
        )

    return pin(dev), pin(staging)


@pytest.mark.parametrize(
    ("dev_account", "staging_account", "where"),
    [
        ("111111111111", "111111111111", "in us-east-1 of the same account (111111111111)"),
        ("111111111111", None, UNKNOWN_ACCOUNT),  # one unknown: assumed the same
        ("111111111111", "222222222222", None),  # two accounts: no collision
    ],
)
def test_accounts_that_are_known_to_differ_do_not_collide(tmp_path, dev_account, staging_account, where):
    on_dev, on_staging = accounts(dev_account, staging_account)
    root = add_stack(project_copy(tmp_path, text=on_dev), "staging", on_staging(DEV))
    if where is None:
        assert ours(load_stack_file("staging", root).checked().warnings, "clusterName") == []
    else:
        assert ours(refusal("staging", root), "clusterName")[0] == (
            f"clusterName: 'slipway-dev' is also stack dev's EKS cluster name, {where}, so AWS refuses the second — "
            "set slipway:clusterName to a name of its own, e.g. 'slipway-staging'"
        )


def in_eu(text: str) -> str:
    return text.replace("us-east-1", "eu-west-1")


def test_another_region_does_not_collide_but_a_bucket_name_does_everywhere(tmp_path):
    root = copied(tmp_path, in_eu)
    assert ours(load_stack_file("staging", root).checked().warnings, "clusterName") == []

    bucket = "    artifacts:\n      bucketName: acme-argo-artifacts\n"
    name_it = lambda t: t.replace("    artifacts:\n", bucket)  # noqa: E731
    root = add_stack(project_copy(tmp_path / "b", text=name_it), "staging", in_eu(name_it(DEV)))
    assert ours(refusal("staging", root), "argo") == [
        "argo.artifacts.bucketName: 'acme-argo-artifacts' is also stack dev's Argo artifacts bucket, and S3 bucket "
        "names are global, so AWS refuses the second — set slipway:argo.artifacts.bucketName to a name of its own, "
        "or remove it (Pulumi then generates a unique one)"
    ]


def test_a_broken_sibling_is_skipped(tmp_path):
    root = add_stack(copied(tmp_path), "dev", "config:\n  slipway:nodePools: 3\n")
    assert ours(load_stack_file("staging", root).checked().warnings, "clusterName") == []


def test_physical_names_are_the_ones_the_program_registers(dev):
    """Each name is derived as the program derives it: the render of dev registers exactly these."""
    names = {n.kind.split(" (")[0]: n.value for n in physical_names(load_stack_file("dev", ROOT).parse(), "dev")}
    inputs = {r.type: [] for r in dev.records}
    for r in dev.records:
        inputs[r.type].append(r.inputs.get("name"))
    assert inputs["eks:index:Cluster"] == [names["EKS cluster name"]]
    assert inputs["aws:kms/alias:Alias"] == [names["KMS alias"]]
    repos = inputs["aws:ecr/repository:Repository"]
    assert repos and all(r.startswith(names["ECR repository prefix"]) for r in repos), repos


def test_what_a_stack_name_says():
    assert [stack_intent(s) for s in ("prod", "prod-eu", "eu_production2", "prd", "staging", "stg-2", "dev",
                                      "sandbox", "product")] == [
        "prod", "prod", "prod", "prod", "staging", "staging", "dev", None, None
    ]  # fmt: skip
    assert owns("dev", "slipway-dev") and owns("prod-eu", "acme-eu-prod")
    assert not owns("staging", "slipway-dev") and not owns("dev", "slipway-devices")


@pytest.mark.parametrize(
    ("stack", "written", "expected"),
    [
        ("prod", None, "environment: 'dev' is the environment (the default: slipway:environment is not set) of "
         "stack 'prod', whose name says prod, so it gets none of prod's guards (deletion protection, `protect`, "
         "prod's policies) — set slipway:environment: prod, or rename the stack if dev is meant"),
        ("dev", "prod", "environment: 'prod' is the environment of stack 'dev', whose name says dev, so it gets "
         "prod's protection and policies — set slipway:environment: dev, or rename the stack if prod is meant"),
        ("staging", "prod", None),  # a staging stack may mirror prod
        ("sandbox", "dev", None),
    ],
)  # fmt: skip
def test_environment_against_the_stack_name(stack, written, expected):
    cfg = load_stack_file("dev", ROOT).parse().model_copy(update={"environment": written or "dev"})
    values = {} if written is None else {"slipway:environment": written}
    found = [str(f) for f in environment_matches_name(cfg, None, Site(stack=stack, region="us-east-1", values=values))]
    assert found == ([expected] if expected else [])


# ------------------------------------------------------------------ the shipped stacks


@pytest.mark.parametrize("stack", shipped_stacks())
def test_the_shipped_stacks_raise_no_finding(stack):
    stackfile = load_stack_file(stack, ROOT)
    v = stackfile.checked(require_pins=True)
    site = Site(stack=stack, region=stackfile.region, root=ROOT, account=account_of(stackfile.values),
                values=stackfile.values)  # fmt: skip
    assert len(site.siblings) == len(stack_names(ROOT)) - 1
    for check in (unique_names, environment_matches_name, network_overlaps, certificate_location):
        assert check(v.cfg, v.plan, site) == [], check.__name__


# ------------------------------------------------------------------ networks


def nets(*cidrs: str) -> list[ipaddress.IPv4Network]:
    return [ipaddress.IPv4Network(c) for c in cidrs]


def test_free_ranges_are_the_first_blocks_of_that_size_no_one_uses():
    assert free_ranges(nets("10.0.0.0/16", "10.2.0.0/15"), 16) == nets("10.1.0.0/16", "10.4.0.0/16", "10.5.0.0/16")
    assert free_ranges(nets("10.20.0.0/16"), 20)[:2] == nets("10.0.0.0/20", "10.0.16.0/20")
    # In the private range the stack is in; never Docker's bridge network.
    assert free_ranges(nets("172.16.0.0/16"), 16, near=nets("172.16.0.0/16")[0]) == nets(
        "172.18.0.0/16", "172.19.0.0/16", "172.20.0.0/16"
    )
    assert free_ranges(nets("10.0.0.0/8", "172.16.0.0/12"), 16) == nets(
        "192.168.0.0/16"
    )  # then the next range; only what exists


def test_a_vpc_inside_the_endpoint_allow_list_is_warned(tmp_path):
    entry = "        - 203.0.113.0/24   # office/VPN\n"
    root = project_copy(tmp_path, text=lambda t: t.replace(entry, entry + "        - 10.20.0.0/20\n"))
    assert ours(load_stack_file("dev", root).checked().warnings, "cluster.endpoint") == [
        "cluster.endpoint.publicAccessCidrs[1]: '10.20.0.0/20' covers this stack's VPC (10.20.0.0/16), but the "
        "public endpoint only sees public source addresses: from a VPC the API is reached through its private "
        "endpoint or a NAT gateway's address, so this entry admits nothing from it — list the public (NAT or VPN "
        "egress) addresses instead, and put runners inside the VPC in slipway:deploy.privateCidrs; if the entry is "
        "a network of yours elsewhere, move the VPC to a range no other stack uses, e.g. 10.0.0.0/16 (free: "
        "10.0.0.0/16, 10.1.0.0/16, 10.2.0.0/16)"
    ]


def with_allow_list(*cidrs: str):
    cfg = load_stack_file("dev", ROOT).parse()
    endpoint = cfg.cluster.endpoint.model_copy(update={"public_access_cidrs": list(cidrs)})
    return cfg.model_copy(update={"cluster": cfg.cluster.model_copy(update={"endpoint": endpoint})})


def test_only_private_entries_are_said_to_admit_nothing():
    site = Site(stack="dev", region="us-east-1", root=ROOT)
    found = [str(f) for f in network_overlaps(with_allow_list("0.0.0.0/0", "10.30.1.0/24"), None, site)]
    # 0.0.0.0/0 covers every VPC but admits the internet; prod's VPC holds 10.30.1.0/24: no "move".
    assert found == [
        "cluster.endpoint.publicAccessCidrs[1]: '10.30.1.0/24' covers stack prod's VPC (10.30.0.0/16), but the "
        "public endpoint only sees public source addresses: from a VPC the API is reached through its private "
        "endpoint or a NAT gateway's address, so this entry admits nothing from it — list the public (NAT or VPN "
        "egress) addresses instead, and put runners inside the VPC in slipway:deploy.privateCidrs"
    ]


# ------------------------------------------------------------------ certificates

PROD_ARGO_CERT = "arn:aws:acm:us-east-1:123456789012:certificate/0b4e5f3a-9c1d-4e2f-8a7b-6c5d4e3f2a1b"


def test_a_certificate_of_another_region_is_an_error(tmp_path):
    west = PROD_ARGO_CERT.replace("us-east-1", "us-west-2")
    root = project_copy(tmp_path, stack="prod", text=lambda t: t.replace(PROD_ARGO_CERT, west))
    assert ours(refusal("prod", root), "argo", "apps") == [
        f"argo.ingress.certificateArn: '{west}' is a certificate of us-west-2, and an ALB only uses ACM certificates "
        "of its own region (us-east-1) — request or import the certificate in us-east-1 (ACM cannot copy one across "
        "regions) and use that ARN"
    ]


def test_a_certificate_of_another_account_is_an_error_where_the_account_is_known(tmp_path):
    pinned = lambda t: t.replace(  # noqa: E731
        "  aws:region: us-east-1\n", '  aws:region: us-east-1\n  aws:allowedAccountIds: ["111111111111"]\n'
    )
    root = project_copy(tmp_path, stack="prod", text=pinned)
    found = ours(refusal("prod", root), "argo", "apps")
    assert [m.split(":", 1)[0] for m in found] == [
        "apps.api.ingress.certificateArn", "apps.web.ingress.certificateArn", "argo.ingress.certificateArn"
    ]  # fmt: skip
    assert found[2] == (
        f"argo.ingress.certificateArn: '{PROD_ARGO_CERT}' is a certificate of account 123456789012, and an ALB only "
        "uses ACM certificates of its own account (111111111111, from aws:allowedAccountIds) — request or import "
        "the certificate in account 111111111111 and use that ARN"
    )


def test_arn_parts():
    assert arn_region_account(PROD_ARGO_CERT) == ("us-east-1", "123456789012")
    assert arn_region_account("not-an-arn") is None


# ------------------------------------------------------------------ keys written twice


def twice(text: str) -> str:
    """dev's `web` app with `replicas:` written twice (web is the first app with `replicas: 1`)."""
    return text.replace("      replicas: 1\n", "      replicas: 1\n      replicas: 3\n", 1)


def replicas_line(root: Path, stack: str = "dev") -> int:
    """The (1-based) line of web's first `replicas:`; the second is on the next one."""
    lines = (root / "stacks" / f"Pulumi.{stack}.yaml").read_text().splitlines()
    web = lines.index("    web:                      # frontend at / on the internal ALB")
    first = lines.index("      replicas: 1", web) + 1
    assert lines[first] == "      replicas: 3"
    return first


def test_a_key_written_twice_is_an_error_naming_both_lines(tmp_path):
    root = project_copy(tmp_path, text=twice)
    first = replicas_line(root)
    with pytest.raises(ConfigError) as exc:
        load_stack_file("dev", root)
    assert str(exc.value) == (
        "1 config error in stack 'dev':\n"
        f"  - slipway:apps.web.replicas: is written twice in Pulumi.dev.yaml, on lines {first} and {first + 1}, and "
        "YAML silently keeps the last — keep one"
    )


def test_under_pulumi_up_a_key_written_twice_is_refused_too(tmp_path):
    """The engine reads the stack's file itself and hands the program the last value: the
    one validation path (`validate`, with the project root) still refuses it."""
    root = project_copy(tmp_path, text=twice)
    values = yaml.safe_load((root / "stacks" / "Pulumi.dev.yaml").read_text())["config"]
    with pytest.raises(ConfigError) as exc:
        validate(values, stack="dev", root=root, secret_keys=["slipway:apiDatabasePassword"], require_pins=True)
    assert ours(exc.value.messages, "slipway:") == [
        "slipway:apps.web.replicas: is written twice in Pulumi.dev.yaml, on lines "
        f"{replicas_line(root)} and {replicas_line(root) + 1}, and YAML silently keeps the last — keep one"
    ]


def test_keys_written_twice_at_any_depth_are_all_reported(tmp_path):
    (tmp_path / "stacks").mkdir()
    root = add_stack(tmp_path, "t", (
        "config:\n"
        "  aws:region: us-east-1\n"             # 2
        "  slipway:network:\n"                  # 3
        "    cidr: 10.1.0.0/16\n"               # 4
        "  slipway:network:\n"                  # 5
        "    cidr: 10.2.0.0/16\n"               # 6
        "  slipway:apps:\n"                     # 7
        "    web:\n"                            # 8
        "      ports:\n"                        # 9
        "        - name: http\n"                # 10
        "          containerPort: 8080\n"       # 11
        "          name: web\n"                 # 12
        "base: &base {a: 1}\n"                  # 13
        "merged: {<<: *base, a: 2}\n"           # 14: a merge key may be overridden
        "config: {}\n"                          # 15
    ))  # fmt: skip
    with pytest.raises(ConfigError) as exc:
        load_stack_file("t", root)
    assert exc.value.messages == [
        "slipway:network: is written twice in Pulumi.t.yaml, on lines 3 and 5, and YAML silently keeps the last "
        "— keep one",
        "slipway:apps.web.ports[0].name: is written twice in Pulumi.t.yaml, on lines 10 and 12, and YAML silently "
        "keeps the last — keep one",
        "config: is written twice in Pulumi.t.yaml, on lines 1 and 15, and YAML silently keeps the last — keep one",
    ]


def test_the_cli_refuses_a_copied_stack_and_a_key_written_twice(tmp_path):
    root = copied(tmp_path / "a")
    proc = slipway_cli("check", "staging", root=root)
    out = " ".join(proc.stderr.split())
    assert proc.returncode == 2, proc.stderr
    assert "config errors in stack 'staging':" in out
    assert "clusterName: 'slipway-dev' is also stack dev's EKS cluster name" in out
    assert "set slipway:clusterName to a name of its own, e.g. 'slipway-staging'" in out

    root = copied(tmp_path / "b", twice)
    proc = slipway_cli("check", "staging", root=root)
    assert proc.returncode == 2, proc.stderr
    assert "slipway:apps.web.replicas: is written twice in Pulumi.staging.yaml, on lines" in " ".join(
        proc.stderr.split()
    )
