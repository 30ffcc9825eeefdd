"""The replacement facts `slipway plan` weighs changes against (cli/plan/facts.py and its data).

Every type the shipped stacks render has facts; the facts say what the providers' sources say
(terraform-provider-aws ForceNew, pulumi-kubernetes forceNewProperties, pulumi-eks pass-through);
AWS property paths are real inputs of the installed pulumi_aws; and the generator's Go parsing
and bridge naming behave on small sources.
"""

from __future__ import annotations

import importlib.util
import json
import re
import sys
from functools import cache
from pathlib import Path
from types import ModuleType

import pytest

from slipway.cli.plan.facts import (
    DATA,
    DELETE_BEFORE_REPLACE_MODES,
    FACTS_VERSIONS,
    UnknownType,
    conditional_reasons,
    load_facts,
    normalize_path,
    replacement_reasons,
)
from slipway.cli.render import RenderResult

ROOT = Path(__file__).resolve().parent.parent
INGRESS_RULE = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"


def rendered_types(*renders: RenderResult) -> set[str]:
    return {r.type for render in renders for r in render.records if not r.type.startswith("slipway:")}


# ------------------------------------------------------------------------------------ coverage


def test_every_rendered_type_has_facts(dev: RenderResult, prod: RenderResult) -> None:
    facts = load_facts()
    missing = sorted(rendered_types(dev, prod) - set(facts))
    assert not missing, f"no replacement facts for {missing}: extend scripts/replacement_facts.py"
    assert INGRESS_RULE in facts


def test_component_children_have_facts() -> None:
    facts = load_facts()
    for component in ("eks:index:Cluster", "eks:index:ManagedNodeGroup"):
        children = facts[component].children
        assert children, component
        assert [c for c in children if c not in facts] == []
    assert {
        "aws:eks/cluster:Cluster",
        "aws:iam/openIdConnectProvider:OpenIdConnectProvider",
        "aws:eks/addon:Addon",
        "aws:ec2/securityGroup:SecurityGroup",
    } <= set(facts["eks:index:Cluster"].children)
    assert facts["eks:index:ManagedNodeGroup"].children == ("aws:eks/nodeGroup:NodeGroup",)


def test_data_file_shape() -> None:
    raw = json.loads(DATA.read_text())
    assert raw["generated_by"] == "scripts/replacement_facts.py"
    assert set(raw["sources"]) >= {
        "terraform-provider-aws",
        "pulumi-aws",
        "pulumi-terraform-bridge",
        "pulumi-kubernetes",
        "pulumi-eks",
    }
    assert raw["sources"] == FACTS_VERSIONS
    for token, facts in load_facts().items():
        assert facts.type == token
        assert facts.source, token
        assert facts.delete_before_replace in DELETE_BEFORE_REPLACE_MODES, token
        if facts.delete_before_replace == "when-named":
            assert facts.name_field, token
        assert list(facts.force_new) == sorted(set(facts.force_new)), token
        if raw["types"][token].get("curated"):
            assert facts.curated and facts.source


# ------------------------------------------------------------------ facts against the sources


