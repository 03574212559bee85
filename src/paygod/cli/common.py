"""What every command group shares: the `--json` flag and its `emit`, the common options,
and one typed way to open the kernel.

`emit` is the one place a command chooses between its JSON document and its human rendering;
commands build the data and say how a person reads it, never branch on `--json` themselves
(tests/unit/cli/test_one_emit.py holds them to it).

The kernel is imported when a command runs, not when the CLI loads, so `paygod --help` and
`paygod version` start without importing every domain package.
"""

from __future__ import annotations

import getpass
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, TypeVar, overload

import typer
from rich.console import RenderableType

from paygod.cli.output import console, emit_json

if TYPE_CHECKING:
    from paygod.bootstrap import Kernel

T = TypeVar("T")

JsonFlag = Annotated[bool, typer.Option("--json", help="Machine-readable JSON on stdout.")]
TenantOption = Annotated[
    str | None, typer.Option("--tenant", help="Tenant (default PAYGOD_TENANT).")
]
AsOption = Annotated[
    str | None, typer.Option("--as", help="Acting principal (default: the OS user).")
]

# What a human rendering is: one line or renderable (a str, styled Text, a Table), a list of
# them (one per line), or nothing (a rendering that printed for itself).
Shown = RenderableType | Sequence[RenderableType] | None


def emit(data: T, *, as_json: bool, human: Callable[[T], Shown] | Shown) -> None:
    """Print a command's result: `data` as the JSON document with --json, else `human`:
    a rendering (a line, lines, a table) or a function of `data` returning one (or printing)."""
    if as_json:
        emit_json(data)
        return
    shown = human(data) if callable(human) else human
    if isinstance(shown, list | tuple):
        for line in shown:
            console.print(line)
    elif shown is not None:
        console.print(shown)


@overload
def instant(text: str, option: str, pointer: str | None = None) -> datetime: ...
@overload
def instant(text: str | None, option: str, pointer: str | None = None) -> datetime | None: ...
def instant(text: str | None, option: str, pointer: str | None = None) -> datetime | None:
    """An option's ISO 8601 / RFC 3339 instant (None when not given); bad input is exit 2,
    its error at `pointer` (default: the option) where a group names fields as HTTP does."""
    if text is None:
        return None
    from paygod.kernel.clock import parse_instant
    from paygod.kernel.errors import FieldError, InvalidInput

    try:
        return parse_instant(text)
    except ValueError:
        raise InvalidInput(
            f"{option} {text!r} is not an ISO 8601 instant",
            errors=[
                FieldError(
                    pointer or option, "expected an ISO 8601 instant, e.g. 2026-01-31T12:00:00Z"
                )
            ],
        ) from None


def actor(as_: str | None) -> str:
    """Who a command acts as: `--as`, else the OS user."""
    return as_ or getpass.getuser()


@contextmanager
def open_kernel() -> Iterator[Kernel]:
    """A kernel built from the environment's settings, closed when the command is done."""
    from paygod.bootstrap import build_kernel

    kernel = build_kernel()
    try:
        yield kernel
    finally:
        kernel.close()


@contextmanager
def tenant_kernel(tenant: str | None) -> Iterator[tuple[Kernel, str]]:
    """A kernel and the tenant a command acts for (`--tenant`, else the settings' own)."""
    with open_kernel() as kernel:
        yield kernel, tenant or kernel.settings.tenant
