"""Stack config validation: every class of mistake gives its documented message."""

from __future__ import annotations

import pytest

from slipway.cli.render import ROOT
from slipway.program.config import ConfigError, StackConfig, parse_config_values
from slipway.program.stackfile import load_stack_file

REGION = "us-east-1"
ADMIN = "arn:aws:iam::123456789012:role/platform-admins"


def errors(values: dict, region: str | None = REGION) -> list[str]:
    with pytest.raises(ConfigError) as exc:
        parse_config_values(values, region=region, stack="t")
    return exc.value.messages


def test_defaults_are_valid():
    cfg = parse_config_values({}, region=REGION)
    assert isinstance(cfg, StackConfig)
    assert cfg.cluster.authentication_mode == "API"
    assert cfg.cluster.endpoint.public_access is False
    assert cfg.node_pools["general"].metadata_hop_limit == 1


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_shipped_stacks_are_valid(stack):
    cfg = load_stack_file(stack, ROOT).validate()
    assert cfg.environment == stack


def test_prod_stack_is_highly_available():
    cfg = load_stack_file("prod", ROOT).validate()
    assert cfg.network.az_count == 3 and cfg.network.nat_strategy == "per-az"
    assert cfg.is_production
    assert all(c != "0.0.0.0/0" for c in cfg.cluster.endpoint.public_access_cidrs)


def test_dev_stack_is_cheap():
    cfg = load_stack_file("dev", ROOT).validate()
    assert cfg.network.az_count == 2 and cfg.network.nat_strategy == "single"


def test_desired_above_max_names_field_value_and_fix():
    msgs = errors(
        {"nodePools": {"general": {"instanceType": "t3.medium", "desiredSize": 5, "maxSize": 3, "minSize": 1}}}
    )
    assert msgs == ["nodePools.general.desiredSize: 5 is above maxSize 3 — raise maxSize or lower desiredSize"]


def test_all_errors_are_reported_together():
    msgs = errors(
        {
            "nodePools": {"general": {"instanceType": "t3.medium", "desiredSize": 5, "maxSize": 3, "minSize": 4}},
            "network": {"cidr": "10.0.0.0/8", "natStrategy": "sometimes"},
            "cluster": {"version": "1.20"},
        },
        region="us-east1",
    )
    text = "\n".join(msgs)
    assert "aws:region: 'us-east1' is not an AWS region EKS serves — did you mean 'us-east-1'?" in text
    assert "nodePools.general.minSize: 4 is above maxSize 3 — lower minSize or raise maxSize" in text
    assert "nodePools.general.desiredSize: 5 is above maxSize 3" in text
    assert "network.cidr: '10.0.0.0/8' must be a private IPv4 range from /16 to /20" in text
    assert "network.natStrategy: 'sometimes' is not allowed — use one of 'none', 'single' or 'per-az'" in text
    assert "cluster.version: '1.20' is not a Kubernetes version slipway supports" in text
    assert len(msgs) == 6


def test_unknown_key_suggests_the_right_one():
    assert errors({"network": {"azCuont": 3}}) == ["network.azCuont: unknown key — remove it (did you mean 'azCount'?)"]


def test_unknown_top_level_key():
    (msg,) = errors({"nodepools": {}})
    assert msg.startswith("nodepools: unknown key") and "'nodePools'" in msg


def test_missing_region():
    assert errors({}, region="") == [
        "aws:region: is required — add `aws:region: us-east-1` (or your region) to the stack file"
    ]


def test_prod_rejects_open_endpoint():
    (msg,) = errors(
        {"environment": "prod", "cluster": {"endpoint": {"publicAccess": True, "publicAccessCidrs": ["0.0.0.0/0"]}}}
    )
    assert msg.startswith('cluster.endpoint.publicAccessCidrs: ["0.0.0.0/0"] opens the prod API server')
    assert "— list only your VPN/office/CI egress CIDRs" in msg


def test_dev_may_open_endpoint_but_must_list_cidrs():
    parse_config_values(
        {"cluster": {"endpoint": {"publicAccess": True, "publicAccessCidrs": ["0.0.0.0/0"]}}}, region=REGION
    )
    (msg,) = errors({"cluster": {"endpoint": {"publicAccess": True}}})
    assert msg.startswith("cluster.endpoint.publicAccessCidrs: [] is empty while publicAccess is true")


def test_prod_cannot_disable_deletion_protection():
    (msg,) = errors({"environment": "prod", "cluster": {"deletionProtection": False}})
    assert msg.startswith("cluster.deletionProtection: false turns off deletion protection in prod")


