"""`Karpenter`: node autoscaling for slipway's pools, from upstream's chart and template.

* Helm: `karpenter-crd` then `karpenter` 1.14.1 from the OCI registry (upstream recommends
  the separate CRD chart because Helm never upgrades a chart's `crds/` folder:
  aws/karpenter-provider-aws@v1.14.1 website `upgrading/upgrade-guide.md` "CRD Upgrades");
  the controller release skips its own `crds/`. The controller runs on the system pool;
  slipway leaves the chart's default affinity (`karpenter.sh/nodepool DoesNotExist`,
  `charts/karpenter/values.yaml`), so it never lands on capacity it manages.
* IAM: upstream's six controller policies (components/karpenter_iam.py) on an IRSA role for
  `kube-system/karpenter` (the chart creates the ServiceAccount with our annotation); a node
  role with upstream's four managed policies and an EKS access entry of type `EC2_LINUX`.
* Interruption: an SQS queue (retention 300 s, SSE) fed by upstream's EventBridge rules.
* Discovery: EC2NodeClasses select the private subnets and the cluster security group by
  `karpenter.sh/discovery: <cluster>` (the Network component tags the subnets; the security
  group tag is created here, and every EC2NodeClass waits for it).
* Nodes keep the baseline of the managed node groups: IMDSv2 with hop limit 1, an encrypted
  gp3 root volume, private subnets only, a pinned AMI (`ami_alias`).

Over time (tested on the graph in tests/test_karpenter.py):

* **Destroy removes Karpenter's instances before the network.** pulumi-kubernetes deletes
  with foreground propagation and waits until the object is gone (pulumi/pulumi-kubernetes
  `provider/pkg/await/await.go` Deletion, `metadata/overrides.go` DeletionPropagation). A
  NodePool's NodeClaims have an owner reference to it with blockOwnerDeletion
  (kubernetes-sigs/karpenter@v1.14.1 `pkg/controllers/provisioning/scheduling/nodeclaimtemplate.go`),
  so the NodePool disappears only after every NodeClaim, and each NodeClaim's
  `karpenter.sh/termination` finalizer terminates its instance first
  (`pkg/controllers/nodeclaim/lifecycle/controller.go` finalize). An EC2NodeClass's finalizer
  waits for every NodeClaim using it, then deletes its instance profiles and launch templates
  (aws/karpenter-provider-aws@v1.14.1 `pkg/controllers/nodeclass/controller.go` finalize).
  So: NodePool → EC2NodeClass → both depend on the controller release (which must run to
  remove the finalizers) and on `depends_on` (node groups, NAT routes): Pulumi deletes the
  NodePools (instances gone) before the controller, the subnets, the NAT and the VPC.
* Deletes wait up to DELETE_TIMEOUT (draining respects PodDisruptionBudgets).
"""

from __future__ import annotations

import json

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from slipway.components.access import WorkloadRole, WorkloadRoleArgs
from slipway.components.helm import pinned_release
from slipway.components.iam import to_json
from slipway.components.karpenter_args import (
    CHART,
    CHART_VERSION,
    CRD_CHART,
    NAMESPACE,
    SERVICE_ACCOUNT,
    KarpenterArgs,
    KarpenterPool,
    karpenter_issues,
)
from slipway.components.karpenter_iam import (
    INTERRUPTION_RULES,
    QUEUE_RETENTION_SECONDS,
    QUEUE_TARGET_ID,
    arn_parts,
    controller_policies,
    node_policy_arns,
    node_trust_policy,
    queue_policy,
)
from slipway.components.karpenter_manifests import DISCOVERY_TAG, helm_values, node_class_spec, node_pool_spec
from slipway.components.lifecycle import keyed
from slipway.components.validation import require_valid

NODE_CLASS_API = ("karpenter.k8s.aws/v1", "EC2NodeClass")
NODE_POOL_API = ("karpenter.sh/v1", "NodePool")
DELETE_TIMEOUT = "30m"
# Upstream's managed policy (CloudFormation resource) → the key naming ours.
CONTROLLER_POLICIES = {
    "NodeLifecyclePolicy": "node-lifecycle",
    "IAMIntegrationPolicy": "iam-integration",
    "EKSIntegrationPolicy": "eks-integration",
    "InterruptionPolicy": "interruption",
    "ZonalShiftPolicy": "zonal-shift",
    "ResourceDiscoveryPolicy": "resource-discovery",
}


