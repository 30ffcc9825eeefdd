"""Pulumi entry point (`main: infra/` in Pulumi.yaml). Everything happens in `slipway.program.main`."""

import sys
from pathlib import Path

# Pulumi runs this folder as a script, which puts infra/ first on sys.path; its
# modules (main.py, config/, …) would then shadow any top-level module of the same
# name. The project is installed (infra/requirements.txt: -e ..), so import it as
# slipway.program instead.
_here = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _here]

try:
    from slipway.program.main import run
except ModuleNotFoundError as exc:  # a .venv made before slipway's one namespace
    if exc.name and exc.name.split(".")[0] != "slipway":
        raise
    sys.exit(
        f"error: {exc} — .venv holds an older install of this project. Reinstall it: "
        "`pulumi install` (or `rm -rf .venv` and run `pulumi up` again, or `./dev`)."
    )

run()