def test_bad_cidr_and_cidr_list():
    assert errors({"network": {"cidr": "10.0.0.1/16"}})[0].startswith("network.cidr: '10.0.0.1/16' is not a network")
    msg = errors({"cluster": {"endpoint": {"publicAccess": True, "publicAccessCidrs": ["1.2.3.4/40"]}}})[0]
    assert msg.startswith("cluster.endpoint.publicAccessCidrs[0]: '1.2.3.4/40' is not a CIDR")


def test_az_list_must_match_count():
    (msg,) = errors({"network": {"azCount": 3, "availabilityZones": ["us-east-1a", "us-east-1b"]}})
    assert msg.startswith('network.availabilityZones: ["us-east-1a", "us-east-1b"] lists 2 zones but azCount is 3')


def test_az_count_range():
    (msg,) = errors({"network": {"azCount": 4}})
    assert msg.startswith("network.azCount: 4 is out of range")


def test_pool_architecture_mismatch():
    (msg,) = errors({"nodePools": {"arm": {"instanceTypes": ["m7g.large"]}}})
    assert msg == (
        "nodePools.arm.instanceTypes[0]: 'm7g.large' is an Arm (Graviton) type but amiType is AL2023_x86_64_STANDARD"
        " — use amiType AL2023_ARM_64_STANDARD or instance types of the AMI's architecture"
    )


def test_pool_name_and_instance_type_format():
    (msg,) = errors({"nodePools": {"General_Pool": {}}})
    assert msg.startswith("nodePools.General_Pool: 'General_Pool' is not a pool name (a DNS-1123 label")
    (msg,) = errors({"nodePools": {"general": {"instanceTypes": ["t3.medium", "t3medium"]}}})
    assert msg == (
        "nodePools.general.instanceTypes[1]: 't3medium' is not an EC2 instance type — write family.size, e.g. t3.medium"
    )


def test_hop_limit_range():
    (msg,) = errors({"nodePools": {"general": {"metadataHopLimit": 3}}})
    assert msg.startswith("nodePools.general.metadataHopLimit: 3 is out of range")


def test_reserved_label_prefix():
    (msg,) = errors({"nodePools": {"general": {"labels": {"kubernetes.io/role": "x"}}}})
    assert msg.startswith("nodePools.general.labels.kubernetes.io/role: 'x' uses a prefix reserved")


@pytest.mark.parametrize(
    "arn, expected",
    [
        ("arn:aws:iam::12345:role/x", "is not an IAM role or user ARN"),
        ("arn:aws:iam::123456789012:group/admins", "is not an IAM role or user ARN"),
        ("arn:aws:sts::123456789012:assumed-role/admins/alice", "is an STS assumed-role session"),
    ],
)
def test_bad_principal_arns(arn, expected):
    (msg,) = errors({"access": {"principals": [{"arn": arn, "access": "view"}]}})
    assert msg.startswith(f"access.principals[0].arn: {arn!r} {expected}")


def test_duplicate_principal():
    (msg,) = errors(
        {"access": {"principals": [{"arn": ADMIN, "access": "view"}, {"arn": ADMIN, "access": "cluster-admin"}]}}
    )
    assert msg == (
        f"access.principals[1].arn: {ADMIN!r} is the same IAM identity as principals[0] (names are "
        "case-insensitive and aws-auth ignores role paths) — list each principal once with the access it needs"
    )


def test_duplicate_principal_differing_in_case_or_path():
    other = "arn:aws:iam::123456789012:role/teams/Platform-Admins"
    (msg,) = errors({"access": {"principals": [{"arn": ADMIN, "access": "view"}, {"arn": other, "access": "edit"}]}})
    assert msg.startswith(f"access.principals[1].arn: {other!r} is the same IAM identity as principals[0]")


def test_unknown_access_level():
    (msg,) = errors({"access": {"principals": [{"arn": ADMIN, "access": "root"}]}})
    assert msg.startswith("access.principals[0].access: 'root' is not allowed — use one of 'cluster-admin'")


def test_cluster_admin_cannot_be_namespaced():
    principal = {"arn": ADMIN, "access": "cluster-admin", "namespaces": ["apps"]}
    (msg,) = errors({"namespaces": ["apps"], "access": {"principals": [principal]}})
    assert msg.startswith('access.principals[0].namespaces: ["apps"] cannot scope cluster-admin to namespaces')


def test_identity_role_must_be_a_role():
    (msg,) = errors({"identity": {"roleArn": "arn:aws:iam::123456789012:user/alice"}})
    assert msg.startswith("identity.roleArn: 'arn:aws:iam::123456789012:user/alice' is not an IAM role ARN")


def test_values_as_the_pulumi_cli_passes_them():
    # The CLI hands objects as JSON strings and scalars as strings.
    cfg = parse_config_values(
        {"network": '{"azCount": 3, "natStrategy": "per-az"}', "environment": "prod"}, region=REGION
    )
    assert cfg.network.az_count == 3 and cfg.is_production