@pytest.mark.parametrize(
    ("type_", "forces", "does_not"),
    [
        # terraform-provider-aws internal/service/eks/node_group.go: ForceNew on these.
        (
            "aws:eks/nodeGroup:NodeGroup",
            ["instanceTypes", "capacityType", "amiType", "subnetIds", "nodeRoleArn", "diskSize", "launchTemplate.id"],
            ["scalingConfig.desiredSize", "labels", "taints", "version", "releaseVersion", "launchTemplate.version"],
        ),
        # eks/access_policy_association.go: access_scope (and its fields) ForceNew, no Update.
        (
            "aws:eks/accessPolicyAssociation:AccessPolicyAssociation",
            ["accessScope", "accessScope.namespaces", "accessScope.type", "policyArn", "principalArn", "clusterName"],
            [],
        ),
        ("aws:eks/accessEntry:AccessEntry", ["principalArn", "clusterName", "type"], ["kubernetesGroups", "tags"]),
        ("aws:eks/addon:Addon", ["addonName", "clusterName"], ["addonVersion", "configurationValues"]),
        (
            "aws:eks/cluster:Cluster",
            ["name", "roleArn", "kubernetesNetworkConfig.serviceIpv4Cidr"],
            ["version", "vpcConfig.subnetIds", "vpcConfig.endpointPublicAccess", "enabledClusterLogTypes"],
        ),
        ("aws:ec2/subnet:Subnet", ["cidrBlock", "availabilityZone", "vpcId"], ["mapPublicIpOnLaunch", "tags"]),
        ("aws:ec2/vpc:Vpc", ["cidrBlock"], ["enableDnsHostnames", "enableDnsSupport"]),
        ("aws:ec2/securityGroup:SecurityGroup", ["description", "vpcId", "name"], ["ingress", "egress"]),
        ("aws:ec2/natGateway:NatGateway", ["allocationId", "subnetId", "connectivityType"], ["tags"]),
        ("aws:ec2/route:Route", ["routeTableId", "destinationCidrBlock"], ["natGatewayId", "gatewayId"]),
        ("aws:ec2/routeTableAssociation:RouteTableAssociation", ["subnetId"], ["routeTableId"]),
        ("aws:kms/key:Key", ["keyUsage", "customerMasterKeySpec", "multiRegion"], ["description", "enableKeyRotation"]),
        ("aws:kms/alias:Alias", ["name"], ["targetKeyId"]),
        ("aws:ecr/repository:Repository", ["name", "encryptionConfigurations"], ["imageTagMutability", "forceDelete"]),
        ("aws:iam/role:Role", ["name", "path"], ["assumeRolePolicy", "description"]),
        ("aws:iam/policy:Policy", ["description", "name", "path"], ["policy"]),
        ("aws:iam/rolePolicyAttachment:RolePolicyAttachment", ["role", "policyArn"], []),
        ("aws:s3/bucket:Bucket", ["bucket", "bucketPrefix", "objectLockEnabled"], ["forceDestroy", "tags"]),
        (
            "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
            ["bucket", "expectedBucketOwner"],
            ["rules.expiration.days", "rules.status"],
        ),
        (INGRESS_RULE, ["securityGroupId"], ["description", "fromPort"]),
        # pulumi-kubernetes provider/pkg/provider/diff.go forceNewProperties.
        (
            "kubernetes:apps/v1:Deployment",
            ["spec.selector", "spec.selector.matchLabels", "metadata.name", "metadata.namespace"],
            ["spec.template", "spec.replicas", "metadata.labels"],
        ),
        (
            "kubernetes:batch/v1:Job",
            ["spec.template", "spec.selector", "spec.completions", "spec.parallelism"],
            ["spec.backoffLimit", "spec.ttlSecondsAfterFinished"],
        ),
        ("kubernetes:core/v1:Service", ["spec.clusterIP", "metadata.name"], ["spec.type", "spec.ports"]),
        ("kubernetes:rbac.authorization.k8s.io/v1:RoleBinding", ["roleRef"], ["subjects"]),
        ("kubernetes:core/v1:Secret", ["type", "metadata.name"], ["stringData", "data"]),
        ("kubernetes:core/v1:ConfigMap", ["metadata.name"], ["data"]),
        # policy/v1 PDBs: only the v1beta1 spec is listed as immutable upstream.
        ("kubernetes:policy/v1:PodDisruptionBudget", ["metadata.name"], ["spec.minAvailable"]),
        ("kubernetes:batch/v1:CronJob", ["metadata.name"], ["spec.schedule", "spec.jobTemplate"]),
        # helm_release.go Diff: forceNewFields := []string{".name", ".namespace"}.
        ("kubernetes:helm.sh/v3:Release", ["name", "namespace"], ["values", "version", "chart"]),
        # pulumi-eks: ManagedNodeGroup inputs pass through to aws.eks.NodeGroup.
        (
            "eks:index:ManagedNodeGroup",
            [
                "instanceTypes",
                "capacityType",
                "amiType",
                "subnetIds",
                "nodeRole",
                "nodeRoleArn",
                "cluster",
                "launchTemplate.id",
            ],
            ["scalingConfig.desiredSize", "labels", "taints", "version", "launchTemplate.version"],
        ),
        (
            "eks:index:Cluster",
            ["name", "serviceRole", "kubernetesServiceIpAddressRange"],
            ["version", "privateSubnetIds", "publicSubnetIds", "endpointPublicAccess", "tags", "authenticationMode"],
        ),
    ],
)
def test_force_new_spot_checks(type_: str, forces: list[str], does_not: list[str]) -> None:
    facts = load_facts()[type_]
    assert [p for p in forces if p not in facts.force_new] == [], facts.source
    assert [p for p in does_not if replacement_reasons(type_, [p])] == [], facts.source


