"""The policy pack through pulumi-policy's own analyzer, as `pulumi preview --policy-pack policies` runs it.

The pack is launched the way the Pulumi CLI launches a Python policy pack (`python -m
pulumi.policy <engine> policies`, which is `runpy.run_path("policies", run_name="__main__")`).
Only the network is replaced: `grpc.server` inside pulumi_policy is a stand-in that
keeps the method handlers `analyzer_pb2_grpc.add_AnalyzerServicer_to_server` registers
and stops the pack when it starts serving. Every call then goes through those handlers
exactly as the gRPC server dispatches it: the engine's protobuf request as bytes,
`_PolicyAnalyzerServicer.Analyze` / `AnalyzeStack` / `Configure` / `GetAnalyzerInfo`,
the response as bytes. So the rules see what they see in a real preview: properties
deserialized from a protobuf Struct (numbers are floats) and wrapped in pulumi-policy's
unknown-checking proxies (`_DictProxy` is a Mapping, not a dict; `_ListProxy` a
Sequence, not a list), with the engine's sentinel for values unknown during preview.
"""

from __future__ import annotations

import json
import runpy
from types import SimpleNamespace
from typing import Any

import pulumi_policy.policy
import pytest
from google.protobuf import empty_pb2, struct_pb2
from pulumi.runtime.proto import analyzer_pb2
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE

from slipway.cli.render import ROOT
from slipway.policies.rules import ALL, RULES, STACK_RULES

from tests.test_policies import (
    CASES,
    CONTAINER_OK,
    DEPLOYMENT,
    ISSUER,
    ROLLOUT,
    deployment,
    rollout,
    trust,
    workload_ref_rollout,
)

# What the engine sends for a value that is unknown during preview (a computed output).
UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
ADVISORY, MANDATORY = analyzer_pb2.ADVISORY, analyzer_pb2.MANDATORY
LEVEL = {"advisory": ADVISORY, "mandatory": MANDATORY}


class _Serving(Exception):
    """Raised by the stand-in server when the pack starts serving: the pack is fully built."""


class _Server:
    """Stands in for grpc.server(): keeps the registered handlers, never opens a port."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.handlers: list = []

    def add_generic_rpc_handlers(self, handlers) -> None:
        self.handlers.extend(handlers)

    def add_registered_method_handlers(self, service, handlers) -> None:  # newer grpcio-generated code
        pass

    def add_insecure_port(self, address: str) -> int:
        return 0

    def start(self) -> None:
        raise _Serving(self)


class Analyzer:
    """The pack's analyzer as the engine talks to it: one gRPC method call = bytes in, bytes out."""

    def __init__(self, server: _Server):
        self.server = server

    def call(self, method: str, request, response_type):
        details = SimpleNamespace(method=f"/pulumirpc.Analyzer/{method}")
        (handler,) = [h for h in (g.service(details) for g in self.server.handlers) if h is not None]
        response = handler.unary_unary(handler.request_deserializer(request.SerializeToString()), None)
        return response_type.FromString(handler.response_serializer(response))

    def info(self) -> analyzer_pb2.AnalyzerInfo:
        return self.call("GetAnalyzerInfo", empty_pb2.Empty(), analyzer_pb2.AnalyzerInfo)

    def configure(self, config: dict[str, dict[str, Any]]) -> None:
        """What the CLI sends for `--policy-pack-config <file>`: every policy, its level and properties."""
        request = analyzer_pb2.ConfigureAnalyzerRequest()
        for name, rule in ALL.items():
            # The CLI sends a policy's configured `enforcementLevel` as its level, not a property.
            properties = dict(config.get(name, {}))
            level = properties.pop("enforcementLevel", rule.enforcement)
            request.policyConfig[name].enforcementLevel = LEVEL[level]
            request.policyConfig[name].properties.update(properties)
        self.call("Configure", request, empty_pb2.Empty)

    def analyze(self, type_: str, props: dict, name: str = "x", protect: bool = False) -> list:
        request = analyzer_pb2.AnalyzeRequest(
            type=type_, properties=struct(props), urn=urn(type_, name), name=name,
            options=analyzer_pb2.AnalyzerResourceOptions(protect=protect),
        )  # fmt: skip
        return list(self.call("Analyze", request, analyzer_pb2.AnalyzeResponse).diagnostics)

    def analyze_stack(self, resources: list[tuple[str, dict, str]]) -> list:
        request = analyzer_pb2.AnalyzeStackRequest(resources=[
            analyzer_pb2.AnalyzerResource(type=t, properties=struct(p), urn=urn(t, n), name=n,
                                          options=analyzer_pb2.AnalyzerResourceOptions())
            for t, p, n in resources
        ])  # fmt: skip
        return list(self.call("AnalyzeStack", request, analyzer_pb2.AnalyzeResponse).diagnostics)