class Karpenter(pulumi.ComponentResource):
    """IAM + interruption queue + discovery tag + CRD and controller releases + NodePools."""

    release: k8s.helm.v3.Release
    crds: k8s.helm.v3.Release
    node_pools: list[k8s.apiextensions.CustomResource]
    node_classes: list[k8s.apiextensions.CustomResource]
    node_role: aws.iam.Role
    queue: aws.sqs.Queue
    role_arn: pulumi.Output[str]

    def __init__(self, name: str, args: KarpenterArgs, opts: pulumi.ResourceOptions | None = None):
        require_valid(f"Karpenter {name!r}", karpenter_issues(args))
        super().__init__("slipway:karpenter:Karpenter", name, None, opts)
        self._name, self._args = name, args
        # Nothing here holds state (lifecycle.STATEFUL_TYPES), so `protect` protects nothing.
        self._child = pulumi.ResourceOptions(parent=self)
        self._parts = pulumi.Output.from_input(args.oidc_provider_arn).apply(arn_parts)

        self.node_role, node_ready = self._create_node_role()
        self.queue = self._create_interruption_queue()
        controller = self._create_controller_role()
        sg_tag = aws.ec2.Tag(
            f"{name}-sg-discovery",
            resource_id=args.cluster_security_group_id,
            key=DISCOVERY_TAG,
            value=args.cluster_name,
            opts=keyed(self),
        )
        self.crds, self.release = self._create_releases(controller)
        self.node_classes, self.node_pools = self._create_pools(sg_tag, node_ready)
        self.role_arn = controller.role_arn
        self.register_outputs(
            {"roleArn": self.role_arn, "nodeRoleName": self.node_role.name, "queueName": self.queue.name}
        )

    def _create_node_role(self) -> tuple[aws.iam.Role, list[pulumi.Resource]]:
        """The role of Karpenter's nodes, its policies, and its access entry (EC2_LINUX)."""
        a = self._args
        role = aws.iam.Role(
            f"{self._name}-node-role",
            assume_role_policy=to_json(node_trust_policy()),
            description=f"Nodes Karpenter launches in {a.cluster_name}",
            tags=dict(a.tags),
            opts=self._child,
        )
        ready: list[pulumi.Resource] = [role]
        for key in sorted(node_policy_arns("aws")):
            arn = self._parts.apply(lambda p, k=key: node_policy_arns(p[0])[k])
            ready.append(
                aws.iam.RolePolicyAttachment(
                    f"{self._name}-node-{key}", role=role.name, policy_arn=arn, opts=keyed(self)
                )
            )
        # EC2_LINUX: EKS maps the role to system:nodes itself (no groups may be given).
        ready.append(
            aws.eks.AccessEntry(
                f"{self._name}-node-access",
                cluster_name=a.cluster_name,
                principal_arn=role.arn,
                type="EC2_LINUX",
                tags=dict(a.tags),
                # After the cluster exists (CreateAccessEntry on a cluster still being created
                # fails): the node groups in `depends_on` wait for the whole Cluster component.
                opts=keyed(self, depends_on=list(a.depends_on)),
            )
        )
        return role, ready

    def _create_interruption_queue(self) -> aws.sqs.Queue:
        """The SQS queue Karpenter reads interruption events from, and the rules feeding it."""
        a = self._args
        queue = aws.sqs.Queue(
            f"{self._name}-interruptions",
            message_retention_seconds=QUEUE_RETENTION_SECONDS,
            sqs_managed_sse_enabled=True,
            tags=dict(a.tags),
            opts=self._child,
        )
        aws.sqs.QueuePolicy(
            f"{self._name}-interruptions-policy",
            queue_url=queue.url,
            policy=queue.arn.apply(lambda arn: to_json(queue_policy(arn))),
            opts=keyed(self),
        )
        for key, pattern in INTERRUPTION_RULES.items():
            rule = aws.cloudwatch.EventRule(
                f"{self._name}-{key}",
                description=f"Karpenter interruption events for {a.cluster_name}",
                event_pattern=json.dumps(pattern, sort_keys=True),
                tags=dict(a.tags),
                opts=self._child,
            )
            aws.cloudwatch.EventTarget(
                f"{self._name}-{key}-target",
                rule=rule.name,
                target_id=QUEUE_TARGET_ID,
                arn=queue.arn,
                opts=keyed(self),
            )
        return queue

    def _create_controller_role(self) -> WorkloadRole:
        """Upstream's six policies on an IRSA role for kube-system/karpenter."""
        a = self._args
        documents = pulumi.Output.all(self._parts, self.node_role.arn, self.queue.arn).apply(
            lambda v: controller_policies(
                partition=v[0][0],
                region=a.region,
                account=v[0][1],
                cluster=a.cluster_name,
                node_role_arn=v[1],
                queue_arn=v[2],
            )
        )
        policies: dict[str, pulumi.Input[str]] = {}
        for upstream, key in CONTROLLER_POLICIES.items():
            policy = aws.iam.Policy(
                f"{self._name}-{key}",
                description=f"Karpenter {CHART_VERSION} controller: upstream KarpenterController{upstream}",
                policy=documents.apply(lambda d, u=upstream: to_json(d[u])),
                tags=dict(a.tags),
                opts=self._child,
            )
            policies[key] = policy.arn
        return WorkloadRole(
            f"{self._name}-irsa",
            WorkloadRoleArgs(
                namespace=NAMESPACE,
                service_account=SERVICE_ACCOUNT,
                oidc_provider_arn=a.oidc_provider_arn,
                oidc_issuer=a.oidc_issuer,
                k8s_provider=a.k8s_provider,
                managed_policies=policies,
                create_service_account=False,  # the chart creates it with our annotation
                tags=dict(a.tags),
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _create_releases(self, controller: WorkloadRole) -> tuple[k8s.helm.v3.Release, k8s.helm.v3.Release]:
        """`karpenter-crd`, then `karpenter` (skipCrds), both waiting for the node groups."""
        a = self._args
        on_cluster = pulumi.ResourceOptions(parent=self, provider=a.k8s_provider, depends_on=list(a.depends_on))
        crds = pinned_release(
            f"{self._name}-crds",
            chart=CRD_CHART,
            version=CHART_VERSION,
            namespace=NAMESPACE,
            values={},
            opts=on_cluster,
        )
        release = pinned_release(
            f"{self._name}-release",
            chart=CHART,
            version=CHART_VERSION,
            namespace=NAMESPACE,
            skip_crds=True,
            values=helm_values(
                cluster_name=a.cluster_name,
                cluster_endpoint=a.cluster_endpoint,
                region=a.region,
                queue_name=self.queue.name,
                role_arn=controller.role_arn,
                replicas=a.replicas,
                node_selector=a.node_selector,
                tolerations=a.tolerations,
            ),
            opts=pulumi.ResourceOptions(
                parent=self, provider=a.k8s_provider, depends_on=[crds, controller, self.queue, *a.depends_on]
            ),
        )
        return crds, release

    def _create_pools(
        self, sg_tag: aws.ec2.Tag, node_ready: list[pulumi.Resource]
    ) -> tuple[list[k8s.apiextensions.CustomResource], list[k8s.apiextensions.CustomResource]]:
        """One EC2NodeClass and one NodePool per pool, in the destroy order described above."""
        a = self._args
        classes: list[k8s.apiextensions.CustomResource] = []
        pools: list[k8s.apiextensions.CustomResource] = []
        base = [self.crds, self.release, *a.depends_on]
        timeouts = pulumi.CustomTimeouts(delete=DELETE_TIMEOUT)
        for pool in a.pools:
            node_class = k8s.apiextensions.CustomResource(
                f"{self._name}-{pool.name}-class",
                api_version=NODE_CLASS_API[0],
                kind=NODE_CLASS_API[1],
                metadata={"name": pool.name, "labels": {"app.kubernetes.io/managed-by": "slipway"}},
                spec=node_class_spec(
                    pool,
                    cluster_name=a.cluster_name,
                    role_name=self.node_role.name,
                    ami_alias=a.ami_alias,
                    instance_tags=a.instance_tags,
                ),
                opts=pulumi.ResourceOptions(
                    parent=self,
                    provider=a.k8s_provider,
                    depends_on=[*base, sg_tag, *node_ready],
                    custom_timeouts=timeouts,
                ),
            )
            node_pool = k8s.apiextensions.CustomResource(
                f"{self._name}-{pool.name}-pool",
                api_version=NODE_POOL_API[0],
                kind=NODE_POOL_API[1],
                metadata={"name": pool.name, "labels": {"app.kubernetes.io/managed-by": "slipway"}},
                spec=node_pool_spec(pool),
                opts=pulumi.ResourceOptions(
                    parent=self,
                    provider=a.k8s_provider,
                    depends_on=[*base, node_class, *node_ready],
                    custom_timeouts=timeouts,
                ),
            )
            classes.append(node_class)
            pools.append(node_pool)
        return classes, pools


__all__ = ["Karpenter", "KarpenterArgs", "KarpenterPool", "helm_values", "node_class_spec", "node_pool_spec"]
