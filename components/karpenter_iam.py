"""Karpenter's AWS side as pure documents: the controller's IAM policies, the node role's
managed policies, the interruption queue's policy and its EventBridge rules.

All of it is upstream's getting-started CloudFormation template for the pinned version,
translated statement by statement (aws/karpenter-provider-aws@v1.14.1
`website/content/en/preview/getting-started/getting-started-with-karpenter/cloudformation.yaml`,
published as `v1.14/…`). `${AWS::Partition}`, `${AWS::Region}`, `${AWS::AccountId}` and
`${ClusterName}` are substituted; `${KarpenterNodeRole.Arn}` and
`${KarpenterInterruptionQueue.Arn}` are our node role and queue. tests/test_karpenter.py
compares every document with that template (stored in tests/data/karpenter/).

Since 1.x upstream splits the controller's permissions into six managed policies (no single
`KarpenterControllerPolicy` any more); slipway keeps the split, one aws.iam.Policy each.
"""

from __future__ import annotations

import json
import re
from typing import Any, cast

from slipway.components.iam import policy_document, service_trust_policy

# `ec2.${AWS::URLSuffix}`: amazonaws.com in every partition but China (not supported here).
NODE_TRUST_SERVICE = "ec2.amazonaws.com"

# KarpenterNodeRole.ManagedPolicyArns, in upstream's order. AmazonEC2ContainerRegistryPullOnly
# (not ReadOnly): pulling is all a node does.
NODE_POLICIES = {
    "cni": "AmazonEKS_CNI_Policy",
    "worker": "AmazonEKSWorkerNodePolicy",
    "ecr": "AmazonEC2ContainerRegistryPullOnly",
    "ssm": "AmazonSSMManagedInstanceCore",
}

QUEUE_RETENTION_SECONDS = 300  # KarpenterInterruptionQueue.MessageRetentionPeriod
QUEUE_TARGET_ID = "KarpenterInterruptionQueueTarget"

INTERRUPTION_RULES: dict[str, dict[str, list[str]]] = {
    # rule key: EventPattern (upstream's <Key>Rule resources, all targeting the queue).
    "scheduled-change": {"source": ["aws.health"], "detail-type": ["AWS Health Event"]},
    "spot-interruption": {"source": ["aws.ec2"], "detail-type": ["EC2 Spot Instance Interruption Warning"]},
    "rebalance": {"source": ["aws.ec2"], "detail-type": ["EC2 Instance Rebalance Recommendation"]},
    "instance-state-change": {"source": ["aws.ec2"], "detail-type": ["EC2 Instance State-change Notification"]},
    "capacity-reservation-interruption": {
        "source": ["aws.ec2"],
        "detail-type": ["EC2 Capacity Reservation Instance Interruption Warning"],
    },
}
"""The five rules of v1.14.1: spot interruption, rebalance, state change, scheduled change
(AWS Health) and, since capacity reservations are supported, reservation interruption."""


def node_trust_policy() -> dict[str, Any]:
    """Who may assume the node role: EC2 (the instances Karpenter launches)."""
    return service_trust_policy(NODE_TRUST_SERVICE)


def node_policy_arns(partition: str) -> dict[str, str]:
    """The AWS managed policies of the node role, keyed by a short stable name."""
    return {key: f"arn:{partition}:iam::aws:policy/{name}" for key, name in NODE_POLICIES.items()}