def struct(props: dict) -> struct_pb2.Struct:
    """Resource properties as the engine marshals them (a protobuf Struct: numbers become doubles)."""
    s = struct_pb2.Struct()
    s.update(props)
    return s


def urn(type_: str, name: str) -> str:
    return f"urn:pulumi:prod::slipway::{type_}::{name}"


@pytest.fixture
def analyzer(monkeypatch) -> Analyzer:
    for var in ("PULUMI_CONFIG", "PULUMI_PROJECT", "PULUMI_STACK", "PULUMI_DRY_RUN"):
        monkeypatch.delenv(var, raising=False)  # Analyze would configure the pulumi runtime from them
    monkeypatch.setattr(pulumi_policy.policy, "grpc", SimpleNamespace(server=_Server))
    with pytest.raises(_Serving) as served:
        runpy.run_path(str(ROOT / "policies"), run_name="__main__")
    return Analyzer(served.value.args[0])


def of(diagnostics: list, rule: str) -> list:
    return [d for d in diagnostics if d.policyName == rule]


def cant_run(d) -> bool:
    """The analyzer's own diagnostic when a policy read a value unknown during preview."""
    return d.message.startswith(f"can't run policy '{d.policyName}' from policy pack 'slipway@")


def differing(ok: dict, bad: dict) -> list[str]:
    """Top-level properties the rule must read to tell the compliant input from the violating one."""
    return sorted(k for k in {*ok, *bad} if ok.get(k) != bad.get(k))


IDS = [f"{c[0]}:{c[1]}:{i}" for i, c in enumerate(CASES)]


def test_the_engine_sentinel_is_pulumi_policys():
    assert UNKNOWN == UNKNOWN_STRING_VALUE


def test_the_analyzer_serves_every_rule(analyzer):
    info = analyzer.info()
    assert info.name == "slipway"
    served = {p.name: p for p in info.policies}
    assert set(served) == set(ALL)
    for rule in RULES:
        assert served[rule.name].policy_type == analyzer_pb2.POLICY_TYPE_RESOURCE
        assert served[rule.name].enforcementLevel == LEVEL[rule.enforcement]
    for rule in STACK_RULES:
        assert served[rule.name].policy_type == analyzer_pb2.POLICY_TYPE_STACK


@pytest.mark.parametrize("rule, type_, ok, bad, fragment", CASES, ids=IDS)
def test_rule_through_the_analyzer(analyzer, rule, type_, ok, bad, fragment):
    ok_diagnostics = analyzer.analyze(type_, ok)
    assert of(ok_diagnostics, rule) == []
    assert not any(cant_run(d) for d in ok_diagnostics), ok_diagnostics
    found = of(analyzer.analyze(type_, bad), rule)
    assert found, f"{rule} did not fire through the analyzer"
    assert any(fragment in d.message for d in found), found
    for d in found:
        assert not cant_run(d)
        assert d.urn == urn(type_, "x") and d.enforcementLevel == LEVEL[ALL[rule].enforcement]
        assert d.message.startswith(ALL[rule].description + "\n") and " — " in d.message


