"""`paygod panic on --reason "..." | off | status [--tenant T]`: freeze or release side effects.

Without `--tenant` the command moves the platform-wide switch (every tenant); with it, that
tenant's own switch. A shell on the kernel's machine acts as the platform operator.
"""

from __future__ import annotations

import getpass
from typing import Annotated, Any

import typer

from paygod.cli.common import JsonFlag, open_kernel
from paygod.cli.output import console, emit_json, styled
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
    whose = f"tenant {state.tenant_id}" if state.tenant_id is not None else "platform-wide"
    if as_json:
        data = {**state.as_dict(), "scope": "tenant" if state.tenant_id else "platform"}
        if frozen is not None:
            data["frozen_tenants"] = sorted(frozen)
        emit_json(data)
        return
    data = state.as_dict()
    if state.on:
        console.print(
            styled(
                ("PANIC ON", "bold red"),
                f" ({whose}) since {data['since']} by {state.actor}: {state.reason}",
            )
        )
    else:
        since = f" (since {data['since']} by {state.actor})" if state.since else ""
        flowing = "side effects flow" if state.tenant_id is None else "its side effects flow"
        console.print(styled(("panic off", "green"), f" ({whose}): {flowing}{since}"))
    if frozen:
        console.print(f"tenants frozen by their own switch: {', '.join(sorted(frozen))}")


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
    kernel = open_kernel()
    try:
        who = actor or getpass.getuser()
        _show(kernel.panic.turn_on(reason, who, _tenant(kernel, tenant)), as_json)
    finally:
        kernel.close()


@app.command("off")
def panic_off(
    tenant: TenantOption = None, actor: ActorOption = None, as_json: JsonFlag = False
) -> None:
    """Release: queued payments resume (the tenant's, with --tenant)."""
    kernel = open_kernel()
    try:
        _show(kernel.panic.turn_off(actor or getpass.getuser(), _tenant(kernel, tenant)), as_json)
    finally:
        kernel.close()


@app.command("status")
def panic_status(tenant: TenantOption = None, as_json: JsonFlag = False) -> None:
    """Print whether the switch is on, why, by whom and since when (without --tenant: the
    platform-wide switch and the tenants frozen by their own)."""
    kernel = open_kernel()
    try:
        chosen = _tenant(kernel, tenant)
        frozen = kernel.panic.frozen_tenants() if chosen is None else None
        _show(kernel.panic.status(chosen), as_json, frozen)
    finally:
        kernel.close()
