"""slipway's guardrails: every rule, its enforcement, and its per-stack configuration.

The same rule functions run in two places:

* in a real `pulumi preview --policy-pack policies` (policies/__main__.py serves them
  through pulumi-policy), where pulumi-eks's *child* resources are visible
  (`aws:eks/cluster:Cluster`, `aws:eks/nodeGroup:NodeGroup`, …);
* offline in `slipway check`, over the render, where only the components' *inputs*
  are visible (`eks:index:Cluster`, `eks:index:ManagedNodeGroup`).

Rules cover both shapes, so neither path can be used to bypass one. Properties use
the engine's camelCase names. Sources: the security baseline in the README
(EKS Best Practices Guide, CIS EKS Benchmark 1.8, checkov ids).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from slipway.policies import cluster_rules as c
from slipway.policies import iam_rules as i
from slipway.policies import kubernetes_rules as k
from slipway.policies import platform_rules as p
from slipway.policies.base import Resource, Rule, StackRule, Violation

RULES: list[Rule] = [
    # cluster
    Rule("eks-endpoint-restricted", "The EKS API endpoint is private or allow-listed, never 0.0.0.0/0.",
         "mandatory", c.EKS_CLUSTER, c.check_endpoint, {"allowedPublicCidrs": []}),
    Rule("eks-secrets-encrypted", "Kubernetes Secrets are envelope-encrypted with KMS.",
         "mandatory", c.EKS_CLUSTER, c.check_secrets_encryption),
    Rule("eks-control-plane-logs", "All five control-plane log types are enabled.",
         "mandatory", c.EKS_CLUSTER, c.check_logs),
    Rule("eks-access-entries", "The cluster uses access entries (API or API_AND_CONFIG_MAP).",
         "advisory", c.EKS_CLUSTER, c.check_auth_mode),
    Rule("eks-nodes-private", "Nodes get no public IP addresses.",
         "mandatory", frozenset({"eks:index:Cluster"}), c.check_nodes_private),
    Rule("nodes-no-public-ip", "Node launch templates do not request public IPs.",
         "mandatory", c.LAUNCH_TEMPLATE, c.check_launch_template_public_ip),
    Rule("kms-key-rotation", "Customer KMS keys rotate yearly.",
         "mandatory", frozenset({"aws:kms/key:Key"}), c.check_kms_rotation),
    Rule("nodes-imdsv2", "Node launch templates require IMDSv2.",
         "mandatory", c.LAUNCH_TEMPLATE, c.check_imds),
    Rule("nodes-imds-hop-limit", "Node IMDS hop limit is 1 so pods cannot reach node credentials.",
         "advisory", c.LAUNCH_TEMPLATE, c.check_imds_hop, {"maxHopLimit": 1}),
    # Mandatory in prod through its config (`enforcementLevel`, see stack_policy_config).
    Rule("ssh-not-open-to-internet", "No security group admits SSH (tcp/22) from 0.0.0.0/0 or ::/0.",
         "advisory", c.SECURITY_GROUP_RULES, c.check_ssh_not_open),
    # IAM
    Rule("irsa-trust-exact", "IRSA roles trust exactly one ServiceAccount and the STS audience.",
         "mandatory", i.ROLE, i.check_irsa_trust),
    Rule("iam-no-wildcard-actions", "Identity policies name their actions; no escalation on `*`.",
         "mandatory", i.IDENTITY_POLICIES, i.check_identity_actions, {"allowedWildcardActions": []}),
    Rule("iam-no-admin", "No AdministratorAccess or IAMFullAccess attachments.",
         "mandatory", i.ATTACHMENTS, i.check_no_admin),
    # Kubernetes
    Rule("pod-security-context", "Pods run non-root, read-only, without privilege escalation or capabilities.",
         "mandatory", k.WORKLOADS, k.check_pod_security),
    Rule("container-resources", "Every container has cpu/memory requests and a memory limit.",
         "mandatory", k.WORKLOADS, k.check_resources),
    Rule("container-probes", "Long-running containers have liveness and readiness probes.",
         "mandatory", k.LONG_RUNNING, k.check_probes),
    Rule("image-pinned", "Images are pinned to a tag or digest, never latest.",
         "mandatory", k.WORKLOADS, k.check_images),
    Rule("no-default-namespace", "Nothing is deployed into the default namespace.",
         "mandatory", None, k.check_namespace),
    Rule("alb-ingress-https", "Internet-facing ALB Ingresses use HTTPS with an HTTP→HTTPS redirect.",
         "mandatory", frozenset({"kubernetes:networking.k8s.io/v1:Ingress"}), k.check_alb_https),
    Rule("alb-internal-https", "Internal ALB Ingresses use HTTPS too.",
         "advisory", frozenset({"kubernetes:networking.k8s.io/v1:Ingress"}), k.check_alb_internal_https),
    # platform
    Rule("ecr-hardened", "ECR repositories are immutable and scanned on push (KMS in prod).",
         "mandatory", p.ECR_REPOSITORY, p.check_ecr, {"requireKms": False}),
    Rule("node-pool-max-pods", "A node pool's max pods can hold more than its DaemonSets.",
         "mandatory", p.NODE_GROUPS, p.check_node_pool_pods, {"daemonsets": 2, "prefixDelegation": False}),
    Rule("data-safety-protected", "Prod clusters, repositories, buckets and keys are protected.",
         "mandatory", p.STATEFUL, p.check_protected, {"requireProtection": False}),
]  # fmt: skip

STACK_RULES: list[StackRule] = [
    StackRule("ecr-lifecycle", "Every ECR repository has a lifecycle policy.", "mandatory", p.check_ecr_lifecycle),
    StackRule("ha-replicas-and-pdb", "Prod Deployments and Rollouts run ≥ 2 replicas with a PodDisruptionBudget.",
              "mandatory", p.check_ha, {"requireHighAvailability": False}),
]  # fmt: skip

ALL = {r.name: r for r in [*RULES, *STACK_RULES]}


def stack_policy_config(environment: str, prefix_delegation: bool = False) -> dict[str, dict[str, Any]]:
    """The policy configuration for a stack: prod turns on the data-safety and HA rules,
    and makes SSH from the internet mandatory to fix (advisory elsewhere). `enforcementLevel`
    overrides a policy's level (Pulumi: "A configured enforcement level for a specific policy
    will override the policy's existing enforcement level"); `slipway check` reads it too.

    `pulumi preview --policy-pack policies --policy-pack-config policies/config/<env>.json`
    passes the same values to a real preview.
    """
    prod = environment == "prod"
    return {
        "data-safety-protected": {"requireProtection": prod},
        "ha-replicas-and-pdb": {"requireHighAvailability": prod},
        "ecr-hardened": {"requireKms": prod},
        "node-pool-max-pods": {"daemonsets": 2, "prefixDelegation": prefix_delegation},
        "ssh-not-open-to-internet": {"enforcementLevel": "mandatory" if prod else "advisory"},
    }


def evaluate(
    resources: Iterable[Resource], config: dict[str, dict] | None = None
) -> Iterator[tuple[Rule | StackRule, str, Violation]]:
    """Run every rule: yields (rule, urn, violation)."""
    config = config or {}
    resources = list(resources)
    for res in resources:
        for rule in RULES:
            for v in rule.evaluate(res.type, res.props, config.get(rule.name), res.options):
                yield rule, res.urn, v
    for stack_rule in STACK_RULES:
        for urn, v in stack_rule.evaluate(resources, config.get(stack_rule.name)):
            yield stack_rule, urn, v
