"""Policy rules: each fires on its violating input and stays silent on the compliant one,
in both shapes (component inputs offline, pulumi-eks child resources in a real preview)."""

from __future__ import annotations

import json
import runpy
from types import SimpleNamespace

import pytest

from slipway.cli.checks import policy_findings
from slipway.cli.render import ROOT
from slipway.policies import base
from slipway.policies.rules import ALL, RULES, STACK_RULES, evaluate, stack_policy_config
from slipway.program.config import parse_config_values
from slipway.program.stackfile import load_stack_file

from tests.helpers import check_settings, project_copy, shipped_stacks, slipway_cli

RULE = {r.name: r for r in RULES}
LOGS = ["api", "audit", "authenticator", "controllerManager", "scheduler"]
KEY = "arn:aws:kms:us-east-1:123456789012:key/k"
OIDC = "arn:aws:iam::123456789012:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/ABC"
ISSUER = "oidc.eks.us-east-1.amazonaws.com/id/ABC"

COMPONENT_OK = {
    "endpointPublicAccess": True,
    "publicAccessCidrs": ["203.0.113.0/24"],
    "encryptionConfigKeyArn": KEY,
    "enabledClusterLogTypes": LOGS,
    "authenticationMode": "API",
    "nodeAssociatePublicIpAddress": False,
}
CHILD_OK = {
    "vpcConfig": {"endpointPublicAccess": True, "publicAccessCidrs": ["203.0.113.0/24"]},
    "encryptionConfig": {"resources": ["secrets"], "provider": {"keyArn": KEY}},
    "enabledClusterLogTypes": LOGS,
    "accessConfig": {"authenticationMode": "API_AND_CONFIG_MAP"},
}
LT_OK = {"metadataOptions": {"httpTokens": "required", "httpPutResponseHopLimit": 1}}


def trust(conditions: dict) -> dict:
    return {"assumeRolePolicy": json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Federated": OIDC}, "Action": "sts:AssumeRoleWithWebIdentity",
        "Condition": conditions}]})}  # fmt: skip


TRUST_OK = trust({"StringEquals": {f"{ISSUER}:sub": "system:serviceaccount:argo:argo-server",
                                   f"{ISSUER}:aud": "sts.amazonaws.com"}})  # fmt: skip


def policy(*statements) -> dict:
    return {"policy": json.dumps({"Version": "2012-10-17", "Statement": list(statements)})}


CONTAINER_OK = {
    "name": "api",
    "image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/api:2.7.0",
    "resources": {"requests": {"cpu": "250m", "memory": "256Mi"}, "limits": {"memory": "512Mi"}},
    "livenessProbe": {"httpGet": {"path": "/healthz", "port": "http"}},
    "readinessProbe": {"httpGet": {"path": "/ready", "port": "http"}},
    "securityContext": {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
                        "capabilities": {"drop": ["ALL"]}, "seccompProfile": {"type": "RuntimeDefault"}},
}  # fmt: skip


def deployment(container: dict | None = None, namespace: str | None = "api", **pod) -> dict:
    meta = {"name": "api", **({"namespace": namespace} if namespace else {})}
    spec = {"securityContext": {"runAsNonRoot": True}, "containers": [container or CONTAINER_OK], **pod}
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": meta,
            "spec": {"replicas": 2, "template": {"metadata": {"labels": {"app": "api"}}, "spec": spec}}}  # fmt: skip


def rollout(container: dict | None = None, namespace: str | None = "api", **pod) -> dict:
    """A Deployment converted to an Argo Rollout (docs/migrating.md): same pod template, a canary strategy."""
    doc = deployment(container, namespace, **pod)
    doc["spec"]["strategy"] = {"canary": {"steps": [{"setWeight": 20}, {"pause": {"duration": "1m"}}]}}
    return {**doc, "apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout"}


def ingress(scheme: str, **annotations) -> dict:
    ann = {"alb.ingress.kubernetes.io/scheme": scheme, **annotations}
    return {"kind": "Ingress", "metadata": {"name": "api", "namespace": "api", "annotations": ann},
            "spec": {"ingressClassName": "alb"}}  # fmt: skip


