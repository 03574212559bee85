"""`paygod actions destinations put|list|remove` and `paygod actions status DECISION_ID`."""

from __future__ import annotations

import getpass
from typing import Annotated

import typer

from paygod.cli.common import JsonFlag, open_kernel
from paygod.cli.output import console, emit_json

app = typer.Typer(
    name="actions",
    help="Decision actions: their status and the tenant's webhook destination allowlist.",
    no_args_is_help=True,
)
destinations = typer.Typer(
    name="destinations", help="The webhook destination allowlist.", no_args_is_help=True
)
app.add_typer(destinations)

TenantOption = Annotated[
    str | None, typer.Option("--tenant", help="Tenant (default PAYGOD_TENANT).")
]


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
    kernel = open_kernel()
    try:
        destination, generated = kernel.actions.put_destination(
            tenant or kernel.settings.tenant,
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
        if as_json:
            emit_json(out)
        else:
            console.print(f"destination {name} -> {destination.url}")
            if generated is not None:
                console.print(f"secret (shown once): {generated}")
    finally:
        kernel.close()


@destinations.command("list")
def list_(tenant: TenantOption = None, as_json: JsonFlag = False) -> None:
    """The allowlist (secrets are never shown)."""
    kernel = open_kernel()
    try:
        found = [
            d.public() for d in kernel.actions.list_destinations(tenant or kernel.settings.tenant)
        ]
        if as_json:
            emit_json({"destinations": found})
        else:
            for d in found:
                console.print(f"{d['name']}\t{d['url']}\tallow_private={d['allow_private']}")
    finally:
        kernel.close()


@destinations.command("remove")
def remove(name: str, tenant: TenantOption = None) -> None:
    """Remove a destination (actions naming it are refused from now on)."""
    kernel = open_kernel()
    try:
        kernel.actions.delete_destination(tenant or kernel.settings.tenant, name, getpass.getuser())
        console.print(f"removed {name}")
    finally:
        kernel.close()


@app.command("status")
def status(decision_id: str, as_json: JsonFlag = False) -> None:
    """Where a decision's action stands: status, attempts, sealed results."""
    kernel = open_kernel()
    try:
        result = kernel.actions.status(kernel.decisions.get(decision_id))
        if as_json:
            emit_json(result)
        else:
            console.print(f"{result['type']} {result['destination'] or ''}: {result['status']}")
            for entry in result["results"]:
                console.print(f"  seq {entry['seq']}: {entry['status']} {entry.get('error') or ''}")
    finally:
        kernel.close()
