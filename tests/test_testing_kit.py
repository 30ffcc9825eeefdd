"""slipway.testing, the kit users import: plain set_mocks, recording, Template assertions."""

from __future__ import annotations

import json
from typing import Any

import pulumi
import pulumi_aws as aws
import pytest
from pulumi.runtime import mocks as pulumi_mocks

from slipway.components.cluster import EksCluster, EksClusterArgs, NodePoolArgs
from slipway.testing import (
    Match,
    Mocked,
    Recorded,
    SlipwayMocks,
    Template,
    matches,
    mismatches,
    mocked,
    refs,
    require_known,
    shim,
)
from slipway.testing import mocks as kit_mocks

ROLE = "arn:aws:iam::123456789012:role/platform-admins"
TRUST = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}],
}


def cluster_args(**overrides: Any) -> EksClusterArgs:
    return EksClusterArgs(
        **{
            "cluster_name": "demo",
            "version": "1.34",
            "vpc_id": "vpc-1",
            "private_subnet_ids": {"us-east-1a": "subnet-a", "us-east-1b": "subnet-b"},
            "public_subnet_ids": {"us-east-1a": "subnet-c", "us-east-1b": "subnet-d"},
            "node_pools": {"general": NodePoolArgs(instance_types=["t3.medium"])},
            **overrides,
        }
    )


# ------------------------------------------------------------------ plain pulumi.runtime.set_mocks


def test_plain_set_mocks_builds_an_eks_cluster_with_a_realistic_kubeconfig():
    """What a user writes, nothing of slipway's harness: the kubeconfig is pulumi-eks's
    `Cluster.get_kubeconfig` resource method, which the SDK's MockMonitor cannot answer alone."""
    pulumi.runtime.set_mocks(SlipwayMocks(), project="kit", stack="plain")
    seen: dict[str, Any] = {}

    @pulumi.runtime.test
    def program() -> Any:
        cluster = EksCluster("c", cluster_args(kubeconfig_role_arn=ROLE))
        return pulumi.Output.all(cluster.kubeconfig, cluster.oidc_issuer, cluster.oidc_provider_arn).apply(
            lambda v: seen.update(kubeconfig=json.loads(v[0]), issuer=v[1], provider=v[2])
        )

    program()
    kc = seen["kubeconfig"]
    assert kc["clusters"][0]["cluster"]["server"] == kit_mocks.eks_endpoint("demo", "us-east-1")
    assert kc["clusters"][0]["cluster"]["server"].endswith(".gr7.us-east-1.eks.amazonaws.com")
    assert kc["users"][0]["user"]["exec"]["args"] == [
        "--region", "us-east-1", "eks", "get-token", "--cluster-name", "demo", "--output", "json", "--role", ROLE,
    ]  # fmt: skip
    issuer = kit_mocks.oidc_issuer("demo", "us-east-1")
    assert seen["issuer"] == issuer and seen["provider"] == f"arn:aws:iam::123456789012:oidc-provider/{issuer}"

    # Every registration was recorded on the SDK's own monitor, graph included.
    template = Template.from_monitor()
    assert isinstance(pulumi.runtime.settings.get_monitor(), pulumi_mocks.MockMonitor)
    template.has_resource_properties("eks:index:Cluster", {"name": "demo", "version": "1.34"})
    group, eks = template.one("eks:index:ManagedNodeGroup", "c-general"), template.one("eks:index:Cluster", "c-eks")
    assert group.inputs["cluster"] == {"$ref": eks.urn}  # a reference, as the engine gets it
    template.depends_on(group, eks)


def test_the_shim_is_installed_once_and_keeps_an_sdk_call():
    shim.install()
    register = pulumi_mocks.MockMonitor.RegisterResource
    call = pulumi_mocks.MockMonitor.Call  # type: ignore[attr-defined]
    SlipwayMocks()
    shim.install()
    assert pulumi_mocks.MockMonitor.RegisterResource is register
    assert pulumi_mocks.MockMonitor.Call is call  # type: ignore[attr-defined]


class EchoMocks(pulumi.runtime.Mocks):
    """A user's own mocks, which ask for no recording."""

    def __init__(self) -> None:
        self.seen: dict[str, dict[str, Any]] = {}

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        self.seen[args.name] = dict(args.inputs)
        return f"{args.name}-id", dict(args.inputs)

    def call(self, args: pulumi.runtime.MockCallArgs) -> dict[str, Any]:  # pyright: ignore[reportIncompatibleMethodOverride]
        return {}


