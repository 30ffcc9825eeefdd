"""Offline render: the real program under the Pulumi SDK's mock monitor.

No cloud, no Pulumi CLI. `render_stack("dev")` reads `stacks/Pulumi.dev.yaml`,
validates it, runs `infra.program.main` under `infra.mocks.SlipwayMocks` as a
preview, records every registration (type, name, parent, dependencies, inputs,
options) and every stack output, and writes them to `build/<stack>/`:

    resources.json          every resource; secrets as "[secret]"
    outputs.json            the stack outputs; secrets as "[secret]"
    kubernetes/...yaml      every Kubernetes object (Helm releases: chart, repo, version, values)
    iam/...json             every IAM policy and trust document (identity/, trust/, resource/)
    components.mmd          the component tree as a Mermaid diagram
    summary.json            resources per component

Output is deterministic (sorted keys, ids hashed from names), so two renders of
the same stack are byte-identical and a diff of `build/` is a review of a change.
An unknown value reaching any recorded input or output is an error naming the
resource and property: a mock that misses an output must not become a silent None.
"""

from __future__ import annotations

import json
import os
import shutil
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
import yaml
from google.protobuf import json_format
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime import rpc
from pulumi.runtime.config import set_all_config
from pulumi.runtime.proto import resource_pb2
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

from infra.config import ConfigError
from infra.mocks import SlipwayMocks
from infra.stackfile import StackFile, load_stack_file

SECRET = "[secret]"
PROJECT = "slipway"
# The project root (stacks/ and build/ live here). SLIPWAY_ROOT points the CLI at
# another checkout's stacks, e.g. a fixture tree in tests.
ROOT = Path(os.environ.get("SLIPWAY_ROOT") or Path(__file__).resolve().parent.parent).resolve()


class RenderError(Exception):
    """The render could not produce an honest picture (e.g. unknown values leaked)."""


@dataclass
class Recorded:
    """One registration as the engine would have received it."""

    urn: str
    type: str
    name: str
    parent: str
    custom: bool
    remote: bool
    dependencies: list[str]
    inputs: Any
    state: Any = None
    options: dict[str, Any] = field(default_factory=dict)
    outputs: Any = None
    id: str = ""
    """The physical id the mocks gave it (as AWS would)."""


