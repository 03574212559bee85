"""The one place errors become exit codes and a single precise stderr line.

Exit codes: 0 ok, 1 a check failed, 2 bad input or usage, 3 unavailable dependency.
"""

from __future__ import annotations

import sys
from collections.abc import Callable

import click

from paygod.kernel.errors import PaygodError


def guarded(main: Callable[[], object]) -> None:
    try:
        main()
    except PaygodError as exc:
        sys.stderr.write(exc.one_line() + "\n")
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        sys.exit(130)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