def test_other_mocks_keep_the_sdks_registration_and_record_nothing():
    SlipwayMocks()  # the shim is in place
    echo = EchoMocks()
    pulumi.runtime.set_mocks(echo)

    @pulumi.runtime.test
    def program() -> Any:
        role = aws.iam.Role("r", assume_role_policy="{}")
        aws.iam.InstanceProfile("p", role=role)
        return role.arn

    program()
    assert isinstance(echo.seen["p"]["role"], pulumi.Resource)  # the SDK's rebuilt Resource, untouched
    with pytest.raises(ValueError, match="EchoMocks records no registrations: use slipway.testing.SlipwayMocks"):
        Template.from_monitor()


def test_mocks_skip_the_zones_eks_refuses():
    assert kit_mocks.zone_id("us-east-1", 2) == "use1-az4"  # use1-az3 is skipped


# ------------------------------------------------------------------ mocked(): the silent-pass trap


def test_mocked_fails_when_an_unknown_value_reaches_an_input():
    def program() -> None:
        vpc = aws.ec2.Vpc("v", cidr_block="10.0.0.0/16")
        # The mocks return no ipv6AssociationId: in a preview it stays unknown.
        aws.ec2.Subnet("s", vpc_id=vpc.ipv6_association_id, cidr_block="10.0.0.0/24")

    # The check runs as `mocked()` exits, inside pytest.raises.
    unknown = r"unknown values reached resource inputs: .*Subnet::s input\.vpcId"
    with pytest.raises(AssertionError, match=unknown), mocked() as m:
        m.build(program)


def test_require_known_fails_the_run_on_an_unknown_output():
    with mocked() as m, pytest.raises(AssertionError, match=r"require_known: output\(s\) \[1\] \(0-based\) of 2"):
        m.build(lambda: require_known((vpc := aws.ec2.Vpc("v", cidr_block="10.0.0.0/16")).id, vpc.ipv6_association_id))


def test_mocked_fails_on_two_resources_with_one_urn():
    with pytest.raises(AssertionError, match=r"duplicate resource URN .*aws:ec2/vpc:Vpc::same"), mocked() as m:
        m.build(lambda: [aws.ec2.Vpc("same", cidr_block=c) for c in ("10.0.0.0/16", "10.1.0.0/16")])


# ------------------------------------------------------------------ Template


class Pair(pulumi.ComponentResource):
    """A component with two children, to check waits on a component's subtree."""

    def __init__(self, name: str) -> None:
        super().__init__("kit:test:Pair", name)
        child = pulumi.ResourceOptions(parent=self)
        self.key = aws.kms.Key(f"{name}-key", enable_key_rotation=True, opts=child)
        self.alias = aws.kms.Alias(f"{name}-alias", name=f"alias/{name}", target_key_id=self.key.key_id, opts=child)
        self.register_outputs({})


@pytest.fixture(scope="module")
def built() -> Template:
    with mocked() as m:

        def program() -> None:
            pair = Pair("pair")
            role = aws.iam.Role(
                "node",
                assume_role_policy=json.dumps(TRUST),
                tags={"team": "platform", "env": "dev"},
                opts=pulumi.ResourceOptions(protect=True, ignore_changes=["tags"]),
            )
            aws.iam.Role("other", assume_role_policy="{}", tags={"team": "data"})
            aws.iam.InstanceProfile("profile", role=role)  # waits for the role through a reference
            aws.s3.Bucket("logs", opts=pulumi.ResourceOptions(depends_on=[pair], delete_before_replace=True))
            aws.s3.Bucket("free")

        m.build(program)
        return m.template


def urn(template: Template, type_: str, name: str) -> str:
    return template.one(type_, name).urn


def test_find_one_and_counts(built: Template):
    assert [r.name for r in built.find("aws:iam/role:Role")] == ["node", "other"]
    assert [r.name for r in built.find("aws:iam/role:Role", {"tags": {"team": "data"}})] == ["other"]
    assert built.one("aws:iam/role:Role", props={"tags": {"env": "dev"}}).name == "node"
    built.resource_count_is("aws:s3/bucket:Bucket", 2)
    built.resource_count_is("aws:iam/role:Role", 1, {"tags": {"team": "platform"}})
    assert len(built) == len(built.records) == 8  # the component counts; the root Stack does not


