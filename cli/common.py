"""What the `slipway` commands share: the two consoles, the exit for a bad stack config,
the offline render that maps its failures to the CLI's exit codes (2 config, 3 render),
and how the terminal shows things:

- `Wrap`: a table cell that breaks identifiers (resource names, URNs, paths, check ids)
  only after a separator (`/`, `:`, `-`, `.`, `_`) and shortens a piece that is still too
  wide in its middle (`BucketServer…Configuration`), where rich would fold mid-word.
  `--format json` always carries the full names.
- `Command` and `Group`: typer classes whose `--help` shows a flag as a flag (`--json`,
  not `--json <bool>`, which reads as if it took a value).
- `network_failure` / `cannot_reach`: a botocore exception that means the network, not
  the credentials, said no, and the one line that says so.

The commands live in their own modules (cli/main.py registers them on the one typer
`app`), so these helpers sit here rather than in cli/main.py, which each of them would
otherwise have to import back.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, NoReturn

import typer
from rich.cells import cell_len
from rich.console import Console, ConsoleOptions
from rich.console import RenderResult as RichRenderResult
from rich.measure import Measurement
from rich.table import Table
from rich.text import Text
from typer.core import TyperCommand, TyperGroup

from slipway.cli.render import ROOT, RenderError, RenderResult, render_stack, summary
from slipway.components.validation import ArgsError
from slipway.program.config import ConfigError

out = Console()
err = Console(stderr=True)


def fail_config(exc: ConfigError, stack: str) -> NoReturn:
    """Print the config errors of `stack` (unless `exc` names another) and exit 2."""
    exc.stack = exc.stack or stack
    head, *lines = str(exc).splitlines()
    err.print(f"[bold red]error:[/] {head}", markup=True, highlight=False)
    for line in lines:  # identifiers (ARNs, paths) wrap only at their separators
        err.print(Wrap(line))
    n = len(exc.messages)
    err.print(verdict_line(False, f"{n} config error{'s' * (n != 1)} in stack {exc.stack!r} to fix first"),
              highlight=False, soft_wrap=True)  # fmt: skip
    raise typer.Exit(2)


def summary_table(result: RenderResult) -> Table:
    """Resources per component of a render, with their types: what `render` prints, and `check` after its findings."""
    table = Table(title=f"stack {result.stack}: {len(result.records)} resources", title_justify="left")
    table.add_column("component")
    table.add_column("resources", justify="right")
    table.add_column("types", ratio=1)
    for comp, types in summary(result.records).items():
        listed = ", ".join(f"{n}×{t.split(':')[-1]}" for t, n in types.items())
        table.add_row(Wrap(comp), str(sum(types.values())), Wrap(listed))
    return table


def print_warnings(warnings: list[str], stack: str) -> None:
    """A stack's config warnings, on stderr (they never change the exit code)."""
    for w in warnings:
        err.print(Wrap(Text.assemble(("warning:", "bold yellow"), f" stack {stack!r}: {w}")))


def render_or_exit(
    stack: str,
    out_dir: Path | None,
    quiet: bool = False,
    warn: bool = True,
    refused: Callable[[ConfigError], None] | None = None,
) -> RenderResult:
    """Render `stack` offline and (unless `quiet`) print its summary; exit 2 or 3 when that fails.

    The stack's config warnings go to stderr unless `warn` is False (`check` lists them as
    findings); `refused` reports a refused config on stdout first (`check`'s markdown/JSON)."""
    try:
        result = render_stack(stack, out_dir)
    except ConfigError as exc:
        if refused is not None:
            refused(exc)
        fail_config(exc, stack)
    except ArgsError as exc:  # a component refused what the program gave it: still the stack's config
        err.print(f"[bold red]error:[/] stack {stack!r}: {exc}", markup=True, highlight=False)
        raise typer.Exit(2) from None
    except RenderError as exc:
        err.print(f"[bold red]render failed:[/] {exc}", highlight=False)
        raise typer.Exit(3) from None
    if warn:
        print_warnings(result.warnings, stack)
    if not quiet:
        print_render_summary(result)
    return result


