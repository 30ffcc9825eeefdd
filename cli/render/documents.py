"""Documents derived from a render: Kubernetes objects, IAM policies, the component
tree and the per-component summary. Pure functions over recorded registrations.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from typing import Any

import yaml

from slipway.testing.monitor import Recorded

PROJECT = "slipway"


def _policy_doc(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


# IAM documents by resource type: (input property, kind of document, folder).
IAM_DOCUMENTS = {
    "aws:iam/role:Role": [("assumeRolePolicy", "trust")],
    "aws:iam/policy:Policy": [("policy", "identity")],
    "aws:iam/rolePolicy:RolePolicy": [("policy", "identity")],
    "aws:kms/key:Key": [("policy", "resource")],
    "aws:s3/bucketPolicy:BucketPolicy": [("policy", "resource")],
    "aws:ecr/repositoryPolicy:RepositoryPolicy": [("policy", "resource")],
    "aws:ecr/lifecyclePolicy:LifecyclePolicy": [("policy", "lifecycle")],
}


def iam_documents(records: list[Recorded]) -> dict[str, dict[str, Any]]:
    """Every IAM document in the program: {relative path: {kind, resource, document}}."""
    docs: dict[str, dict[str, Any]] = {}
    for rec in records:
        for prop, kind in IAM_DOCUMENTS.get(rec.type, []):
            value = rec.inputs.get(prop) if isinstance(rec.inputs, dict) else None
            if value is None:
                continue
            doc = _policy_doc(value)
            docs[f"iam/{kind}/{rec.name}.json"] = {
                "kind": kind,
                "urn": rec.urn,
                "type": rec.type,
                "document": doc,
            }
    return docs


def aws_auth_configmap(cluster: Recorded, by_urn: dict[str, Recorded]) -> dict[str, Any] | None:
    """The aws-auth ConfigMap pulumi-eks creates inside `eks:index:Cluster` (CONFIG_MAP modes).

    Rebuilt from the component's inputs as pulumi-eks does (createAwsAuthData): role
    mappings, then one node mapping per instance role; user mappings if given.
    """
    inputs = cluster.inputs if isinstance(cluster.inputs, dict) else {}
    if inputs.get("authenticationMode", "CONFIG_MAP") not in ("CONFIG_MAP", "API_AND_CONFIG_MAP"):
        return None
    roles = [{"rolearn": m["roleArn"], "username": m["username"], "groups": m["groups"]}
             for m in inputs.get("roleMappings") or []]  # fmt: skip
    for ref in inputs.get("instanceRoles") or []:
        role = by_urn.get(ref.get("$ref")) if isinstance(ref, dict) else None
        arn = (role.state or {}).get("arn") if role else None
        roles.append({"rolearn": arn, "username": "system:node:{{EC2PrivateDNSName}}",
                      "groups": ["system:bootstrappers", "system:nodes"]})  # fmt: skip
    data = {"mapRoles": yaml.safe_dump(roles, sort_keys=False)}
    if inputs.get("userMappings") is not None:
        users = [{"userarn": m["userArn"], "username": m["username"], "groups": m["groups"]}
                 for m in inputs["userMappings"]]  # fmt: skip
        data["mapUsers"] = yaml.safe_dump(users, sort_keys=False)
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": "aws-auth",
            "namespace": "kube-system",
            "annotations": {"slipway.dev/rendered-from": f"{cluster.urn} (created by pulumi-eks, not by slipway)"},
        },
        "data": data,
    }


def kubernetes_objects(records: list[Recorded]) -> dict[str, dict[str, Any]]:
    """Every Kubernetes object and Helm release: {relative path: manifest}."""
    objs: dict[str, dict[str, Any]] = {}
    by_urn = {r.urn: r for r in records}
    for rec in records:
        if rec.type == "eks:index:Cluster":
            cm = aws_auth_configmap(rec, by_urn)
            if cm:
                objs["kubernetes/kube-system/configmap-aws-auth.yaml"] = cm
    for rec in records:
        if not rec.type.startswith("kubernetes:") or rec.type.startswith("pulumi:providers"):
            continue
        inputs = dict(rec.inputs)
        if rec.type == "kubernetes:helm.sh/v3:Release":
            repo = (inputs.get("repositoryOpts") or {}).get("repo")
            release = {
                "release": inputs.get("name", rec.name),
                "namespace": inputs.get("namespace", "default"),
                "chart": inputs.get("chart"),
                "repo": repo,
                "version": inputs.get("version"),
                "values": inputs.get("values", {}),
                "options": {
                    k: inputs[k]
                    for k in sorted(inputs)
                    if k
                    in (
                        "atomic",
                        "createNamespace",
                        "skipCrds",
                        "timeout",
                        "waitForJobs",
                        "skipAwait",
                        "cleanupOnFail",
                        "maxHistory",
                    )
                },
            }
            objs[f"kubernetes/helm/{release['namespace']}/{release['release']}.yaml"] = release
            continue
        if "kind" not in inputs:
            continue
        meta = dict(inputs.get("metadata") or {})
        if "name" not in meta and isinstance(rec.state, dict):
            meta["name"] = (rec.state.get("metadata") or {}).get("name", rec.name)
        inputs["metadata"] = meta
        ns = meta.get("namespace", "_cluster")
        objs[f"kubernetes/{ns}/{inputs['kind'].lower()}-{meta['name']}.yaml"] = inputs
    return objs


def mermaid(records: list[Recorded]) -> str:
    """The component tree (components and their resource counts) as a Mermaid flowchart."""
    by_urn = {r.urn: r for r in records}
    children: dict[str, list[Recorded]] = defaultdict(list)
    for r in records:
        children[r.parent if r.parent in by_urn else ""].append(r)
    ids: dict[str, str] = {}

    def node_id(urn: str) -> str:
        return ids.setdefault(urn, f"n{len(ids)}")

    lines = ["flowchart LR", f'  root(["stack {PROJECT}"])']

    def walk(parent_urn: str, parent_id: str) -> None:
        kids = sorted(children.get(parent_urn, []), key=lambda r: (r.type, r.name))
        comps = [k for k in kids if not k.custom or k.remote]
        leaves = Counter(k.type.split(":")[-1] for k in kids if k.custom and not k.remote)
        for c in comps:
            nid = node_id(c.urn)
            kind = c.type.split(":")[-1]
            lines.append(f'  {parent_id} --> {nid}["{c.name}<br/><small>{kind}</small>"]')
            walk(c.urn, nid)
        if leaves:
            nid = node_id(parent_urn + "#leaves")
            text = "<br/>".join(f"{n} × {t}" for t, n in sorted(leaves.items()))
            lines.append(f'  {parent_id} -.- {nid}["{text}"]')

    walk("", "root")
    return "\n".join(lines) + "\n"


def summary(records: list[Recorded]) -> dict[str, dict[str, int]]:
    """Resources per top-level component, by type."""
    by_urn = {r.urn: r for r in records}
    table: dict[str, Counter] = defaultdict(Counter)
    for r in records:
        top = r
        while top.parent in by_urn:
            top = by_urn[top.parent]
        table[f"{top.name} ({top.type.split(':')[-1]})"][r.type] += 1
    return {k: dict(sorted(v.items())) for k, v in sorted(table.items())}
