"""Shell access to nodes: SSM by default, nothing on port 22; SSH only on request, from named sources."""

from __future__ import annotations

import dataclasses
import json

import pytest

from slipway.cli.checks import policy_findings
from slipway.cli.render import ROOT, RenderResult, run_program
from slipway.components.node_access import NodeSsh, node_ssh_issues
from slipway.components.node_pools import NodePoolArgs
from slipway.policies.base import Resource
from slipway.policies.cluster_rules import check_ssh_not_open
from slipway.policies.rules import RULES, stack_policy_config
from slipway.program.config import ConfigError, parse_config_values
from slipway.program.stackfile import load_stack_file

from tests.test_cluster import build_cluster

SSM = "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"
LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
SG_TYPES = {"aws:ec2/securityGroup:SecurityGroup", "aws:ec2/securityGroupRule:SecurityGroupRule", INGRESS}
BASTION, VPN_SG = "sg-0123456789abcdef0", "sg-0fedcba9876543210"


def admits_ssh(record) -> bool:
    """Does a recorded security group rule admit tcp/22 from anywhere at all?"""
    p = record.inputs
    rules = [p] if record.type != "aws:ec2/securityGroup:SecurityGroup" else list(p.get("ingress") or [])
    for r in rules:
        proto = str(r.get("ipProtocol", r.get("protocol", "")))
        if proto == "-1" or (proto in ("tcp", "6") and r.get("fromPort", 0) <= 22 <= r.get("toPort", -1)):
            return True
    return False


# ------------------------------------------------------------------ default: SSM, no port 22


def test_node_role_gets_the_ssm_policy_in_the_dev_render(dev: RenderResult):
    (role,) = [r for r in dev.by_type("aws:iam/role:Role") if r.name.endswith("-node-role")]
    attached = {
        r.inputs["policyArn"]
        for r in dev.by_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
        if r.inputs["role"] == role.state["name"]
    }
    assert SSM in attached, attached


def test_by_default_nothing_admits_port_22_and_no_key_pair(dev: RenderResult):
    for r in dev.records:
        if r.type in SG_TYPES:
            assert not admits_ssh(r), r.urn
    for lt in dev.by_type(LAUNCH_TEMPLATE):
        assert "keyName" not in lt.inputs, lt.urn
        # No security groups named: EKS attaches its cluster security group itself.
        assert "vpcSecurityGroupIds" not in lt.inputs, lt.urn
    for group in dev.by_type("eks:index:ManagedNodeGroup"):
        assert "remoteAccess" not in group.inputs, group.urn


def test_by_default_sshd_is_stopped_at_boot_on_every_node(dev: RenderResult, prod: RenderResult):
    """Nothing listens on port 22: a MIME shell-script part (what EKS merges for managed node
    groups with a launch template, and Karpenter for AL2023) disables sshd at first boot."""
    import base64
    import email

    for lt in [*dev.by_type(LAUNCH_TEMPLATE), *prod.by_type(LAUNCH_TEMPLATE)]:
        message = email.message_from_string(base64.b64decode(lt.inputs["userData"]).decode())
        assert message.is_multipart(), lt.urn
        (part,) = message.get_payload()
        assert part.get_content_type() == "text/x-shellscript"
        assert "systemctl disable --now sshd.service" in part.get_payload()
    classes = prod.by_type("kubernetes:karpenter.k8s.aws/v1:EC2NodeClass")
    assert classes and all("systemctl disable --now sshd" in c.inputs["spec"]["userData"] for c in classes)


# ------------------------------------------------------------------ SSH on request


def _ssh_cluster(mocked, ssh: NodeSsh):
    pools = {
        "general": NodePoolArgs(instance_types=["t3.medium"], min_size=2, desired_size=2, max_size=4),
        "ops": NodePoolArgs(instance_types=["t3.medium"], min_size=1, desired_size=1, max_size=2, ssh=ssh),
    }
    return build_cluster(mocked, node_pools=pools)