def test_one_and_counts_fail_naming_what_is_there(built: Template):
    with pytest.raises(AssertionError, match=r"expected one aws:iam/role:Role named 'nope', found 0 "
                                             r"\(names of this type: \['node', 'other'\]\)"):  # fmt: skip
        built.one("aws:iam/role:Role", "nope")
    with pytest.raises(AssertionError, match=r"expected 3 aws:s3/bucket:Bucket, found 2: \['free', 'logs'\]"):
        built.resource_count_is("aws:s3/bucket:Bucket", 3)
    with pytest.raises(AssertionError, match=r"found 0: \[\]; did you mean \['aws:s3/bucket:Bucket'\]\?"):
        built.resource_count_is("aws:s3/bucket:Buckets", 1)


def test_has_resource_properties_matches_partially_and_nested(built: Template):
    (node,) = built.has_resource_properties(
        "aws:iam/role:Role",
        {
            "tags": {"team": "platform"},  # other tags allowed
            "assumeRolePolicy": Match.serialized_json(
                {"Statement": [{"Principal": {"Service": Match.string_like_regexp(r"^ec2\.")}}]}
            ),
            "path": Match.absent(),
        },
    )
    assert node.name == "node"
    built.has_resource_properties("aws:kms/alias:Alias", {"name": "alias/pair", "targetKeyId": Match.any_value()})


def test_has_resource_properties_fails_with_the_closest_candidates_and_the_path(built: Template):
    pattern = {"tags": {"team": "platform", "env": "prod"}}
    with pytest.raises(AssertionError) as err:
        built.has_resource_properties("aws:iam/role:Role", pattern)
    message = str(err.value)
    assert message.startswith(
        'no aws:iam/role:Role has the properties {"tags": {"env": "prod", "team": "platform"}}; 2 of this type, '
        "the closest:\n  urn:pulumi:test::slipway::pulumi:pulumi:Stack$aws:iam/role:Role::node\n"
        '    - tags.env: expected "prod", found "dev"\n'
    )
    # The other candidate comes second: it differs in two places.
    assert message.index("Role::node") < message.index("Role::other")
    assert '- tags.team: expected "platform", found "data"' in message
    assert '- tags.env: missing, expected "prod"' in message
    with pytest.raises(AssertionError, match=r"no resource of type aws:iam/roles:Role; did you mean"):
        built.has_resource_properties("aws:iam/roles:Role", {})


def test_depends_on_follows_references_and_depends_on(built: Template):
    role = urn(built, "aws:iam/role:Role", "node")
    profile = urn(built, "aws:iam/instanceProfile:InstanceProfile", "profile")
    key, logs = urn(built, "aws:kms/key:Key", "pair-key"), urn(built, "aws:s3/bucket:Bucket", "logs")
    built.depends_on(profile, role, direct=True)  # an input that refers to the role
    assert built.waits_for(profile) == {role} and refs(built.get(profile).inputs) == {role}
    built.depends_on(logs, key, direct=True)  # depends_on=[pair]: the SDK lists the component's children
    with pytest.raises(AssertionError, match=r"InstanceProfile::profile does not directly wait for .*Key::pair-key; "
                                             r"it waits for \['urn:.*Role::node'\] \(add depends_on"):  # fmt: skip
        built.depends_on(profile, key, direct=True)
    with pytest.raises(AssertionError, match=r"Bucket::free does not wait for .*Role::node; it waits for nothing and"):
        built.depends_on(urn(built, "aws:s3/bucket:Bucket", "free"), role)


def record(urn: str, parent: str = "", dependencies: tuple[str, ...] = (), inputs: Any = None) -> Recorded:
    return Recorded(urn, "t", urn, parent, True, False, list(dependencies), inputs or {})


def test_ancestors_take_in_a_components_subtree_and_what_it_waits_for():
    # pulumi-eks's Cluster is a remote component: a node group given it as an input waits for
    # its whole subtree, and for what its children wait for.
    graph = Template(
        [
            record("vpc"),
            record("cluster"),
            record("cluster-sg", parent="cluster"),
            record("cluster-role", parent="cluster", dependencies=("vpc",)),
            record("group", inputs={"cluster": {"$ref": "cluster"}}),
            record("unrelated"),
        ]
    )
    assert graph.waits_for("group") == {"cluster"}
    assert graph.ancestors("group") == {"cluster", "cluster-sg", "cluster-role", "vpc"}
    graph.depends_on("group", "vpc")
    with pytest.raises(AssertionError, match=r"group does not directly wait for vpc; it waits for \['cluster'\]"):
        graph.depends_on("group", "vpc", direct=True)
    with pytest.raises(AssertionError, match=r"group does not wait for unrelated; it waits for \['cluster'\] and "):
        graph.depends_on("group", "unrelated")