def test_identity_profile_must_match_aws_profile():
    with pytest.raises(ConfigError) as exc:
        parse_config_values({"identity": {"profile": "dev-admin"}}, region=REGION, aws_profile="prod-admin")
    (msg,) = exc.value.messages
    assert msg.startswith("slipway:identity.profile: 'dev-admin' differs from aws:profile 'prod-admin'")
    assert "Unauthorized" in msg and "— remove identity.profile" in msg
    parse_config_values({"identity": {"profile": "same"}}, region=REGION, aws_profile="same")


def test_errors_in_one_principal_do_not_hide_other_sections():
    msgs = errors(
        {
            "environment": "prod",
            "cluster": {"endpoint": {"publicAccess": True, "publicAccessCidrs": ["0.0.0.0/0"]}},
            "access": {
                "principals": [
                    {"arn": "not-an-arn", "access": "view"},
                    {"arn": ADMIN, "access": "view"},
                    {"arn": ADMIN, "access": "edit"},
                ]
            },
        }
    )
    text = "\n".join(msgs)
    assert "access.principals[0].arn: 'not-an-arn' is not an IAM role or user ARN" in text
    assert "access.principals[2].arn: " in text and "same IAM identity as principals[1]" in text
    assert 'cluster.endpoint.publicAccessCidrs: ["0.0.0.0/0"] opens the prod API server' in text
    assert len(msgs) == 3


def test_type_and_range_messages_say_what_to_write():
    msgs = errors({"network": {"azCount": "three"}, "nodePools": {"general": {"maxSize": 0}}})
    assert "network.azCount: 'three' is not a whole number — write a whole number here" in msgs
    assert "nodePools.general.maxSize: 0 is out of range — use a value ≥ 1" in msgs


def test_nat_none_needs_endpoints():
    (msg,) = errors({"network": {"natStrategy": "none", "interfaceEndpoints": ["ecr.api"]}})
    assert msg.startswith("network.natStrategy: 'none' leaves private nodes without a way to ec2, ecr.dkr, sts")
    parse_config_values(
        {"network": {"natStrategy": "none", "interfaceEndpoints": ["ec2", "ecr.api", "ecr.dkr", "sts"]}}, region=REGION
    )


def test_prod_rejects_very_broad_cidrs():
    cidrs = ["0.0.0.0/1", "128.0.0.0/1"]
    (msg,) = errors(
        {"environment": "prod", "cluster": {"endpoint": {"publicAccess": True, "publicAccessCidrs": cidrs}}}
    )
    assert "opens the prod API server to a large part of the internet" in msg


def test_zones_must_be_in_the_region():
    (msg,) = errors({"network": {"availabilityZones": ["us-east-1a", "eu-west-1b"]}})
    assert msg.startswith("network.availabilityZones[1]: 'eu-west-1b' is not in aws:region us-east-1")


def test_reserved_username_prefix():
    (msg,) = errors({"access": {"principals": [{"arn": ADMIN, "access": "view", "username": "system:admin"}]}})
    assert msg.startswith("access.principals[0].username: 'system:admin' starts with a prefix EKS reserves")


def test_creator_rules():
    (msg,) = errors({"access": {"principals": [{"arn": ADMIN, "access": "view", "creator": True}]}})
    assert msg.startswith("access.principals[0].creator: true is set on a principal without cluster-wide cluster-admin")
    other = "arn:aws:iam::123456789012:role/ci"
    (msg,) = errors(
        {
            "access": {
                "principals": [
                    {"arn": ADMIN, "access": "cluster-admin", "creator": True},
                    {"arn": other, "access": "cluster-admin", "creator": True},
                ]
            }
        }
    )
    assert msg.startswith("access.principals[1].creator: true is set twice (also principals[0])")


def test_kubeconfig_role_must_be_mapped():
    role = "arn:aws:iam::123456789012:role/ops"
    (msg,) = errors({"identity": {"roleArn": role}})
    assert msg.startswith(f"identity.roleArn: {role!r} has no cluster-admin access entry")
    parse_config_values(
        {"identity": {"roleArn": role}, "access": {"principals": [{"arn": role, "access": "cluster-admin"}]}},
        region=REGION,
    )


@pytest.mark.parametrize("mode", ["CONFIG_MAP", "API_AND_CONFIG_MAP"])
def test_kubeconfig_role_must_be_the_creator_with_aws_auth(mode):
    role = "arn:aws:iam::123456789012:role/ops"
    base = {"identity": {"roleArn": role}, "cluster": {"authenticationMode": mode}}
    (msg,) = errors({**base, "access": {"principals": [{"arn": role, "access": "cluster-admin"}]}})
    assert msg.startswith(f"identity.roleArn: {role!r} is not the cluster's creator")
    parse_config_values(
        {**base, "access": {"principals": [{"arn": role, "access": "cluster-admin", "creator": True}]}},
        region=REGION,
    )