def shown_path(path: Path) -> Path:
    """`path` relative to the project when it is inside it (`build/dev`), else as given."""
    return path.relative_to(ROOT) if path.is_relative_to(ROOT) else path


def print_render_summary(result: RenderResult) -> None:
    """The resources per component of a render and where its files went."""
    out.print(summary_table(result))
    out.print(
        Wrap(f"wrote {len(result.files)} files to {shown_path(result.out_dir)}/ (deterministic; diff it in review)")
    )


# ---------------------------------------------------------------------------- the terminal

SEPARATORS = "/:-._"
_PIECE = re.compile(r"[^/:._-]*[/:._-]+|[^/:._-]+")


def pieces(word: str) -> list[str]:
    """`kubernetes/argo/run-python.yaml` → `kubernetes/`, `argo/`, `run-`, `python.`, `yaml`:
    the places an identifier may be broken are after its separators."""
    return _PIECE.findall(word)


def shorten(piece: str, width: int) -> str:
    """`piece` in at most `width` cells, its middle replaced by `…` when it is wider."""
    if cell_len(piece) <= width:
        return piece
    if width <= 1:
        return "…"[:width]
    tail = (width - 1) // 2
    return piece[: width - 1 - tail] + "…" + (piece[-tail:] if tail else "")


def _break_line(line: Text, width: int) -> list[Text]:
    """One line of `line` per output line: broken at spaces, a word wider than `width` after
    its separators, a piece wider than `width` shortened in its middle."""
    plain = line.plain
    lines: list[Text] = []
    cur, used = Text(), 0

    def flush() -> None:
        nonlocal cur, used
        cur.rstrip()
        lines.append(cur)
        cur, used = Text(), 0

    gap = Text()
    for match in re.finditer(r"\S+|\s+", plain):
        chunk = line[match.start() : match.end()]
        if match.group().isspace():
            gap = chunk if (used or match.start() == 0) else Text()
            continue
        word_len = cell_len(match.group())
        if used and used + len(gap) + word_len > width and word_len <= width:
            flush()
            gap = Text()
        if used + len(gap) + word_len <= width:
            cur.append_text(gap)
            cur.append_text(chunk)
            used += len(gap) + word_len
            gap = Text()
            continue
        start = match.start()
        for piece in pieces(match.group()):
            part = line[start : start + len(piece)]
            start += len(piece)
            if used and used + len(gap) + cell_len(piece) > width:
                flush()
                gap = Text()
            if cell_len(piece) > width - used - len(gap):
                short = shorten(piece, width - used - len(gap))
                keep, tail = short.partition("…")[::2]
                part = part[: len(keep)] + Text("…") + (part[len(part) - len(tail) :] if tail else Text())
            cur.append_text(gap)
            cur.append_text(part)
            used += len(gap) + cell_len(part.plain)
            gap = Text()
    if used or not lines:
        flush()
    return lines


class Wrap:
    """Text for a table cell or a line that wraps at spaces and, inside an identifier, only
    after a separator: never mid-word, as rich's `overflow="fold"` does. A piece wider than
    the column is shortened in its middle (`…`); machine output keeps the full name."""

    def __init__(self, text: str | Text, style: str = "") -> None:
        """`text` (rich markup is not parsed in a plain string) with an optional `style`."""
        self.text = text if isinstance(text, Text) else Text(text, style=style)

    def lines(self, width: int) -> list[Text]:
        """The text broken into lines of at most `width` cells."""
        width = max(width, 1)
        return [broken for line in self.text.split("\n", allow_blank=True) for broken in _break_line(line, width)]

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RichRenderResult:
        for line in self.lines(options.max_width):
            line.no_wrap, line.overflow, line.end = True, "crop", "\n"
            yield line

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        words = self.text.plain.split()
        narrowest = max((cell_len(p) for w in words for p in pieces(w)), default=1)
        widest = max((cell_len(line) for line in self.text.plain.splitlines()), default=1)
        return Measurement(min(narrowest, widest), widest).clamp(max_width=options.max_width)


