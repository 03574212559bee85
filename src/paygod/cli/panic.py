"""`paygod panic on --reason "..." | off | status`: freeze or release every side effect."""

from __future__ import annotations

import getpass
from typing import Annotated, Any

import typer

from paygod.cli.output import console, emit_json, styled
from paygod.executor.model import PanicState

app = typer.Typer(
    name="panic",
    help="The panic switch: freeze every side effect (decisions keep being made and sealed).",
    no_args_is_help=True,
)

JsonFlag = Annotated[bool, typer.Option("--json", help="Machine-readable JSON on stdout.")]
ActorOption = Annotated[
    str | None, typer.Option("--actor", help="Who is acting (default: the OS user).")
]


def _show(state: PanicState, as_json: bool) -> None:
    if as_json:
        emit_json(state.as_dict())
        return
    data = state.as_dict()
    if state.on:
        console.print(
            styled(
                ("PANIC ON", "bold red"), f" since {data['since']} by {state.actor}: {state.reason}"
            )
        )
    else:
        since = f" (since {data['since']} by {state.actor})" if state.since else ""
        console.print(styled(("panic off", "green"), f": side effects flow{since}"))


def _kernel() -> Any:
    from paygod.kernel.bootstrap import build_kernel

    return build_kernel()


@app.command("on")
def panic_on(
    reason: Annotated[str, typer.Option("--reason", help="Why (recorded in the ledger).")],
    actor: ActorOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Freeze: workers claim nothing, rails receive nothing."""
    kernel = _kernel()
    try:
        _show(kernel.panic.turn_on(reason, actor or getpass.getuser()), as_json)
    finally:
        kernel.close()


@app.command("off")
def panic_off(actor: ActorOption = None, as_json: JsonFlag = False) -> None:
    """Release: queued payments resume."""
    kernel = _kernel()
    try:
        _show(kernel.panic.turn_off(actor or getpass.getuser()), as_json)
    finally:
        kernel.close()


@app.command("status")
def panic_status(as_json: JsonFlag = False) -> None:
    """Print whether the switch is on, why, by whom and since when."""
    kernel = _kernel()
    try:
        _show(kernel.panic.status(), as_json)
    finally:
        kernel.close()
