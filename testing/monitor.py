"""The recording mock monitor: what a real engine would have received, kept.

`RecordingMonitor` answers registrations through the mocks (`slipway.testing.mocks`) and
records each one (type, name, parent, dependencies, inputs, options) with secrets masked
and unknown values reported; it also answers resource method calls, which the SDK's
MockMonitor does not implement. The same recording and call answering serve the SDK's own
MockMonitor when `SlipwayMocks` is installed with plain `pulumi.runtime.set_mocks`
(`slipway.testing.shim`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, cast

import pulumi
from google.protobuf import empty_pb2, json_format
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime import rpc
from pulumi.runtime.proto import provider_pb2, resource_pb2
from pulumi.runtime.sync_await import _sync_await  # pyright: ignore[reportPrivateUsage]

SECRET = "[secret]"

# The SDK's markers for special values in protobuf-JSON (secrets, resource references, ...).
_SIG: str = rpc._special_sig_key  # pyright: ignore[reportPrivateUsage]
_SECRET_SIG: str = rpc._special_secret_sig  # pyright: ignore[reportPrivateUsage]
_RESOURCE_SIG: str = rpc._special_resource_sig  # pyright: ignore[reportPrivateUsage]
_OUTPUT_SIG: str = rpc._special_output_value_sig  # pyright: ignore[reportPrivateUsage]
_ASSET_SIGS: tuple[str, str] = (rpc._special_asset_sig, rpc._special_archive_sig)  # pyright: ignore[reportPrivateUsage]


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
    options: dict[str, Any] = field(default_factory=dict[str, Any])
    outputs: Any = None
    id: str = ""
    """The physical id the mocks gave it (as AWS would)."""
    revealed: Any = field(default_factory=dict[str, Any], repr=False, compare=False)
    """The inputs with secrets unwrapped, as the mocks received them (never written)."""


@dataclass
class Recording:
    """Everything one program run registered: the records, and what went wrong on the way.

    Problems are collected rather than raised: an exception raised on the monitor's executor
    thread is not reliably surfaced, so the caller checks them after the run.
    """

    refuse_duplicates: bool = True
    """A second registration of one URN is an error (as in a real deployment). Off for the plain
    MockMonitor, where one monitor may serve several `@pulumi.runtime.test` runs: the last wins."""
    records: dict[str, Recorded] = field(default_factory=dict[str, Recorded])
    unknowns: list[str] = field(default_factory=list[str])
    """Where an unknown value reached a recorded input or output (`<urn> input.<path>`)."""
    errors: list[str] = field(default_factory=list[str])
    seen: set[str] = field(default_factory=set[str], repr=False)
    """Every URN registered (a duplicate is only recorded once)."""
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    """Registrations arrive concurrently from the SDK's executor threads."""


def _mask(value: Any) -> Any:
    """A secret with its shape kept: mapping keys and list lengths stay, every leaf is masked
    (a Secret's `stringData` keeps its keys, so the manifest still validates)."""
    if isinstance(value, dict) and _SIG not in value:
        return {k: _mask(v) for k, v in sorted(value.items())}  # pyright: ignore[reportUnknownVariableType, reportUnknownArgumentType]
    if isinstance(value, list):
        return [_mask(v) for v in value]  # pyright: ignore[reportUnknownVariableType]
    return SECRET