@pytest.mark.parametrize("rule, type_, ok, bad, fragment", CASES, ids=IDS)
def test_unknown_in_a_field_the_rule_reads(analyzer, rule, type_, ok, bad, fragment):
    """The rule cannot decide: the analyzer reports it could not run (advisory), nothing crashes."""
    keys = differing(ok, bad)
    assert keys
    (d,) = of(analyzer.analyze(type_, {**bad, **dict.fromkeys(keys, UNKNOWN)}), rule)
    assert cant_run(d) and "can't be known during preview" in d.message, d.message
    assert d.enforcementLevel == ADVISORY


@pytest.mark.parametrize("rule, type_, ok, bad, fragment", CASES, ids=IDS)
def test_unknown_elsewhere_does_not_stop_the_rule(analyzer, rule, type_, ok, bad, fragment):
    """A computed output the rule never reads (an ARN, a generated name) must not skip the rule."""
    found = of(analyzer.analyze(type_, {**bad, "arn": UNKNOWN, "tagsAll": UNKNOWN}), rule)
    assert found and not any(cant_run(d) for d in found), found
    assert any(fragment in d.message for d in found), found


def test_every_container_is_seen_through_the_proxies(analyzer):
    """Containers and init containers arrive as a _ListProxy of _DictProxy: none may be dropped."""
    bare = {"name": "migrate", "image": "busybox"}
    props = deployment(initContainers=[bare])
    props["spec"]["template"]["spec"]["containers"] = [CONTAINER_OK, {**CONTAINER_OK, "name": "sidecar"}, bare]
    diagnostics = analyzer.analyze(DEPLOYMENT, props)
    assert not any(cant_run(d) for d in diagnostics), diagnostics
    resources = [d.message for d in of(diagnostics, "container-resources")]
    assert len(resources) == 2 and all("container migrate has no requests.cpu" in m for m in resources)
    images = [d.message for d in of(diagnostics, "image-pinned")]
    assert len(images) == 2 and all("busybox without a pinned tag" in m for m in images)
    (probes,) = of(diagnostics, "container-probes")  # the init container needs none
    assert "container migrate has no livenessProbe or readinessProbe" in probes.message
    assert len(of(diagnostics, "pod-security-context")) == 2


def test_an_unknown_image_stops_only_the_rule_that_reads_it(analyzer):
    """The usual preview: the image is the ECR repository URL of a repository not created yet."""
    props = deployment({**CONTAINER_OK, "image": UNKNOWN, "resources": {}})
    diagnostics = analyzer.analyze(DEPLOYMENT, props)
    (d,) = of(diagnostics, "image-pinned")
    assert cant_run(d) and "string value at .spec.template.spec.containers.0.image" in d.message, d.message
    (resources,) = of(diagnostics, "container-resources")
    assert "container api has no requests.cpu, requests.memory, limits.memory" in resources.message
    assert of(diagnostics, "pod-security-context") == of(diagnostics, "container-probes") == []


def test_policy_documents_given_as_objects(analyzer):
    """A policy passed as an object (not a JSON string) arrives as a _DictProxy: it is still checked."""
    pattern = {"StringLike": {f"{ISSUER}:sub": "system:serviceaccount:argo:*"}}
    doc = json.loads(trust(pattern)["assumeRolePolicy"])
    found = of(analyzer.analyze("aws:iam/role:Role", {"assumeRolePolicy": doc}), "irsa-trust-exact")
    assert any("matches ServiceAccounts with a pattern" in d.message for d in found), found
    wildcard = {"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": ["s3:*"], "Resource": ["*"]}}
    found = of(analyzer.analyze("aws:iam/policy:Policy", {"policy": wildcard}), "iam-no-wildcard-actions")
    assert any("wildcard actions ['s3:*']" in d.message for d in found), found


def test_trust_policies_without_a_federated_principal(analyzer):
    """`"Principal": "*"` and service principals are valid IAM: not IRSA, and no crash."""
    for principal in ("*", {"Service": "eks.amazonaws.com"}, {"AWS": ["arn:aws:iam::123456789012:root"]}):
        doc = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": principal,
                                                       "Action": "sts:AssumeRole"}]}  # fmt: skip
        diagnostics = analyzer.analyze("aws:iam/role:Role", {"assumeRolePolicy": json.dumps(doc)})
        assert of(diagnostics, "irsa-trust-exact") == []