def legacy_ingress(scheme: str, **annotations) -> dict:
    """An ALB Ingress named by the kubernetes.io/ingress.class annotation, without ingressClassName."""
    doc = ingress(scheme, **{"kubernetes.io/ingress.class": "alb", **annotations})
    return {**doc, "spec": {}}


TLS = {"alb.ingress.kubernetes.io/certificate-arn": "arn:aws:acm:us-east-1:123456789012:certificate/x",
       "alb.ingress.kubernetes.io/ssl-redirect": "443"}  # fmt: skip
DEPLOYMENT, ROLLOUT = "kubernetes:apps/v1:Deployment", "kubernetes:argoproj.io/v1alpha1:Rollout"
# SSH from a VPN range; HTTPS from anywhere (what an internet-facing ALB's group admits).
SSH_RULE_OK = {"ipProtocol": "tcp", "fromPort": 22, "toPort": 22, "cidrIpv4": "10.0.0.0/16"}
SG_OK = {"ingress": [{"protocol": "tcp", "fromPort": 443, "toPort": 443, "cidrBlocks": ["0.0.0.0/0"]}]}

# (rule, type, compliant props, violating props, fragment of the message, config, options ok/bad)
CASES = [
    ("eks-endpoint-restricted", "eks:index:Cluster", COMPONENT_OK,
     {**COMPONENT_OK, "publicAccessCidrs": ["0.0.0.0/0"]}, "open to 0.0.0.0/0"),
    ("eks-endpoint-restricted", "eks:index:Cluster", {**COMPONENT_OK, "endpointPublicAccess": False,
                                                      "publicAccessCidrs": []},
     {**COMPONENT_OK, "publicAccessCidrs": []}, "no CIDR allowlist"),
    ("eks-endpoint-restricted", "aws:eks/cluster:Cluster", CHILD_OK,
     {**CHILD_OK, "vpcConfig": {"endpointPublicAccess": True, "publicAccessCidrs": ["0.0.0.0/0"]}}, "0.0.0.0/0"),
    ("eks-secrets-encrypted", "eks:index:Cluster", COMPONENT_OK,
     {k: v for k, v in COMPONENT_OK.items() if k != "encryptionConfigKeyArn"}, "not envelope-encrypted"),
    ("eks-secrets-encrypted", "aws:eks/cluster:Cluster", CHILD_OK,
     {k: v for k, v in CHILD_OK.items() if k != "encryptionConfig"}, "not envelope-encrypted"),
    ("eks-control-plane-logs", "eks:index:Cluster", COMPONENT_OK,
     {**COMPONENT_OK, "enabledClusterLogTypes": ["api"]}, "audit, authenticator, controllerManager, scheduler"),
    ("eks-control-plane-logs", "aws:eks/cluster:Cluster", CHILD_OK,
     {**CHILD_OK, "enabledClusterLogTypes": []}, "missing"),
    ("eks-access-entries", "eks:index:Cluster", COMPONENT_OK,
     {**COMPONENT_OK, "authenticationMode": "CONFIG_MAP"}, "aws-auth"),
    ("eks-access-entries", "aws:eks/cluster:Cluster", CHILD_OK,
     {k: v for k, v in CHILD_OK.items() if k != "accessConfig"}, "CONFIG_MAP (default)"),
    ("eks-nodes-private", "eks:index:Cluster", COMPONENT_OK,
     {**COMPONENT_OK, "nodeAssociatePublicIpAddress": True}, "public IP"),
    ("nodes-no-public-ip", "aws:ec2/launchTemplate:LaunchTemplate", LT_OK,
     {**LT_OK, "networkInterfaces": [{"associatePublicIpAddress": "true"}]}, "public IP"),
    ("kms-key-rotation", "aws:kms/key:Key", {"enableKeyRotation": True}, {}, "rotation is off"),
    ("nodes-imdsv2", "aws:ec2/launchTemplate:LaunchTemplate", LT_OK,
     {"metadataOptions": {"httpTokens": "optional"}}, "IMDSv1"),
    ("nodes-imds-hop-limit", "aws:ec2/launchTemplate:LaunchTemplate", LT_OK,
     {"metadataOptions": {"httpTokens": "required", "httpPutResponseHopLimit": 2}}, "hop limit is 2"),
    ("irsa-trust-exact", "aws:iam/role:Role", TRUST_OK,
     trust({"StringLike": {f"{ISSUER}:sub": "system:serviceaccount:argo:*", f"{ISSUER}:aud": "sts.amazonaws.com"}}),
     "matches ServiceAccounts with a pattern"),
    ("irsa-trust-exact", "aws:iam/role:Role", TRUST_OK,
     trust({"StringEquals": {f"{ISSUER}:sub": "system:serviceaccount:argo:argo-server"}}),
     "does not require <issuer>:aud"),
    ("iam-no-wildcard-actions", "aws:iam/rolePolicy:RolePolicy",
     policy({"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": "arn:aws:s3:::b/*"}),
     policy({"Effect": "Allow", "Action": "s3:*", "Resource": "*"}), "wildcard actions ['s3:*']"),
    ("iam-no-wildcard-actions", "aws:iam/policy:Policy",
     policy({"Effect": "Allow", "Action": ["iam:PassRole"], "Resource": "arn:aws:iam::123456789012:role/x"}),
     policy({"Effect": "Allow", "Action": ["iam:PassRole"], "Resource": "*"}), "privilege-escalation actions"),
    ("iam-no-admin", "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
     {"policyArn": "arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy"},
     {"policyArn": "arn:aws:iam::aws:policy/AdministratorAccess"}, "AdministratorAccess is attached"),
    ("pod-security-context", DEPLOYMENT, deployment(),
     deployment({**CONTAINER_OK, "securityContext": {}}), "readOnlyRootFilesystem is not true"),
    ("pod-security-context", DEPLOYMENT, deployment(), deployment(hostNetwork=True), "uses hostNetwork"),
    ("container-resources", DEPLOYMENT, deployment(),
     deployment({**CONTAINER_OK, "resources": {"requests": {"cpu": "1"}}}), "no requests.memory, limits.memory"),
    ("container-probes", DEPLOYMENT, deployment(),
     deployment({k: v for k, v in CONTAINER_OK.items() if not k.endswith("Probe")}),
     "no livenessProbe or readinessProbe"),
    ("image-pinned", DEPLOYMENT, deployment(), deployment({**CONTAINER_OK, "image": "nginx:latest"}),
     "nginx:latest without a pinned tag"),
    ("image-pinned", "kubernetes:batch/v1:CronJob",
     {"spec": {"jobTemplate": {"spec": {"template": {"spec": {"containers": [CONTAINER_OK]}}}}}},
     {"spec": {"jobTemplate": {"spec": {"template": {"spec": {"containers": [{**CONTAINER_OK, "image": "nginx"}]}}}}}},
     "nginx without a pinned tag"),
    ("no-default-namespace", DEPLOYMENT, deployment(), deployment(namespace=None), "in the default namespace"),
    # The rules that apply to Deployments apply to Rollouts (issue 16).
    ("pod-security-context", ROLLOUT, rollout(),
     rollout({**CONTAINER_OK, "securityContext": {}}), "readOnlyRootFilesystem is not true"),
    ("pod-security-context", ROLLOUT, rollout(), rollout(hostNetwork=True), "uses hostNetwork"),
    ("container-resources", ROLLOUT, rollout(),
     rollout({**CONTAINER_OK, "resources": {"requests": {"cpu": "1"}}}), "no requests.memory, limits.memory"),
    ("container-probes", ROLLOUT, rollout(),
     rollout({k: v for k, v in CONTAINER_OK.items() if k != "readinessProbe"}), "no readinessProbe"),
    ("image-pinned", ROLLOUT, rollout(), rollout({**CONTAINER_OK, "image": "api"}), "api without a pinned tag"),
    ("no-default-namespace", ROLLOUT, rollout(), rollout(namespace=None), "Rollout api is in the default namespace"),
    ("no-default-namespace", "kubernetes:helm.sh/v3:Release", {"namespace": "argo"}, {"chart": "x"},
     "installs into the default namespace"),
    ("alb-ingress-https", "kubernetes:networking.k8s.io/v1:Ingress", ingress("internet-facing", **TLS),
     ingress("internet-facing"), "serves plain HTTP"),
    ("alb-internal-https", "kubernetes:networking.k8s.io/v1:Ingress", ingress("internal", **TLS),
     ingress("internal"), "internal ALB Ingress serves plain HTTP"),
    ("alb-ingress-https", "kubernetes:networking.k8s.io/v1:Ingress", legacy_ingress("internet-facing", **TLS),
     legacy_ingress("internet-facing"), "serves plain HTTP"),
    ("alb-internal-https", "kubernetes:networking.k8s.io/v1:Ingress", legacy_ingress("internal", **TLS),
     legacy_ingress("internal"), "internal ALB Ingress serves plain HTTP"),
    ("ecr-hardened", "aws:ecr/repository:Repository",
     {"imageTagMutability": "IMMUTABLE", "imageScanningConfiguration": {"scanOnPush": True}},
     {"imageTagMutability": "MUTABLE", "imageScanningConfiguration": {"scanOnPush": True}}, "mutable"),
    ("ssh-not-open-to-internet", "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", SSH_RULE_OK,
     {**SSH_RULE_OK, "cidrIpv4": "0.0.0.0/0"}, "SSH (tcp/22) is open to 0.0.0.0/0"),
    ("ssh-not-open-to-internet", "aws:ec2/securityGroup:SecurityGroup", SG_OK,
     {"ingress": [{"protocol": "tcp", "fromPort": 0, "toPort": 65535, "cidrBlocks": ["10.0.0.0/8"],
                   "ipv6CidrBlocks": ["::/0"]}]}, "open to ::/0"),
    ("ssh-not-open-to-internet", "aws:ec2/securityGroupRule:SecurityGroupRule",
     {"type": "ingress", "protocol": "-1", "fromPort": 0, "toPort": 0, "cidrBlocks": ["10.0.0.0/8"]},
     {"type": "ingress", "protocol": "-1", "fromPort": 0, "toPort": 0, "cidrBlocks": ["0.0.0.0/0"]},
     "open to 0.0.0.0/0"),
]  # fmt: skip


