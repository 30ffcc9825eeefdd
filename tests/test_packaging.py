"""The distribution ships what the source tree holds.

`[tool.setuptools]` in pyproject.toml lists every package explicitly and maps each
repository folder into the `slipway` namespace (package-dir). An editable install finds
any folder on disk, so a subpackage missing from that list only shows up in a built
wheel ("the wheel only worked as an editable install"). These tests read the
configuration and the tree, fast; `.ci/run` builds the real wheel and checks its files.
"""

from __future__ import annotations

import ast
import fnmatch
import importlib
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
SETUPTOOLS = PYPROJECT["tool"]["setuptools"]
PACKAGES: list[str] = SETUPTOOLS["packages"]
PACKAGE_DIR: dict[str, str] = SETUPTOOLS["package-dir"]
PACKAGE_DATA: dict[str, list[str]] = SETUPTOOLS.get("package-data", {})


def source_folder(package: str) -> Path:
    """The folder a dotted package name maps to through package-dir."""
    root = max((k for k in PACKAGE_DIR if package == k or package.startswith(k + ".")), key=len, default=None)
    assert root is not None, f"{package} is under no package-dir mapping"
    return ROOT / PACKAGE_DIR[root] / Path(*package[len(root) :].split(".")[1:])


def is_skipped(folder: Path) -> bool:
    """Not part of the source: caches, hidden folders and virtualenvs (policies/venv, made by pulumi-policy)."""
    return folder.name == "__pycache__" or folder.name.startswith(".") or (folder / "pyvenv.cfg").exists()


def source_tree() -> list[tuple[str, Path]]:
    """(dotted name, folder) of every folder under a mapped root, virtualenvs and caches excluded."""
    found: list[tuple[str, Path]] = []
    for package, rel in PACKAGE_DIR.items():
        stack = [(package, ROOT / rel)]
        while stack:
            name, folder = stack.pop()
            found.append((name, folder))
            stack.extend((f"{name}.{d.name}", d) for d in sorted(folder.iterdir()) if d.is_dir() and not is_skipped(d))
    return found


def owning_package(path: Path) -> str:
    """The listed package whose folder holds `path` most closely."""
    folders = {p: source_folder(p) for p in PACKAGES}
    owners = [p for p, f in folders.items() if path.is_relative_to(f)]
    assert owners, f"{path.relative_to(ROOT)} is in no listed package"
    return max(owners, key=lambda p: len(folders[p].parts))


def test_every_folder_maps_into_the_slipway_namespace():
    assert "slipway" not in PACKAGES, "slipway is a namespace package: list its portions, not slipway itself"
    for package, rel in PACKAGE_DIR.items():
        assert package.startswith("slipway."), f"package-dir maps {rel}/ to {package}, outside the slipway namespace"
        assert (ROOT / rel / "__init__.py").is_file(), f"package-dir maps {package} to {rel}/, which has no __init__.py"
        assert package in PACKAGES, f"{package} is mapped in package-dir but missing from packages"
    assert not list(ROOT.glob("*/slipway/__init__.py")), "a slipway/__init__.py would end the namespace package"


def test_every_folder_with_an_init_is_a_listed_package():
    missing = [
        f"{folder.relative_to(ROOT)}/ → {name}"
        for name, folder in source_tree()
        if (folder / "__init__.py").is_file() and name not in PACKAGES
    ]
    assert not missing, (
        "these folders are packages but missing from [tool.setuptools] packages in pyproject.toml, "
        f"so the wheel would not ship them (an editable install hides it): {missing}"
    )


def test_every_listed_package_is_a_folder_with_an_init():
    absent = [p for p in PACKAGES if not (source_folder(p) / "__init__.py").is_file()]
    assert not absent, f"pyproject.toml lists packages with no folder and __init__.py behind them: {absent}"


def test_no_python_module_sits_outside_a_package():
    loose = [
        str(folder.relative_to(ROOT))
        for _, folder in source_tree()
        if list(folder.glob("*.py")) and not (folder / "__init__.py").is_file()
    ]
    assert not loose, f"these folders hold modules but no __init__.py, so no wheel ships them; add one: {loose}"


def data_files() -> list[Path]:
    return [
        f
        for _, folder in source_tree()
        for f in sorted(folder.iterdir())
        if f.is_file() and f.suffix not in {".py", ".pyc"} and not f.name.startswith(".")
    ]


def is_declared(path: Path) -> bool:
    package = owning_package(path)
    rel = path.relative_to(source_folder(package)).as_posix()
    return any(fnmatch.fnmatch(rel, pattern) for pattern in PACKAGE_DATA.get(package, []))


def test_every_data_file_is_declared_package_data():
    undeclared = [str(f.relative_to(ROOT)) for f in data_files() if not is_declared(f)]
    assert not undeclared, (
        f"these files would be left out of the wheel; add them to [tool.setuptools.package-data]: {undeclared}"
    )


def test_every_package_data_pattern_matches_a_file():
    for package, patterns in PACKAGE_DATA.items():
        assert package in PACKAGES, f"package-data names {package}, which is not a listed package"
        for pattern in patterns:
            assert list(source_folder(package).glob(pattern)), f"package-data {package}: {pattern!r} matches nothing"


@pytest.mark.parametrize(
    "path",
    [
        "components/py.typed",
        "testing/py.typed",
        "components/data/instances.json",
        "components/data/aws-load-balancer-controller-v3.5.0-iam_policy.json",
        "components/data/crds/karpenter.sh_nodepools.yaml",
        "components/data/crds/karpenter.k8s.aws_ec2nodeclasses.yaml",
        "policies/PulumiPolicy.yaml",
        "policies/config/dev.json",
        "policies/config/staging.json",
        "policies/config/prod.json",
    ],
)
def test_the_data_the_code_reads_ships(path):
    assert (ROOT / path).is_file(), f"{path} is gone; update this test if it moved"
    assert is_declared(ROOT / path), f"{path} is not declared package data"


@pytest.mark.parametrize("script,target", sorted(PYPROJECT["project"]["scripts"].items()))
def test_console_script_target_exists(script, target):
    module, _, attr = target.partition(":")
    package = module.rpartition(".")[0]
    assert package in PACKAGES, f"`{script}` runs {target}, whose package {package} is not listed"
    source = source_folder(package) / f"{module.rpartition('.')[2]}.py"
    assert source.is_file(), f"`{script}` runs {target}, but {source.relative_to(ROOT)} does not exist"
    defined = {n.name for n in ast.parse(source.read_text()).body if isinstance(n, ast.FunctionDef)}
    assert attr in defined, f"`{script}` runs {target}, but {source.relative_to(ROOT)} defines no function {attr}"
    assert callable(getattr(importlib.import_module(module), attr))


@pytest.mark.parametrize("requirements", ["infra/requirements.txt", "policies/requirements.txt"])
def test_pulumi_installs_this_project(requirements):
    """The Pulumi CLI (program) and pulumi-policy (pack) pip-install these files with cwd = their folder."""
    lines = [line.split("#")[0].strip() for line in (ROOT / requirements).read_text().splitlines()]
    assert any(line == "-e .." or line.startswith("-e ..[") for line in lines), (
        f"{requirements} must install this project (`-e ..`) so `slipway.*` imports resolve to this checkout"
    )
