#!/usr/bin/env python3
"""Regenerate cli/plan/data/replacement_facts.json from the providers' own sources.

`slipway plan` says which changes replace a resource. Those facts are not guessed: this
script reads them out of the Go (and TypeScript) sources of the providers slipway deploys
with, for every type in the TYPES tables below:

- AWS (pulumi-aws is bridged from terraform-provider-aws): the resource schema in
  terraform-provider-aws `internal/service/<svc>/<file>.go` -- SDKv2 `ForceNew: true`,
  Plugin Framework `...planmodifier.RequiresReplace()` -- plus the conditional force-new
  calls of its CustomizeDiff (`customdiff.ForceNewIf*`, `d.ForceNew(...)`). Property names are
  converted to Pulumi's the way pulumi-terraform-bridge does (`pkg/tfbridge/internal/naming`:
  camelCase, plural for lists/sets that are not MaxItems 1, pulumi-aws `Fields[...].Name`
  overrides). Delete-before-replace comes from pulumi-aws `provider/resource_overrides.go`
  (static `DeleteBeforeReplace: true`, `AutoName*` fields) and `provider/autonaming.go`
  (every `name` input is autonamed), read against the bridge's rule
  (`pkg/tfbridge/schema.go` nameRequiresDeleteBeforeReplace; Plugin Framework resources
  skip it, `pkg/pf/tfbridge/provider_diff.go` TODO #823).
- Kubernetes: pulumi-kubernetes `provider/pkg/provider/diff.go` (forceNewProperties),
  `helm_release.go` (forceNewFields) and `provider.go` (DiffConfig of the provider itself).
- pulumi-eks components: the child types they create and how component inputs pass
  through to the children, checked against `nodejs/eks/...` (each mapping names the source
  text it relies on, and the run fails when that text is gone).

Usage (each PATH is a checkout, or a folder holding the same relative paths):

    scripts/replacement_facts.py --tf-aws PATH --pulumi-aws PATH --pulumi-kubernetes PATH \\
        --pulumi-eks PATH --bridge PATH [--out cli/plan/data/replacement_facts.json] [--check]

It prints, per type, what changed against the existing JSON. The revision of each file is
taken from `git log` when PATH is a git checkout, else from an `@ <commit>` in the file's first
line (excerpts saved from the code index), else from PATH/.revision.
"""

from __future__ import annotations

import argparse
import functools
import json
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
DEFAULT_OUT = REPO / "cli" / "plan" / "data" / "replacement_facts.json"

# --------------------------------------------------------------------------------------------
# What to read: Pulumi type token -> (Terraform resource, file in terraform-provider-aws).
# --------------------------------------------------------------------------------------------
AWS_TYPES: dict[str, tuple[str, str]] = {
    "aws:cloudwatch/eventRule:EventRule": ("aws_cloudwatch_event_rule", "internal/service/events/rule.go"),
    "aws:cloudwatch/eventTarget:EventTarget": ("aws_cloudwatch_event_target", "internal/service/events/target.go"),
    "aws:ec2/eip:Eip": ("aws_eip", "internal/service/ec2/ec2_eip.go"),
    "aws:ec2/internetGateway:InternetGateway": ("aws_internet_gateway", "internal/service/ec2/vpc_internet_gateway.go"),
    "aws:ec2/launchTemplate:LaunchTemplate": ("aws_launch_template", "internal/service/ec2/ec2_launch_template.go"),
    "aws:ec2/natGateway:NatGateway": ("aws_nat_gateway", "internal/service/ec2/vpc_nat_gateway.go"),
    "aws:ec2/route:Route": ("aws_route", "internal/service/ec2/vpc_route.go"),
    "aws:ec2/routeTable:RouteTable": ("aws_route_table", "internal/service/ec2/vpc_route_table.go"),
    "aws:ec2/routeTableAssociation:RouteTableAssociation": (
        "aws_route_table_association",
        "internal/service/ec2/vpc_route_table_association.go",
    ),
    "aws:ec2/securityGroup:SecurityGroup": ("aws_security_group", "internal/service/ec2/vpc_security_group.go"),
    # The code index holds no internal/service/ec2 file for aws_ec2_tag (ec2_tag.go upstream): its
    # newest stored version is the pre-move aws/ file (same schema: resource_id and key ForceNew,
    # value updated in place).
    "aws:ec2/tag:Tag": ("aws_ec2_tag", "aws/resource_aws_ec2_tag.go"),
    "aws:ec2/securityGroupRule:SecurityGroupRule": (
        "aws_security_group_rule",
        "internal/service/ec2/vpc_security_group_rule.go",
    ),
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": (
        "aws_vpc_security_group_ingress_rule",
        "internal/service/ec2/vpc_security_group_ingress_rule.go",
    ),
    "aws:ec2/subnet:Subnet": ("aws_subnet", "internal/service/ec2/vpc_subnet.go"),
    "aws:ec2/vpc:Vpc": ("aws_vpc", "internal/service/ec2/vpc_.go"),
    "aws:ec2/vpcEndpoint:VpcEndpoint": ("aws_vpc_endpoint", "internal/service/ec2/vpc_endpoint.go"),
    "aws:ecr/lifecyclePolicy:LifecyclePolicy": ("aws_ecr_lifecycle_policy", "internal/service/ecr/lifecycle_policy.go"),
    "aws:ecr/repository:Repository": ("aws_ecr_repository", "internal/service/ecr/repository.go"),
    "aws:eks/accessEntry:AccessEntry": ("aws_eks_access_entry", "internal/service/eks/access_entry.go"),
    "aws:eks/accessPolicyAssociation:AccessPolicyAssociation": (
        "aws_eks_access_policy_association",
        "internal/service/eks/access_policy_association.go",
    ),
    "aws:eks/addon:Addon": ("aws_eks_addon", "internal/service/eks/addon.go"),
    "aws:eks/cluster:Cluster": ("aws_eks_cluster", "internal/service/eks/cluster.go"),
    "aws:eks/nodeGroup:NodeGroup": ("aws_eks_node_group", "internal/service/eks/node_group.go"),
    "aws:iam/openIdConnectProvider:OpenIdConnectProvider": (
        "aws_iam_openid_connect_provider",
        "internal/service/iam/openid_connect_provider.go",
    ),
    "aws:iam/policy:Policy": ("aws_iam_policy", "internal/service/iam/policy.go"),
    "aws:iam/role:Role": ("aws_iam_role", "internal/service/iam/role.go"),
    "aws:iam/rolePolicy:RolePolicy": ("aws_iam_role_policy", "internal/service/iam/role_policy.go"),
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": (
        "aws_iam_role_policy_attachment",
        "internal/service/iam/role_policy_attachment.go",
    ),
    "aws:kms/alias:Alias": ("aws_kms_alias", "internal/service/kms/alias.go"),
    "aws:kms/key:Key": ("aws_kms_key", "internal/service/kms/key.go"),
    "aws:s3/bucket:Bucket": ("aws_s3_bucket", "internal/service/s3/bucket.go"),
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": (
        "aws_s3_bucket_lifecycle_configuration",
        "internal/service/s3/bucket_lifecycle_configuration.go",
    ),
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls": (
        "aws_s3_bucket_ownership_controls",
        "internal/service/s3/bucket_ownership_controls.go",
    ),
    "aws:s3/bucketPolicy:BucketPolicy": ("aws_s3_bucket_policy", "internal/service/s3/bucket_policy.go"),
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": (
        "aws_s3_bucket_public_access_block",
        "internal/service/s3/bucket_public_access_block.go",
    ),
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": (
        "aws_s3_bucket_server_side_encryption_configuration",
        "internal/service/s3/bucket_server_side_encryption_configuration.go",
    ),
    "aws:sqs/queue:Queue": ("aws_sqs_queue", "internal/service/sqs/queue.go"),
    "aws:sqs/queuePolicy:QueuePolicy": ("aws_sqs_queue_policy", "internal/service/sqs/queue_policy.go"),
}

# Conditional replacements the Go cannot state as data (a plan-time function decides). Each one
# names the code it paraphrases; the script checks that code is still in the file.
AWS_CONDITIONAL_NOTES: dict[str, list[tuple[str, str, str]]] = {
    # type: [(pulumi path, condition, evidence substring in the TF file)]
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": [
        (
            path,
            "replaced when the rule's source kind changes (one of cidrIpv4, cidrIpv6, prefixListId, "
            "referencedSecurityGroupId to another); a new value of the same kind updates in place",
            "response.RequiresReplace = []path.Path{path.Root(old), path.Root(new)}",
        )
        for path in ("cidrIpv4", "cidrIpv6", "prefixListId", "referencedSecurityGroupId")
    ],
}