@pytest.mark.parametrize("type_", ["eks:index:ManagedNodeGroup", "aws:eks/nodeGroup:NodeGroup"])
def test_node_pool_that_cannot_hold_its_daemonsets(type_):
    rule = RULE["node-pool-max-pods"]
    four = {"daemonsets": 4}  # aws-node, kube-proxy, eks-pod-identity-agent, ebs-csi-node
    assert rule.evaluate(type_, {"instanceTypes": ["t3.medium"]}, four) == []
    (v,) = rule.evaluate(type_, {"instanceTypes": ["t3.micro"]}, four)
    assert "t3.micro allows 4 pods per node and the 4 DaemonSets take them all" in v.message


@pytest.mark.parametrize("rule, type_, ok, bad, fragment", CASES, ids=[f"{c[0]}:{c[1]}" for c in CASES])
def test_rule_fires_and_stays_silent(rule, type_, ok, bad, fragment):
    assert RULE[rule].evaluate(type_, ok) == []
    violations = RULE[rule].evaluate(type_, bad)
    assert violations, f"{rule} did not fire"
    assert any(fragment in v.message for v in violations), violations
    assert all(v.fix for v in violations)


def test_data_safety_needs_protection_in_prod_only():
    rule = RULE["data-safety-protected"]
    prod = {"requireProtection": True}
    assert rule.evaluate("aws:s3/bucket:Bucket", {}, prod, {"protect": True}) == []
    assert rule.evaluate("aws:ecr/repository:Repository", {}, prod, {"retainOnDelete": True}) == []
    (v,) = rule.evaluate("eks:index:Cluster", {}, prod, {})
    assert "not protected" in v.message
    assert rule.evaluate("aws:eks/cluster:Cluster", {}, {"requireProtection": False}, {}) == []


