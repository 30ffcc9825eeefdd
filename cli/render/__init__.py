"""Offline render: the real program under the Pulumi SDK's mock monitor.

No cloud, no Pulumi CLI. `render_stack("dev")` reads `stacks/Pulumi.dev.yaml`,
validates it, runs `slipway.program.main.main` under `slipway.testing.mocks.SlipwayMocks` as a
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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
import yaml
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime.config import set_all_config
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

from slipway.cli.render.documents import PROJECT, iam_documents, kubernetes_objects, mermaid, summary
from slipway.program.config import ConfigError
from slipway.program.stackfile import StackFile, load_stack_file
from slipway.program.validate import WARNINGS
from slipway.testing.mocks import SlipwayMocks
from slipway.testing.monitor import SECRET, Recorded, RecordingMonitor, RenderError


def project_root() -> Path:
    """Where stacks/ and build/ live: SLIPWAY_ROOT, else the nearest folder from the current
    one up that holds Pulumi.yaml and stacks/ (slipway installed from a wheel, run in a
    project), else this source checkout."""
    if os.environ.get("SLIPWAY_ROOT"):
        return Path(os.environ["SLIPWAY_ROOT"]).resolve()
    here = Path.cwd().resolve()
    for folder in (here, *here.parents):
        if (folder / "Pulumi.yaml").is_file() and (folder / "stacks").is_dir():
            return folder
    checkout = Path(__file__).resolve().parents[2]
    # Installed from a wheel, "the checkout" is site-packages: use the current folder, so
    # errors name where stacks/ was looked for and nothing is written into site-packages.
    return checkout if (checkout / "stacks").is_dir() else here


ROOT = project_root()


@dataclass
class RenderResult:
    stack: str
    out_dir: Path
    records: list[Recorded]
    outputs: dict[str, Any]
    files: list[Path]
    warnings: list[str] = field(default_factory=list[str])
    """The program's config warnings (guardrails), printed by the command that rendered."""

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
    from slipway.program import main as default_program

    program = program or default_program.main
    monitor = RecordingMonitor(SlipwayMocks(region=stack.region))
    pulumi.runtime.settings.SETTINGS.rpc_manager.clear()
    pulumi.runtime.settings.SETTINGS.outputs.clear()
    pulumi.runtime.settings.ROOT.set(None)  # a fresh root Stack per run (several stacks in one process)
    pulumi_mocks.set_mocks(monitor.mocks, project=PROJECT, stack=stack.name, preview=True, monitor=monitor)
    # As the engine tells a real program where its project is (guardrails read stacks/ there).
    pulumi.runtime.settings.SETTINGS.root_directory = str(stack.root) if stack.root else None
    set_all_config(stack.pulumi_config(), stack.secret_keys)
    token = WARNINGS.set(monitor.warnings)
    try:
        _sync_await(run_pulumi_func(program))
    finally:
        WARNINGS.reset(token)
    monitor.outputs = _sync_await(_stack_outputs(monitor.unknowns))
    if monitor.errors:
        raise RenderError("\n".join(monitor.errors))
    if monitor.unknowns:
        listed = "\n".join(f"  - {u}" for u in sorted(set(monitor.unknowns))[:20])
        raise RenderError(
            f"{len(set(monitor.unknowns))} unknown value(s) would be written by the render (a mock returns no "
            f"value for them; add it to testing/mocks.py):\n{listed}"
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
    return RenderResult(stack.name, out_dir, records, monitor.outputs, sorted(files), list(monitor.warnings))


def render_stack(name: str, out_dir: Path | None = None, root: Path = ROOT) -> RenderResult:
    """Validate, run and write one stack. Raises ConfigError (exit 2) or RenderError.

    Validation is the program's own (`slipway.program.validate`, as under `pulumi up`),
    run first here so that config errors stop before any resource is registered.
    """
    stack = load_stack_file(name, root)
    stack.checked(require_pins=True)
    monitor = run_program(stack)
    return write_render(stack, monitor, out_dir or root / "build" / name)


__all__ = [
    "SECRET",
    "ConfigError",
    "Recorded",
    "RecordingMonitor",
    "RenderError",
    "RenderResult",
    "iam_documents",
    "kubernetes_objects",
    "mermaid",
    "render_stack",
    "run_program",
    "summary",
    "write_render",
]