def controller_policies(
    *, partition: str, region: str, account: str, cluster: str, node_role_arn: str, queue_arn: str
) -> dict[str, dict[str, Any]]:
    """The controller's six policy documents, keyed by upstream's resource name."""
    ec2 = f"arn:{partition}:ec2:{region}"
    profiles = f"arn:{partition}:iam::{account}:instance-profile/*"
    cluster_arn = f"arn:{partition}:eks:{region}:{account}:cluster/{cluster}"
    owned = {f"aws:ResourceTag/kubernetes.io/cluster/{cluster}": "owned"}
    request_owned = {
        f"aws:RequestTag/kubernetes.io/cluster/{cluster}": "owned",
        "aws:RequestTag/eks:eks-cluster-name": cluster,
    }
    any_nodepool = {"aws:ResourceTag/karpenter.sh/nodepool": "*"}
    tagged_kinds = ["fleet", "instance", "volume", "network-interface", "launch-template", "spot-instances-request"]
    tagged = [f"{ec2}:*:{kind}/*" for kind in tagged_kinds]
    region_tag = {"aws:RequestTag/topology.kubernetes.io/region": region}
    return {
        "NodeLifecyclePolicy": policy_document(
            [
                {
                    "Sid": "AllowScopedEC2InstanceAccessActions",
                    "Effect": "Allow",
                    "Resource": [
                        f"{ec2}::image/*",
                        f"{ec2}::snapshot/*",
                        f"{ec2}:*:security-group/*",
                        f"{ec2}:*:subnet/*",
                        f"{ec2}:*:capacity-reservation/*",
                        f"{ec2}:*:placement-group/*",
                    ],
                    "Action": ["ec2:RunInstances", "ec2:CreateFleet"],
                },
                {
                    "Sid": "AllowScopedEC2LaunchTemplateAccessActions",
                    "Effect": "Allow",
                    "Resource": f"{ec2}:*:launch-template/*",
                    "Action": ["ec2:RunInstances", "ec2:CreateFleet"],
                    "Condition": {"StringEquals": owned, "StringLike": any_nodepool},
                },
                {
                    "Sid": "AllowScopedEC2InstanceActionsWithTags",
                    "Effect": "Allow",
                    "Resource": tagged,
                    "Action": ["ec2:RunInstances", "ec2:CreateFleet", "ec2:CreateLaunchTemplate"],
                    "Condition": {
                        "StringEquals": request_owned,
                        "StringLike": {"aws:RequestTag/karpenter.sh/nodepool": "*"},
                    },
                },
                {
                    "Sid": "AllowScopedResourceCreationTagging",
                    "Effect": "Allow",
                    "Resource": tagged,
                    "Action": "ec2:CreateTags",
                    "Condition": {
                        "StringEquals": {
                            **request_owned,
                            "ec2:CreateAction": ["RunInstances", "CreateFleet", "CreateLaunchTemplate"],
                        },
                        "StringLike": {"aws:RequestTag/karpenter.sh/nodepool": "*"},
                    },
                },
                {
                    "Sid": "AllowScopedResourceTagging",
                    "Effect": "Allow",
                    "Resource": f"{ec2}:*:instance/*",
                    "Action": "ec2:CreateTags",
                    "Condition": {
                        "StringEquals": owned,
                        "StringLike": any_nodepool,
                        "StringEqualsIfExists": {"aws:RequestTag/eks:eks-cluster-name": cluster},
                        "ForAllValues:StringEquals": {
                            "aws:TagKeys": ["eks:eks-cluster-name", "karpenter.sh/nodeclaim", "Name"]
                        },
                    },
                },
                {
                    "Sid": "AllowScopedDeletion",
                    "Effect": "Allow",
                    "Resource": [f"{ec2}:*:instance/*", f"{ec2}:*:launch-template/*"],
                    "Action": ["ec2:TerminateInstances", "ec2:DeleteLaunchTemplate"],
                    "Condition": {"StringEquals": owned, "StringLike": any_nodepool},
                },
            ]
        ),
        "IAMIntegrationPolicy": policy_document(
            [
                {
                    "Sid": "AllowPassingInstanceRole",
                    "Effect": "Allow",
                    "Resource": node_role_arn,
                    "Action": "iam:PassRole",
                    "Condition": {
                        "StringEquals": {"iam:PassedToService": ["ec2.amazonaws.com", "ec2.amazonaws.com.cn"]}
                    },
                },
                {
                    "Sid": "AllowScopedInstanceProfileCreationActions",
                    "Effect": "Allow",
                    "Resource": profiles,
                    "Action": ["iam:CreateInstanceProfile"],
                    "Condition": {
                        "StringEquals": {**request_owned, **region_tag},
                        "StringLike": {"aws:RequestTag/karpenter.k8s.aws/ec2nodeclass": "*"},
                    },
                },
                {
                    "Sid": "AllowScopedInstanceProfileTagActions",
                    "Effect": "Allow",
                    "Resource": profiles,
                    "Action": ["iam:TagInstanceProfile"],
                    "Condition": {
                        "StringEquals": {
                            **owned,
                            "aws:ResourceTag/topology.kubernetes.io/region": region,
                            **request_owned,
                            **region_tag,
                        },
                        "StringLike": {
                            "aws:ResourceTag/karpenter.k8s.aws/ec2nodeclass": "*",
                            "aws:RequestTag/karpenter.k8s.aws/ec2nodeclass": "*",
                        },
                    },
                },
                {
                    "Sid": "AllowScopedInstanceProfileActions",
                    "Effect": "Allow",
                    "Resource": profiles,
                    "Action": [
                        "iam:AddRoleToInstanceProfile",
                        "iam:RemoveRoleFromInstanceProfile",
                        "iam:DeleteInstanceProfile",
                    ],
                    "Condition": {
                        "StringEquals": {**owned, "aws:ResourceTag/topology.kubernetes.io/region": region},
                        "StringLike": {"aws:ResourceTag/karpenter.k8s.aws/ec2nodeclass": "*"},
                    },
                },
            ]
        ),
        "EKSIntegrationPolicy": policy_document(
            [
                {
                    "Sid": "AllowAPIServerEndpointDiscovery",
                    "Effect": "Allow",
                    "Resource": cluster_arn,
                    "Action": "eks:DescribeCluster",
                }
            ]
        ),
        "InterruptionPolicy": policy_document(
            [
                {
                    "Sid": "AllowInterruptionQueueActions",
                    "Effect": "Allow",
                    "Resource": queue_arn,
                    "Action": ["sqs:DeleteMessage", "sqs:GetQueueUrl", "sqs:ReceiveMessage"],
                }
            ]
        ),
        "ZonalShiftPolicy": policy_document(
            [
                {
                    "Sid": "AllowZonalShiftStatusReadOnly",
                    "Effect": "Allow",
                    "Resource": "*",
                    "Action": ["arc-zonal-shift:GetManagedResource"],
                    "Condition": {"StringEquals": {"arc-zonal-shift:ResourceIdentifier": cluster_arn}},
                }
            ]
        ),
        "ResourceDiscoveryPolicy": policy_document(
            [
                {
                    "Sid": "AllowRegionalReadActions",
                    "Effect": "Allow",
                    "Resource": "*",
                    "Action": [
                        "ec2:DescribeCapacityReservations",
                        "ec2:DescribeImages",
                        "ec2:DescribeInstances",
                        "ec2:DescribeInstanceStatus",
                        "ec2:DescribeInstanceTypeOfferings",
                        "ec2:DescribeInstanceTypes",
                        "ec2:DescribeLaunchTemplates",
                        "ec2:DescribePlacementGroups",
                        "ec2:DescribeSecurityGroups",
                        "ec2:DescribeSpotPriceHistory",
                        "ec2:DescribeSubnets",
                    ],
                    "Condition": {"StringEquals": {"aws:RequestedRegion": region}},
                },
                {
                    "Sid": "AllowSSMReadActions",
                    "Effect": "Allow",
                    "Resource": f"arn:{partition}:ssm:{region}::parameter/aws/service/*",
                    "Action": "ssm:GetParameter",
                },
                {
                    "Sid": "AllowPricingReadActions",
                    "Effect": "Allow",
                    "Resource": "*",
                    "Action": "pricing:GetProducts",
                },
                {
                    "Sid": "AllowUnscopedInstanceProfileListAction",
                    "Effect": "Allow",
                    "Resource": "*",
                    "Action": "iam:ListInstanceProfiles",
                },
                {
                    "Sid": "AllowInstanceProfileReadActions",
                    "Effect": "Allow",
                    "Resource": profiles,
                    "Action": "iam:GetInstanceProfile",
                },
            ]
        ),
    }