def test_ecr_kms_in_prod():
    props = {"imageTagMutability": "IMMUTABLE", "imageScanningConfiguration": {"scanOnPush": True}}
    (v,) = RULE["ecr-hardened"].evaluate("aws:ecr/repository:Repository", props, {"requireKms": True})
    assert "KMS" in v.message


def test_every_rule_has_a_case():
    covered = {c[0] for c in CASES} | {"data-safety-protected", "node-pool-max-pods"}
    assert covered == set(RULE)


def res(type_: str, props: dict, name: str = "x") -> base.Resource:
    return base.Resource(f"urn:pulumi:s::p::{type_}::{name}", type_, props)


def test_stack_rule_ecr_lifecycle():
    rule = ALL["ecr-lifecycle"]
    repo = res("aws:ecr/repository:Repository", {"name": "slipway-dev/api"}, "api")
    lifecycle = res("aws:ecr/lifecyclePolicy:LifecyclePolicy", {"repository": "slipway-dev/api"})
    assert rule.evaluate([repo, lifecycle]) == []
    ((urn, v),) = rule.evaluate([repo])
    assert urn == repo.urn and "no lifecycle policy" in v.message


def test_stack_rule_ha_in_prod():
    rule = ALL["ha-replicas-and-pdb"]
    on = {"requireHighAvailability": True}
    single = deployment()
    single["spec"]["replicas"] = 1
    pdb = res("kubernetes:policy/v1:PodDisruptionBudget",
              {"metadata": {"namespace": "api"}, "spec": {"selector": {"matchLabels": {"app": "api"}}}})  # fmt: skip
    hpa = res(
        "kubernetes:autoscaling/v2:HorizontalPodAutoscaler",
        {"metadata": {"namespace": "api"}, "spec": {"minReplicas": 3, "scaleTargetRef": {"name": "api"}}},
    )
    assert rule.evaluate([res(DEPLOYMENT, deployment()), pdb], on) == []
    assert rule.evaluate([res(DEPLOYMENT, single), pdb, hpa], on) == []  # the HPA keeps 3
    messages = [v.message for _, v in rule.evaluate([res(DEPLOYMENT, single)], on)]
    assert any("runs 1 replica" in m for m in messages) and any("no PodDisruptionBudget" in m for m in messages)
    assert rule.evaluate([res(DEPLOYMENT, single)], {"requireHighAvailability": False}) == []


