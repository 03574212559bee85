"""`paygod demo`: a guided tour of the decision loop in a temporary home."""

from __future__ import annotations

from rich.console import Console

from paygod.kernel.errors import Unavailable


def run_demo(console: Console) -> bool:
    raise Unavailable("the demo needs the ledger module, which is not installed yet")