def test_ssh_renders_key_and_a_group_open_only_to_the_sources_keeping_the_cluster_sg(mocked):
    _ssh_cluster(mocked, NodeSsh(key_name="ops-2026", source_security_group_ids=[VPN_SG, BASTION],
                                 source_cidrs=["10.8.0.0/16", "fd00:8::/48"]))  # fmt: skip
    lt = mocked.one(LAUNCH_TEMPLATE, "c-ops").inputs
    group = mocked.one("aws:ec2/securityGroup:SecurityGroup", "c-ops-ssh")
    assert lt["keyName"] == "ops-2026"
    assert "userData" not in lt  # SSH was asked for: sshd keeps running on this pool
    # EKS's own cluster security group (what describe-cluster reports), not pulumi-eks's
    # API-endpoint group: without it the nodes could not join the cluster.
    pulumi_eks_sg = mocked.one("eks:index:Cluster", "c-eks").state["clusterSecurityGroupId"]
    assert lt["vpcSecurityGroupIds"][1] == group.id
    assert lt["vpcSecurityGroupIds"][0].startswith("sg-") and lt["vpcSecurityGroupIds"][0] != pulumi_eks_sg
    assert group.inputs["vpcId"] == "vpc-123" and "ingress" not in group.inputs
    rules = {r.name: r.inputs for r in mocked.of_type(INGRESS) if r.inputs["securityGroupId"] == group.id}
    assert set(rules) == {f"c-ops-ssh-{BASTION}", f"c-ops-ssh-{VPN_SG}", "c-ops-ssh-10-8-0-0-16",
                          "c-ops-ssh-fd00-8-48"}  # fmt: skip
    for r in rules.values():
        assert (r["ipProtocol"], r["fromPort"], r["toPort"]) == ("tcp", 22, 22)
    assert rules[f"c-ops-ssh-{BASTION}"]["referencedSecurityGroupId"] == BASTION
    assert rules["c-ops-ssh-fd00-8-48"]["cidrIpv6"] == "fd00:8::/48"
    # The other pool is untouched: no key, EKS's default security group.
    general = mocked.one(LAUNCH_TEMPLATE, "c-general").inputs
    assert "keyName" not in general and "vpcSecurityGroupIds" not in general
    # And the policy pack has nothing to say about it.
    resources = [Resource(r.urn, r.type, r.inputs) for r in mocked.records]
    assert not [v for r in resources for v in check_ssh_not_open(r.type, r.props, {}, {}) if r.type in SG_TYPES]


def test_ssh_errors_name_field_value_and_fix():
    assert node_ssh_issues(None) == []
    messages = [str(i) for i in node_ssh_issues(NodeSsh(key_name="", source_security_group_ids=[]))]
    assert messages == [
        "ssh.key_name: '' (empty) is not an EC2 key pair name — name an existing key pair of the stack's region",
        "ssh.source_security_group_ids: [] is empty — name the security groups SSH may come from (a bastion's), "
        "e.g. ['sg-0123456789abcdef0']",
    ]
    ssh = NodeSsh(key_name="k", source_security_group_ids=["sg-12"], source_cidrs=["0.0.0.0/0", "::/0", "10.0.0.1/8"])
    messages = [str(i) for i in node_ssh_issues(ssh)]
    assert messages[0] == (
        "ssh.source_security_group_ids[0]: 'sg-12' is not a security group id — write one like 'sg-0123456789abcdef0'"
    )
    assert messages[1] == "ssh.source_cidrs[2]: '10.0.0.1/8' has host bits set — write its network, '10.0.0.0/8'"
    ssh = NodeSsh(key_name="k", source_security_group_ids=[BASTION], source_cidrs=["0.0.0.0/0", "::/0"])
    messages = [str(i) for i in node_ssh_issues(ssh)]
    assert [m.split(" — ")[0] for m in messages] == [
        "ssh.source_cidrs[0]: '0.0.0.0/0' opens SSH to the whole internet",
        "ssh.source_cidrs[1]: '::/0' opens SSH to the whole internet",
    ]
    assert all("aws ssm start-session --target <instance-id>" in m for m in messages)


def test_a_bad_ssh_pool_registers_nothing(mocked):
    from slipway.components.validation import ArgsError

    def program():
        with pytest.raises(ArgsError) as e:
            _ssh_cluster(mocked, NodeSsh(key_name="k", source_security_group_ids=[]))
        assert "node_pools.ops.ssh.source_security_group_ids: [] is empty" in str(e.value)

    mocked.build(program)
    assert not mocked.of_type(LAUNCH_TEMPLATE)


# ------------------------------------------------------------------ stack config


def _config_errors(ssh: dict) -> list[str]:
    with pytest.raises(ConfigError) as exc:
        parse_config_values({"nodePools": {"ops": {"ssh": ssh}}}, region="us-east-1", stack="t")
    return exc.value.messages


def test_config_ssh_parses_and_reaches_the_node_pool():
    cfg = parse_config_values(
        {"nodePools": {"general": {}, "ops": {"ssh": {"keyName": "ops-2026", "sourceSecurityGroupIds": [BASTION]}}}},
        region="us-east-1",
    )
    ssh = cfg.node_pools["ops"].ssh
    assert ssh is not None and ssh.key_name == "ops-2026" and ssh.source_security_group_ids == [BASTION]
    assert cfg.node_pools["general"].ssh is None


