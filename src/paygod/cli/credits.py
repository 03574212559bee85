"""`paygod credits ...`: the tenant's prepaid credits from the command line, the same
operations as `/v1/credits/*` (balance, purchase, consume, reserve, commit, cancel,
threshold), through the same `CreditsService`."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any, Literal

import typer

from paygod.cli.accounting import _metadata, record
from paygod.cli.common import JsonFlag, TenantOption, emit, tenant_kernel
from paygod.cli.output import fields_table
from paygod.kernel.errors import FieldError, InvalidInput

if TYPE_CHECKING:  # the kernel (and its drivers) load only when a command runs
    from paygod.accounting.credits import CreditsService
    from paygod.accounting.model import Transfer

app = typer.Typer(
    help="Prepaid credits: balance, purchase, consume, reserve, commit, cancel, threshold.",
    no_args_is_help=True,
)
Amount = Annotated[int, typer.Argument(help="Credits (a positive integer).")]
KeyOpt = Annotated[
    str | None,
    typer.Option("--idempotency-key", help="Retries with the same key record it once."),
]
MetadataOpt = Annotated[str | None, typer.Option("--metadata", help="A JSON object.")]
Reservation = Annotated[str, typer.Argument(help="The reservation id (from `reserve`).")]


def _move(
    tenant: str | None,
    as_json: bool,
    title: str,
    move: Callable[[CreditsService, str], Transfer],
) -> None:
    """One movement of credits, shown with the balance after it."""
    with tenant_kernel(tenant) as (kernel, tenant_id):
        transfer = move(kernel.credits, tenant_id)
        data: dict[str, Any] = {
            "transfer": transfer.as_dict(),
            "balance": kernel.credits.balance(tenant_id).as_dict(),
        }
    # A person reads one flat table: the transfer's set fields, then the balance's.
    flat = {f"transfer.{k}": v for k, v in data["transfer"].items() if v not in (None, [], {})}
    flat.update({f"balance.{k}": v for k, v in data["balance"].items()})
    emit(data, as_json=as_json, human=fields_table(flat, title))


def _keyed(
    tenant: str | None,
    as_json: bool,
    title: str,
    amount: int,
    key: str | None,
    metadata: str | None,
    operation: Literal["purchase", "consume"],
) -> None:
    """A purchase or a consumption: the same arguments, one idempotency key."""
    meta = _metadata(metadata)

    def move(credits: CreditsService, tenant_id: str) -> Transfer:
        act = credits.purchase if operation == "purchase" else credits.consume
        return act(tenant_id, amount, key=key, metadata=meta)

    _move(tenant, as_json, title, move)


@app.command("balance")
def balance(tenant: TenantOption = None, as_json: JsonFlag = False) -> None:
    """The tenant's credits: balance, reserved, available, low-balance threshold."""
    with tenant_kernel(tenant) as (kernel, tenant_id):
        balance = kernel.credits.balance(tenant_id).as_dict()
    record(balance, as_json, "credits")


@app.command("purchase")
def purchase(
    amount: Amount,
    idempotency_key: KeyOpt = None,
    metadata: MetadataOpt = None,
    tenant: TenantOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Buy (top up) credits."""
    _keyed(tenant, as_json, "credits purchased", amount, idempotency_key, metadata, "purchase")


@app.command("consume")
def consume(
    amount: Amount,
    idempotency_key: KeyOpt = None,
    metadata: MetadataOpt = None,
    tenant: TenantOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Consume credits (exit 1 when the balance is short, as HTTP answers 402)."""
    _keyed(tenant, as_json, "credits consumed", amount, idempotency_key, metadata, "consume")


@app.command("reserve")
def reserve(
    amount: Amount,
    ttl_seconds: Annotated[
        int, typer.Option("--ttl-seconds", help="Released by itself after this long.")
    ] = 300,
    idempotency_key: KeyOpt = None,
    metadata: MetadataOpt = None,
    tenant: TenantOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Reserve credits for a while; `commit` consumes them, `cancel` releases them."""
    meta = _metadata(metadata)
    _move(
        tenant,
        as_json,
        "credits reserved",
        lambda credits, tenant_id: credits.reserve(
            tenant_id, amount, ttl_seconds=ttl_seconds, key=idempotency_key, metadata=meta
        ),
    )


@app.command("commit")
def commit(
    reservation_id: Reservation,
    amount: Annotated[
        int | None, typer.Option("--amount", help="Consume only this much (the rest is released).")
    ] = None,
    tenant: TenantOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Consume a reservation, fully or partly."""
    _move(
        tenant,
        as_json,
        "reservation committed",
        lambda credits, tenant_id: credits.commit(tenant_id, reservation_id, amount=amount),
    )


@app.command("cancel")
def cancel(
    reservation_id: Reservation, tenant: TenantOption = None, as_json: JsonFlag = False
) -> None:
    """Release a reservation."""
    _move(
        tenant,
        as_json,
        "reservation cancelled",
        lambda credits, tenant_id: credits.cancel(tenant_id, reservation_id),
    )


@app.command("threshold")
def threshold(
    value: Annotated[
        int | None, typer.Argument(help="Alert when available credits fall below this.")
    ] = None,
    clear: Annotated[bool, typer.Option("--clear", help="Remove the threshold.")] = False,
    tenant: TenantOption = None,
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
    with tenant_kernel(tenant) as (kernel, tenant_id):
        balance = kernel.credits.set_threshold(tenant_id, value).as_dict()
    record(balance, as_json, "credits")