def queue_policy(queue_arn: str) -> dict[str, Any]:
    """KarpenterInterruptionQueuePolicy: EventBridge (and SQS) may send; nothing without TLS."""
    return {
        "Version": "2012-10-17",
        "Id": "EC2InterruptionPolicy",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": ["events.amazonaws.com", "sqs.amazonaws.com"]},
                "Action": "sqs:SendMessage",
                "Resource": queue_arn,
            },
            {
                "Sid": "DenyHTTP",
                "Effect": "Deny",
                "Action": "sqs:*",
                "Resource": queue_arn,
                "Condition": {"Bool": {"aws:SecureTransport": False}},
                "Principal": "*",
            },
        ],
    }


def upstream_policy_name(document: Any) -> str | None:
    """Which of upstream's controller policies `document` is, unchanged (for any partition,
    region, account, cluster, node role and queue), else None. Lets `slipway check` accept
    parliament's findings on upstream's own statements and on nothing else."""
    if not isinstance(document, dict):
        return None
    text = json.dumps(document)

    def first(*patterns: str) -> str:
        found = (re.search(p, text) for p in patterns)
        return next((m.group(1) for m in found if m), "-")

    statements = cast("dict[str, Any]", document).get("Statement")
    by_sid: dict[str, Any] = {}
    if isinstance(statements, list):
        for st in cast("list[Any]", statements):
            if isinstance(st, dict):
                statement = cast("dict[str, Any]", st)
                by_sid[str(statement.get("Sid"))] = statement
    pass_role = cast("dict[str, Any]", by_sid.get("AllowPassingInstanceRole") or {})
    values = controller_policies(
        partition=first(r'"arn:([a-z-]+):'),
        region=first(
            r'"arn:[a-z-]+:(?:ec2|ssm|eks):([a-z0-9-]+):',
            r'"aws:RequestTag/topology\.kubernetes\.io/region": "([^"]+)"',
        ),
        account=first(r"arn:[a-z-]+:iam::(\d{12}):", r"arn:[a-z-]+:eks:[a-z0-9-]+:(\d{12}):"),
        cluster=first(r'kubernetes\.io/cluster/([^"]+)"', r':cluster/([^"]+)"'),
        node_role_arn=str(pass_role.get("Resource", "-")),
        queue_arn=first(r'"(arn:[a-z-]+:sqs:[^"]+)"'),
    )
    return next((name for name, doc in values.items() if doc == document), None)


def arn_parts(oidc_provider_arn: str) -> tuple[str, str]:
    """(partition, account) of the cluster, read from its IAM OIDC provider's ARN."""
    parts = oidc_provider_arn.split(":")
    return parts[1], parts[4]


__all__ = [
    "INTERRUPTION_RULES",
    "NODE_POLICIES",
    "QUEUE_RETENTION_SECONDS",
    "QUEUE_TARGET_ID",
    "arn_parts",
    "controller_policies",
    "node_policy_arns",
    "node_trust_policy",
    "queue_policy",
    "upstream_policy_name",
]