def test_prod_config_through_configure(analyzer):
    """`--policy-pack-config policies/config/prod.json`: numbers arrive as floats, options from the request."""
    analyzer.configure(json.loads((ROOT / "policies" / "config" / "prod.json").read_text()))
    repo = {"imageTagMutability": "IMMUTABLE", "imageScanningConfiguration": {"scanOnPush": True}}
    found = analyzer.analyze("aws:ecr/repository:Repository", repo, protect=True)
    assert [d.message for d in of(found, "ecr-hardened")] == [
        f"{ALL['ecr-hardened'].description}\nthe repository is not encrypted with KMS (CKV_AWS_136) — "
        "set encryption_type='KMS'"
    ]
    assert of(found, "data-safety-protected") == []
    kms = {**repo, "encryptionConfigurations": [{"encryptionType": "KMS", "kmsKey": UNKNOWN}]}
    assert of(analyzer.analyze("aws:ecr/repository:Repository", kms, protect=True), "ecr-hardened") == []
    (d,) = of(analyzer.analyze("aws:s3/bucket:Bucket", {"bucket": UNKNOWN}), "data-safety-protected")
    assert "not protected" in d.message and d.urn == urn("aws:s3/bucket:Bucket", "x")

    analyzer.configure({"node-pool-max-pods": {"daemonsets": 4}})
    pool = "aws:eks/nodeGroup:NodeGroup"
    assert of(analyzer.analyze(pool, {"instanceTypes": ["t3.medium"], "arn": UNKNOWN}), "node-pool-max-pods") == []
    (d,) = of(analyzer.analyze(pool, {"instanceTypes": ["t3.micro"]}), "node-pool-max-pods")
    assert "t3.micro allows 4 pods per node and the 4 DaemonSets take them all" in d.message
    (d,) = of(analyzer.analyze(pool, {"instanceTypes": UNKNOWN}), "node-pool-max-pods")
    assert cant_run(d)


def test_numbers_arrive_as_floats_and_read_as_integers(analyzer):
    lt = {"metadataOptions": {"httpTokens": "required", "httpPutResponseHopLimit": 2}}
    (d,) = of(analyzer.analyze("aws:ec2/launchTemplate:LaunchTemplate", lt), "nodes-imds-hop-limit")
    assert "IMDS hop limit is 2, above 1:" in d.message, d.message


# ------------------------------------------------------------------ stack rules: AnalyzeStack


REPO = ("aws:ecr/repository:Repository", {"name": "slipway-prod/api", "arn": UNKNOWN}, "api")
LIFECYCLE = ("aws:ecr/lifecyclePolicy:LifecyclePolicy", {"repository": "slipway-prod/api", "id": UNKNOWN}, "api")
PDB = ("kubernetes:policy/v1:PodDisruptionBudget",
       {"metadata": {"namespace": "api"}, "spec": {"selector": {"matchLabels": {"app": "api"}}}}, "api")  # fmt: skip
HPA = ("kubernetes:autoscaling/v2:HorizontalPodAutoscaler",
       {"metadata": {"namespace": "api"}, "spec": {"minReplicas": 3, "scaleTargetRef": {"name": "api"}}},
       "api")  # fmt: skip


def _single() -> dict:
    props = deployment()
    props["spec"]["replicas"] = 1
    return props


def test_stack_rule_ecr_lifecycle(analyzer):
    assert of(analyzer.analyze_stack([REPO, LIFECYCLE]), "ecr-lifecycle") == []
    (d,) = of(analyzer.analyze_stack([REPO, PDB]), "ecr-lifecycle")
    assert not cant_run(d) and "no lifecycle policy" in d.message and d.urn == urn(*REPO[::2])
    assert d.enforcementLevel == MANDATORY
    unknown = (LIFECYCLE[0], {"repository": UNKNOWN}, "api")
    (d,) = of(analyzer.analyze_stack([REPO, unknown]), "ecr-lifecycle")
    assert cant_run(d) and d.enforcementLevel == ADVISORY