def _clean(value: Any, where: str, unknowns: list[str]) -> Any:
    """Turn a protobuf-JSON value into plain JSON: secrets masked, references as URNs.

    Unknown values are collected in `unknowns` (with their path) rather than kept.
    """
    if isinstance(value, dict):
        mapping: dict[str, Any] = value  # pyright: ignore[reportUnknownVariableType]
        sig = mapping.get(_SIG)
        if sig == _SECRET_SIG:
            inner = mapping.get("value")
            _clean(inner, where, unknowns)  # still detect unknowns behind the mask
            return _mask(inner)
        if sig == _RESOURCE_SIG:
            return {"$ref": mapping.get("urn")}
        if sig == _OUTPUT_SIG:
            if mapping.get("secret"):
                return SECRET
            if "value" not in mapping:
                unknowns.append(where)
                return None
            return _clean(mapping["value"], where, unknowns)
        if sig in _ASSET_SIGS:
            return {k: v for k, v in mapping.items() if k != _SIG}
        return {k: _clean(v, f"{where}.{k}", unknowns) for k, v in sorted(mapping.items())}
    if isinstance(value, list):
        return [_clean(v, f"{where}[{i}]", unknowns) for i, v in enumerate(value)]  # pyright: ignore[reportUnknownArgumentType, reportUnknownVariableType]
    if value == rpc.UNKNOWN:
        unknowns.append(where)
        return None
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def reveal(value: Any) -> Any:
    """Protobuf-JSON with secrets unwrapped and references as `{"$ref": urn}`: what the mocks
    are given (for the documents we lint, never written as-is)."""
    if isinstance(value, dict):
        mapping: dict[str, Any] = value  # pyright: ignore[reportUnknownVariableType]
        sig = mapping.get(_SIG)
        if sig == _SECRET_SIG:
            return reveal(mapping.get("value"))
        if sig == _RESOURCE_SIG:
            return {"$ref": mapping.get("urn")}
        return {k: reveal(v) for k, v in mapping.items()}
    if isinstance(value, list):
        return [reveal(v) for v in value]  # pyright: ignore[reportUnknownVariableType]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _has_ref(value: Any) -> bool:
    if isinstance(value, dict):
        return "$ref" in value or any(_has_ref(v) for v in value.values())  # pyright: ignore[reportUnknownVariableType]
    if isinstance(value, list):
        return any(_has_ref(v) for v in value)  # pyright: ignore[reportUnknownVariableType]
    return False


def _named_aliases(request: Any) -> list[Any]:
    specs: list[dict[str, Any]] = [json_format.MessageToDict(a).get("spec") or {} for a in request.aliases]
    return [spec for spec in specs if "name" in spec] + list(request.aliasURNs)


def _proto_json(struct: Any) -> Any:
    return json_format.MessageToDict(struct) if struct is not None else {}


