"""`paygod credits ...`: the tenant's prepaid credits from the command line, the same
operations as `/v1/credits/*` (balance, purchase, consume, reserve, commit, cancel,
threshold), through the same `CreditsService`."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated, Any

import typer

from paygod.cli.accounting import _metadata, _show
from paygod.cli.common import JsonFlag, tenant_kernel
from paygod.kernel.errors import FieldError, InvalidInput

if TYPE_CHECKING:  # the kernel (and its drivers) load only when a command runs
    from paygod.accounting.credits import CreditsService
    from paygod.accounting.model import Transfer

app = typer.Typer(
    help="Prepaid credits: balance, purchase, consume, reserve, commit, cancel, threshold.",
    no_args_is_help=True,
)

TenantOpt = Annotated[str | None, typer.Option("--tenant", help="Tenant (default PAYGOD_TENANT).")]
Amount = Annotated[int, typer.Argument(help="Credits (a positive integer).")]
KeyOpt = Annotated[
    str | None,
    typer.Option("--idempotency-key", help="Retries with the same key record it once."),
]
MetadataOpt = Annotated[str | None, typer.Option("--metadata", help="A JSON object.")]
Reservation = Annotated[str, typer.Argument(help="The reservation id (from `reserve`).")]


@contextmanager
def _credits(tenant: str | None) -> Iterator[tuple[CreditsService, str]]:
    with tenant_kernel(tenant) as (kernel, tenant_id):
        yield kernel.credits, tenant_id


def _moved(
    credits: CreditsService, tenant_id: str, transfer: Transfer, title: str, as_json: bool
) -> None:
    data: dict[str, Any] = {
        "transfer": transfer.as_dict(),
        "balance": credits.balance(tenant_id).as_dict(),
    }
    if as_json:
        _show(data, True, title)
        return
    flat = {**{f"transfer.{k}": v for k, v in data["transfer"].items() if v not in (None, [], {})}}
    flat.update({f"balance.{k}": v for k, v in data["balance"].items()})
    _show(flat, False, title)


@app.command("balance")
def balance(tenant: TenantOpt = None, as_json: JsonFlag = False) -> None:
    """The tenant's credits: balance, reserved, available, low-balance threshold."""
    with _credits(tenant) as (credits, tenant_id):
        _show(credits.balance(tenant_id).as_dict(), as_json, "credits")


@app.command("purchase")
def purchase(
    amount: Amount,
    idempotency_key: KeyOpt = None,
    metadata: MetadataOpt = None,
    tenant: TenantOpt = None,
    as_json: JsonFlag = False,
) -> None:
    """Buy (top up) credits."""
    meta = _metadata(metadata)
    with _credits(tenant) as (credits, tenant_id):
        moved = credits.purchase(tenant_id, amount, key=idempotency_key, metadata=meta)
        _moved(credits, tenant_id, moved, "credits purchased", as_json)


@app.command("consume")
def consume(
    amount: Amount,
    idempotency_key: KeyOpt = None,
    metadata: MetadataOpt = None,
    tenant: TenantOpt = None,
    as_json: JsonFlag = False,
) -> None:
    """Consume credits (exit 1 when the balance is short, as HTTP answers 402)."""
    meta = _metadata(metadata)
    with _credits(tenant) as (credits, tenant_id):
        moved = credits.consume(tenant_id, amount, key=idempotency_key, metadata=meta)
        _moved(credits, tenant_id, moved, "credits consumed", as_json)


@app.command("reserve")
def reserve(
    amount: Amount,
    ttl_seconds: Annotated[
        int, typer.Option("--ttl-seconds", help="Released by itself after this long.")
    ] = 300,
    idempotency_key: KeyOpt = None,
    metadata: MetadataOpt = None,
    tenant: TenantOpt = None,
    as_json: JsonFlag = False,
) -> None:
    """Reserve credits for a while; `commit` consumes them, `cancel` releases them."""
    meta = _metadata(metadata)
    with _credits(tenant) as (credits, tenant_id):
        held = credits.reserve(
            tenant_id, amount, ttl_seconds=ttl_seconds, key=idempotency_key, metadata=meta
        )
        _moved(credits, tenant_id, held, "credits reserved", as_json)


@app.command("commit")
def commit(
    reservation_id: Reservation,
    amount: Annotated[
        int | None, typer.Option("--amount", help="Consume only this much (the rest is released).")
    ] = None,
    tenant: TenantOpt = None,
    as_json: JsonFlag = False,
) -> None:
    """Consume a reservation, fully or partly."""
    with _credits(tenant) as (credits, tenant_id):
        moved = credits.commit(tenant_id, reservation_id, amount=amount)
        _moved(credits, tenant_id, moved, "reservation committed", as_json)


@app.command("cancel")
def cancel(
    reservation_id: Reservation, tenant: TenantOpt = None, as_json: JsonFlag = False
) -> None:
    """Release a reservation."""
    with _credits(tenant) as (credits, tenant_id):
        moved = credits.cancel(tenant_id, reservation_id)
        _moved(credits, tenant_id, moved, "reservation cancelled", as_json)


@app.command("threshold")
def threshold(
    value: Annotated[
        int | None, typer.Argument(help="Alert when available credits fall below this.")
    ] = None,
    clear: Annotated[bool, typer.Option("--clear", help="Remove the threshold.")] = False,
    tenant: TenantOpt = None,
    as_json: JsonFlag = False,
) -> None:
    """Set (or --clear) the low-balance alert threshold."""
    if (value is None) == (not clear):
        raise InvalidInput(
            "give a threshold or --clear, not both or neither",
            errors=[FieldError("/low_balance_threshold", "an integer >= 0, or --clear")],
        )
    if value is not None and value < 0:
        raise InvalidInput(
            "the threshold must be >= 0",
            errors=[FieldError("/low_balance_threshold", "must be >= 0")],
        )
    with _credits(tenant) as (credits, tenant_id):
        _show(credits.set_threshold(tenant_id, value).as_dict(), as_json, "credits")
