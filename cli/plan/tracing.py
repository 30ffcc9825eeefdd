"""Values that change on apply, which the renders cannot show by themselves: a replaced
resource gets new ids and ARNs, and a launch template update gets a new version (mock ids are
hashed from names, so both renders agree). Every input of a dependent that carries such a value
(found by asking the shared mocks what the resource outputs) becomes "(known after apply)", a
change diff.py weighs against the facts like any other: a replaced cluster replaces the node
groups that name it, as `pulumi preview` shows."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from slipway.cli.plan.graph import provider_urn
from slipway.cli.plan.model import COMPUTED, REPLACE, SECRET, UPDATE, PropertyChange, ResourceChange
from slipway.cli.plan.values import at, walk

# A launch template update writes a new version only when one of these changes; tags and the
# default-version settings are changed in place (terraform-provider-aws
# internal/service/ec2/ec2_launch_template.go, resourceLaunchTemplateUpdate's `updateKeys`).
LAUNCH_TEMPLATE_VERSIONED = frozenset({
    "blockDeviceMappings", "capacityReservationSpecification", "cpuOptions", "creditSpecification", "description",
    "disableApiStop", "disableApiTermination", "ebsOptimized", "elasticGpuSpecifications",
    "elasticInferenceAccelerator", "enclaveOptions", "hibernationOptions", "iamInstanceProfile", "imageId",
    "instanceInitiatedShutdownBehavior", "instanceMarketOptions", "instanceRequirements", "instanceType", "kernelId",
    "keyName", "licenseSpecifications", "maintenanceOptions", "metadataOptions", "monitoring", "networkInterfaces",
    "placement", "privateDnsNameOptions", "ramDiskId", "securityGroupNames", "tagSpecifications", "userData",
    "vpcSecurityGroupIds",
})  # fmt: skip
LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
CLUSTER_TYPES = frozenset({"eks:index:Cluster", "aws:eks/cluster:Cluster"})
K8S_PROVIDER = "pulumi:providers:kubernetes"
# Outputs that name the account or region rather than the resource (EC2's ownerId…).
SHARED_OUTPUTS = frozenset({"ownerId", "accountId", "registryId", "region"})


def region_of(records: Sequence[Mapping[str, Any]]) -> str:
    """The AWS region the render's ARNs name (us-east-1 if none does), for the mocks."""
    text = json.dumps([r.get("inputs") for r in records[:200]])
    found = re.search(r"arn:aws:[a-z0-9-]+:([a-z]{2}-[a-z]+-\d):", text)
    return found.group(1) if found else "us-east-1"


def replaced_values(record: Mapping[str, Any], region: str) -> set[str]:
    """The values a new copy of `record` gets that the old one had different: its id and the
    outputs the provider computes (ARNs, endpoints, auto-names), as slipway's mocks give them.
    Values that merely echo an input (an explicit name) stay, so they are left out."""
    import pulumi

    from slipway.testing.mocks import SlipwayMocks

    inputs = dict(record.get("inputs") or {})
    try:
        rid, outputs = SlipwayMocks(region=region).new_resource(
            pulumi.runtime.MockResourceArgs(record["type"], record["name"], inputs, custom=bool(record.get("custom")))
        )
    except Exception:  # a type the mocks do not model: nothing to trace
        return set()
    echoed = {v for _, v in walk(inputs) if isinstance(v, str)}
    found = {rid} | {
        v for k, v in outputs.items() if k not in inputs and k not in SHARED_OUTPUTS and isinstance(v, str)
    }
    # The account and the region are in every ARN of the stack: they are not this resource's
    # own values, and as needles they would mark every ARN "known after apply".
    return {
        v
        for v in found
        if isinstance(v, str) and len(v) >= 8 and v not in echoed and v != SECRET and not v.isdigit() and v != region
    }


def _paths_carrying(inputs: Any, needles: set[str], urns: set[str]) -> list[str]:
    """Input paths whose value is one of `needles`, contains one (an ARN in a JSON policy), or
    refers to one of `urns`."""
    long = [n for n in needles if len(n) >= 12]
    out: list[str] = []
    for path, value in walk(inputs):
        referred = isinstance(value, dict) and value.get("$ref") in urns
        carried = isinstance(value, str) and (value in needles or any(n in value for n in long))
        if referred or carried:
            out.append(path or "(inputs)")
    return out


def computed(
    r: dict[str, Any],
    b: dict[str, Any],
    deps: set[str],
    done: Mapping[str, ResourceChange],
    region: str,
) -> list[PropertyChange]:
    """The inputs of `r` that change at apply time because something it waits for is replaced
    (new ids, ARNs) or is a launch template given a new version."""
    inputs, old_inputs = r.get("inputs") or {}, b.get("inputs") or {}
    out: list[PropertyChange] = []
    for dep in sorted(deps):
        ch = done.get(dep)
        if ch is None:
            continue
        if ch.action == REPLACE and ch.base is not None and ch.head is not None:
            needles = replaced_values(ch.base, region) | replaced_values(ch.head, region)
            for path in _paths_carrying(inputs, needles, {dep, ch.old_urn or dep}):
                out.append(PropertyChange(path, at(old_inputs, path), COMPUTED, "computed", dep))
        elif ch.action == UPDATE and ch.type == LAUNCH_TEMPLATE and new_launch_template_version(ch):
            ids = {i for i in replaced_values(ch.head or {}, region) if i.startswith("lt-")}
            for path in _paths_carrying(inputs, ids, set()):
                if path.endswith(".id") and isinstance(at(inputs, path[:-3]), dict):
                    version = path[:-3] + ".version"
                    out.append(PropertyChange(version, at(old_inputs, version), COMPUTED, "computed", dep))
    if r["type"] == K8S_PROVIDER:
        # Its kubeconfig is a secret built from the cluster beside it (same component): the
        # render cannot compare it, so a replaced sibling cluster is taken to change it.
        for ch in done.values():
            if ch.type in CLUSTER_TYPES and ch.action == REPLACE and (ch.head or {}).get("parent") == r.get("parent"):
                out.append(PropertyChange("kubeconfig", SECRET, COMPUTED, "computed", ch.urn))
                break
    return out


def new_launch_template_version(change: ResourceChange) -> bool:
    """Whether a launch template update writes a new version (so node groups using it roll)."""
    return any(p.split(".")[0].split("[")[0] in LAUNCH_TEMPLATE_VERSIONED for p in change.paths)


def replaced_provider(r: Mapping[str, Any], deps: set[str], done: Mapping[str, ResourceChange]) -> str | None:
    """The name of `r`'s explicit provider when that provider is replaced, else None."""
    provider = (r.get("options") or {}).get("provider")
    if not provider:
        return None
    for dep in deps:
        ch = done.get(dep)
        provider_replaced = ch is not None and ch.type.startswith("pulumi:providers:") and ch.action == REPLACE
        if ch is not None and provider_replaced and provider_urn(provider) in (ch.name, ch.urn):
            return ch.name
    return None