def register_resource(monitor: pulumi_mocks.MockMonitor, recording: Recording, request: Any) -> Any:
    """Answer a RegisterResource request through `monitor.mocks`, and record it in `recording`.

    Reimplements MockMonitor.RegisterResource with plain-JSON inputs: the SDK's version
    rebuilds resource references as Resource objects on the executor thread's event loop,
    which races with the program's loop ("attached to a different loop": pulumi-eks's
    ManagedNodeGroup, given its Cluster, fails this way). Mocks get references as
    {"$ref": urn} instead.
    """
    urn = monitor.make_urn(request.parent, request.type, request.name)
    if request.type == "pulumi:pulumi:Stack":
        return resource_pb2.RegisterResourceResponse(urn=urn)
    with recording.lock:
        duplicate = urn in recording.seen
        recording.seen.add(urn)
    if duplicate and recording.refuse_duplicates:
        # The engine refuses a second resource with the same URN; so does the render.
        recording.errors.append(f"duplicate resource URN {urn}: two resources of this type share the name "
                                f"{request.name!r} (name children after a unique key)")  # fmt: skip
        return resource_pb2.RegisterResourceResponse(urn=urn)
    raw: dict[str, Any] = json_format.MessageToDict(request.object)
    revealed = reveal(raw)
    args = pulumi_mocks.MockResourceArgs(
        typ=request.type,
        name=request.name,
        inputs=revealed,
        provider=request.provider,
        resource_id=request.importId,
        custom=request.custom or False,
    )
    answer = cast(Any, monitor.mocks.new_resource(args))  # pyright: ignore[reportUnknownMemberType] - bare dict in the SDK
    id_, answered = cast(tuple[str | None, dict[str, Any]], answer)
    # Resource references are not echoed back (the program would need the
    # Resource objects); a real provider's outputs for them come from the engine.
    state: dict[str, Any] = {k: v for k, v in answered.items() if not _has_ref(v)}
    # A secret input stays secret in the state the program sees (as the engine does).
    for key, value in raw.items():
        if key in state and isinstance(value, dict) and cast(dict[str, Any], value).get(_SIG) == _SECRET_SIG:
            state[key] = {_SIG: _SECRET_SIG, "value": state[key]}
    monitor.resources[urn] = pulumi_mocks.MockMonitor.ResourceRegistration(urn, id_, state)  # type: ignore[arg-type]
    response = resource_pb2.RegisterResourceResponse(
        urn=urn, id=id_ or "", object=_sync_await(rpc.serialize_properties(state, {}))
    )
    recording.records[urn] = Recorded(
        urn=urn,
        id=id_ or "",
        type=request.type,
        name=request.name,
        parent=request.parent,
        custom=request.custom,
        remote=request.remote,
        dependencies=sorted(set(request.dependencies)),
        inputs=_clean(raw, f"{urn} input", recording.unknowns),
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


def record_outputs(recording: Recording, request: Any) -> None:
    """Keep a component's registered outputs on its record (unknowns reported)."""
    # The root Stack is never recorded (see register_resource), and under mocks it registers
    # its outputs, empty, as soon as it is created: `run_program` reads them from it instead.
    if request.urn in recording.records:
        raw = json_format.MessageToDict(request.outputs) if request.outputs else {}
        recording.records[request.urn].outputs = _clean(raw, f"{request.urn} output", recording.unknowns)


def answer_call(monitor: pulumi_mocks.MockMonitor, request: Any, inputs_of: Callable[[str], dict[str, Any]]) -> Any:
    """Answer a resource method call (a `Call` request) through `monitor.mocks.call`.

    Resource methods (pulumi-eks's `Cluster.getKubeconfig`) are sent as `Call`, the resource
    itself as the `__self__` argument. The mocks are given `__self__` as
    `{"urn", "id", "inputs"}`, `inputs` being `inputs_of(urn)` (the registration's inputs),
    so they can answer from them (the cluster's name, its credentials...).
    """
    args: dict[str, Any] = reveal(json_format.MessageToDict(request.args))
    this = args.get("__self__")
    if isinstance(this, dict) and "$ref" in this:
        urn = str(cast(dict[str, Any], this)["$ref"])
        registered = monitor.resources.get(urn)
        args["__self__"] = {"urn": urn, "id": registered.id if registered else "", "inputs": inputs_of(urn)}
    call = pulumi_mocks.MockCallArgs(token=request.tok, args=args, provider=request.provider)
    result = cast(Any, monitor.mocks.call(call))  # pyright: ignore[reportUnknownMemberType] - a bare dict in the SDK
    ret, failures = cast(
        tuple[dict[str, Any], list[tuple[str, str]] | None], (result, None) if isinstance(result, dict) else result
    )
    fields: dict[str, Any] = {"return": _sync_await(rpc.serialize_properties(ret, {}))}
    if failures:
        fields["failures"] = [provider_pb2.CheckFailure(property=f[0], reason=f[1]) for f in failures]
    return provider_pb2.CallResponse(**fields)


def recorded_inputs(recording: Recording) -> Callable[[str], dict[str, Any]]:
    """URN → the inputs the mocks received for it (`{}` if none), as `answer_call` wants it."""

    def inputs_of(urn: str) -> dict[str, Any]:
        rec = recording.records.get(urn)
        return rec.revealed if rec is not None else {}

    return inputs_of


class RecordingMonitor(pulumi_mocks.MockMonitor):
    """A mock monitor that also keeps what a real engine would see."""

    def __init__(self, mocks: pulumi.runtime.Mocks):
        super().__init__(mocks)
        self.recording = Recording()
        self.records: dict[str, Recorded] = self.recording.records
        """Every registration, by URN."""
        self.unknowns: list[str] = self.recording.unknowns
        self.errors: list[str] = self.recording.errors
        """Problems found while recording (duplicate URNs); raised by the caller after the run."""
        self.outputs: dict[str, Any] = {}
        """The stack's outputs (filled in by the caller: under mocks the root Stack never sends them)."""
        self.warnings: list[str] = []
        """Warnings the program reported while it ran (filled in by the caller)."""

    def RegisterResource(self, request: Any) -> Any:  # noqa: N802 - gRPC method name
        """Answer through the mocks and record the registration."""
        return register_resource(self, self.recording, request)

    def Call(self, request: Any) -> Any:  # noqa: N802 - gRPC method name
        """Answer a resource method call (the SDK's MockMonitor has none)."""
        return answer_call(self, request, recorded_inputs(self.recording))

    def RegisterResourceOutputs(self, request: Any) -> Any:  # noqa: N802 - gRPC method name
        """Keep a component's outputs on its record."""
        record_outputs(self.recording, request)
        return empty_pb2.Empty()