def workload_ref_rollout(namespace: str = "api") -> dict:
    """A Rollout that takes its pods from the Deployment `api` (docs/migrating.md): no template."""
    return {"apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout",
            "metadata": {"name": "api", "namespace": namespace},
            "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "api"}},
                     "workloadRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "api",
                                     "scaleDown": "progressively"},
                     "strategy": {"canary": {"steps": [{"setWeight": 20}]}}}}  # fmt: skip


def test_a_rollout_with_a_workload_ref_is_checked_through_its_deployment():
    for rule in ("pod-security-context", "container-resources", "container-probes", "image-pinned"):
        assert RULE[rule].evaluate(ROLLOUT, workload_ref_rollout()) == [], rule  # no pods of its own
        bare = deployment({"name": "api", "image": "api"})
        assert RULE[rule].evaluate(DEPLOYMENT, bare), f"{rule}: the referenced Deployment is still checked"


def test_stack_rule_ha_covers_rollouts():
    rule = ALL["ha-replicas-and-pdb"]
    on = {"requireHighAvailability": True}
    pdb = res("kubernetes:policy/v1:PodDisruptionBudget",
              {"metadata": {"namespace": "api"}, "spec": {"selector": {"matchLabels": {"app": "api"}}}})  # fmt: skip
    assert rule.evaluate([res(ROLLOUT, rollout()), pdb], on) == []
    single = rollout()
    single["spec"]["replicas"] = 1
    found = rule.evaluate([res(ROLLOUT, single, "api-rollout")], on)
    assert sorted(v.message.split(":")[0] for _, v in found) == [
        "Rollout api/api has no PodDisruptionBudget in prod", "Rollout api/api runs 1 replica in prod"]  # fmt: skip
    assert {urn for urn, _ in found} == {res(ROLLOUT, single, "api-rollout").urn}
    # workloadRef: the Rollout's pods carry the Deployment's template labels; the Deployment,
    # scaled to zero by the Rollout, is not itself held to two replicas.
    idle = deployment()
    idle["spec"]["replicas"] = 0
    assert rule.evaluate([res(ROLLOUT, workload_ref_rollout()), res(DEPLOYMENT, idle), pdb], on) == []
    ((_, v),) = rule.evaluate([res(ROLLOUT, workload_ref_rollout()), res(DEPLOYMENT, idle)], on)
    assert v.message.startswith("Rollout api/api has no PodDisruptionBudget")
    other_ns = workload_ref_rollout(namespace="web")  # references a Deployment of its own namespace only
    messages = [v.message for _, v in rule.evaluate([res(ROLLOUT, other_ns), res(DEPLOYMENT, idle), pdb], on)]
    assert any(m.startswith("Deployment api/api runs 0 replica") for m in messages), messages
    assert any(m.startswith("Rollout web/api has no PodDisruptionBudget") for m in messages), messages