# Kubernetes kinds slipway renders (and the kinds a real preview shows for pulumi-eks children).
K8S_TYPES: list[str] = [
    "kubernetes:apps/v1:Deployment",
    "kubernetes:apps/v1:DaemonSet",
    "kubernetes:apps/v1:StatefulSet",
    # Argo Rollouts' custom resources: like the other CRs, only metadata.name/namespace.
    "kubernetes:argoproj.io/v1alpha1:AnalysisTemplate",
    "kubernetes:argoproj.io/v1alpha1:Rollout",
    "kubernetes:argoproj.io/v1alpha1:WorkflowTemplate",
    "kubernetes:autoscaling/v2:HorizontalPodAutoscaler",
    "kubernetes:batch/v1:CronJob",
    "kubernetes:batch/v1:Job",
    "kubernetes:core/v1:ConfigMap",
    "kubernetes:core/v1:Namespace",
    "kubernetes:core/v1:PersistentVolumeClaim",
    "kubernetes:core/v1:Pod",
    "kubernetes:core/v1:Secret",
    "kubernetes:core/v1:Service",
    "kubernetes:core/v1:ServiceAccount",
    # Karpenter's custom resources: no forceNew entry upstream, so only metadata.name/namespace.
    "kubernetes:karpenter.k8s.aws/v1:EC2NodeClass",
    "kubernetes:karpenter.sh/v1:NodePool",
    "kubernetes:networking.k8s.io/v1:Ingress",
    "kubernetes:policy/v1:PodDisruptionBudget",
    "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole",
    "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding",
    "kubernetes:rbac.authorization.k8s.io/v1:Role",
    "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding",
    "kubernetes:storage.k8s.io/v1:StorageClass",
]
HELM_RELEASE = "kubernetes:helm.sh/v3:Release"
K8S_PROVIDER = "pulumi:providers:kubernetes"

# pulumi-eks components. Each mapping: component input -> (child type, child input path,
# evidence text in the component's source). A component's force_new are the inputs whose
# child path forces replacement of its primary child; the rest land in child_replacements.
EKS_COMPONENTS: dict[str, dict[str, Any]] = {
    "eks:index:Cluster": {
        "file": "nodejs/eks/cluster/cluster.ts",
        "primary": "aws:eks/cluster:Cluster",
        # The children pulumi-eks v4 creates for slipway's inputs (API authentication mode,
        # instanceRoles given, skipDefaultNodeGroup, createOidcProvider, kube-proxy and VPC CNI
        # add-ons, default security groups), in creation order.
        "children": [
            ("aws:iam/role:Role", "`${name}-eksRole`"),
            ("aws:iam/rolePolicyAttachment:RolePolicyAttachment", None),
            ("aws:ec2/securityGroup:SecurityGroup", "`${name}-eksClusterSecurityGroup`"),
            ("aws:ec2/securityGroupRule:SecurityGroupRule", "`${name}-eksClusterInternetEgressRule`"),
            ("aws:eks/cluster:Cluster", "const eksCluster = new aws.eks.Cluster("),
            ("aws:eks/addon:Addon", "`${name}-kube-proxy`"),
            ("pulumi:providers:kubernetes", "const k8sProvider = new k8s.Provider("),
            ("aws:iam/openIdConnectProvider:OpenIdConnectProvider", "`${name}-oidcProvider`"),
        ],
        "extra_children": [
            # (file, type, evidence)
            (
                "nodejs/eks/servicerole.ts",
                "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
                "new aws.iam.RolePolicyAttachment(",
            ),
            ("nodejs/eks/addons/cni-addon.ts", "aws:eks/addon:Addon", "const addon = new aws.eks.Addon("),
            (
                "nodejs/eks/nodes/securitygroup.ts",
                "aws:ec2/securityGroup:SecurityGroup",
                "const nodeSecurityGroup = new aws.ec2.SecurityGroup(",
            ),
            (
                "nodejs/eks/nodes/securitygroup.ts",
                "aws:ec2/securityGroupRule:SecurityGroupRule",
                "const eksClusterIngressRule = new aws.ec2.SecurityGroupRule(",
            ),
        ],
        "ignore_changes_anchor": "const eksCluster = new aws.eks.Cluster(",
        "mappings": [
            ("name", "aws:eks/cluster:Cluster", "name", "name: args.name,"),
            ("serviceRole", "aws:eks/cluster:Cluster", "roleArn", "? pulumi.output(args.serviceRole).arn"),
            ("subnetIds", "aws:eks/cluster:Cluster", "vpcConfig.subnetIds", "subnetIds: clusterSubnetIds,"),
            (
                "publicSubnetIds",
                "aws:eks/cluster:Cluster",
                "vpcConfig.subnetIds",
                "return [...publicIds, ...privateIds];",
            ),
            (
                "privateSubnetIds",
                "aws:eks/cluster:Cluster",
                "vpcConfig.subnetIds",
                "return [...publicIds, ...privateIds];",
            ),
            (
                "endpointPrivateAccess",
                "aws:eks/cluster:Cluster",
                "vpcConfig.endpointPrivateAccess",
                "endpointPrivateAccess: args.endpointPrivateAccess,",
            ),
            (
                "endpointPublicAccess",
                "aws:eks/cluster:Cluster",
                "vpcConfig.endpointPublicAccess",
                "endpointPublicAccess: args.endpointPublicAccess,",
            ),
            (
                "publicAccessCidrs",
                "aws:eks/cluster:Cluster",
                "vpcConfig.publicAccessCidrs",
                "publicAccessCidrs: args.publicAccessCidrs",
            ),
            (
                "clusterSecurityGroup",
                "aws:eks/cluster:Cluster",
                "vpcConfig.securityGroupIds",
                "eksClusterSecurityGroup = args.clusterSecurityGroup;",
            ),
            (
                "skipDefaultSecurityGroups",
                "aws:eks/cluster:Cluster",
                "vpcConfig.securityGroupIds",
                "} else if (!skipDefaultSecurityGroups) {",
            ),
            ("version", "aws:eks/cluster:Cluster", "version", "version: args.version,"),
            (
                "enabledClusterLogTypes",
                "aws:eks/cluster:Cluster",
                "enabledClusterLogTypes",
                "enabledClusterLogTypes: args.enabledClusterLogTypes,",
            ),
            (
                "encryptionConfigKeyArn",
                "aws:eks/cluster:Cluster",
                "encryptionConfig",
                "if (args.encryptionConfigKeyArn) {",
            ),
            (
                "kubernetesServiceIpAddressRange",
                "aws:eks/cluster:Cluster",
                "kubernetesNetworkConfig.serviceIpv4Cidr",
                'serviceIpv4Cidr: ipFamily === "ipv4" ? serviceIpv4Cidr : undefined',
            ),
            ("ipFamily", "aws:eks/cluster:Cluster", "kubernetesNetworkConfig.ipFamily", "ipFamily: ipFamily,"),
            (
                "authenticationMode",
                "aws:eks/cluster:Cluster",
                "accessConfig.authenticationMode",
                "authenticationMode: args.authenticationMode,",
            ),
            (
                "authenticationMode",
                "aws:eks/cluster:Cluster",
                "accessConfig.bootstrapClusterCreatorAdminPermissions",
                "bootstrapClusterCreatorAdminPermissions: true,",
            ),
            (
                "bootstrapSelfManagedAddons",
                "aws:eks/cluster:Cluster",
                "bootstrapSelfManagedAddons",
                ": args.bootstrapSelfManagedAddons ?? true,",
            ),
            ("upgradePolicy", "aws:eks/cluster:Cluster", "upgradePolicy", "upgradePolicy: args.upgradePolicy,"),
            ("tags", "aws:eks/cluster:Cluster", "tags", "...clusterTags,"),
            ("vpcId", "aws:ec2/securityGroup:SecurityGroup", "vpcId", "vpcId: vpcId,"),
            ("kubeProxyAddonOptions.version", "aws:eks/addon:Addon", "addonVersion", "addonVersion: kubeProxyVersion,"),
            (
                "kubeProxyAddonOptions.configurationValues",
                "aws:eks/addon:Addon",
                "configurationValues",
                "args.kubeProxyAddonOptions?.configurationValues,",
            ),
            ("corednsAddonOptions.version", "aws:eks/addon:Addon", "addonVersion", "addonVersion: corednsVersion,"),
        ],
    },
    "eks:index:ManagedNodeGroup": {
        "file": "nodejs/eks/nodes/nodegroup.ts",
        "primary": "aws:eks/nodeGroup:NodeGroup",
        "children": [("aws:eks/nodeGroup:NodeGroup", "const nodeGroup = new aws.eks.NodeGroup(")],
        "extra_children": [],
        "ignore_changes_anchor": "const nodeGroup = new aws.eks.NodeGroup(",
        # `...nodeGroupArgs` spreads every aws.eks.NodeGroupArgs input the options did not Omit;
        # the omitted ones are set again by the component under the same name.
        "spread": ("const nodeGroupArgs = Object.assign({}, args);", "...nodeGroupArgs,"),
        "omit_anchor": "export type ManagedNodeGroupOptions = Omit<",
        "mappings": [
            (
                "cluster",
                "aws:eks/nodeGroup:NodeGroup",
                "clusterName",
                "clusterName: args.clusterName || core.cluster.name,",
            ),
            (
                "clusterName",
                "aws:eks/nodeGroup:NodeGroup",
                "clusterName",
                "clusterName: args.clusterName || core.cluster.name,",
            ),
            (
                "nodeRole",
                "aws:eks/nodeGroup:NodeGroup",
                "nodeRoleArn",
                "roleArn = pulumi.output(args.nodeRole).apply((r) => r.arn);",
            ),
            ("nodeRoleArn", "aws:eks/nodeGroup:NodeGroup", "nodeRoleArn", "roleArn = args.nodeRoleArn;"),
            ("subnetIds", "aws:eks/nodeGroup:NodeGroup", "subnetIds", "subnetIds = pulumi.output(args.subnetIds);"),
            (
                "scalingConfig",
                "aws:eks/nodeGroup:NodeGroup",
                "scalingConfig",
                "scalingConfig: pulumi.all([args.scalingConfig])",
            ),
        ],
        "conditional": [
            (
                "operatingSystem",
                "replaces the node group when amiType is not set: the component derives amiType (ForceNew) from it",
                "amiType = determineAmiType(",
            ),
            (
                "gpu",
                "replaces the node group when amiType is not set: the component derives amiType (ForceNew) from it",
                "amiType = determineAmiType(",
            ),
            (
                "kubeletExtraArgs",
                "setting the first (or removing the last) custom launch-template option swaps the node group's "
                "launchTemplate.id (ForceNew); changing one only adds a launch-template version (a rolling update)",
                "if (requiresCustomLaunchTemplate(args)) {",
            ),
            (
                "bootstrapExtraArgs",
                "as kubeletExtraArgs: a custom launch template appearing or going away replaces the node group",
                "if (requiresCustomLaunchTemplate(args)) {",
            ),
            (
                "userData",
                "as kubeletExtraArgs: a custom launch template appearing or going away replaces the node group",
                "if (requiresCustomLaunchTemplate(args)) {",
            ),
            (
                "amiId",
                "as kubeletExtraArgs: a custom launch template appearing or going away replaces the node group",
                "if (requiresCustomLaunchTemplate(args)) {",
            ),
            (
                "enableIMDSv2",
                "as kubeletExtraArgs: a custom launch template appearing or going away replaces the node group",
                "if (requiresCustomLaunchTemplate(args)) {",
            ),
        ],
    },
}


