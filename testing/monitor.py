"""The recording mock monitor: what a real engine would have received, kept.

`RecordingMonitor` answers registrations through the mocks (infra/mocks.py) and
records each one (type, name, parent, dependencies, inputs, options) with secrets
masked and unknown values reported; it also answers resource method calls, which
the SDK's MockMonitor does not implement.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

import pulumi
from google.protobuf import json_format
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime import rpc
from pulumi.runtime.proto import provider_pb2, resource_pb2
from pulumi.runtime.sync_await import _sync_await

SECRET = "[secret]"


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
    revealed: Any = field(default_factory=dict, repr=False, compare=False)
    """The inputs with secrets unwrapped, as the mocks received them (never written)."""


def _mask(value: Any) -> Any:
    """A secret with its shape kept: mapping keys and list lengths stay, every leaf is masked
    (a Secret's `stringData` keeps its keys, so the manifest still validates)."""
    if isinstance(value, dict) and rpc._special_sig_key not in value:
        return {k: _mask(v) for k, v in sorted(value.items())}
    if isinstance(value, list):
        return [_mask(v) for v in value]
    return SECRET


def _clean(value: Any, where: str, unknowns: list[str]) -> Any:
    """Turn a protobuf-JSON value into plain JSON: secrets masked, references as URNs.

    Unknown values are collected in `unknowns` (with their path) rather than kept.
    """
    if isinstance(value, dict):
        sig = value.get(rpc._special_sig_key)
        if sig == rpc._special_secret_sig:
            inner = value.get("value")
            _clean(inner, where, unknowns)  # still detect unknowns behind the mask
            return _mask(inner)
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


def _has_ref(value: Any) -> bool:
    if isinstance(value, dict):
        return "$ref" in value or any(_has_ref(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_ref(v) for v in value)
    return False


def _reveal_record(rec: Recorded | None) -> dict:
    return rec.revealed if rec is not None else {}


def _named_aliases(request) -> list[Any]:
    specs = (json_format.MessageToDict(a).get("spec") or {} for a in request.aliases)
    return [spec for spec in specs if "name" in spec] + list(request.aliasURNs)


def _proto_json(struct) -> Any:
    return json_format.MessageToDict(struct) if struct is not None else {}


class RecordingMonitor(pulumi_mocks.MockMonitor):
    """A mock monitor that also keeps what a real engine would see."""

    def __init__(self, mocks: pulumi.runtime.Mocks):
        super().__init__(mocks)
        self.records: dict[str, Recorded] = {}
        self.outputs: dict[str, Any] = {}
        self.unknowns: list[str] = []
        self.errors: list[str] = []
        self._seen: set[str] = set()
        self._lock = threading.Lock()
        """Problems found while recording; raised by the caller after the run (an
        exception raised on the monitor's executor thread is not reliably surfaced)."""

    def RegisterResource(self, request):  # noqa: N802 - gRPC method name
        # Reimplements MockMonitor.RegisterResource with plain-JSON inputs: the SDK's
        # version rebuilds resource references as Resource objects on the executor
        # thread's event loop, which races with the program's loop ("attached to a
        # different loop"). Mocks get references as {"$ref": urn} instead.
        urn = self.make_urn(request.parent, request.type, request.name)
        if request.type == "pulumi:pulumi:Stack":
            return resource_pb2.RegisterResourceResponse(urn=urn)
        with self._lock:  # registrations arrive concurrently from the SDK's executor threads
            duplicate = urn in self._seen
            self._seen.add(urn)
        if duplicate:
            # The engine refuses a second resource with the same URN; so does the render.
            self.errors.append(f"duplicate resource URN {urn}: two resources of this type share the name "
                              f"{request.name!r} (name children after a unique key)")  # fmt: skip
            return resource_pb2.RegisterResourceResponse(urn=urn)
        raw = json_format.MessageToDict(request.object)
        revealed = _reveal(raw)
        args = pulumi_mocks.MockResourceArgs(
            typ=request.type,
            name=request.name,
            inputs=revealed,
            provider=request.provider,
            resource_id=request.importId,
            custom=request.custom or False,
        )
        id_, state = self.mocks.new_resource(args)
        # Resource references are not echoed back (the program would need the
        # Resource objects); a real provider's outputs for them come from the engine.
        state = {k: v for k, v in state.items() if not _has_ref(v)}
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
                    # What an existing stack's state is adopted from (no create, no delete): the
                    # program's own aliases (the SDK's type-only ones for old API versions left out).
                    "aliases": _named_aliases(request),
                    "provider": request.provider.split("::")[-2] if request.provider else "",
                }.items()
                if v
            },
            revealed=revealed,
        )
        return response

    def Call(self, request):  # noqa: N802 - gRPC method name
        # The SDK's MockMonitor has no Call: resource methods (pulumi-eks's
        # Cluster.getKubeconfig) would fail under mocks. `__self__` is given to the
        # mocks as the recorded registration, so they can answer from its inputs.
        args = _reveal(json_format.MessageToDict(request.args))
        this = args.get("__self__")
        if isinstance(this, dict) and "$ref" in this:
            rec = self.records.get(this["$ref"])
            args["__self__"] = {"urn": this["$ref"], "inputs": _reveal_record(rec)}
        result = self.mocks.call(pulumi_mocks.MockCallArgs(token=request.tok, args=args, provider=request.provider))
        ret, failures = (result, None) if isinstance(result, dict) else result
        fields = {"return": _sync_await(rpc.serialize_properties(ret, {}))}
        if failures:
            fields["failures"] = [provider_pb2.CheckFailure(property=f[0], reason=f[1]) for f in failures]
        return provider_pb2.CallResponse(**fields)

    def RegisterResourceOutputs(self, request):  # noqa: N802 - gRPC method name
        # The root Stack is never recorded (see RegisterResource), and under mocks it registers
        # its outputs, empty, as soon as it is created: `run_program` reads them from it instead.
        if request.urn in self.records:
            raw = json_format.MessageToDict(request.outputs) if request.outputs else {}
            self.records[request.urn].outputs = _clean(raw, f"{request.urn} output", self.unknowns)
        return super().RegisterResourceOutputs(request)