def test_stack_rule_ha_in_prod(analyzer):
    app = (DEPLOYMENT, {**deployment(), "status": UNKNOWN}, "api")
    assert of(analyzer.analyze_stack([(DEPLOYMENT, _single(), "api")]), "ha-replicas-and-pdb") == []  # dev: off
    analyzer.configure({"ha-replicas-and-pdb": {"requireHighAvailability": True}})
    assert of(analyzer.analyze_stack([app, PDB, REPO]), "ha-replicas-and-pdb") == []
    assert of(analyzer.analyze_stack([(DEPLOYMENT, _single(), "api"), PDB, HPA]), "ha-replicas-and-pdb") == []
    found = of(analyzer.analyze_stack([(DEPLOYMENT, _single(), "api"), REPO]), "ha-replicas-and-pdb")
    messages = sorted(d.message.split("\n", 1)[1] for d in found)
    assert len(messages) == 2 and all(d.urn == urn(DEPLOYMENT, "api") for d in found)
    assert messages[0].startswith("Deployment api/api has no PodDisruptionBudget in prod")
    assert messages[1].startswith("Deployment api/api runs 1 replica in prod")
    unknown = (DEPLOYMENT, {**deployment(), "spec": UNKNOWN}, "api")
    (d,) = of(analyzer.analyze_stack([unknown, PDB]), "ha-replicas-and-pdb")
    assert cant_run(d) and "value at .spec can't be known" in d.message


def test_stack_rule_ha_covers_rollouts_in_prod(analyzer):
    """Rollouts through AnalyzeStack: replicas arrive as floats, workloadRef reads the Deployment's labels."""
    analyzer.configure({"ha-replicas-and-pdb": {"requireHighAvailability": True}})
    single = rollout()
    single["spec"]["replicas"] = 1
    assert of(analyzer.analyze_stack([(ROLLOUT, rollout(), "api"), PDB]), "ha-replicas-and-pdb") == []
    (d,) = of(analyzer.analyze_stack([(ROLLOUT, single, "api"), PDB]), "ha-replicas-and-pdb")
    assert not cant_run(d) and d.urn == urn(ROLLOUT, "api")
    assert d.message.split("\n", 1)[1].startswith("Rollout api/api runs 1 replica in prod")
    idle = deployment()
    idle["spec"]["replicas"] = 0  # scaled down by the Rollout that references it
    referenced = [(ROLLOUT, workload_ref_rollout(), "api"), (DEPLOYMENT, idle, "api")]
    assert of(analyzer.analyze_stack([*referenced, PDB]), "ha-replicas-and-pdb") == []
    (d,) = of(analyzer.analyze_stack(referenced), "ha-replicas-and-pdb")
    assert "Rollout api/api has no PodDisruptionBudget in prod" in d.message
    unknown = workload_ref_rollout()
    unknown["spec"]["workloadRef"] = UNKNOWN
    (d,) = of(analyzer.analyze_stack([(ROLLOUT, unknown, "api"), (DEPLOYMENT, idle, "api"), PDB]),
              "ha-replicas-and-pdb")  # fmt: skip
    assert cant_run(d) and "value at .spec.workloadRef can't be known" in d.message, d.message


def test_ssh_from_the_internet_is_mandatory_in_prod_advisory_elsewhere(analyzer):
    """The level comes from `policies/config/<env>.json` (`enforcementLevel`), as the CLI sends it."""
    rule = ("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
            {"ipProtocol": "tcp", "fromPort": 22, "toPort": 22, "cidrIpv4": "0.0.0.0/0", "arn": UNKNOWN})  # fmt: skip
    for env, level in (("dev", ADVISORY), ("staging", ADVISORY), ("prod", MANDATORY)):
        analyzer.configure(json.loads((ROOT / "policies" / "config" / f"{env}.json").read_text()))
        (d,) = of(analyzer.analyze(*rule), "ssh-not-open-to-internet")
        assert not cant_run(d) and d.enforcementLevel == level, (env, d)
        assert "SSH (tcp/22) is open to 0.0.0.0/0" in d.message