def test_conditional_replacements() -> None:
    # cluster.go CustomizeDiff: ForceNewIfChange("encryption_config", ...) only on removal.
    assert conditional_reasons("aws:eks/cluster:Cluster", ["encryptionConfig.provider.keyArn"])
    assert "encryptionConfig" not in load_facts()["aws:eks/cluster:Cluster"].force_new
    assert conditional_reasons("eks:index:Cluster", ["encryptionConfigKeyArn"])
    # Secret data replaces only when the provider is not told secrets are mutable.
    (path, why), *_ = conditional_reasons("kubernetes:core/v1:Secret", ["stringData.PASSWORD"])
    assert path == "stringData.PASSWORD" and "enableSecretMutable" in why
    # The kubernetes provider itself is replaced when its kubeconfig points at another cluster.
    assert conditional_reasons("pulumi:providers:kubernetes", ["kubeconfig"])
    assert conditional_reasons("aws:ec2/subnet:Subnet", ["cidrBlock"]) == []


def test_component_child_replacements() -> None:
    cluster = dict(load_facts()["eks:index:Cluster"].child_replacements)
    # vpcId replaces the cluster security group, not the cluster itself.
    assert cluster["vpcId"] == ("aws:ec2/securityGroup:SecurityGroup: vpcId",)
    assert "vpcId" not in load_facts()["eks:index:Cluster"].force_new
    assert cluster["name"] == ("aws:eks/cluster:Cluster: name",)


@pytest.mark.parametrize(
    ("type_", "mode", "name_field"),
    [
        ("aws:iam/rolePolicyAttachment:RolePolicyAttachment", "always", None),
        ("aws:ecr/lifecyclePolicy:LifecyclePolicy", "always", None),
        ("aws:ec2/securityGroupRule:SecurityGroupRule", "always", None),
        ("aws:eks/nodeGroup:NodeGroup", "when-named", "nodeGroupName"),
        ("aws:s3/bucket:Bucket", "when-named", "bucket"),
        ("aws:iam/role:Role", "when-named", "name"),
        ("aws:kms/alias:Alias", "when-named", "name"),
        ("aws:ecr/repository:Repository", "when-named", "name"),
        ("aws:eks/accessPolicyAssociation:AccessPolicyAssociation", "never", None),
        ("aws:ec2/subnet:Subnet", "never", None),
        # Plugin Framework resources: the bridge skips name-based delete-before-replace (#823).
        ("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", "never", None),
        ("kubernetes:apps/v1:Deployment", "named-object", "metadata.name"),
        ("kubernetes:helm.sh/v3:Release", "never", None),
    ],
)
def test_delete_before_replace(type_: str, mode: str, name_field: str | None) -> None:
    facts = load_facts()[type_]
    assert (facts.delete_before_replace, facts.name_field) == (mode, name_field)


# ------------------------------------------------------------------ replacement_reasons rules


def test_reasons_nested_and_indexed_paths() -> None:
    apa = "aws:eks/accessPolicyAssociation:AccessPolicyAssociation"
    assert replacement_reasons(apa, ["accessScope.namespaces[1]", "accessScope.namespaces[0]"]) == [
        "accessScope.namespaces"
    ]
    ng = "aws:eks/nodeGroup:NodeGroup"
    assert replacement_reasons(ng, ["instanceTypes[0]", "scalingConfig.desiredSize", "tags.team"]) == ["instanceTypes"]
    # A whole block that changed contains a force-new field: replaced.
    assert replacement_reasons(ng, ["launchTemplate"]) == ["launchTemplate"]
    # Inside a force-new field: replaced.
    assert replacement_reasons("kubernetes:batch/v1:Job", ["spec.template.spec.containers[0].image"]) == [
        "spec.template.spec.containers.image"
    ]
    assert replacement_reasons("kubernetes:apps/v1:Deployment", ["spec.template.spec.containers[0].image"]) == []
    # Order kept, duplicates dropped, no prefix confusion between sibling names.
    assert replacement_reasons(ng, ["subnetIds[1]", "amiType", "subnetIds[0]", "amiTypeX"]) == ["subnetIds", "amiType"]
    assert replacement_reasons(ng, []) == []


def test_normalize_path() -> None:
    assert normalize_path("spec.containers[0].env[12].value") == "spec.containers.env.value"
    assert normalize_path('tags["kubernetes.io/role/elb"]') == "tags.kubernetes.io/role/elb"
    assert normalize_path("spec.containers[*].image") == "spec.containers.image"


def test_unknown_type_names_the_script() -> None:
    with pytest.raises(UnknownType) as info:
        replacement_reasons("aws:ec2/instance:Instance", ["instanceType"])
    assert "scripts/replacement_facts.py" in str(info.value)
    assert info.value.type == "aws:ec2/instance:Instance"
    assert not isinstance(info.value, KeyError)
    with pytest.raises(UnknownType):
        conditional_reasons("slipway:app:App", ["image"])


