"""The one place errors become exit codes and a single precise stderr line.

Exit codes: 0 ok, 1 a check failed, 2 bad input or usage, 3 unavailable dependency.
"""

from __future__ import annotations

import sys
from collections.abc import Callable

import click
import typer

from paygod.kernel.errors import PaygodError


def usage_line(exc: typer.TyperException | click.ClickException) -> str:
    """`error: paygod ledger show: Invalid value for '{seq}': 'abc' is not a valid integer.`"""
    ctx = getattr(exc, "ctx", None)
    where = f"{ctx.command_path}: " if ctx is not None else ""
    message = " ".join(exc.format_message().split())  # one line, whatever the message holds
    return f"error: {where}{message}"


def os_error_text(exc: OSError) -> str:
    """`cannot use ./f: File exists`: the path(s) involved and the system's reason."""
    reason = exc.strerror or str(exc) or type(exc).__name__
    paths = [str(p) for p in (exc.filename, exc.filename2) if p is not None]
    if paths:
        return f"cannot use {' -> '.join(paths)}: {reason}"
    return " ".join(reason.split())


def guarded(main: Callable[..., object]) -> None:
    """Run the Typer app without click's standalone mode, so a usage error (a bad integer,
    an unknown choice, a missing option) is one stderr line here, exit 2, instead of
    click's usage text and a framed panel."""
    try:
        result = main(standalone_mode=False)
    except PaygodError as exc:
        sys.stderr.write(exc.one_line() + "\n")
        sys.exit(exc.exit_code)
    except ConnectionError as exc:
        sys.stderr.write(f"error: unavailable: {os_error_text(exc)}\n")
        sys.exit(3)
    except OSError as exc:
        # A file the command was told to read or write (an --out that is a file, /dev/full,
        # a read-only directory): the user's mistake, named in one line, not a traceback.
        sys.stderr.write(f"error: {os_error_text(exc)}\n")
        sys.exit(2)
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        sys.exit(130)
    except (click.exceptions.Exit, typer.Exit) as exc:
        sys.exit(exc.exit_code)
    except (click.exceptions.Abort, typer.Abort):
        sys.stderr.write("aborted\n")
        sys.exit(1)
    except (click.ClickException, typer.TyperException) as exc:
        # Typer vendors its own click: its usage errors are TyperExceptions. A group run
        # without a command has already printed its help (exit 2, as click does).
        if type(exc).__name__ != "NoArgsIsHelpError":
            sys.stderr.write(usage_line(exc) + "\n")
        sys.exit(2)
    if isinstance(result, int) and not isinstance(result, bool):
        sys.exit(result)  # click returns a command's `typer.Exit(code)` as its result