class SourceError(Exception):
    """A source file is missing or no longer says what the script relies on."""


# --------------------------------------------------------------------------------------------
# A small Go tokenizer and expression parser: enough for schema composite literals.
# --------------------------------------------------------------------------------------------
_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<lcomment>//[^\n]*)
  | (?P<bcomment>/\*.*?\*/)
  | (?P<raw>`[^`]*`)
  | (?P<str>"(?:\\.|[^"\\\n])*")
  | (?P<rune>'(?:\\.|[^'\\\n])+')
  | (?P<num>\d+(?:\.\d+)?)
  | (?P<ident>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<op>\.\.\.|:=|&&|\|\||==|!=|<=|>=|<-|[{}()\[\],;:.&*+\-/%<>=!|^~?@\#$\\])
    """,
    re.VERBOSE | re.DOTALL,
)


@dataclass
class Tok:
    kind: str
    text: str
    pos: int


def tokenize(src: str) -> list[Tok]:
    out: list[Tok] = []
    i = 0
    while i < len(src):
        m = _TOKEN.match(src, i)
        if not m:
            out.append(Tok("op", src[i], i))
            i += 1
            continue
        kind = m.lastgroup or "op"
        if kind not in ("ws", "lcomment", "bcomment"):
            out.append(Tok(kind, m.group(), i))
        i = m.end()
    return out


@dataclass
class Node:
    kind: str  # str | num | ident | call | composite | unary | func | opaque
    name: str = ""  # ident text, call function, composite type, unary operator
    value: Any = None  # str/num value, unary operand
    args: list[Node] = field(default_factory=list)  # call arguments
    elems: list[tuple[Node | None, Node]] = field(default_factory=list)  # composite elements
    body: tuple[int, int] = (0, 0)  # token range of a func literal's body


_BINARY = {"+", "-", "*", "/", "%", "|", "&", "^", "<", ">", "==", "!=", "<=", ">=", "&&", "||", "<<", ">>"}


class Parser:
    def __init__(self, toks: list[Tok]) -> None:
        self.toks = toks
        self.i = 0

    def peek(self, k: int = 0) -> Tok | None:
        j = self.i + k
        return self.toks[j] if j < len(self.toks) else None

    def at(self, text: str, k: int = 0) -> bool:
        t = self.peek(k)
        return t is not None and t.text == text and t.kind in ("op", "ident")

    def take(self, text: str | None = None) -> Tok:
        t = self.peek()
        if t is None:
            raise SourceError("unexpected end of Go source")
        if text is not None and t.text != text:
            raise SourceError(f"expected {text!r}, found {t.text!r} at offset {t.pos}")
        self.i += 1
        return t

    def skip_balanced(self, open_: str, close: str) -> tuple[int, int]:
        start = self.i
        self.take(open_)
        depth = 1
        while depth:
            t = self.take()
            if t.kind == "op" and t.text == open_:
                depth += 1
            elif t.kind == "op" and t.text == close:
                depth -= 1
        return start + 1, self.i - 1

    def expr(self) -> Node:
        left = self.unary()
        while (t := self.peek()) is not None and t.kind == "op" and t.text in _BINARY:
            self.take()
            self.unary()
            left = Node("opaque", name="binary")
        return left

    def unary(self) -> Node:
        t = self.peek()
        if t is not None and t.kind == "op" and t.text in ("&", "-", "*", "!", "<-", "^"):
            self.take()
            return Node("unary", name=t.text, value=self.unary())
        return self.primary()

    def type_text(self) -> str:
        """A type expression: []T, map[K]V, *T, pkg.T, T[Args]."""
        parts: list[str] = []
        while True:
            t = self.peek()
            if t is None:
                break
            if t.text == "[" and self.at("]", 1):
                self.take()
                self.take()
                parts.append("[]")
                continue
            if t.text == "map" and self.at("[", 1):
                self.take()
                s, e = self.skip_balanced("[", "]")
                parts.append("map[" + " ".join(x.text for x in self.toks[s:e]) + "]")
                continue
            if t.text == "*":
                self.take()
                parts.append("*")
                continue
            if t.kind == "ident":
                parts.append(self.dotted())
            break
        return "".join(parts)

    def dotted(self) -> str:
        name = self.take().text
        while self.at(".") and (n := self.peek(1)) is not None and n.kind == "ident":
            self.take()
            name += "." + self.take().text
        if self.at("["):  # generic instantiation or index: keep it in the name
            s, e = self.skip_balanced("[", "]")
            name += "[" + "".join(x.text for x in self.toks[s:e]) + "]"
        return name

    def composite(self, type_name: str) -> Node:
        self.take("{")
        node = Node("composite", name=type_name)
        while not self.at("}"):
            first = self.expr()
            if self.at(":"):
                self.take()
                node.elems.append((first, self.expr()))
            else:
                node.elems.append((None, first))
            if self.at(","):
                self.take()
        self.take("}")
        return node

    def primary(self) -> Node:
        t = self.peek()
        if t is None:
            raise SourceError("unexpected end of Go source")
        node: Node
        if t.kind in ("str", "raw"):
            self.take()
            value = t.text[1:-1]
            if t.kind == "str":
                value = bytes(value, "utf-8").decode("unicode_escape")
            node = Node("str", value=value)
        elif t.kind in ("num", "rune"):
            self.take()
            node = Node("num", value=t.text)
        elif t.text == "func":
            self.take()
            self.skip_balanced("(", ")")
            while not self.at("{"):  # the result type
                if self.at("("):
                    self.skip_balanced("(", ")")
                elif self.at("interface") and self.at("{", 1):
                    self.take()
                    self.skip_balanced("{", "}")
                else:
                    self.take()
            node = Node("func", body=self.skip_balanced("{", "}"))
        elif t.text == "(":
            self.take()
            node = self.expr()
            self.take(")")
        elif t.text == "{":
            node = self.composite("")
        elif t.text in ("[", "map", "*") or t.kind == "ident":
            name = self.type_text()
            node = Node("ident", name=name)
        else:
            raise SourceError(f"unexpected {t.text!r} at offset {t.pos}")
        # Postfix: calls, composites, selectors, variadic spreads, type assertions.
        while True:
            if self.at("("):
                self.take()
                call = Node("call", name=node.name if node.kind == "ident" else "")
                while not self.at(")"):
                    call.args.append(self.expr())
                    if self.at("..."):
                        self.take()
                    if self.at(","):
                        self.take()
                self.take(")")
                node = call
            elif self.at("{") and node.kind == "ident" and _looks_like_type(node.name):
                node = self.composite(node.name)
            elif self.at(".") and (n := self.peek(1)) is not None:
                self.take()
                if n.text == "(":  # type assertion x.(T)
                    self.skip_balanced("(", ")")
                else:
                    node = Node(
                        "ident", name=(node.name if node.kind in ("ident", "call") else "") + "." + self.dotted()
                    )
            else:
                return node


_KEYWORDS = {"if", "for", "switch", "select", "func", "return", "else", "range", "go", "defer", "case", "default"}


def _looks_like_type(name: str) -> bool:
    """In the expression contexts parsed here, `Ident {` is a composite literal unless Ident is a keyword."""
    return bool(name) and name not in _KEYWORDS


def parse_at(toks: list[Tok], index: int) -> Node:
    p = Parser(toks)
    p.i = index
    return p.expr()


def find_seq(toks: list[Tok], texts: list[str], start: int = 0, end: int | None = None) -> int:
    end = len(toks) if end is None else end
    n = len(texts)
    for i in range(start, end - n + 1):
        if all(toks[i + k].text == texts[k] for k in range(n)):
            return i
    return -1


def func_body(toks: list[Tok], name_pattern: re.Pattern[str]) -> tuple[int, int] | None:
    """Token range of the body of the first `func ...name(...)` whose name matches."""
    for i, t in enumerate(toks):
        if t.text != "func":
            continue
        j = i + 1
        if j < len(toks) and toks[j].text == "(":  # method receiver
            p = Parser(toks)
            p.i = j
            p.skip_balanced("(", ")")
            j = p.i
        if j < len(toks) and toks[j].kind == "ident" and name_pattern.fullmatch(toks[j].text):
            p = Parser(toks)
            p.i = j + 1
            p.skip_balanced("(", ")")
            while not p.at("{"):
                p.take()
            return p.skip_balanced("{", "}")
    return None


def resource_func_body(toks: list[Tok]) -> tuple[int, int] | None:
    """Token range of the body of the first top-level `func X() *schema.Resource`."""
    for i, t in enumerate(toks):
        if t.text != "func" or i + 2 >= len(toks) or toks[i + 1].kind != "ident" or toks[i + 2].text != "(":
            continue
        p = Parser(toks)
        p.i = i + 2
        p.skip_balanced("(", ")")
        result: list[str] = []
        while not p.at("{"):
            result.append(p.take().text)
        if "".join(result) == "*schema.Resource":
            return p.skip_balanced("{", "}")
    return None


# --------------------------------------------------------------------------------------------
# Terraform schema model.
# --------------------------------------------------------------------------------------------
@dataclass
class Attr:
    name: str
    type: str = "unknown"  # string|bool|int|float|list|set|map|object|unknown
    optional: bool = False
    required: bool = False
    computed: bool = False
    force_new: bool = False
    conditional: str | None = None
    max_items: int | None = None
    children: dict[str, Attr] = field(default_factory=dict)

    @property
    def is_input(self) -> bool:
        return self.optional or self.required


@dataclass
class GoPackage:
    """Identifiers a schema may refer to: package vars/consts and names.Attr* constants."""

    consts: dict[str, str]
    vars: dict[str, Node]
    files: dict[str, list[Tok]]
    names: dict[str, str]
    names_fallbacks: set[str] = field(default_factory=set)

    def const(self, ident: str) -> str:
        if ident.startswith("names."):
            key = ident.split(".", 1)[1]
            if key in self.names:
                return self.names[key]
            if key.startswith("Attr"):
                self.names_fallbacks.add(key)
                return camel_to_snake(key[len("Attr") :])
            raise SourceError(f"unknown names constant {ident}")
        if ident in self.consts:
            return self.consts[ident]
        raise SourceError(f"unknown identifier {ident} used as an attribute name")


def camel_to_snake(name: str) -> str:
    """The inverse of terraform-provider-aws' attribute-constant naming (AttrVPCID -> vpc_id)."""
    s = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", name)
    s = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", s)
    return s.lower().replace("i_ds", "ids")


@functools.cache
def load_package(dir_: Path, names_file: Path | None) -> GoPackage:
    consts: dict[str, str] = {}
    vars_: dict[str, Node] = {}
    files: dict[str, list[Tok]] = {}
    for f in sorted(dir_.glob("*.go")):
        if f.name.endswith("_test.go"):
            continue
        toks = tokenize(f.read_text())
        files[f.name] = toks
        _collect_decls(toks, consts, vars_)
    names: dict[str, str] = {}
    if names_file is not None and names_file.exists():
        ntoks = tokenize(names_file.read_text())
        _collect_decls(ntoks, names, {})
    return GoPackage(consts, vars_, files, names)


def _collect_decls(toks: list[Tok], consts: dict[str, str], vars_: dict[str, Node]) -> None:
    depth = 0
    i = 0
    while i < len(toks):
        t = toks[i]
        if t.kind == "op" and t.text == "{":
            depth += 1
        if t.kind == "op" and t.text == "}":
            depth -= 1
        if depth == 0 and t.text in ("const", "var") and t.kind == "ident":
            kind = t.text
            j = i + 1
            grouped = j < len(toks) and toks[j].text == "("
            p = Parser(toks)
            p.i = j + 1 if grouped else j
            try:
                _parse_decl_group(p, kind, grouped, consts, vars_)
            except (SourceError, IndexError):  # a declaration this small parser does not follow
                p.i = i + 1
            i = p.i
            continue
        i += 1


def _parse_decl_group(p: Parser, kind: str, grouped: bool, consts: dict[str, str], vars_: dict[str, Node]) -> None:
    """One `const`/`var` declaration, or a parenthesized group of them."""
    while True:
        if grouped and p.at(")"):
            p.take()
            return
        name_tok = p.take()
        nxt = p.peek()
        if nxt is not None and nxt.kind == "ident" and not p.at("="):  # typed declaration
            p.type_text()
        if p.at("="):
            p.take()
            value = p.expr()
            if kind == "const" and value.kind == "str":
                consts[name_tok.text] = value.value
            elif kind == "var":
                vars_[name_tok.text] = value
        if not grouped:
            return


def _bool(node: Node) -> bool:
    return node.kind == "ident" and node.name == "true"


def _deref(node: Node, pkg: GoPackage) -> Node:
    while True:
        if node.kind == "unary" and node.name == "&":
            node = node.value
        elif node.kind == "ident" and node.name in pkg.vars:
            node = pkg.vars[node.name]
        else:
            return node


def _key_name(key: Node, pkg: GoPackage) -> str:
    if key.kind == "str":
        return key.value
    if key.kind == "ident":
        return pkg.const(key.name)
    raise SourceError(f"unsupported schema key {key}")


_SDK_TYPES = {
    "schema.TypeString": "string",
    "schema.TypeBool": "bool",
    "schema.TypeInt": "int",
    "schema.TypeFloat": "float",
    "schema.TypeList": "list",
    "schema.TypeSet": "set",
    "schema.TypeMap": "map",
}


def sdk_schema_map(node: Node, pkg: GoPackage) -> dict[str, Attr]:
    node = _deref(node, pkg)
    if node.kind != "composite":
        raise SourceError("expected a map[string]*schema.Schema literal")
    out: dict[str, Attr] = {}
    for key, value in node.elems:
        if key is None:
            continue
        name = _key_name(key, pkg)
        out[name] = sdk_attr(name, value, pkg)
    return out


def sdk_attr(name: str, value: Node, pkg: GoPackage) -> Attr:
    attr = Attr(name)
    value = _deref(value, pkg)
    if value.kind == "call":  # tftags.TagsSchema(), sdkv2.IAMPolicyDocumentSchema...(): a helper schema
        fn = value.name
        attr.type = "map" if "Tags" in fn else "unknown"
        attr.optional = "Computed" not in fn or "Optional" in fn
        attr.required = "Required" in fn
        attr.computed = "Computed" in fn
        return attr
    if value.kind != "composite":
        return attr
    for key, v in value.elems:
        if key is None or key.kind != "ident":
            continue
        k = key.name
        if k == "Type":
            attr.type = _SDK_TYPES.get(v.name, "unknown") if v.kind == "ident" else "unknown"
        elif k in ("Optional", "Required", "Computed", "ForceNew"):
            setattr(attr, {"ForceNew": "force_new"}.get(k, k.lower()), _bool(v))
        elif k == "MaxItems" and v.kind == "num":
            attr.max_items = int(v.value)
        elif k == "Elem":
            elem = _deref(v, pkg)
            if elem.kind == "composite" and elem.name.endswith("Resource"):
                for ek, ev in elem.elems:
                    if ek is not None and ek.kind == "ident" and ek.name == "Schema":
                        attr.children = sdk_schema_map(ev, pkg)
            elif elem.kind == "call":
                fn = elem.name.split(".")[-1]
                for toks in pkg.files.values():
                    body = func_body(toks, re.compile(re.escape(fn)))
                    if body:
                        i = find_seq(toks, ["return", "&"], body[0], body[1])
                        if i >= 0:
                            res = parse_at(toks, i + 1)
                            for ek, ev in _deref(res, pkg).elems:
                                if ek is not None and ek.kind == "ident" and ek.name == "Schema":
                                    attr.children = sdk_schema_map(ev, pkg)
                        break
    return attr


_PF_TYPES = {
    "StringAttribute": "string",
    "BoolAttribute": "bool",
    "Int64Attribute": "int",
    "Int32Attribute": "int",
    "Float64Attribute": "float",
    "NumberAttribute": "float",
    "ListAttribute": "list",
    "SetAttribute": "set",
    "MapAttribute": "map",
    "ObjectAttribute": "object",
    "ListNestedAttribute": "list",
    "SetNestedAttribute": "set",
    "MapNestedAttribute": "map",
    "SingleNestedAttribute": "object",
    "ListNestedBlock": "list",
    "SetNestedBlock": "set",
    "SingleNestedBlock": "object",
}


def pf_attrs(node: Node, pkg: GoPackage, old_style: bool) -> dict[str, Attr]:
    node = _deref(node, pkg)
    out: dict[str, Attr] = {}
    if node.kind != "composite":
        return out
    for key, value in node.elems:
        if key is None:
            continue
        name = _key_name(key, pkg)
        out[name] = pf_attr(name, value, pkg, old_style)
    return out


def pf_attr(name: str, value: Node, pkg: GoPackage, old_style: bool) -> Attr:
    attr = Attr(name)
    value = _deref(value, pkg)
    if value.kind == "call":  # tftags.TagsAttribute(), timeouts.Block(...), framework.IDAttribute...()
        fn = value.name
        attr.type = "map" if "Tags" in fn else "unknown"
        attr.optional = "Computed" not in fn and "ID" not in fn.split(".")[-1]
        attr.computed = not attr.optional
        return attr
    if value.kind != "composite":
        return attr
    attr.type = _PF_TYPES.get(value.name.split(".")[-1], "unknown")
    for key, v in value.elems:
        if key is None or key.kind != "ident":
            continue
        k = key.name
        if k in ("Optional", "Required", "Computed"):
            setattr(attr, k.lower(), _bool(v))
        elif k == "Type" and old_style and v.kind == "ident":
            attr.type = {"types.StringType": "string", "types.Int64Type": "int", "types.BoolType": "bool"}.get(
                v.name, "unknown"
            )
        elif k == "PlanModifiers" and v.kind == "composite":
            for _, mod in v.elems:
                fn = mod.name.split(".")[-1] if mod.kind == "call" else ""
                if fn == "RequiresReplace":
                    attr.force_new = True
                elif fn.startswith("RequiresReplaceIf"):
                    attr.conditional = f"replaced when {mod.name}(...) says so (a plan-time condition)"
        elif k == "Validators" and v.kind == "composite":
            for _, val in v.elems:
                if val.kind == "call" and val.name.endswith("SizeAtMost") and val.args and val.args[0].kind == "num":
                    attr.max_items = int(val.args[0].value)
        elif k == "NestedObject":
            obj = _deref(v, pkg)
            for ok_, ov in obj.elems:
                if ok_ is not None and ok_.kind == "ident" and ok_.name in ("Attributes", "Blocks"):
                    attr.children.update(pf_attrs(ov, pkg, old_style))
        elif k in ("Attributes", "Blocks"):  # SingleNested*
            attr.children.update(pf_attrs(v, pkg, old_style))
    if value.name.split(".")[-1].endswith("Block"):
        attr.optional = True  # blocks are always configurable
    return attr


@dataclass
class TfResource:
    name: str
    framework: bool
    schema: dict[str, Attr]
    conditional: dict[str, str]  # TF path (dots, no indices) -> condition
    revision: str


def parse_tf_resource(tf_aws: Path, rel: str, tf_name: str) -> TfResource:
    path = tf_aws / rel
    if not path.exists():
        raise SourceError(f"{path} is missing (terraform-provider-aws {rel})")
    text = path.read_text()
    pkg = load_package(path.parent, tf_aws / "names" / "attr_consts_gen.go")
    toks = pkg.files[path.name]
    framework = "@FrameworkResource" in text or "tfsdk.Schema" in text or "resource.SchemaResponse" in text
    annotated = re.search(r'@(?:SDK|Framework)Resource\("([a-z0-9_]+)"', text)
    typename = re.search(r'response\.TypeName\s*=\s*"([a-z0-9_]+)"', text)
    found = (annotated or typename).group(1) if (annotated or typename) else None
    if found is not None and found != tf_name:
        raise SourceError(f"{rel} defines {found}, not {tf_name}")
    conditional: dict[str, str] = {}
    if framework:
        body = func_body(toks, re.compile(r"Schema|GetSchema"))
        if body is None:
            raise SourceError(f"{rel}: no Schema method")
        i = find_seq(toks, ["schema", ".", "Schema", "{"], body[0], body[1])
        old_style = False
        if i < 0:
            i = find_seq(toks, ["tfsdk", ".", "Schema", "{"], body[0], body[1])
            old_style = True
        if i < 0:
            raise SourceError(f"{rel}: no schema.Schema literal")
        root = parse_at(toks, i)
        schema: dict[str, Attr] = {}
        for key, value in root.elems:
            if key is not None and key.kind == "ident" and key.name in ("Attributes", "Blocks"):
                schema.update(pf_attrs(value, pkg, old_style))
    else:
        body = resource_func_body(toks)
        if body is None:
            raise SourceError(f"{rel}: no resource function")
        i = find_seq(toks, ["return", "&", "schema", ".", "Resource", "{"], body[0], body[1])
        if i < 0:
            raise SourceError(f"{rel}: no `return &schema.Resource{{` in the resource function")
        root = parse_at(toks, i + 1).value
        schema = {}
        for key, value in root.elems:
            if key is None or key.kind != "ident":
                continue
            if key.name == "Schema":
                schema = sdk_schema_map(value, pkg)
            elif key.name == "SchemaFunc" and value.kind == "func":
                j = find_seq(toks, ["return", "map"], value.body[0], value.body[1])
                schema = sdk_schema_map(parse_at(toks, j + 1), pkg)
        if not schema:
            raise SourceError(f"{rel}: no Schema in the resource")
        # CustomizeDiff: force-new decided at plan time.
        for j in range(body[0], body[1]):
            t = toks[j]
            if (
                t.text in ("ForceNewIfChange", "ForceNewIf", "ForceNew")
                and toks[j + 1].text == "("
                and toks[j + 2].kind == "str"
            ):
                tf_path = toks[j + 2].text.strip('"')
                kind = {
                    "ForceNewIfChange": "replaced only when CustomizeDiff's ForceNewIfChange condition holds",
                    "ForceNewIf": "replaced only when CustomizeDiff's ForceNewIf condition holds",
                    "ForceNew": "replaced only when CustomizeDiff calls ForceNew on it (a plan-time condition)",
                }[t.text]
                conditional[".".join(p for p in tf_path.split(".") if not p.isdigit())] = kind
    if framework:
        for j, t in enumerate(toks):
            if t.text == "RequiresReplace" and toks[j - 1].text == "." and toks[j + 1].text == "=":
                conditional.setdefault("*", "ModifyPlan sets RequiresReplace at plan time")
    return TfResource(tf_name, framework, schema, conditional, revision_of(tf_aws, rel, text))


# --------------------------------------------------------------------------------------------
# Bridge naming (pulumi-terraform-bridge pkg/tfbridge/internal/naming/naming.go).
# --------------------------------------------------------------------------------------------
_UNCOUNTABLE = {
    "equipment",
    "information",
    "rice",
    "money",
    "species",
    "series",
    "fish",
    "sheep",
    "jeans",
    "police",
    "metadata",
    "data",
}
_IRREGULAR = {"person": "people", "man": "men", "child": "children", "sex": "sexes", "move": "moves"}
_PLURAL_RULES = [  # applied last-first, as the Rails inflector (pulumi/inflector ports it)
    (r"$", "s"),
    (r"s$", "s"),
    (r"^(ax|test)is$", r"\1es"),
    (r"(octop|vir)us$", r"\1i"),
    (r"(alias|status)$", r"\1es"),
    (r"(bu)s$", r"\1ses"),
    (r"(buffal|tomat)o$", r"\1oes"),
    (r"([ti])um$", r"\1a"),
    (r"sis$", "ses"),
    (r"(?:([^f])fe|([lr])f)$", r"\1\2ves"),
    (r"(hive)$", r"\1s"),
    (r"([^aeiouy]|qu)y$", r"\1ies"),
    (r"(x|ch|ss|sh)$", r"\1es"),
    (r"(matr|vert|ind)(?:ix|ex)$", r"\1ices"),
    (r"^(m|l)ouse$", r"\1ice"),
    (r"^(ox)$", r"\1en"),
    (r"^(oxen)$", r"\1"),
    (r"(quiz)$", r"\1zes"),
]


def pluralize(word: str) -> str:
    head, _, last = word.rpartition("_")
    if last in _UNCOUNTABLE:
        return word
    if last in _IRREGULAR:
        return (head + "_" if head else "") + _IRREGULAR[last]
    for pattern, repl in reversed(_PLURAL_RULES):
        if re.search(pattern, word, re.IGNORECASE):
            return re.sub(pattern, repl, word, count=1, flags=re.IGNORECASE)
    return word


def pulumi_name(name: str, attr: Attr, siblings: dict[str, Attr], override: dict[str, Any] | None) -> str:
    if override and override.get("name"):
        return str(override["name"])
    max_one = override.get("max_items_one") if override else None
    plural = attr.type in ("list", "set") and (not max_one if max_one is not None else attr.max_items != 1)
    if plural:
        candidate = pluralize(name)
        if candidate not in siblings:
            name = candidate
    parts = name.split("_")
    lead = 0
    while lead < len(parts) - 1 and parts[lead] == "":
        lead += 1
    return "_" * lead + parts[lead] + "".join(p[:1].upper() + p[1:] for p in parts[lead + 1 :])


# --------------------------------------------------------------------------------------------
# pulumi-aws resource overrides.
# --------------------------------------------------------------------------------------------
@dataclass
class AwsOverride:
    dbr: bool = False
    autonamed: dict[str, str] = field(default_factory=dict)  # TF field -> Pulumi name (AutoName*)
    fields: dict[str, dict[str, Any]] = field(default_factory=dict)  # TF field -> {name, max_items_one, elem}
    tok: str | None = None


def parse_aws_overrides(pulumi_aws: Path) -> tuple[dict[str, AwsOverride], str, bool]:
    path = pulumi_aws / "provider" / "resource_overrides.go"
    if not path.exists():
        path = pulumi_aws / "provider" / "resources.go"
    if not path.exists():
        raise SourceError(f"{pulumi_aws}/provider/resource_overrides.go is missing")
    text = path.read_text()
    toks = tokenize(text)
    out: dict[str, AwsOverride] = {}
    i = find_seq(toks, ["return", "map", "[", "string", "]", "*", "tfbridge", ".", "ResourceInfo", "{"])
    if i < 0:
        raise SourceError(f"{path}: no `return map[string]*tfbridge.ResourceInfo{{` literal")
    root = parse_at(toks, i + 1)
    for key, value in root.elems:
        if key is None or key.kind != "str" or value.kind != "composite":
            continue
        ov = AwsOverride()
        for k, v in value.elems:
            if k is None or k.kind != "ident":
                continue
            if k.name == "DeleteBeforeReplace":
                ov.dbr = _bool(v)
            elif k.name == "Tok" and v.kind == "call" and len(v.args) == 2 and v.args[1].kind == "str":
                ov.tok = v.args[1].value
            elif k.name == "Fields" and v.kind == "composite":
                ov.fields, ov.autonamed = _override_fields(v)
        out[key.value] = ov
    autonaming = pulumi_aws / "provider" / "autonaming.go"
    name_rule = (
        autonaming.exists() and "res.Fields[nameProperty] = tfbridge.AutoName(nameProperty" in autonaming.read_text()
    )
    if not name_rule and "setAutonaming" not in text:
        print("  note: pulumi-aws setAutonaming not found; `name` inputs are not treated as autonamed", file=sys.stderr)
    return out, revision_of(pulumi_aws, str(path.relative_to(pulumi_aws)), text), name_rule


def _override_fields(node: Node) -> tuple[dict[str, dict[str, Any]], dict[str, str]]:
    fields: dict[str, dict[str, Any]] = {}
    autonamed: dict[str, str] = {}
    for k, v in node.elems:
        if k is None or k.kind != "str":
            continue
        info: dict[str, Any] = {}
        if v.kind == "call" and v.name.split(".")[-1].startswith("AutoName") and v.args and v.args[0].kind == "str":
            autonamed[k.value] = v.args[0].value
        elif v.kind == "composite":
            for fk, fv in v.elems:
                if fk is None or fk.kind != "ident":
                    continue
                if fk.name == "Name" and fv.kind == "str":
                    info["name"] = fv.value
                elif fk.name == "MaxItemsOne" and fv.kind == "call":
                    info["max_items_one"] = fv.name.endswith("True")
                elif fk.name == "Elem":
                    elem = fv.value if fv.kind == "unary" else fv
                    for ek, ev in elem.elems if elem.kind == "composite" else []:
                        if ek is not None and ek.kind == "ident" and ek.name == "Fields" and ev.kind == "composite":
                            info["elem"] = _override_fields(ev)[0]
        fields[k.value] = info
    return fields, autonamed


def check_bridge(bridge: Path) -> tuple[str, bool]:
    """Confirm the bridge rules the facts rely on; returns (revision, pf_skips_named_dbr)."""
    schema = bridge / "pkg" / "tfbridge" / "schema.go"
    provider = bridge / "pkg" / "tfbridge" / "provider.go"
    pf = bridge / "pkg" / "pf" / "tfbridge" / "provider_diff.go"
    for f in (schema, provider):
        if not f.exists():
            raise SourceError(f"{f} is missing")
    if "func nameRequiresDeleteBeforeReplace(" not in schema.read_text():
        raise SourceError("bridge schema.go no longer has nameRequiresDeleteBeforeReplace")
    if "res.Schema.DeleteBeforeReplace || nameRequiresDeleteBeforeReplace(" not in provider.read_text():
        raise SourceError("bridge provider.go Diff no longer combines static DBR with nameRequiresDeleteBeforeReplace")
    pf_skips = (
        pf.exists() and "TODO[pulumi/pulumi-terraform-bridge#823] nameRequiresDeleteBeforeReplace" in pf.read_text()
    )
    return revision_of(bridge, "pkg/tfbridge/schema.go", schema.read_text()), pf_skips


# --------------------------------------------------------------------------------------------
# Facts for AWS types.
# --------------------------------------------------------------------------------------------
def walk_force_new(
    schema: dict[str, Attr], fields: dict[str, dict[str, Any]], prefix: str = ""
) -> Iterator[tuple[str, Attr]]:
    for name, attr in sorted(schema.items()):
        if not attr.is_input:
            continue
        override = fields.get(name)
        pname = pulumi_name(name, attr, schema, override)
        path = prefix + pname
        yield path, attr
        if attr.children:
            yield from walk_force_new(attr.children, (override or {}).get("elem", {}), path + ".")


def tf_to_pulumi_path(tf_path: str, schema: dict[str, Attr], fields: dict[str, dict[str, Any]]) -> str:
    out: list[str] = []
    level, lfields = schema, fields
    for seg in tf_path.split("."):
        attr = level.get(seg)
        if attr is None:
            out.append(pulumi_name(seg, Attr(seg), {}, None))
            level, lfields = {}, {}
            continue
        override = lfields.get(seg)
        out.append(pulumi_name(seg, attr, level, override))
        level, lfields = attr.children, (override or {}).get("elem", {})
    return ".".join(out)


def aws_facts(
    token: str,
    tf_aws: Path,
    overrides: dict[str, AwsOverride],
    aws_rev: str,
    name_rule: bool,
    pf_skips_named_dbr: bool,
) -> dict[str, Any]:
    tf_name, rel = AWS_TYPES[token]
    res = parse_tf_resource(tf_aws, rel, tf_name)
    ov = overrides.get(tf_name, AwsOverride())
    if ov.tok is not None and ov.tok != token.rsplit(":", 1)[1]:
        raise SourceError(f"pulumi-aws maps {tf_name} to {ov.tok}, not {token}")
    force_new: list[str] = []
    conditional: dict[str, str] = {}
    for path, attr in walk_force_new(res.schema, ov.fields):
        if attr.force_new:
            force_new.append(path)
        elif attr.conditional:
            conditional[path] = attr.conditional
    for tf_path, why in res.conditional.items():
        if tf_path == "*":
            continue
        conditional[tf_to_pulumi_path(tf_path, res.schema, ov.fields)] = why
    text = (tf_aws / rel).read_text()
    for path, why, evidence in AWS_CONDITIONAL_NOTES.get(token, []):
        if evidence not in text:
            raise SourceError(f"{rel}: the code behind the conditional note for {path} is gone: {evidence!r}")
        conditional[path] = why
    # Delete-before-replace, as the bridge decides it.
    autonamed = dict(ov.autonamed)
    name_attr = res.schema.get("name")
    if (
        name_rule
        and "name" not in ov.fields
        and "name" not in autonamed
        and name_attr is not None
        and name_attr.is_input
    ):
        autonamed["name"] = "name"
    if ov.dbr:
        dbr, name_field = "always", None
    elif autonamed and not (res.framework and pf_skips_named_dbr):
        dbr = "when-named"
        name_field = sorted(autonamed.values())[0]
    else:
        dbr, name_field = "never", None
    entry: dict[str, Any] = {
        "force_new": sorted(set(force_new)),
        "delete_before_replace": dbr,
        "name_field": name_field,
        "children": [],
        "source": (
            f"hashicorp/terraform-provider-aws {rel}@{res.revision}; "
            f"pulumi/pulumi-aws provider/resource_overrides.go@{aws_rev}"
        ),
        "tf_resource": tf_name,
        "sdk": "plugin-framework" if res.framework else "sdkv2",
    }
    if conditional:
        entry["conditional"] = dict(sorted(conditional.items()))
    return entry


# --------------------------------------------------------------------------------------------
# Kubernetes.
# --------------------------------------------------------------------------------------------
def k8s_force_new_table(k8s: Path) -> tuple[dict[str, dict[str, dict[str, list[str]]]], dict[str, list[str]], str]:
    """Evaluate diff.go's forceNew tables: group -> version -> kind -> [paths]."""
    path = k8s / "provider" / "pkg" / "provider" / "diff.go"
    if not path.exists():
        raise SourceError(f"{path} is missing")
    text = path.read_text()
    toks = tokenize(text)
    vars_: dict[str, Node] = {}
    _collect_decls(toks, {}, vars_)
    funcs: dict[str, list[str]] = {}
    for m in re.finditer(
        r"func (\w+)\((?:\w+ )?(?:prefix|prefixes) (?:\.\.\.)?string\) properties \{(.*?)\n\}", text, re.DOTALL
    ):
        funcs[m.group(1)] = re.findall(r'prefix \+ "([^"]+)"', m.group(2))

    def props(node: Node) -> list[str]:
        if node.kind == "str":
            return [node.value]
        if node.kind == "ident" and node.name in vars_:
            return props(vars_[node.name])
        if node.kind == "composite":
            return [p for _, v in node.elems for p in props(v)]
        if node.kind == "call" and node.name == "append":
            return [p for a in node.args for p in props(a)]
        if node.kind == "call" and node.name in funcs:
            prefixes = [a.value for a in node.args if a.kind == "str"]
            return [pre + suf for pre in prefixes for suf in funcs[node.name]]
        raise SourceError(f"diff.go: cannot evaluate {node.kind} {node.name}")

    def versions(node: Node) -> dict[str, dict[str, list[str]]]:
        node = vars_.get(node.name, node) if node.kind == "ident" else node
        out: dict[str, dict[str, list[str]]] = {}
        for vk, vv in node.elems:
            if vk is None or vk.kind != "str":
                continue
            out[vk.value] = {kk.value: props(kv) for kk, kv in vv.elems if kk is not None and kk.kind == "str"}
        return out

    groups = {gk.value: versions(gv) for gk, gv in vars_["forceNew"].elems if gk is not None and gk.kind == "str"}
    meta = funcs.get("metadataForceNewProperties")
    if not meta:
        raise SourceError("diff.go: metadataForceNewProperties is gone")
    special: dict[str, list[str]] = {}
    body = text[text.index("func (k *kubeProvider) forceNewProperties") :]
    body = body[: body.index("\n}\n")]
    m = re.search(r"IsSecret\(obj\).*?properties\{([^}]*)\}", body, re.DOTALL)
    special["Secret"] = re.findall(r'"([^"]+)"', m.group(1)) if m else []
    m = re.search(r"IsConfigMap\(obj\).*?properties\{([^}]*)\}", body, re.DOTALL)
    special["ConfigMap"] = re.findall(r'"([^"]+)"', m.group(1)) if m else []
    special["metadata"] = ["metadata" + s for s in meta]
    return groups, special, revision_of(k8s, "provider/pkg/provider/diff.go", text)


def _k8s_path(p: str) -> str:
    return ".".join(s for s in re.sub(r"\[[^\]]*\]", "", p).strip(".").split(".") if s)


def k8s_facts(k8s: Path) -> dict[str, dict[str, Any]]:
    groups, special, rev = k8s_force_new_table(k8s)
    provider_go = k8s / "provider" / "pkg" / "provider" / "provider.go"
    ptext = provider_go.read_text() if provider_go.exists() else ""
    named = "metadata.IsNamed(newInputs, newResInputs)" in ptext and "!metadata.IsAutonamed(newInputs)" in ptext
    if not named:
        raise SourceError("provider.go Diff no longer gates delete-before-replace on an explicit metadata.name")
    src = f"pulumi/pulumi-kubernetes provider/pkg/provider/diff.go@{rev}"
    out: dict[str, dict[str, Any]] = {}
    for token in K8S_TYPES:
        _, gv, kind = token.split(":")
        group, _, version = gv.rpartition("/")
        group = "core" if group == "core" else group
        paths = list(special["metadata"])
        conditional: dict[str, str] = {}
        kinds = groups.get(group, {}).get(version, {})
        if kind == "Secret":
            # IsSecret && (!enableSecretMutable || immutable) -> .type, .stringData, .data; else the kind table.
            paths += kinds.get("Secret", [])
            for p in special["Secret"]:
                if p not in kinds.get("Secret", []):
                    conditional[_k8s_path(p)] = (
                        "replaced unless the provider sets enableSecretMutable (slipway's provider sets it to "
                        "true), and always when the Secret is immutable"
                    )
        elif kind == "ConfigMap" and kind not in kinds:
            for p in special["ConfigMap"]:
                conditional[_k8s_path(p)] = (
                    "replaced unless the provider sets enableConfigMapMutable (slipway's provider sets it to "
                    "true), and always when the ConfigMap is immutable"
                )
        else:
            paths += kinds.get(kind, [])
        entry: dict[str, Any] = {
            "force_new": sorted({_k8s_path(p) for p in paths}),
            "delete_before_replace": "named-object",
            "name_field": "metadata.name",
            "children": [],
            "source": src + f"; provider.go@{rev} (Diff: delete-before-replace for an explicit metadata.name)",
        }
        if conditional:
            entry["conditional"] = dict(sorted(conditional.items()))
        out[token] = entry
    # Helm Release (helm_release.go Diff).
    helm = k8s / "provider" / "pkg" / "provider" / "helm_release.go"
    htext = helm.read_text() if helm.exists() else ""
    m = re.search(r"forceNewFields := \[\]string\{([^}]*)\}", htext)
    if not m:
        raise SourceError("helm_release.go: forceNewFields is gone")
    helm_dbr = re.search(r"DeleteBeforeReplace:\s*false", htext[htext.index("func (r *helmReleaseProvider) Diff") :])
    out[HELM_RELEASE] = {
        "force_new": sorted(_k8s_path(p) for p in re.findall(r'"([^"]+)"', m.group(1))),
        "delete_before_replace": "never" if helm_dbr else "always",
        "name_field": None,
        "children": [],
        "source": f"pulumi/pulumi-kubernetes provider/pkg/provider/helm_release.go@{rev} (Diff: forceNewFields)",
    }
    # The provider resource itself (provider.go DiffConfig).
    dc = ptext[ptext.index("func (k *kubeProvider) DiffConfig") :]
    dc = dc[: dc.index("\n}\n")]
    force = []
    if 'replaces = append(replaces, "renderYamlToDirectory")' in dc:
        force.append("renderYamlToDirectory")
    key = re.search(r'clusterIdentifierKey\s*=\s*"(\w+)"', ptext)
    if "diff.Updated(clusterIdentifierKey)" in dc and key:
        force.append(key.group(1))
    cond_keys = re.search(r"for _, key := range \[\]string\{([^}]*)\}", dc)
    conditional = {
        k: "replaced when the kubeconfig's active cluster (server, CA, context) changes or is unknown at preview, "
        "unless clusterIdentifier is set and unchanged"
        for k in (re.findall(r'"(\w+)"', cond_keys.group(1)) if cond_keys else [])
    }
    out[K8S_PROVIDER] = {
        "force_new": sorted(force),
        "delete_before_replace": "never",
        "name_field": None,
        "children": [],
        "source": f"pulumi/pulumi-kubernetes provider/pkg/provider/provider.go@{rev} (DiffConfig)",
        "conditional": conditional,
    }
    return out


# --------------------------------------------------------------------------------------------
# pulumi-eks components.
# --------------------------------------------------------------------------------------------
def eks_facts(eks: Path, facts: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for token, spec in EKS_COMPONENTS.items():
        path = eks / spec["file"]
        if not path.exists():
            raise SourceError(f"{path} is missing")
        text = path.read_text()
        rev = revision_of(eks, spec["file"], text)

        def need(evidence: str, file_text: str = text, where: str = spec["file"]) -> None:
            if evidence not in file_text:
                raise SourceError(f"pulumi-eks {where} no longer contains {evidence!r}")

        children: list[str] = []
        for child, evidence in spec["children"]:
            if evidence:
                need(evidence)
            children.append(child)
        for rel, child, evidence in spec["extra_children"]:
            other = (eks / rel).read_text() if (eks / rel).exists() else ""
            need(evidence, other, rel)
            children.append(child)
        # ignoreChanges on the primary child (pulumi-eks ignores them, so they never replace it).
        call = _call_text(text, spec["ignore_changes_anchor"])
        m = re.search(r"ignoreChanges:\s*\[(.*?)\]", call, re.DOTALL)
        ignored = set(re.findall(r'"([\w.]+)"', m.group(1))) if m else set()
        primary = spec["primary"]
        primary_facts = facts[primary]
        force_new: set[str] = set()
        child_repl: dict[str, set[str]] = {}
        conditional: dict[str, str] = {}
        mappings = list(spec["mappings"])
        if "spread" in spec:
            for evidence in spec["spread"]:
                need(evidence)
            omit = re.search(re.escape(spec["omit_anchor"]) + r"\s*aws\.eks\.NodeGroupArgs,\s*([^>]*)>", text)
            if not omit:
                raise SourceError(f"{spec['file']}: {spec['omit_anchor']} is gone")
            omitted = set(re.findall(r'"(\w+)"', omit.group(1)))
            mapped_targets = {m[2] for m in mappings}
            for fn in primary_facts["force_new"]:
                top = fn.split(".")[0]
                if top not in omitted or top in mapped_targets:
                    mappings.append((fn, primary, fn, "...nodeGroupArgs,"))
        for comp_input, child, child_path, evidence in mappings:
            need(evidence)
            if child_path in ignored or child_path.split(".")[0] in ignored:
                continue
            cfacts = facts[child]
            forced = any(_covers(f, child_path) for f in cfacts["force_new"])
            if forced:
                if child == primary:
                    force_new.add(comp_input)
                child_repl.setdefault(comp_input, set()).add(f"{child}: {child_path}")
            else:
                for cpath, why in cfacts.get("conditional", {}).items():
                    if _covers(cpath, child_path) or _covers(child_path, cpath):
                        conditional[comp_input] = f"{child} {cpath}: {why}"
        for comp_input, why, evidence in spec.get("conditional", []):
            need(evidence)
            conditional.setdefault(comp_input, why)
        out[token] = {
            "force_new": sorted(force_new),
            "delete_before_replace": "never",
            "name_field": None,
            "children": list(dict.fromkeys(children)),
            "source": f"pulumi/pulumi-eks {spec['file']}@{rev} (inputs passed to {primary})",
            "child_replacements": {k: sorted(v) for k, v in sorted(child_repl.items())},
        }
        if ignored:
            out[token]["ignored_by_component"] = sorted(ignored)
        if conditional:
            out[token]["conditional"] = dict(sorted(conditional.items()))
    return out


def _call_text(text: str, anchor: str) -> str:
    """The text of the call that `anchor` opens (anchor ends with its opening parenthesis)."""
    start = text.index(anchor) + len(anchor)
    depth = 1
    for i in range(start, len(text)):
        depth += {"(": 1, ")": -1}.get(text[i], 0)
        if depth == 0:
            return text[start:i]
    raise SourceError(f"unbalanced call after {anchor!r}")


def _covers(force_new: str, path: str) -> bool:
    a, b = force_new.split("."), path.split(".")
    return b[: len(a)] == a


# --------------------------------------------------------------------------------------------
# Revisions and main.
# --------------------------------------------------------------------------------------------
def revision_of(root: Path, rel: str, text: str) -> str:
    try:
        out = subprocess.run(
            ["git", "-C", str(root), "log", "-1", "--format=%H", "--", rel],
            capture_output=True,
            text=True,
            check=False,
        )
        if out.returncode == 0 and out.stdout.strip():
            return out.stdout.strip()[:12]
    except OSError:
        pass
    first = text.splitlines()[0] if text else ""
    m = re.search(r"@ ([0-9a-f]{7,40})", first)
    if m:
        return m.group(1)[:12]
    m = re.search(r"file id (\d+)", first)
    if m:
        return f"index-file-{m.group(1)}"
    rev = root / ".revision"
    if rev.exists():
        return rev.read_text().split()[0][:12]
    return "unknown"


def repo_revision(root: Path) -> str:
    rev = root / ".revision"
    if rev.exists():
        parts = rev.read_text().split()
        return " ".join([parts[0][:12], *parts[1:]])
    out = subprocess.run(
        ["git", "-C", str(root), "describe", "--tags", "--always"], capture_output=True, text=True, check=False
    )
    return out.stdout.strip() or "unknown"


def generate(args: argparse.Namespace) -> dict[str, Any]:
    bridge_rev, pf_skips = check_bridge(args.bridge)
    overrides, aws_rev, name_rule = parse_aws_overrides(args.pulumi_aws)
    types: dict[str, dict[str, Any]] = {}
    fallbacks: set[str] = set()
    for token in AWS_TYPES:
        types[token] = aws_facts(token, args.tf_aws, overrides, aws_rev, name_rule, pf_skips)
    # names.Attr* constants the names file did not define (resolved by the constants' naming rule).
    for _, rel in AWS_TYPES.values():
        pkg = load_package((args.tf_aws / rel).parent, args.tf_aws / "names" / "attr_consts_gen.go")
        for toks in pkg.files.values():
            for j, t in enumerate(toks[2:], start=2):
                if toks[j - 2].text == "names" and toks[j - 1].text == "." and t.text not in pkg.names:
                    fallbacks.add(t.text)
    types.update(k8s_facts(args.pulumi_kubernetes))
    types.update(eks_facts(args.pulumi_eks, types))
    tf_revs = sorted({e["source"].split("@", 1)[1].split(";")[0] for e in types.values() if e.get("tf_resource")})
    sources = {
        "terraform-provider-aws": "per-file code-index snapshots, commits: " + ", ".join(tf_revs),
        "pulumi-aws": f"{aws_rev} (provider/v7 resource_overrides.go)",
        "pulumi-terraform-bridge": repo_revision(args.bridge),
        "pulumi-kubernetes": repo_revision(args.pulumi_kubernetes),
        "pulumi-eks": repo_revision(args.pulumi_eks),
    }
    notes = []
    if fallbacks:
        notes.append(
            "names constants resolved by terraform-provider-aws' naming rule (absent from the names file read): "
            + ", ".join(sorted(fallbacks))
        )
    return {
        "generated_by": "scripts/replacement_facts.py",
        "sources": sources,
        "notes": notes,
        "types": dict(sorted(types.items())),
    }


def merge_curated(new: dict[str, Any], old: dict[str, Any]) -> None:
    """Hand-curated entries (marked `curated`) survive regeneration unless the script now covers them."""
    for token, entry in old.get("types", {}).items():
        if entry.get("curated") and token not in new["types"]:
            new["types"][token] = entry


def report(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    lines: list[str] = []
    before, after = old.get("types", {}), new["types"]
    for token in sorted(set(before) | set(after)):
        if token not in before:
            e = after[token]
            lines.append(f"+ {token}: force_new={e['force_new']} dbr={e['delete_before_replace']}")
        elif token not in after:
            lines.append(f"- {token}")
        else:
            a, b = before[token], after[token]
            for key in (
                "force_new",
                "delete_before_replace",
                "name_field",
                "children",
                "conditional",
                "child_replacements",
            ):
                if a.get(key) != b.get(key):
                    if isinstance(a.get(key), list) and isinstance(b.get(key), list):
                        added = sorted(set(b[key]) - set(a[key]))
                        removed = sorted(set(a[key]) - set(b[key]))
                        lines.append(f"~ {token} {key}: +{added} -{removed}")
                    else:
                        lines.append(f"~ {token} {key}: {a.get(key)!r} -> {b.get(key)!r}")
    if old.get("sources") != new["sources"]:
        lines.append(f"~ sources: {new['sources']}")
    return lines


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--tf-aws", type=Path, required=True, help="hashicorp/terraform-provider-aws checkout")
    ap.add_argument("--pulumi-aws", type=Path, required=True, help="pulumi/pulumi-aws checkout")
    ap.add_argument("--pulumi-kubernetes", type=Path, required=True, help="pulumi/pulumi-kubernetes checkout")
    ap.add_argument("--pulumi-eks", type=Path, required=True, help="pulumi/pulumi-eks checkout")
    ap.add_argument("--bridge", type=Path, required=True, help="pulumi/pulumi-terraform-bridge checkout")
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    ap.add_argument("--check", action="store_true", help="exit 1 if the JSON would change; write nothing")
    args = ap.parse_args(argv)
    try:
        new = generate(args)
    except SourceError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    old = json.loads(args.out.read_text()) if args.out.exists() else {}
    merge_curated(new, old)
    changes = report(old, new)
    for line in changes:
        print(line)
    for note in new["notes"]:
        print(f"note: {note}")
    print(f"{len(new['types'])} types; {len(changes)} change(s)")
    if args.check:
        return 1 if changes else 0
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(new, indent=1, sort_keys=False) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