# ----------------------------------------------- AWS paths are inputs of the installed pulumi_aws


@cache
def _getters(path: Path) -> dict[str, set[str]]:
    """Class -> the Pulumi property names it declares (pulumi.getter names)."""
    src = path.read_text()
    out: dict[str, set[str]] = {}
    for m in re.finditer(r"^class (\w+)\b.*?(?=^class |\Z)", src, re.S | re.M):
        body = m.group(0)
        names = set(re.findall(r'@pulumi\.getter\(name="(\w+)"\)', body))
        names |= set(re.findall(r"@pulumi\.getter\n\s+def (\w+)\(", body))
        out[m.group(1)] = names
    return out


def test_aws_paths_are_pulumi_aws_inputs() -> None:
    """The generator converts Terraform names as the bridge does (camelCase, plurals, pulumi-aws
    renames); the installed SDK must know every force-new and name path it produced."""
    spec = importlib.util.find_spec("pulumi_aws")
    assert spec and spec.origin
    sdk = Path(spec.origin).parent
    wrong: list[tuple[str, str]] = []
    for token, facts in load_facts().items():
        if not token.startswith("aws:"):
            continue
        module, _, resource = token.split(":", 1)[1].partition("/")
        file_stem, _, cls = resource.partition(":")
        module_file = sdk / module / (re.sub(r"(?<!^)(?=[A-Z])", "_", file_stem).lower() + ".py")
        top = set().union(*(v for k, v in _getters(module_file).items() if k in (f"{cls}Args", f"{cls}InitArgs")))
        nested = {k: v for k, v in _getters(sdk / module / "_inputs.py").items() if k.startswith(cls)}
        paths = [*facts.force_new, *(p for p, _ in facts.conditional)] + (
            [facts.name_field] if facts.name_field else []
        )
        for path in paths:
            first, *rest = path.split(".")
            if first not in top or any(not any(seg in names for names in nested.values()) for seg in rest):
                wrong.append((token, path))
    assert wrong == []


# -------------------------------------------------------------------------- the generator itself