def test_rules_ignore_other_types():
    assert RULE["kms-key-rotation"].evaluate("aws:s3/bucket:Bucket", {}) == []


def test_endpoint_allowlist_config():
    props = {**COMPONENT_OK, "publicAccessCidrs": ["192.0.2.0/24"]}
    (v,) = RULE["eks-endpoint-restricted"].evaluate("eks:index:Cluster", props, {"allowedPublicCidrs": ["10.0.0.0/8"]})
    assert "outside this stack's allowedPublicCidrs" in v.message


def test_documented_wildcard_exceptions():
    bad = policy({"Effect": "Allow", "Action": "logs:*", "Resource": "arn:aws:logs:*:*:*"})
    rule = RULE["iam-no-wildcard-actions"]
    assert rule.evaluate("aws:iam/policy:Policy", bad)
    assert rule.evaluate("aws:iam/policy:Policy", bad, {"allowedWildcardActions": ["logs:*"]}) == []


def test_prod_resources_are_protected(prod):
    _, config = check_settings("prod")
    assert config["data-safety-protected"] == {"requireProtection": True}
    findings = [f for f in policy_findings(prod, config) if "data-safety" in f.check]
    assert findings == []
    assert any(r.type == "aws:s3/bucket:Bucket" and r.options.get("protect") for r in prod.records)


def _prefix_delegation(env: str) -> bool:
    """cluster.prefixDelegation of the shipped stacks of `env` (the default if it has none)."""
    configs = [load_stack_file(s, ROOT).parse() for s in shipped_stacks()]
    found = {c.cluster.prefix_delegation for c in configs if c.environment == env}
    assert len(found) <= 1, f"the {env} stacks disagree on prefixDelegation; one config file cannot serve them"
    if found:
        return found.pop()
    return parse_config_values({"environment": env}, region="us-east-1").cluster.prefix_delegation


@pytest.mark.parametrize("env", ["dev", "staging", "prod"])
def test_policy_pack_config_files_match_the_code(env):
    shipped = json.loads((ROOT / "policies" / "config" / f"{env}.json").read_text())
    assert shipped == stack_policy_config(env, prefix_delegation=_prefix_delegation(env))


def test_the_pack_serves_every_rule(monkeypatch):
    import pulumi_policy

    built = {}
    monkeypatch.setattr(pulumi_policy, "PolicyPack", lambda **kw: built.update(kw))
    runpy.run_path(str(ROOT / "policies" / "__main__.py"), run_name="__main__")
    names = {p.name: p for p in built["policies"]}
    assert set(names) == set(ALL)
    assert isinstance(names["ha-replicas-and-pdb"], pulumi_policy.StackValidationPolicy)
    assert isinstance(names["pod-security-context"], pulumi_policy.ResourceValidationPolicy)
    assert names["eks-endpoint-restricted"].config_schema.properties["allowedPublicCidrs"]["type"] == "array"
    assert len(STACK_RULES) == 2

    # The served validate functions run the rules with the pack's config and the resource's options.
    def served(type_: str, props: dict, name: str, protect: bool = False) -> SimpleNamespace:
        """A resource as pulumi-policy passes it (ResourceValidationArgs / PolicyResource)."""
        urn = f"urn:pulumi:prod::slipway::{type_}::{name}"
        return SimpleNamespace(urn=urn, resource_type=type_, props=props, opts=SimpleNamespace(protect=protect))

    def run(policy, args: SimpleNamespace, config: dict) -> list[tuple[str, str]]:
        reports = []
        args.get_config = lambda: config
        policy.validate(args, lambda message, urn=None: reports.append((message, urn)))
        return reports

    protected, on = names["data-safety-protected"], {"requireProtection": True}
    bucket = served("aws:s3/bucket:Bucket", {}, "data")
    ((message, urn),) = run(protected, bucket, on)
    assert urn == bucket.urn and "is not protected" in message and " — set protect=True" in message
    assert run(protected, served("aws:s3/bucket:Bucket", {}, "data", protect=True), on) == []
    assert run(protected, bucket, {"requireProtection": False}) == []

    ha, on = names["ha-replicas-and-pdb"], {"requireHighAvailability": True}
    app = served(DEPLOYMENT, deployment(), "api")
    pdb_props = {"metadata": {"namespace": "api"}, "spec": {"selector": {"matchLabels": {"app": "api"}}}}
    pdb = served("kubernetes:policy/v1:PodDisruptionBudget", pdb_props, "api")
    ((message, urn),) = run(ha, SimpleNamespace(resources=[app]), on)
    assert urn == app.urn and "has no PodDisruptionBudget" in message and " — add a PDB" in message
    assert run(ha, SimpleNamespace(resources=[app, pdb]), on) == []
    assert run(ha, SimpleNamespace(resources=[app]), {"requireHighAvailability": False}) == []


