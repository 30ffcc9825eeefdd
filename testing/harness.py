"""Run component code under slipway's mocks, as a preview, and fail on unknown values.

    from slipway.testing import mocked, require_known

    def test_cluster():
        with mocked() as m:
            def program():
                c = EksCluster("c", EksClusterArgs(...))
                return require_known(c.kubeconfig, c.oidc_provider_arn)
            m.build(program)
            m.template.has_resource_properties("eks:index:Cluster", {"name": "demo"})

or, as a pytest fixture:

    @pytest.fixture
    def m():
        with mocked() as recorded:
            yield recorded

Why a preview and why it fails: under mocks an output the mocks do not return is None in an
update but *unknown* in a preview, and code in `.apply` never runs on an unknown — so a test
of such a value passes while checking nothing (pulumi/pulumi#4518). `mocked()` runs as a
preview and, on leaving, fails if an unknown value reached any resource's inputs (or if two
resources shared a URN, which the engine refuses); `require_known(...)` fails the run if an
output you return is unknown.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Generator, Iterable, Mapping
from contextlib import contextmanager
from typing import Any

import pulumi
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime.config import set_all_config

from slipway.testing.mocks import SlipwayMocks
from slipway.testing.monitor import Recorded, RecordingMonitor
from slipway.testing.template import Template


class Mocked:
    """A recording monitor installed as the Pulumi runtime's, with queries over its records."""

    def __init__(self, monitor: RecordingMonitor):
        """Wrap `monitor` (already installed with `set_mocks`, as `mocked()` does)."""
        self.monitor = monitor

    @property
    def template(self) -> Template:
        """A `Template` over everything registered so far (read it after `build`)."""
        return Template(self.monitor.records.values())

    @property
    def records(self) -> list[Recorded]:
        """Every registration so far, sorted by URN."""
        return self.template.records

    def of_type(self, type_: str) -> list[Recorded]:
        """The registrations of one type token, sorted by URN."""
        return self.template.find(type_)

    def one(self, type_: str, name: str) -> Recorded:
        """The one registration of `type_` named `name` (AssertionError otherwise)."""
        return self.template.one(type_, name)

    def count(self, type_: str) -> int:
        """How many resources of `type_` were registered."""
        return len(self.of_type(type_))

    def build(self, fn: Callable[[], Any]) -> None:
        """Run `fn` (which registers resources) as a Pulumi program and wait for everything.

        Return an Output or awaitable from `fn` (e.g. `require_known(...)`) to wait for it too.
        """

        @pulumi.runtime.test  # pyright: ignore[reportUnknownMemberType] - the SDK leaves it untyped
        def program() -> Any:
            return fn()

        program()

    def problems(self) -> list[str]:
        """What makes this run dishonest: unknown values in inputs, duplicate URNs."""
        found = list(self.monitor.errors)
        if self.monitor.unknowns:
            found.append(f"unknown values reached resource inputs: {sorted(set(self.monitor.unknowns))}")
        return found

    def check(self) -> None:
        """Fail (AssertionError) if `problems()` found any."""
        found = self.problems()
        assert not found, "\n".join(found)


@contextmanager
def mocked(
    *,
    config: Mapping[str, str] | None = None,
    secret_keys: Iterable[str] = (),
    mocks: pulumi.runtime.Mocks | None = None,
    region: str = "us-east-1",
    project: str = "slipway",
    stack: str = "test",
    preview: bool = True,
) -> Generator[Mocked]:
    """Install slipway's mocks behind a recording monitor for the body of a `with` (a test).

    `config` is the stack config (`{"slipway:cluster": "..."}`, values as strings),
    `secret_keys` the keys among them that are secret; `mocks` defaults to
    `SlipwayMocks(region=region)`. On a normal exit it fails (AssertionError) if an unknown
    value reached a resource input or two resources shared a URN — `preview=False` turns the
    first check off in effect, as unknowns then come back as None (the silent pass).
    """
    monitor = RecordingMonitor(mocks or SlipwayMocks(region=region))
    pulumi.runtime.settings.ROOT.set(None)  # a fresh root Stack for this run
    pulumi_mocks.set_mocks(monitor.mocks, project=project, stack=stack, preview=preview, monitor=monitor)
    set_all_config(dict(config or {}), list(secret_keys))
    run = Mocked(monitor)
    try:
        yield run
        run.check()
    finally:
        # Nothing leaks into the next test: its config and root Stack start empty.
        set_all_config({}, [])
        pulumi.runtime.settings.ROOT.set(None)


def require_known(*outputs: pulumi.Output[Any]) -> asyncio.Future[None]:
    """An awaitable that fails if any of `outputs` is unknown (return it from a build function)."""

    async def check() -> None:
        unknown = [i for i, out in enumerate(outputs) if not await out.is_known()]
        assert not unknown, (
            f"require_known: output(s) {unknown} (0-based) of {len(outputs)} are unknown under mocks — the mocks "
            "return no value for them, so code applied to them never ran"
        )

    return asyncio.ensure_future(check())