def _clean(value: Any, where: str, unknowns: list[str]) -> Any:
    """Turn a protobuf-JSON value into plain JSON: secrets masked, references as URNs.

    Unknown values are collected in `unknowns` (with their path) rather than kept.
    """
    if isinstance(value, dict):
        sig = value.get(rpc._special_sig_key)
        if sig == rpc._special_secret_sig:
            inner = value.get("value")
            _clean(inner, where, unknowns)  # still detect unknowns behind the mask
            return SECRET
        if sig == rpc._special_resource_sig:
            return {"$ref": value.get("urn")}
        if sig == rpc._special_output_value_sig:
            if value.get("secret"):
                return SECRET
            if "value" not in value:
                unknowns.append(where)
                return None
            return _clean(value["value"], where, unknowns)
        if sig in (rpc._special_asset_sig, rpc._special_archive_sig):
            return {k: v for k, v in value.items() if k != rpc._special_sig_key}
        return {k: _clean(v, f"{where}.{k}", unknowns) for k, v in sorted(value.items())}
    if isinstance(value, list):
        return [_clean(v, f"{where}[{i}]", unknowns) for i, v in enumerate(value)]
    if value == rpc.UNKNOWN:
        unknowns.append(where)
        return None
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _reveal(value: Any) -> Any:
    """Protobuf-JSON with secrets unwrapped (for the documents we lint, never written as-is)."""
    if isinstance(value, dict):
        sig = value.get(rpc._special_sig_key)
        if sig == rpc._special_secret_sig:
            return _reveal(value.get("value"))
        if sig == rpc._special_resource_sig:
            return {"$ref": value.get("urn")}
        return {k: _reveal(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_reveal(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _proto_json(struct) -> Any:
    return json_format.MessageToDict(struct) if struct is not None else {}


class RecordingMonitor(pulumi_mocks.MockMonitor):
    """A mock monitor that also keeps what a real engine would see."""

    def __init__(self, mocks: pulumi.runtime.Mocks):
        super().__init__(mocks)
        self.records: dict[str, Recorded] = {}
        self.outputs: dict[str, Any] = {}
        self.unknowns: list[str] = []

    def RegisterResource(self, request):  # noqa: N802 - gRPC method name
        # Reimplements MockMonitor.RegisterResource with plain-JSON inputs: the SDK's
        # version rebuilds resource references as Resource objects on the executor
        # thread's event loop, which races with the program's loop ("attached to a
        # different loop"). Mocks get references as {"$ref": urn} instead.
        urn = self.make_urn(request.parent, request.type, request.name)
        if request.type == "pulumi:pulumi:Stack":
            return resource_pb2.RegisterResourceResponse(urn=urn)
        raw = json_format.MessageToDict(request.object)
        args = pulumi_mocks.MockResourceArgs(
            typ=request.type,
            name=request.name,
            inputs=_reveal(raw),
            provider=request.provider,
            resource_id=request.importId,
            custom=request.custom or False,
        )
        id_, state = self.mocks.new_resource(args)
        state = {k: v for k, v in state.items() if not (isinstance(v, dict) and "$ref" in v)}
        # A secret input stays secret in the state the program sees (as the engine does).
        for key, value in raw.items():
            if key in state and isinstance(value, dict) and value.get(rpc._special_sig_key) == rpc._special_secret_sig:
                state[key] = {rpc._special_sig_key: rpc._special_secret_sig, "value": state[key]}
        self.resources[urn] = pulumi_mocks.MockMonitor.ResourceRegistration(urn, id_, state)
        response = resource_pb2.RegisterResourceResponse(
            urn=urn, id=id_, object=_sync_await(rpc.serialize_properties(state, {}))
        )
        self.records[urn] = Recorded(
            urn=urn,
            id=id_,
            type=request.type,
            name=request.name,
            parent=request.parent,
            custom=request.custom,
            remote=request.remote,
            dependencies=sorted(set(request.dependencies)),
            inputs=_clean(raw, f"{urn} input", self.unknowns),
            state=_clean(_proto_json(response.object), f"{urn} state", []),
            options={
                k: v
                for k, v in {
                    "protect": request.protect,
                    "retainOnDelete": request.retainOnDelete,
                    "deleteBeforeReplace": request.deleteBeforeReplace,
                    "ignoreChanges": sorted(request.ignoreChanges),
                    "provider": request.provider.split("::")[-2] if request.provider else "",
                }.items()
                if v
            },
        )
        self.records[urn].revealed = _reveal(raw)  # type: ignore[attr-defined]
        return response

    def RegisterResourceOutputs(self, request):  # noqa: N802 - gRPC method name
        raw = json_format.MessageToDict(request.outputs) if request.outputs else {}
        if request.urn.split("::")[2] == "pulumi:pulumi:Stack":
            self.outputs = _clean(raw, "stack output", self.unknowns)
        elif request.urn in self.records:
            self.records[request.urn].outputs = _clean(raw, f"{request.urn} output", self.unknowns)
        return super().RegisterResourceOutputs(request)


@dataclass
class RenderResult:
    stack: str
    out_dir: Path
    records: list[Recorded]
    outputs: dict[str, Any]
    files: list[Path]

    def by_type(self, type_: str) -> list[Recorded]:
        return [r for r in self.records if r.type == type_]


async def _stack_outputs(unknowns: list[str]) -> dict[str, Any]:
    """The values of `pulumi.export(...)`, secrets masked, unknowns reported.

    Under mocks the root Stack never registers its outputs, so read them from it.
    """
    root = pulumi.runtime.settings.get_root_resource()
    exported = dict(getattr(root, "outputs", {}) or {})
    result: dict[str, Any] = {}
    for key in sorted(exported):
        out = pulumi.Output.from_input(exported[key])
        value, known, secret = (
            await out.future(with_unknowns=True),
            await out.is_known(),
            await out.is_secret(),
        )
        if not known or _has_unknown(value):
            unknowns.append(f"stack output {key!r}")
            value = None
        result[key] = SECRET if secret else _plain(value)
    return result


def _has_unknown(value: Any) -> bool:
    from pulumi.output import Unknown

    if isinstance(value, Unknown):
        return True
    if isinstance(value, dict):
        return any(_has_unknown(v) for v in value.values())
    if isinstance(value, list | tuple):
        return any(_has_unknown(v) for v in value)
    return False


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in sorted(value.items())}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def run_program(stack: StackFile, program=None) -> RecordingMonitor:
    """Run the slipway program for `stack` under the recording mock monitor (as a preview)."""
    from infra import program as default_program

    program = program or default_program.main
    monitor = RecordingMonitor(SlipwayMocks(region=stack.region))
    pulumi.runtime.settings.SETTINGS.rpc_manager.clear()
    pulumi.runtime.settings.SETTINGS.outputs.clear()
    pulumi.runtime.settings.ROOT.set(None)  # a fresh root Stack per run (several stacks in one process)
    pulumi_mocks.set_mocks(monitor.mocks, project=PROJECT, stack=stack.name, preview=True, monitor=monitor)
    set_all_config(stack.pulumi_config(), stack.secret_keys)
    _sync_await(run_pulumi_func(program))
    monitor.outputs = _sync_await(_stack_outputs(monitor.unknowns))
    if monitor.unknowns:
        listed = "\n".join(f"  - {u}" for u in sorted(set(monitor.unknowns))[:20])
        raise RenderError(
            f"{len(set(monitor.unknowns))} unknown value(s) would be written by the render (a mock returns no "
            f"value for them; add it to infra/mocks.py):\n{listed}"
        )
    return monitor


# ---------------------------------------------------------------------------- writers


def _dump_json(path: Path, data: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
    return path


def _dump_yaml(path: Path, data: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(data, sort_keys=True, default_flow_style=False, width=120))
    return path


def _short(urn: str) -> str:
    return urn.split("::")[-1]


def _component_of(rec: Recorded, by_urn: dict[str, Recorded]) -> str:
    """The top-level component a resource belongs to (its ancestor under the stack)."""
    cur = rec
    while cur.parent and cur.parent in by_urn:
        cur = by_urn[cur.parent]
    return cur.name if not cur.custom or cur is not rec else "(stack)"


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


def kubernetes_objects(records: list[Recorded]) -> dict[str, dict[str, Any]]:
    """Every Kubernetes object and Helm release: {relative path: manifest}."""
    objs: dict[str, dict[str, Any]] = {}
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


def write_render(stack: StackFile, monitor: RecordingMonitor, out_dir: Path) -> RenderResult:
    """Write every file of the render for `stack` into `out_dir` (replacing what was there)."""
    if out_dir.exists():
        shutil.rmtree(out_dir)
    records = sorted(monitor.records.values(), key=lambda r: r.urn)
    files: list[Path] = []
    files.append(
        _dump_json(
            out_dir / "resources.json",
            [
                {
                    "urn": r.urn,
                    "type": r.type,
                    "name": r.name,
                    "parent": r.parent,
                    "custom": r.custom,
                    **({"remote": True} if r.remote else {}),
                    "dependencies": r.dependencies,
                    "options": r.options,
                    "inputs": r.inputs,
                    **({"outputs": r.outputs} if r.outputs else {}),
                }
                for r in records
            ],
        )
    )
    files.append(_dump_json(out_dir / "outputs.json", monitor.outputs))
    for rel, manifest in sorted(kubernetes_objects(records).items()):
        files.append(_dump_yaml(out_dir / rel, manifest))
    for rel, doc in sorted(iam_documents(records).items()):
        files.append(_dump_json(out_dir / rel, doc["document"]))
    (out_dir / "components.mmd").write_text(mermaid(records))
    files.append(out_dir / "components.mmd")
    files.append(_dump_json(out_dir / "summary.json", summary(records)))
    return RenderResult(stack.name, out_dir, records, monitor.outputs, sorted(files))


def render_stack(name: str, out_dir: Path | None = None, root: Path = ROOT) -> RenderResult:
    """Validate, run and write one stack. Raises ConfigError (exit 2) or RenderError."""
    stack = load_stack_file(name, root)
    stack.validate()  # config errors stop here, before any resource is registered
    monitor = run_program(stack)
    return write_render(stack, monitor, out_dir or root / "build" / name)


__all__ = ["ConfigError", "RenderError", "RenderResult", "render_stack", "run_program", "write_render"]