def test_evaluate_runs_resource_and_stack_rules():
    found = {rule.name for rule, _, _ in evaluate([res("aws:ecr/repository:Repository", {"name": "r"})])}
    assert found == {"ecr-hardened", "ecr-lifecycle"}


# ------------------------------------------------------------------ slipway check on a weakened stack


def _weaken(text: str) -> str:
    text = text.replace("        - 203.0.113.0/24", "        - 0.0.0.0/0")
    text = text.replace("      diskSize: 30\n", "      diskSize: 30\n      metadataHopLimit: 2\n", 1)
    text = text.replace("        readiness: {exec: {command: [/app/healthcheck, --ready]}, periodSeconds: 10}\n", "")
    text = text.replace("        liveness: {exec: {command: [/app/healthcheck]}, periodSeconds: 30}\n", "")
    text = text.replace("      probes:\n      secrets:", "      secrets:")
    return text


def test_a_weakened_stack_fails_check_and_names_each_problem(tmp_path):
    root = project_copy(tmp_path, text=_weaken)
    proc = slipway_cli("check", "dev", "--format", "json", root=root)
    assert proc.returncode == 1, proc.stderr
    findings = json.loads(proc.stdout)
    by_check = {}
    for f in findings:
        by_check.setdefault(f["check"], []).append(f)
    assert any("0.0.0.0/0" in f["message"] for f in by_check["policy:eks-endpoint-restricted"])
    assert any("hop limit is 2" in f["message"] for f in by_check["policy:nodes-imds-hop-limit"])
    assert any("worker has no livenessProbe or readinessProbe" in f["message"]
               for f in by_check["policy:container-probes"])  # fmt: skip


def test_check_refuses_what_render_refuses(tmp_path):
    """One validation path: an unpinned image is a config error for `check` (the pull-request
    gate) exactly as for `render` and `pulumi up`, not a finding deferred to the policy pack."""
    root = project_copy(tmp_path, text=lambda t: t.replace('tag: "1.8.3"}', 'tag: "latest"}')
                        .replace("image: python:3.12.7-slim", "image: python"))  # fmt: skip
    outputs = []
    for command in ("check", "render", "size"):
        proc = slipway_cli(command, "dev", root=root)
        said = " ".join(proc.stderr.split())
        assert proc.returncode == 2, (command, proc.stderr)
        assert "apps.worker.image.tag: 'latest'" in said and "workflowTemplates[0].image: 'python'" in said
        outputs.append(said)
    assert outputs[0] == outputs[1] == outputs[2]


def test_markdown_report_stays_under_githubs_comment_limit():
    from slipway.cli.checks import Finding
    from slipway.cli.main import _markdown

    many = [Finding("policy:x", "mandatory", f"resource-{i}", "m" * 300, "f" * 100) for i in range(500)]
    text = _markdown("dev", many)
    assert len(text) < 65536 and "more finding(s) not shown" in text
