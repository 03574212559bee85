"""`paygod panic on --reason "..." | off | status [--tenant T]`: freeze or release side effects.

Without `--tenant` the command moves the platform-wide switch (every tenant); with it, that
tenant's own switch. A shell on the kernel's machine acts as the platform operator.
"""

from __future__ import annotations

import getpass
from typing import Annotated, Any

import typer
from rich.console import RenderableType

from paygod.cli.common import JsonFlag, emit, open_kernel
from paygod.cli.output import styled
from paygod.executor.model import PanicState

app = typer.Typer(
    name="panic",
    help="The panic switch: freeze every side effect (decisions keep being made and sealed).",
    no_args_is_help=True,
)

ActorOption = Annotated[
    str | None, typer.Option("--actor", help="Who is acting (default: the OS user).")
]
TenantOption = Annotated[
    str | None,
    typer.Option(
        "--tenant",
        help="This tenant's own switch. Without it: the platform-wide switch (every tenant).",
    ),
]


def _show(state: PanicState, as_json: bool, frozen: frozenset[str] | None = None) -> None:
    data = {**state.as_dict(), "scope": "tenant" if state.tenant_id else "platform"}
    if frozen is not None:
        data["frozen_tenants"] = sorted(frozen)
    emit(data, as_json=as_json, human=_lines(state, frozen))


def _lines(state: PanicState, frozen: frozenset[str] | None) -> list[RenderableType]:
    whose = f"tenant {state.tenant_id}" if state.tenant_id is not None else "platform-wide"
    since = state.as_dict()["since"]
    if state.on:
        line = styled(
            ("PANIC ON", "bold red"), f" ({whose}) since {since} by {state.actor}: {state.reason}"
        )
    else:
        since_note = f" (since {since} by {state.actor})" if state.since else ""
        flowing = "side effects flow" if state.tenant_id is None else "its side effects flow"
        line = styled(("panic off", "green"), f" ({whose}): {flowing}{since_note}")
    shown: list[RenderableType] = [line]
    if frozen:
        shown.append(f"tenants frozen by their own switch: {', '.join(sorted(frozen))}")
    return shown


def _tenant(kernel: Any, tenant: str | None) -> str | None:
    """A tenant that exists (one line and exit 2 otherwise: a typo must not freeze nobody)."""
    if tenant is None:
        return None
    identity = getattr(kernel, "identity", None)
    known = tenant == kernel.settings.tenant or identity is None
    if not known and identity is not None and identity.get_tenant(tenant) is None:
        from paygod.kernel.errors import NotFound

        raise NotFound(f"no tenant {tenant!r}")
    return tenant


@app.command("on")
def panic_on(
    reason: Annotated[str, typer.Option("--reason", help="Why (recorded in the ledger).")],
    tenant: TenantOption = None,
    actor: ActorOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Freeze: workers claim nothing (of the tenant, with --tenant), rails receive nothing."""
    with open_kernel() as kernel:
        state = kernel.panic.turn_on(reason, actor or getpass.getuser(), _tenant(kernel, tenant))
    _show(state, as_json)


@app.command("off")
def panic_off(
    tenant: TenantOption = None, actor: ActorOption = None, as_json: JsonFlag = False
) -> None:
    """Release: queued payments resume (the tenant's, with --tenant)."""
    with open_kernel() as kernel:
        state = kernel.panic.turn_off(actor or getpass.getuser(), _tenant(kernel, tenant))
    _show(state, as_json)


@app.command("status")
def panic_status(tenant: TenantOption = None, as_json: JsonFlag = False) -> None:
    """Print whether the switch is on, why, by whom and since when (without --tenant: the
    platform-wide switch and the tenants frozen by their own)."""
    with open_kernel() as kernel:
        chosen = _tenant(kernel, tenant)
        frozen = kernel.panic.frozen_tenants() if chosen is None else None
        state = kernel.panic.status(chosen)
    _show(state, as_json, frozen)
