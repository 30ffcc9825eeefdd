"""Offline checks over a render: real validators on what the program would deploy.

* `kubernetes-validate --strict`: every Kubernetes object against the upstream
  OpenAPI schema of the cluster's Kubernetes version (unknown fields are errors).
  Custom resources have no upstream schema: those whose CRD slipway ships (Karpenter's
  NodePool and EC2NodeClass, components/data/crds/) are validated against its
  openAPIV3Schema, unknown fields included (CEL rules are not evaluated); the others
  are reported as skipped.
* `parliament`: every IAM *identity* policy (trust policies are skipped: parliament
  reports UNKNOWN_FEDERATION_SOURCE for any OIDC principal, which says nothing).

The policy pack (`policies/`) adds slipway's own rules on top, and the stack's
`slipway:deploy` is checked against its API endpoint: a deployer that cannot reach the
API server would time out on every Kubernetes resource of `pulumi up`/`preview`. The
stack's config warnings (the guardrails' advice) are findings too (check `config`), so a
pull-request comment shows them.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Literal

from slipway.cli.render import RenderResult, iam_documents, kubernetes_objects
from slipway.program.config.lifecycle import reachability_problems

if TYPE_CHECKING:
    from slipway.program.config.stack import StackConfig

Severity = Literal["mandatory", "advisory", "info"]


def _is_upstream_lbc_policy(document: object) -> bool:
    from slipway.components.load_balancer_controller import iam_policy

    return document == iam_policy()


def _is_upstream_karpenter_policy(document: object) -> bool:
    from slipway.components.karpenter_iam import upstream_policy_name

    return upstream_policy_name(document) is not None


# parliament findings accepted for specific documents, with the reason. A suppression
# applies only when its matcher recognises the document, so an edited copy of the
# upstream policy is linted in full.
PARLIAMENT_SUPPRESSIONS: list[tuple[str, object, dict[str, str]]] = [
    (
        "AWS Load Balancer Controller policy (upstream v3.5.0, unchanged)",
        _is_upstream_lbc_policy,
        {
            "RESOURCE_STAR": "upstream scopes these by tag conditions (elbv2.k8s.aws/cluster) because load "
            "balancers, target groups and security groups are created at run time; the policy must stay "
            "identical to the chart's version",
            "UNKNOWN_ACTION": "actions newer than parliament's database (e.g. "
            "elasticloadbalancing:DescribeCapacityReservation); they exist in IAM",
            "UNKNOWN_CONDITION_FOR_ACTION": "upstream's tag-based condition keys on elasticloadbalancing actions "
            "that parliament's database does not list",
        },
    ),
    (
        "Karpenter controller policies (upstream v1.14.1 CloudFormation, unchanged)",
        _is_upstream_karpenter_policy,
        {
            "RESOURCE_MISMATCH": "upstream splits ec2:RunInstances/CreateFleet over statements by resource "
            "type (each with its own tag conditions), and ssm:GetParameter on AWS's public parameters has no "
            "account; parliament judges each statement alone",
            "RESOURCE_STAR": "arc-zonal-shift:GetManagedResource is scoped by the "
            "arc-zonal-shift:ResourceIdentifier condition (the cluster's ARN), as upstream writes it",
        },
    ),
]


def suppressed(document: object, issue: str) -> str | None:
    """Why a parliament finding on this document is accepted, if it is."""
    for _, matches, issues in PARLIAMENT_SUPPRESSIONS:
        if issue in issues and matches(document):
            return issues[issue]
    return None


@dataclass(frozen=True)
class Finding:
    """One problem found in a render."""

    check: str
    severity: Severity
    resource: str
    message: str
    fix: str

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


def _missing(tool: str) -> Finding:
    return Finding(
        tool,
        "mandatory",
        "-",
        f"{tool} is not installed",
        "install the dev extra: pip install -e '.[dev]' (./dev does this)",
    )


def kubernetes_findings(result: RenderResult, version: str) -> list[Finding]:
    """Validate every rendered Kubernetes object with kubernetes-validate (strict)."""
    try:
        import kubernetes_validate
    except ImportError:
        return [_missing("kubernetes-validate")]
    findings: list[Finding] = []
    for path, manifest in sorted(kubernetes_objects(result.records).items()):
        if path.startswith("kubernetes/helm/"):
            continue  # a release, not an object: its chart renders the objects in-cluster
        try:
            kubernetes_validate.validate(manifest, version, strict=True)
        except kubernetes_validate.SchemaNotFoundError:
            errors = custom_resource_errors(manifest)
            if errors is not None:
                findings += [
                    Finding(
                        "crd-schema",
                        "mandatory",
                        path,
                        error,
                        "fix the field to match the CRD of the pinned chart (components/data/crds/)",
                    )
                    for error in errors
                ]
                continue
            findings.append(
                Finding(
                    "kubernetes-validate",
                    "info",
                    path,
                    f"no upstream schema for {manifest.get('apiVersion')}/{manifest.get('kind')} "
                    "(a custom resource); not validated",
                    "-",
                )
            )
        except kubernetes_validate.ValidationError as e:
            where = ".".join(str(p) for p in e.path) or "(top level)"
            findings.append(
                Finding(
                    "kubernetes-validate",
                    "mandatory",
                    path,
                    f"{where}: {e.message}",
                    f"fix the field to match Kubernetes {version}'s schema",
                )
            )
    return findings


def custom_resource_errors(manifest: dict) -> list[str] | None:
    """A custom resource's errors against the CRD slipway ships for its kind (unknown fields
    included, as `kubectl apply --validate=strict` would refuse them), or None when slipway
    ships no CRD for it. Needs jsonschema (kubernetes-validate's own dependency)."""
    import jsonschema

    from slipway.components.crds import crd_schema

    schema = crd_schema(str(manifest.get("apiVersion")), str(manifest.get("kind")))
    if schema is None:
        return None
    validator = jsonschema.Draft7Validator(schema)
    return [
        f"{'.'.join(str(p) for p in e.absolute_path) or '(top level)'}: {e.message}"
        for e in sorted(validator.iter_errors(manifest), key=lambda e: list(map(str, e.absolute_path)))
    ]


def parliament_findings(result: RenderResult) -> list[Finding]:
    """Lint every IAM identity policy with parliament."""
    try:
        import parliament
    except ImportError:
        return [_missing("parliament")]
    findings: list[Finding] = []
    for path, doc in sorted(iam_documents(result.records).items()):
        if doc["kind"] != "identity":
            continue
        policy = parliament.analyze_policy_string(json.dumps(doc["document"]), include_community_auditors=False)
        for f in policy.findings:
            if suppressed(doc["document"], f.issue):
                continue
            severity: Severity = "mandatory" if f.severity in ("HIGH", "MEDIUM", "CRITICAL") else "advisory"
            findings.append(
                Finding(
                    "parliament",
                    severity,
                    path,
                    f"{f.issue}: {f.detail or ''}".strip(": "),
                    "tighten the statement (see parliament's issue description)",
                )
            )
    return findings


def policy_findings(result: RenderResult, config: dict[str, dict] | None = None) -> list[Finding]:
    """The policy pack's rules over the recorded resources (component inputs offline)."""
    from slipway.policies.base import Resource
    from slipway.policies.rules import evaluate

    resources = [
        Resource(r.urn, r.type, r.inputs if isinstance(r.inputs, dict) else {}, dict(r.options)) for r in result.records
    ]
    # A stack's config may override a rule's level, as `--policy-pack-config` does in a preview.
    levels = {name: c["enforcementLevel"] for name, c in (config or {}).items() if "enforcementLevel" in c}
    return [
        Finding(f"policy:{rule.name}", levels.get(rule.name, rule.enforcement), urn.split("::")[-1], v.message, v.fix)
        for rule, urn, v in evaluate(resources, config)
    ]


CONFIG_CHECK = "config"


def config_findings(warnings: list[str], severity: str = "advisory") -> list[Finding]:
    """The stack's config warnings (`path: value problem — fix`) as advisory findings (its
    errors, with `severity="mandatory"`, when the stack is refused)."""
    findings = []
    for warning in warnings:
        where, sep, said = warning.partition(": ")
        if not sep or " " in where:
            where, said = "stack config", warning
        problem, _, fix = said.partition(" — ")
        findings.append(Finding(CONFIG_CHECK, severity, where, problem.strip(), fix.strip() or "-"))
    return findings


REACH_CHECK = "deployer-reaches-endpoint"


def deploy_findings(cfg: StackConfig) -> list[Finding]:
    """Can the stack's declared deployer (`slipway:deploy`) reach its API server?

    Every stack in stacks/ is deployed by the shipped pipelines, so one that declares no
    deployer is reported (advisory): nothing then shows the pipelines' runner is admitted.
    """
    if cfg.deploy is None:
        return [
            Finding(
                REACH_CHECK,
                "advisory",
                "slipway:deploy",
                "the deployer is undeclared: nothing shows that the runner of `pulumi up` can reach the API "
                "server, and hosted CI runners have no fixed egress addresses",
                "declare slipway:deploy: runner: self-hosted, runnerLabels (the pipelines' runs-on/tags), and "
                "egressCidrs inside cluster.endpoint.publicAccessCidrs (or privateCidrs for a runner in the VPC)",
            )
        ]
    endpoint = cfg.cluster.endpoint
    return [
        Finding(REACH_CHECK, "mandatory", f"slipway:{field}", problem, fix)
        for field, problem, fix in reachability_problems(
            cfg.deploy, endpoint.public_access, endpoint.public_access_cidrs
        )
    ]


def run_checks(
    result: RenderResult,
    kubernetes_version: str,
    policy_config: dict | None = None,
    cfg: StackConfig | None = None,
) -> list[Finding]:
    """All offline checks for one render: the stack's config warnings, policy pack, Kubernetes
    schemas, IAM lint and, given the stack's config, whether its deployer reaches the API server."""
    return (
        config_findings(result.warnings)
        + policy_findings(result, policy_config)
        + kubernetes_findings(result, kubernetes_version)
        + parliament_findings(result)
        + (deploy_findings(cfg) if cfg is not None else [])
    )
