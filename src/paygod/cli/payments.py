"""`paygod payments quote|create|show|approve|reject` against the local kernel."""

from __future__ import annotations

import getpass
from pathlib import Path
from typing import Annotated, Any

import typer

from paygod.cli.common import JsonFlag, open_kernel
from paygod.cli.output import console, emit_json

app = typer.Typer(
    name="payments", help="Payments: quotes, intents, approvals.", no_args_is_help=True
)

AsOption = Annotated[
    str | None, typer.Option("--as", help="Acting principal (default: the OS user).")
]


def _print_payment(data: dict[str, Any]) -> None:
    decision = data.get("decision") or {}
    console.print(
        f"payment {data['payment_id']}: {data['status']} "
        f"{data['amount']} {data['currency']} via {data.get('rail') or '-'}"
        + (f" (decision {decision.get('verdict')}: {decision.get('reason')})" if decision else "")
        + (f" — {data['failure_reason']}" if data.get("failure_reason") else "")
    )


@app.command("quote")
def quote(
    amount: Annotated[int, typer.Option(min=1, help="Amount in minor units.")],
    currency: Annotated[str, typer.Option(help="ISO 4217 code.")],
    prefer: Annotated[str | None, typer.Option(help="cheapest, fastest or a rail name.")] = None,
    payee: Annotated[
        Path | None, typer.Option(help="JSON file with the payee (decides eligibility).")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Rank the rails for a payment: fee, ETA and why each was or was not chosen."""
    from paygod.kernel.jsonio import read_json_file

    kernel = open_kernel()
    try:
        payee_data = read_json_file(payee) if payee else None
        result = kernel.payments.quote(
            amount=amount,
            currency=currency,
            preference=prefer,
            payee=payee_data if isinstance(payee_data, dict) else None,
        ).as_dict()
    finally:
        kernel.close()
    if as_json:
        emit_json(result)
        return
    from rich.table import Table

    table = Table(title=f"{amount} {currency}, preference {result['preference']}")
    for column in ("rank", "rail", "fee", "eta", "reason"):
        table.add_column(column)
    for option in ([result["selected"]] if result["selected"] else []) + result["alternatives"]:
        table.add_row(
            str(option["rank"] or "-"),
            option["rail"],
            "-" if option["fee"] is None else str(option["fee"]),
            option["eta_at"] or "-",
            option["reason"],
        )
    console.print(table)


@app.command("create")
def create(
    file: Annotated[Path, typer.Argument(help="JSON payment request.")],
    idempotency_key: Annotated[str | None, typer.Option("--idempotency-key")] = None,
    as_: AsOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Request a payment: decided, sealed, held and queued for the executor."""
    from paygod.kernel.jsonio import read_json_file

    body = read_json_file(file)
    kernel = open_kernel()
    try:
        payment, _ = kernel.payments.create(
            body if isinstance(body, dict) else {},
            tenant_id=kernel.settings.tenant,
            requested_by=as_ or getpass.getuser(),
            idempotency_key=idempotency_key,
        )
    finally:
        kernel.close()
    emit_json(payment.as_dict()) if as_json else _print_payment(payment.as_dict())


@app.command("show")
def show(payment_id: str, as_json: JsonFlag = False) -> None:
    """A payment and its transitions."""
    kernel = open_kernel()
    try:
        data = {
            **kernel.payments.get(payment_id).as_dict(),
            "history": kernel.payments.history(payment_id),
        }
    finally:
        kernel.close()
    if as_json:
        emit_json(data)
        return
    _print_payment(data)
    for step in data["history"]:
        console.print(f"  #{step['seq']} {step['recorded_at']} {step['transition']}")


def _review(payment_id: str, approve: bool, note: str, as_: str | None, as_json: bool) -> None:
    kernel = open_kernel()
    try:
        action = kernel.payments.approve if approve else kernel.payments.reject
        payment = action(payment_id, approver=as_ or getpass.getuser(), note=note)
    finally:
        kernel.close()
    emit_json(payment.as_dict()) if as_json else _print_payment(payment.as_dict())


@app.command("approve")
def approve(
    payment_id: str, note: str = "", as_: AsOption = None, as_json: JsonFlag = False
) -> None:
    """Approve a payment in review (a different principal than its requester)."""
    _review(payment_id, True, note, as_, as_json)


@app.command("reject")
def reject(
    payment_id: str, note: str = "", as_: AsOption = None, as_json: JsonFlag = False
) -> None:
    """Reject a payment in review (a different principal than its requester)."""
    _review(payment_id, False, note, as_, as_json)