def flags_as_flags(params: Iterable[Any]) -> None:
    """Show a boolean flag with no value placeholder in `--help` (typer shows `<bool>`)."""
    for param in params:
        if getattr(param, "is_flag", False) and getattr(param, "metavar", None) is None:
            param.metavar = ""


class Command(TyperCommand):
    """A typer command whose `--help` lists `--json`, not `--json <bool>`."""

    def get_params(self, ctx: Any) -> list[Any]:
        params = super().get_params(ctx)
        flags_as_flags(params)
        return params


class Group(TyperGroup):
    """A typer group whose `--help` lists `--help`, not `--help <bool>`."""

    def get_params(self, ctx: Any) -> list[Any]:
        params = super().get_params(ctx)
        flags_as_flags(params)
        return params


def verdict_line(ok: bool, detail: str) -> str:
    """The last line of every report: `verdict: PASS — …` or `verdict: FAIL — …`."""
    return f"verdict: {'PASS' if ok else 'FAIL'} — {detail}"


# ---------------------------------------------------------------------------- AWS failures


def network_failure(exc: BaseException) -> bool:
    """True when `exc` means AWS was not reached (no route, DNS, timeout, proxy, TLS), not that
    it refused the credentials: botocore's connection and HTTP client errors, urllib3's, OSError."""
    from botocore.exceptions import ConnectionError as BotoConnectionError
    from botocore.exceptions import HTTPClientError

    try:
        from urllib3.exceptions import HTTPError as Urllib3Error
    except ImportError:  # pragma: no cover - botocore depends on urllib3
        Urllib3Error = OSError  # noqa: N806
    return isinstance(exc, BotoConnectionError | HTTPClientError | Urllib3Error | OSError)


# Error codes that mean the credentials themselves are bad: every call would fail the same way.
BAD_CREDENTIALS = frozenset({
    "ExpiredToken", "ExpiredTokenException", "InvalidClientTokenId", "UnrecognizedClientException",
    "SignatureDoesNotMatch", "AuthFailure", "InvalidAccessKeyId", "RequestExpired",
})  # fmt: skip


def credentials_failure(exc: BaseException) -> bool:
    """True when `exc` means there are no usable credentials (none, partial, an expired SSO
    token or session, an unknown key): what logging in again fixes."""
    from botocore.exceptions import (
        ClientError,
        CredentialRetrievalError,
        NoCredentialsError,
        PartialCredentialsError,
        SSOError,
        TokenRetrievalError,
    )

    if isinstance(exc, ClientError):
        return str(exc.response.get("Error", {}).get("Code", "")) in BAD_CREDENTIALS
    return isinstance(
        exc, NoCredentialsError | PartialCredentialsError | SSOError | TokenRetrievalError | CredentialRetrievalError
    )


def log_in(profile: str | None = None) -> str:
    """How to get fresh credentials: `aws sso login --profile p`, or export them."""
    return f"log in (`aws sso login{f' --profile {profile}' if profile else ''}`) or export credentials"


def cannot_reach(exc: BaseException, what: str = "AWS") -> str:
    """`cannot reach AWS (<endpoint>): network failure — …`: the line for a `network_failure`."""
    kwargs = getattr(exc, "kwargs", None) or {}
    where = kwargs.get("endpoint_url") or kwargs.get("proxy_url") or ""
    return (
        f"cannot reach {what}{f' ({where})' if where else ''}: network failure ({type(exc).__name__}) — check "
        "connectivity, the proxy (HTTPS_PROXY, NO_PROXY), the VPN, and AWS_ENDPOINT_URL if set; "
        "your credentials were not the problem"
    )
