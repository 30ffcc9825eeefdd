"""What the SDK's MockMonitor lacks for slipway's components, given to it once.

`pulumi.runtime.set_mocks(mocks)` answers the program through
`pulumi.runtime.mocks.MockMonitor` (pulumi 3.272). Two things in it stop a slipway
component:

1. **No `Call`.** A resource method such as pulumi-eks's `Cluster.get_kubeconfig()` is
   sent to the monitor as `Call` (token `eks:index:Cluster/getKubeconfig`, the cluster as
   the `__self__` argument); MockMonitor implements `Invoke` only, so the program fails
   with `'MockMonitor' object has no attribute 'Call'`.
2. **Resource references rebuilt on the wrong event loop.** Its `RegisterResource`
   deserializes an input that refers to a resource (a ManagedNodeGroup's `cluster`) by
   constructing that resource again with `ResourceOptions(urn=...)`, on the executor
   thread's loop; the program's loop then awaits that lookup and fails ("got Future ...
   attached to a different loop").

`install()` (called by `SlipwayMocks()`) patches the class, once:

- it adds a `Call` only if MockMonitor has none (an SDK that grows its own keeps it). The
  call goes to `mocks.call` like an invoke, with `__self__` given as
  `{"urn", "id", "inputs"}` of the registered resource, so mocks can answer from its inputs;
- for mocks that ask for it (`record_registrations = True`, as `SlipwayMocks` does), it
  answers `RegisterResource` and `RegisterResourceOutputs` as `RecordingMonitor` does:
  references reach the mocks as `{"$ref": urn}`, and every registration is recorded on the
  monitor (`recording_of(monitor)`), so `Template.from_monitor()` works after plain
  `set_mocks` too. Any other mocks keep the SDK's behaviour untouched.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from pulumi.runtime import mocks as pulumi_mocks

from slipway.testing.monitor import Recording, answer_call, record_outputs, recorded_inputs, register_resource

_MARK = "__slipway_shim__"
_lock = threading.Lock()

Handler = Callable[[pulumi_mocks.MockMonitor, Any], Any]


def _records_for(monitor: pulumi_mocks.MockMonitor) -> bool:
    return bool(getattr(monitor.mocks, "record_registrations", False))


def recording_of(monitor: pulumi_mocks.MockMonitor) -> Recording | None:
    """The registrations recorded on `monitor` (a RecordingMonitor, or the SDK's MockMonitor
    answering for mocks with `record_registrations`), or None if it records nothing."""
    recording = getattr(monitor, "recording", None)
    if isinstance(recording, Recording):
        return recording
    if not _records_for(monitor):
        return None
    with _lock:  # created once per monitor, whichever registration thread comes first
        recording = monitor.__dict__.get("recording")
        if recording is None:
            # One monitor may serve several `@pulumi.runtime.test` runs that reuse names:
            # the later registration replaces the earlier, as in the SDK's own `resources`.
            recording = monitor.__dict__["recording"] = Recording(refuse_duplicates=False)
        return recording


def _call(self: pulumi_mocks.MockMonitor, request: Any) -> Any:
    recording = recording_of(self)
    if recording is None:
        # Other Mocks in the same process see the SDK as it is (no Call): installing
        # SlipwayMocks once must not change how a user's own mocks behave, whatever the
        # order tests run in.
        raise AttributeError("'MockMonitor' object has no attribute 'Call'")
    return answer_call(self, request, recorded_inputs(recording))


def _recording_register(original: Handler) -> Handler:
    def register(self: pulumi_mocks.MockMonitor, request: Any) -> Any:
        recording = recording_of(self)
        if recording is None:
            return original(self, request)
        return register_resource(self, recording, request)

    return register


def _recording_register_outputs(original: Handler) -> Handler:
    def register_outputs(self: pulumi_mocks.MockMonitor, request: Any) -> Any:
        recording = recording_of(self)
        if recording is not None:
            record_outputs(recording, request)
        return original(self, request)

    return register_outputs


def install() -> None:
    """Patch `pulumi.runtime.mocks.MockMonitor` once (idempotent); see the module docstring."""
    monitor = pulumi_mocks.MockMonitor
    with _lock:
        if getattr(monitor, _MARK, False):
            return
        if not hasattr(monitor, "Call"):
            monitor.Call = _call  # type: ignore[attr-defined]
        monitor.RegisterResource = _recording_register(monitor.RegisterResource)  # type: ignore[method-assign]
        outputs: Handler = monitor.RegisterResourceOutputs  # pyright: ignore[reportUnknownMemberType, reportUnknownVariableType]
        monitor.RegisterResourceOutputs = _recording_register_outputs(outputs)  # type: ignore[method-assign]
        setattr(monitor, _MARK, True)
