"""The CustomResourceDefinitions of the charts slipway pins, for validating what it renders.

`data/crds/` holds upstream's CRD files unchanged (Karpenter's NodePool and EC2NodeClass,
aws/karpenter-provider-aws@v1.14.1 `pkg/apis/crds/`; the `karpenter-crd` chart installs the
same. Argo Rollouts' Rollout and AnalysisTemplate, argoproj/argo-rollouts@v1.9.0
`manifests/crds/`, which the `argo-rollouts` chart 2.41.0 renders from `templates/crds/`
with only its labels and annotations added). A file is registered by being here.
`crd_schema` gives a served version's openAPIV3Schema as a JSON schema that refuses
unknown fields: the API server would prune them silently, so a misspelt field would
otherwise vanish without an error. CEL rules (`x-kubernetes-validations`) are not evaluated.
Where a CRD keeps unknown fields (`x-kubernetes-preserve-unknown-fields`: upstream leaves
a Rollout's pod `volumes` and resource quantities, and plugin config, unspecified) anything
goes there, as in the cluster; the rest of the pod template is checked field by field.
"""

from __future__ import annotations

import copy
from functools import cache
from pathlib import Path
from typing import Any, cast

import yaml

CRD_DIR = Path(__file__).resolve().parent / "data" / "crds"
_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@cache
def _served() -> dict[tuple[str, str], dict[str, Any]]:
    """(apiVersion, kind) → openAPIV3Schema, for every served version of every shipped CRD."""
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for path in sorted(CRD_DIR.glob("*.yaml")):
        # libyaml when present: the Rollout and AnalysisTemplate CRDs are ~200 kB each.
        crd = cast("dict[str, Any]", yaml.load(path.read_text(), Loader=_LOADER))
        spec = cast("dict[str, Any]", crd["spec"])
        for version in cast("list[dict[str, Any]]", spec["versions"]):
            if version.get("served"):
                api_version = f"{spec['group']}/{version['name']}"
                found[(api_version, spec["names"]["kind"])] = version["schema"]["openAPIV3Schema"]
    return found


def crd_schema(api_version: str, kind: str) -> dict[str, Any] | None:
    """The strict JSON schema of `apiVersion`/`kind`, or None if slipway ships no CRD for it."""
    schema = _served().get((api_version, kind))
    return None if schema is None else _strict(copy.deepcopy(schema))


def _strict(schema: Any) -> Any:
    """`schema` with `additionalProperties: false` wherever Kubernetes prunes unknown fields:
    objects with `properties`, no `additionalProperties` and no preserve-unknown-fields.
    `metadata` stays open (the API server's own ObjectMeta schema applies there)."""
    if isinstance(schema, list):
        return [_strict(item) for item in cast("list[Any]", schema)]
    if not isinstance(schema, dict):
        return schema
    node = cast("dict[str, Any]", schema)
    for key, value in node.items():
        if key == "properties":
            node[key] = {
                name: (sub if name == "metadata" else _strict(sub))
                for name, sub in cast("dict[str, Any]", value).items()
            }
        elif isinstance(value, dict | list):
            node[key] = _strict(value)
    if (
        "properties" in node
        and "additionalProperties" not in node
        and not node.get("x-kubernetes-preserve-unknown-fields")
    ):
        node["additionalProperties"] = False
    return node


__all__ = ["CRD_DIR", "crd_schema"]
