"""`paygod actions destinations put|list|remove` and `paygod actions status DECISION_ID`."""

from __future__ import annotations

import getpass
from typing import Annotated

import typer

from paygod.cli.common import JsonFlag, TenantOption, emit, open_kernel, tenant_kernel
from paygod.cli.output import console

app = typer.Typer(
    name="actions",
    help="Decision actions: their status and the tenant's webhook destination allowlist.",
    no_args_is_help=True,
)
destinations = typer.Typer(
    name="destinations", help="The webhook destination allowlist.", no_args_is_help=True
)
app.add_typer(destinations)


@destinations.command("put")
def put(
    name: Annotated[str, typer.Argument(help="The name decisions use.")],
    url: Annotated[str, typer.Option("--url", help="http(s) URL to POST to.")],
    secret: Annotated[
        str | None,
        typer.Option("--secret", help="HMAC secret; generated and shown once if omitted."),
    ] = None,
    allow_private: Annotated[
        bool, typer.Option("--allow-private", help="Allow loopback/private addresses.")
    ] = False,
    timeout: Annotated[float, typer.Option("--timeout", help="Seconds per attempt.")] = 5.0,
    tenant: TenantOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Add or replace a destination."""
    with tenant_kernel(tenant) as (kernel, tenant_id):
        destination, generated = kernel.actions.put_destination(
            tenant_id,
            name,
            url=url,
            secret=secret,
            allow_private=allow_private,
            timeout_seconds=timeout,
            actor=getpass.getuser(),
        )
    out = destination.public()
    if generated is not None:
        out["secret"] = generated
    emit(
        out,
        as_json=as_json,
        human=[f"destination {name} -> {destination.url}"]
        + ([f"secret (shown once): {generated}"] if generated is not None else []),
    )


@destinations.command("list")
def list_(tenant: TenantOption = None, as_json: JsonFlag = False) -> None:
    """The allowlist (secrets are never shown)."""
    with tenant_kernel(tenant) as (kernel, tenant_id):
        found = [d.public() for d in kernel.actions.list_destinations(tenant_id)]
    emit(
        {"destinations": found},
        as_json=as_json,
        human=[f"{d['name']}\t{d['url']}\tallow_private={d['allow_private']}" for d in found],
    )


@destinations.command("remove")
def remove(name: str, tenant: TenantOption = None) -> None:
    """Remove a destination (actions naming it are refused from now on)."""
    with tenant_kernel(tenant) as (kernel, tenant_id):
        kernel.actions.delete_destination(tenant_id, name, getpass.getuser())
    console.print(f"removed {name}")


@app.command("status")
def status(decision_id: str, as_json: JsonFlag = False) -> None:
    """Where a decision's action stands: status, attempts, sealed results."""
    with open_kernel() as kernel:
        result = kernel.actions.status(kernel.decisions.get(decision_id))
    emit(
        result,
        as_json=as_json,
        human=lambda r: [
            f"{r['type']} {r['destination'] or ''}: {r['status']}",
            *(f"  seq {e['seq']}: {e['status']} {e.get('error') or ''}" for e in r["results"]),
        ],
    )
