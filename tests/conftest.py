"""Shared test fixtures, from the testing kit users get (`slipway.testing`).

Component tests build resources inside `mocked.build(...)`, run as a *preview*, so any
output the mocks forget stays unknown, and the `mocked` fixture fails the test if an
unknown value reached any resource input (the silent-pass trap of pulumi/pulumi#4518).
Assertions read the recorded registrations afterwards (`mocked.template`), when every RPC
has completed. Test-only helpers live in tests/helpers.py.

Two caches keep the suite fast without changing what any test sees: every botocore session
of a test process shares one data loader (a new session, as moto and the CLI's commands
make one per call, otherwise re-reads its service models: ~0.1 s a client), and
kubernetes-validate reads each schema file once (it re-reads the ~1 MB `_definitions.json`
on every object). Both files are read-only package data, so a cached copy is the same data.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from pathlib import Path

import botocore.loaders
import botocore.session
import kubernetes_validate.utils
import pytest

from slipway.cli.render import RenderResult, render_stack
from slipway.testing import Mocked, require_known
from slipway.testing import mocked as mocked_run

from tests.helpers import check_settings, shipped_stacks, stack_version

# Imported from here by test files written before tests/helpers.py and the kit existed.
__all__ = ["Mocked", "check_settings", "require_known", "shipped_stacks", "stack_version"]

_loaders: dict[str | None, botocore.loaders.Loader] = {}


def _shared_loader(search_path_string: str | None = None) -> botocore.loaders.Loader:
    """One botocore data loader per data path for the whole process, as one long-lived session has."""
    loader = _loaders.get(search_path_string)
    if loader is None:
        loader = _loaders[search_path_string] = botocore.loaders.create_loader(search_path_string)
    else:  # each boto3 session appends boto3's data folder to its loader's path: keep it once
        loader.search_paths[:] = list(dict.fromkeys(loader.search_paths))
    return loader


botocore.session.create_loader = _shared_loader
kubernetes_validate.utils.schema_contents = functools.cache(kubernetes_validate.utils.schema_contents)


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