def test_has_options(built: Template):
    role = built.one("aws:iam/role:Role", "node")
    built.has_options(role, protect=True, ignore_changes=["tags"], delete_before_replace=False)
    built.has_options(urn(built, "aws:s3/bucket:Bucket", "logs"), delete_before_replace=True, protect=False)
    with pytest.raises(AssertionError, match=r"Role::other: options differ: protect: expected true, found false "):
        built.has_options(urn(built, "aws:iam/role:Role", "other"), protect=True)
    with pytest.raises(AssertionError, match=r"ignore_changes: expected 0 item\(s\), found 1"):
        built.has_options(role, ignore_changes=[])


def test_get_names_close_urns(built: Template):
    with pytest.raises(AssertionError, match=r"no resource has the URN .*Role::nodes; did you mean \['urn:"):
        built.get("urn:pulumi:test::slipway::pulumi:pulumi:Stack$aws:iam/role:Role::nodes")


def test_mocked_exposes_the_records_as_before(built: Template):
    with mocked() as m:
        m.build(lambda: aws.s3.Bucket("b"))
        assert isinstance(m, Mocked) and m.count("aws:s3/bucket:Bucket") == 1
        assert m.one("aws:s3/bucket:Bucket", "b").id == m.of_type("aws:s3/bucket:Bucket")[0].id


# ------------------------------------------------------------------ Match


@pytest.mark.parametrize(
    ("actual", "pattern", "problems"),
    [
        ({"a": 1, "b": {"c": [1, 2]}}, {"b": {"c": [1, 2]}}, []),
        ({"a": True}, {"a": 1}, ["a: expected 1, found true"]),  # True is not 1 in JSON
        ({"a": [1, 2, 3]}, {"a": [1, 2]}, ["a: expected 2 item(s), found 3: [1, 2, 3]"]),
        ({"a": [{"x": 1, "y": 2}]}, {"a": [{"x": 1}]}, []),  # partial inside lists too
        ({"a": {"x": 1, "y": 2}}, {"a": Match.exact({"x": 1})}, ["a.y: unexpected key (value 2)"]),
        ({"a": [1, 5, 3]}, {"a": Match.array_with([5])}, []),
        (
            {"a": [1, 5, 3]},
            {"a": Match.array_with([3, 5])},
            ["a: no item (after index 2) matches item 1 of the pattern, 5"],
        ),  # fmt: skip
        ({"a": 1}, {"a": Match.absent()}, ["a: expected the key to be absent, found 1"]),
        ({}, {"a": Match.any_value()}, ["a: expected any value, found nothing (the key is absent)"]),
        ({"p": '{"k": [1]}'}, {"p": Match.serialized_json({"k": [2]})}, ["p<json>.k[0]: expected 2, found 1"]),
        ("x", {"a": 1}, ['(the value): expected a mapping, found "x"']),
    ],
)
def test_match_semantics(actual: Any, pattern: Any, problems: list[str]):
    assert mismatches(actual, pattern) == problems
    assert matches(actual, pattern) is (not problems)


def test_other_mocks_see_the_sdk_unchanged_after_slipway_mocks_exist():
    """Installing SlipwayMocks once must not change a user's own Mocks (test order): their
    resource-method calls fail exactly as with the SDK alone."""
    from pulumi.runtime import mocks as pulumi_mocks

    from slipway.testing import SlipwayMocks
    from slipway.testing.shim import _call

    SlipwayMocks()  # installs the shim

    class Plain(pulumi.runtime.Mocks):
        def new_resource(self, args):
            return f"{args.name}-id", dict(args.inputs)

        def call(self, args):
            return {}

    monitor = pulumi_mocks.MockMonitor(Plain())
    with pytest.raises(AttributeError, match="'MockMonitor' object has no attribute 'Call'"):
        _call(monitor, None)


def test_the_sdk_still_has_no_call_of_its_own():
    """When pulumi's MockMonitor gains its own Call, the shim keeps it and slipway's answer
    (which resolves `__self__` from the recording) would no longer run: revisit testing/shim.py."""
    from pulumi.runtime import mocks as pulumi_mocks

    from slipway.testing.shim import _call

    assert pulumi_mocks.MockMonitor.__dict__.get("Call") in (None, _call)


def test_mocked_leaves_no_config_behind():
    from pulumi.runtime.config import CONFIG

    from slipway.testing import mocked

    with mocked(config={"proj:webTag": "1.0.0"}, secret_keys=["proj:webTag"]):
        assert CONFIG.get()["proj:webTag"] == "1.0.0"
    assert "proj:webTag" not in CONFIG.get()
