"""What every command group shares: the `--json` flag and one typed way to open the kernel.

The kernel is imported when a command runs, not when the CLI loads, so `paygod --help` and
`paygod version` start without importing every domain package.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from paygod.bootstrap import Kernel

JsonFlag = Annotated[bool, typer.Option("--json", help="Machine-readable JSON on stdout.")]


def open_kernel() -> Kernel:
    """A kernel built from the environment's settings; the caller closes it."""
    from paygod.bootstrap import build_kernel

    return build_kernel()


@contextmanager
def tenant_kernel(tenant: str | None) -> Iterator[tuple[Kernel, str]]:
    """A kernel and the tenant a command acts for (`--tenant`, else the settings' own)."""
    kernel = open_kernel()
    try:
        yield kernel, tenant or kernel.settings.tenant
    finally:
        kernel.close()