def test_config_ssh_errors():
    assert _config_errors({"keyName": "k", "sourceSecurityGroupIds": []}) == [
        "nodePools.ops.ssh.sourceSecurityGroupIds: [] is empty: SSH needs a named source — list the bastion's "
        "security group, e.g. [sg-0123456789abcdef0], or remove ssh and use aws ssm start-session"
    ]
    (msg,) = _config_errors({"keyName": "k", "sourceSecurityGroupIds": [BASTION], "sourceCidrs": ["0.0.0.0/0"]})
    assert msg.startswith("nodePools.ops.ssh.sourceCidrs[0]: '0.0.0.0/0' opens SSH to the whole internet — ")
    (msg,) = _config_errors({"keyName": "k", "sourceSecurityGroupIds": ["sg-nope"]})
    assert msg == (
        "nodePools.ops.ssh.sourceSecurityGroupIds[0]: 'sg-nope' is not a security group id — "
        "write one like sg-0123456789abcdef0"
    )


def test_dev_stack_with_ssh_renders(tmp_path):
    """From the stack file to the launch template, through the program's wiring."""
    stack = load_stack_file("dev", ROOT)
    values = json.loads(json.dumps(stack.values))
    values["slipway:nodePools"]["general"]["ssh"] = {"keyName": "ops", "sourceSecurityGroupIds": [BASTION]}
    monitor = run_program(dataclasses.replace(stack, values=values))
    records = list(monitor.records.values())
    (lt,) = [r for r in records if r.type == LAUNCH_TEMPLATE and r.name.endswith("-general")]
    assert lt.inputs["keyName"] == "ops" and len(lt.inputs["vpcSecurityGroupIds"]) == 2
    ingress = [r for r in records if r.type == INGRESS and r.name.endswith(f"-ssh-{BASTION}")]
    assert [r.inputs["referencedSecurityGroupId"] for r in ingress] == [BASTION]


# ------------------------------------------------------------------ policy pack


def test_the_rule_is_mandatory_in_prod_and_advisory_elsewhere():
    (rule,) = [r for r in RULES if r.name == "ssh-not-open-to-internet"]
    assert rule.enforcement == "advisory"
    assert stack_policy_config("prod")[rule.name] == {"enforcementLevel": "mandatory"}
    assert stack_policy_config("dev")[rule.name] == {"enforcementLevel": "advisory"}


@pytest.mark.parametrize(
    "props, opened",
    [
        ({"ipProtocol": "tcp", "fromPort": 22, "toPort": 22, "cidrIpv4": "0.0.0.0/0"}, True),
        ({"ipProtocol": "-1", "cidrIpv6": "::/0"}, True),  # all protocols and ports
        ({"ipProtocol": "tcp", "fromPort": 0, "toPort": 1024, "cidrIpv4": "0.0.0.0/0"}, True),
        ({"ipProtocol": "tcp", "fromPort": 443, "toPort": 443, "cidrIpv4": "0.0.0.0/0"}, False),
        ({"ipProtocol": "udp", "fromPort": 22, "toPort": 22, "cidrIpv4": "0.0.0.0/0"}, False),
        ({"ipProtocol": "tcp", "fromPort": 22, "toPort": 22, "referencedSecurityGroupId": BASTION}, False),
        ({"ipProtocol": "tcp", "fromPort": 22, "toPort": 22, "cidrIpv4": "10.0.0.0/8"}, False),
    ],
)
def test_the_rule_on_ingress_rules(props, opened):
    assert bool(list(check_ssh_not_open(INGRESS, props, {}, {}))) is opened


def test_egress_rules_are_not_ingress():
    egress = {"type": "egress", "protocol": "-1", "fromPort": 0, "toPort": 0, "cidrBlocks": ["0.0.0.0/0"]}
    assert list(check_ssh_not_open("aws:ec2/securityGroupRule:SecurityGroupRule", egress, {}, {})) == []


def test_slipway_check_fails_prod_on_ssh_from_the_internet():
    open_rule = Resource("urn:pulumi:prod::slipway::" + INGRESS + "::bad", INGRESS,
                         {"ipProtocol": "tcp", "fromPort": 22, "toPort": 22, "cidrIpv4": "0.0.0.0/0"})  # fmt: skip

    class Result:  # what policy_findings reads of a render
        records = [dataclasses.make_dataclass("R", ["urn", "type", "inputs", "options"])(
            open_rule.urn, open_rule.type, dict(open_rule.props), {})]  # fmt: skip

    for env, level in (("prod", "mandatory"), ("dev", "advisory")):
        found = [f for f in policy_findings(Result(), stack_policy_config(env)) if "ssh" in f.check]  # type: ignore[arg-type]
        assert [f.severity for f in found] == [level], (env, found)
