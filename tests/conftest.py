"""Shared test fixtures: the same mocks and recorder as the offline render.

Component tests build resources inside a `@pulumi.runtime.test` function run as a
*preview*, so any output the mocks forget stays unknown, and the `mocked` fixture
fails the test if an unknown value reached any resource input (the silent-pass
trap of pulumi/pulumi#4518). Assertions read the recorded registrations afterwards,
when every RPC has completed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pulumi
import pytest
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime.config import set_all_config

from slipway.cli.render import Recorded, RecordingMonitor
from slipway.testing.mocks import SlipwayMocks


class Mocked:
    """A recording monitor plus query helpers in the style of aws-cdk's Template."""

    def __init__(self, monitor: RecordingMonitor):
        self.monitor = monitor

    @property
    def records(self) -> list[Recorded]:
        return sorted(self.monitor.records.values(), key=lambda r: r.urn)

    def of_type(self, type_: str) -> list[Recorded]:
        return [r for r in self.records if r.type == type_]

    def one(self, type_: str, name: str) -> Recorded:
        found = [r for r in self.of_type(type_) if r.name == name]
        assert len(found) == 1, f"expected one {type_} named {name!r}, found {[r.name for r in self.of_type(type_)]}"
        return found[0]

    def count(self, type_: str) -> int:
        return len(self.of_type(type_))

    def build(self, fn: Callable[[], Any]) -> None:
        """Run `fn` (which registers resources) as a Pulumi program and wait for everything."""

        @pulumi.runtime.test
        def program():
            return fn()

        program()


def require_known(*outputs: pulumi.Output) -> asyncio.Future:
    """An awaitable that fails if any output is unknown (return it from a build function)."""

    async def check() -> None:
        for out in outputs:
            assert await out.is_known(), f"an output is unknown under mocks: {out!r}"

    return asyncio.ensure_future(check())


def setup_mocks(config: dict[str, str] | None = None, stack: str = "test", region: str = "us-east-1") -> Mocked:
    monitor = RecordingMonitor(SlipwayMocks(region=region))
    pulumi.runtime.settings.ROOT.set(None)
    pulumi_mocks.set_mocks(monitor.mocks, project="slipway", stack=stack, preview=True, monitor=monitor)
    set_all_config(config or {}, [])
    return Mocked(monitor)


@pytest.fixture
def mocked() -> Mocked:
    """Mocks for one test; fails it if an unknown value reached a resource input."""
    m = setup_mocks()
    yield m
    assert not m.monitor.unknowns, f"unknown values reached resource inputs: {sorted(set(m.monitor.unknowns))}"


@pytest.fixture(scope="session")
def dev(tmp_path_factory):
    """The shipped dev stack, rendered once for the whole session (read-only for tests)."""
    from slipway.cli.render import render_stack

    return render_stack("dev", tmp_path_factory.mktemp("session") / "dev")


@pytest.fixture(scope="session")
def prod(tmp_path_factory):
    """The shipped prod stack, rendered once for the whole session (read-only for tests)."""
    from slipway.cli.render import render_stack

    return render_stack("prod", tmp_path_factory.mktemp("session") / "prod")


def stack_version(stack: str) -> str:
    """The Kubernetes version a shipped stack pins (manifests are validated against it)."""
    from slipway.cli.render import ROOT
    from slipway.program.stackfile import load_stack_file

    return load_stack_file(stack, ROOT).parse().cluster.version


def shipped_stacks() -> list[str]:
    """The stacks in stacks/Pulumi.<stack>.yaml."""
    from slipway.cli.render import ROOT
    from slipway.program.stackfile import stack_names

    return stack_names(ROOT)


def check_settings(stack: str) -> tuple[str, dict[str, dict]]:
    """What `slipway check <stack>` derives from the stack file (infra/cli.py `check`): the
    Kubernetes version to validate manifests against and the policy pack's configuration."""
    from slipway.cli.render import ROOT
    from slipway.policies.rules import stack_policy_config
    from slipway.program.config import LENIENT_IMAGES
    from slipway.program.stackfile import load_stack_file

    token = LENIENT_IMAGES.set(True)
    try:
        cfg = load_stack_file(stack, ROOT).parse()
    finally:
        LENIENT_IMAGES.reset(token)
    return cfg.cluster.version, stack_policy_config(cfg.environment, cfg.cluster.prefix_delegation)