def test_secret_keys_stay_out_of_the_schema():
    cfg = parse_config_values({"apiToken": "s3cr3t"}, region=REGION, secret_keys=["slipway:apiToken"])
    assert isinstance(cfg, StackConfig)
    with pytest.raises(ConfigError) as exc:
        parse_config_values({"apiToken": "s3cr3t"}, region=REGION)  # not stored as a secret
    assert "apiToken: unknown key" in str(exc.value) and "s3cr3t" not in str(exc.value)


ARGO_SSO = {
    "enabled": True,
    "authMode": "sso",
    "ingress": {"enabled": True, "host": "argo.example.com"},
    "sso": {"issuer": "https://login.example.com", "clientIdKey": "argoId", "clientSecretKey": "argoSecret"},
}


def parse_argo_sso(**sso):
    values = {"argo": ARGO_SSO | {"sso": ARGO_SSO["sso"] | sso}, "argoId": "id", "argoSecret": "secret"}
    return parse_config_values(values, region=REGION, stack="t", secret_keys=["slipway:argoId", "slipway:argoSecret"])


def argo_sso_errors(**sso) -> list[str]:
    with pytest.raises(ConfigError) as exc:
        parse_argo_sso(**sso)
    return exc.value.messages


def test_argo_sso_lets_everyone_read_unless_told_otherwise():
    sso = parse_argo_sso().argo.sso
    assert (sso.default_access, sso.groups) == ("view", {})
    sso = parse_argo_sso(defaultAccess="none", groups={"platform-admins": "admin", "devs": "edit"}).argo.sso
    assert (sso.default_access, sso.groups) == ("none", {"platform-admins": "admin", "devs": "edit"})


def test_argo_sso_without_any_rule_is_refused():
    # argo-server with SSO RBAC denies a user no ServiceAccount rule matches: nobody could log in.
    expected = (
        "argo.sso.groups: {} is empty while defaultAccess is none, so no SSO rule matches and argo-server "
        "denies every login — map a group (e.g. platform-admins: admin), or set defaultAccess: view"
    )
    assert argo_sso_errors(defaultAccess="none", groups={}) == [expected]
    assert argo_sso_errors(defaultAccess="none") == [expected.replace("groups: {}", "groups: null")]


def test_argo_sso_group_mapping_errors():
    msgs = argo_sso_errors(
        defaultAccess="admin",
        groups={"devs": "owner", "": "view", " ops": "edit", "Platform-Admins": "admin", "platform-admins": "view"},
    )
    assert msgs == [
        "argo.sso.defaultAccess: 'admin' is not allowed — use one of 'view' or 'none'",
        "argo.sso.groups.devs: 'owner' is not allowed — use one of 'view', 'edit' or 'admin'",
        "argo.sso.groups: '' (empty) is an empty group name — write the group exactly as your provider sends "
        "it in the groups claim",
        "argo.sso.groups: ' ops' has spaces around it, so it never matches a group — remove them",
        "argo.sso.groups: 'platform-admins' is listed twice (as 'Platform-Admins' too, differing only in case "
        "or spaces) — keep one entry per group, spelled as your provider sends it",
    ]


def test_argo_sso_groups_must_be_a_mapping():
    assert argo_sso_errors(groups=["platform-admins"]) == [
        'argo.sso.groups: ["platform-admins"] is not a mapping (key: value lines) — write a mapping '
        "(key: value lines) here"
    ]
    assert argo_sso_errors(group={"platform-admins": "admin"}) == [
        "argo.sso.group: unknown key — remove it (did you mean 'groups'?)"
    ]


def test_argo_sso_keys_name_the_missing_or_plain_config_key():
    """The same message as for an app's secrets: the key is named (a name is not a secret)."""
    assert argo_sso_errors(clientSecretKey="argoSecrit") == [
        "argo.sso.clientSecretKey: 'argoSecrit' names slipway:argoSecrit, which is not set — "
        "run `pulumi config set --secret slipway:argoSecrit <value>`"
    ]
    values = {"argo": ARGO_SSO, "argoId": "id", "argoSecret": "hunter2"}
    with pytest.raises(ConfigError) as exc:
        parse_config_values(values, region=REGION, stack="t", secret_keys=["slipway:argoId"])
    assert exc.value.messages == [
        "argo.sso.clientSecretKey: 'argoSecret' names slipway:argoSecret, which is stored in plain text — re-set "
        "it with `pulumi config set --secret slipway:argoSecret <value>` (and rotate it: it is in your "
        "repository's history)"
    ]
