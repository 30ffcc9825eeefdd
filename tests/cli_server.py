"""A warm interpreter that forks a process per `slipway` command (used by tests.helpers.slipway_cli).

A fresh `python -m slipway.cli.main` spends most of its time importing third-party libraries
(pulumi_aws, pulumi_kubernetes, parliament, …: ~0.7 s before a command starts, ~2 s for
`check`). This server imports those once, never slipway itself, then forks a child per
command: the child gets the command's environment, working folder, argv and stdio (files),
imports slipway afresh (so SLIPWAY_ROOT, COLUMNS and every setting read at import are the
command's) and runs `slipway.cli.main` as `python -m` does; its exit status is the command's.
The child ends as the interpreter ends a program (threads joined, atexit handlers run, stdio
flushed) but without freeing, module by module, what the server had imported.

Protocol (one command at a time): a JSON request line on stdin; the server answers with the
child's pid, then with its exit code, one line each, on stdout.
"""

from __future__ import annotations

import atexit
import importlib
import json
import os
import runpy
import sys
import threading


def _child(request: dict) -> None:
    null = os.open(os.devnull, os.O_RDONLY)
    out = os.open(request["stdout"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    err = os.open(request["stderr"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    for fd, target in ((null, 0), (out, 1), (err, 2)):
        os.dup2(fd, target)
        os.close(fd)
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    sys.argv = ["slipway", *request["args"]]
    sys.path[0] = os.getcwd()  # as `python -m` sets it
    code = 0
    try:
        runpy.run_module("slipway.cli.main", run_name="__main__", alter_sys=True)
    except SystemExit as exc:  # what the interpreter makes of it
        if exc.code is None or isinstance(exc.code, int):
            code = exc.code or 0
        else:
            print(exc.code, file=sys.stderr)
            code = 1
    except BaseException:  # noqa: BLE001 - printed and exit 1, as the interpreter does
        sys.excepthook(*sys.exc_info())
        code = 1
    # The interpreter's exit, up to tearing down the modules the server imported (~0.3 s of
    # freeing memory that the process's end frees anyway): threads joined, atexit, stdio.
    threading._shutdown()  # pyright: ignore[reportAttributeAccessIssue]
    atexit._run_exitfuncs()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def main() -> None:
    for name in sys.argv[1:]:
        parent, _, leaf = name.rpartition(".")
        try:
            if parent:
                holder = sys.modules.get(parent)
                # As code reaches it: through its package's attribute, which runs a lazily
                # imported package (pulumi_aws's services) and may be a class of the same name
                # as the submodule (pulumi_kubernetes.apiextensions.CustomResource).
                if holder is None or hasattr(holder, leaf):
                    continue
            getattr(importlib.import_module(name), "__name__", None)
        except Exception:  # noqa: BLE001, S112 - one that does not import here is imported by the command, or never
            continue
    if any(m == "slipway" or m.startswith("slipway.") for m in sys.modules):
        raise SystemExit("cli_server: slipway was imported before the fork")
    requests = sys.stdin.buffer
    while line := requests.readline():
        request = json.loads(line)
        pid = os.fork()
        if pid == 0:
            _child(request)  # never returns: the child exits as the command does
        os.write(1, f"{pid}\n".encode())
        _, status = os.waitpid(pid, 0)
        os.write(1, f"{os.waitstatus_to_exitcode(status)}\n".encode())


if __name__ == "__main__":
    main()
