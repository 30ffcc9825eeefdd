"""Pure IAM document builders shared by the components (no Pulumi resources here)."""

from __future__ import annotations

import json
from typing import Any

# AWS managed policies a managed node group's role needs. Source: Amazon EKS User
# Guide, "Amazon EKS node IAM role".
NODE_MANAGED_POLICIES = {
    "worker": "arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy",
    "cni": "arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy",
    "ecr": "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly",
    # Shell on nodes through SSM Session Manager instead of SSH (components/node_access.py):
    # the managed policy the EKS user guide's node examples attach for the SSM agent
    # (amazon-eks-user-guide latest/ug/nodes/launch-node-bottlerocket.adoc, launch-node-ubuntu.adoc).
    "ssm": "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore",
}


def policy_document(statements: list[dict[str, Any]]) -> dict[str, Any]:
    """An IAM policy document (version 2012-10-17) from statements."""
    return {"Version": "2012-10-17", "Statement": statements}


def service_trust_policy(service: str) -> dict[str, Any]:
    """Trust policy letting an AWS service (e.g. ec2.amazonaws.com) assume a role."""
    return policy_document([{"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}])


def irsa_trust_policy(oidc_provider_arn: str, oidc_issuer: str, namespace: str, service_account: str) -> dict[str, Any]:
    """Trust policy for IAM Roles for Service Accounts (IRSA).

    Only the one ServiceAccount `namespace/service_account` of this cluster can
    assume the role: the OIDC provider is the principal and both the `sub` and the
    `aud` claims are matched exactly (StringEquals, no wildcard), as the EKS best
    practices guide requires. `oidc_issuer` is the issuer without `https://`.
    """
    issuer = oidc_issuer.removeprefix("https://")
    return policy_document(
        [
            {
                "Effect": "Allow",
                "Principal": {"Federated": oidc_provider_arn},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {
                    "StringEquals": {
                        f"{issuer}:sub": f"system:serviceaccount:{namespace}:{service_account}",
                        f"{issuer}:aud": "sts.amazonaws.com",
                    }
                },
            }
        ]
    )


def to_json(document: dict[str, Any]) -> str:
    """Canonical JSON for a policy document (stable diffs, stable renders)."""
    return json.dumps(document, indent=2, sort_keys=True)
