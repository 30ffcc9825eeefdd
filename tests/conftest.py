"""Shared test fixtures, from the testing kit users get (`slipway.testing`).

Component tests build resources inside `mocked.build(...)`, run as a *preview*, so any
output the mocks forget stays unknown, and the `mocked` fixture fails the test if an
unknown value reached any resource input (the silent-pass trap of pulumi/pulumi#4518).
Assertions read the recorded registrations afterwards (`mocked.template`), when every RPC
has completed. Test-only helpers live in tests/helpers.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from slipway.cli.render import RenderResult, render_stack
from slipway.testing import Mocked, require_known
from slipway.testing import mocked as mocked_run

from tests.helpers import check_settings, shipped_stacks, stack_version

# Imported from here by test files written before tests/helpers.py and the kit existed.
__all__ = ["Mocked", "check_settings", "require_known", "shipped_stacks", "stack_version"]


@pytest.fixture
def mocked() -> Iterator[Mocked]:
    """Mocks for one test; fails it if an unknown value reached a resource input."""
    with mocked_run() as run:
        yield run


@pytest.fixture(scope="session")
def dev(tmp_path_factory: pytest.TempPathFactory) -> RenderResult:
    """The shipped dev stack, rendered once for the whole session (read-only for tests)."""
    return render_stack("dev", Path(tmp_path_factory.mktemp("session")) / "dev")


@pytest.fixture(scope="session")
def prod(tmp_path_factory: pytest.TempPathFactory) -> RenderResult:
    """The shipped prod stack, rendered once for the whole session (read-only for tests)."""
    return render_stack("prod", Path(tmp_path_factory.mktemp("session")) / "prod")