@cache
def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("replacement_facts", ROOT / "scripts" / "replacement_facts.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["replacement_facts"] = module
    spec.loader.exec_module(module)
    return module


SDK_RESOURCE = """// EXCERPT of internal/service/demo/thing.go @ 0123456789abcdef
package demo

const attrKind = "kind"

// @SDKResource("aws_demo_thing", name="Thing")
func resourceThing() *schema.Resource {
	return &schema.Resource{
		CustomizeDiff: customdiff.ForceNewIfChange("window", func(_ context.Context, old, new, meta any) bool {
			return old.(int) > new.(int)
		}),
		Schema: map[string]*schema.Schema{
			names.AttrName: {
				Type:     schema.TypeString,
				Optional: true,
				ForceNew: true,
			},
			attrKind: {
				Type:     schema.TypeString,
				Required: true,
				ForceNew: true,
			},
			"window": {
				Type:     schema.TypeInt,
				Optional: true,
			},
			"rule": {
				Type:     schema.TypeList,
				Optional: true,
				Elem: &schema.Resource{
					Schema: map[string]*schema.Schema{
						"target_id": {
							Type:     schema.TypeString,
							Required: true,
							ForceNew: true,
						},
					},
				},
			},
			"access_scope": {
				Type:     schema.TypeList,
				MaxItems: 1,
				Required: true,
				Elem: &schema.Resource{
					Schema: map[string]*schema.Schema{
						"namespaces": {
							Type:     schema.TypeSet,
							Optional: true,
							ForceNew: true,
							Elem:     &schema.Schema{Type: schema.TypeString},
						},
					},
				},
			},
			"arn": {
				Type:     schema.TypeString,
				Computed: true,
				ForceNew: true,
			},
			"ingress": {
				Type:     schema.TypeSet,
				Optional: true,
				Elem: &schema.Resource{
					Schema: map[string]*schema.Schema{"port": {Type: schema.TypeInt, Required: true}},
				},
			},
			names.AttrTags: tftags.TagsSchema(),
		},
	}
}

// The rest of a real file: CRUD functions and types the generator reads past.
func resourceThingCreate(ctx context.Context, d *schema.ResourceData, meta any) diag.Diagnostics {
	var diags diag.Diagnostics
	if v, ok := d.GetOk("rule"); ok && len(v.([]any)) > 0 && v.([]any)[0] != nil {
		tfMap := v.([]any)[0].(map[string]any)
		_ = tfMap
	}
	if errs.IsA[*types.ResourceNotFoundException](nil) {
		return diags
	}
	return diags
}

type thingModel struct {
	Name *string `json:"name,omitempty"`
}

var _ = map[string]func() int{"a": func() int { return 1 }}
"""

PF_RESOURCE = """// EXCERPT of internal/service/demo/pf_thing.go @ fedcba9876543210
package demo

// @FrameworkResource("aws_demo_pf_thing", name="PF Thing")
func newPFThing(context.Context) (resource.ResourceWithConfigure, error) {
	return &pfThing{}, nil
}

func (r *pfThing) Schema(ctx context.Context, request resource.SchemaRequest, response *resource.SchemaResponse) {
	response.Schema = schema.Schema{
		Attributes: map[string]schema.Attribute{
			names.AttrBucket: schema.StringAttribute{
				Required: true,
				PlanModifiers: []planmodifier.String{
					stringplanmodifier.RequiresReplace(),
				},
			},
			"mode": schema.StringAttribute{
				Optional: true,
				PlanModifiers: []planmodifier.String{
					stringplanmodifier.RequiresReplaceIfConfigured(),
				},
			},
		},
		Blocks: map[string]schema.Block{
			"rule": schema.ListNestedBlock{
				NestedObject: schema.NestedBlockObject{
					Blocks: map[string]schema.Block{
						"filter": schema.ListNestedBlock{
							Validators: []validator.List{
								listvalidator.SizeAtMost(1),
							},
							NestedObject: schema.NestedBlockObject{
								Attributes: map[string]schema.Attribute{
									"prefix": schema.StringAttribute{
										Optional: true,
										PlanModifiers: []planmodifier.String{
											stringplanmodifier.RequiresReplace(),
										},
									},
								},
							},
						},
					},
				},
			},
		},
	}
}
"""

NAMES = """// EXCERPT of names/attr_consts_gen.go @ 1111111
package names

const (
	AttrName   = "name"
	AttrTags   = "tags"
)
"""


def _demo_tree(tmp_path: Path) -> Path:
    demo = tmp_path / "internal" / "service" / "demo"
    demo.mkdir(parents=True)
    (demo / "thing.go").write_text(SDK_RESOURCE)
    (demo / "pf_thing.go").write_text(PF_RESOURCE)
    (tmp_path / "names").mkdir()
    (tmp_path / "names" / "attr_consts_gen.go").write_text(NAMES)
    return tmp_path


def test_generator_reads_sdkv2_schema(tmp_path: Path) -> None:
    rf = _script()
    tree = _demo_tree(tmp_path)
    res = rf.parse_tf_resource(tree, "internal/service/demo/thing.go", "aws_demo_thing")
    assert not res.framework and res.revision == "0123456789ab"
    override = rf.AwsOverride(fields={"ingress": {"name": "ingress"}})
    paths = {p for p, a in rf.walk_force_new(res.schema, override.fields) if a.force_new}
    # camelCase, plural for lists that are not MaxItems 1, nested paths, computed-only skipped.
    assert paths == {"name", "kind", "rules.targetId", "accessScope.namespaces"}
    names = {p for p, _ in rf.walk_force_new(res.schema, override.fields)}
    assert "ingress" in names and "ingresses" not in names  # pulumi-aws Fields[...].Name override
    assert res.conditional == {"window": "replaced only when CustomizeDiff's ForceNewIfChange condition holds"}
    with pytest.raises(rf.SourceError, match="defines aws_demo_thing"):
        rf.parse_tf_resource(tree, "internal/service/demo/thing.go", "aws_other")


def test_generator_reads_plugin_framework_schema(tmp_path: Path) -> None:
    rf = _script()
    res = rf.parse_tf_resource(_demo_tree(tmp_path), "internal/service/demo/pf_thing.go", "aws_demo_pf_thing")
    assert res.framework
    walked = dict(rf.walk_force_new(res.schema, {}))
    assert {p for p, a in walked.items() if a.force_new} == {"bucket", "rules.filter.prefix"}
    assert walked["mode"].conditional  # RequiresReplaceIf*: a plan-time condition


@pytest.mark.parametrize(
    ("word", "plural"),
    [
        ("rule", "rules"),
        ("encryption_configuration", "encryption_configurations"),
        ("subnet_ids", "subnet_ids"),
        ("taint", "taints"),
        ("policy", "policies"),
        ("ingress", "ingresses"),
        ("status", "statuses"),
        ("data", "data"),
    ],
)
def test_generator_pluralizes_like_the_bridge(word: str, plural: str) -> None:
    assert _script().pluralize(word) == plural
