"""`paygod payments quote|create|show|approve|reject` against the local kernel."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from paygod.cli.common import AsOption, JsonFlag, actor, emit, open_kernel
from paygod.cli.output import table

app = typer.Typer(
    name="payments", help="Payments: quotes, intents, approvals.", no_args_is_help=True
)


def _payment_line(data: dict[str, Any]) -> str:
    decision = data.get("decision") or {}
    return (
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

    payee_data = read_json_file(payee) if payee else None
    with open_kernel() as kernel:
        result = kernel.payments.quote(
            amount=amount,
            currency=currency,
            preference=prefer,
            payee=payee_data if isinstance(payee_data, dict) else None,
        ).as_dict()
    options = ([result["selected"]] if result["selected"] else []) + result["alternatives"]
    emit(
        result,
        as_json=as_json,
        human=table(
            ("rank", "rail", "fee", "eta", "reason"),
            (
                (
                    o["rank"] or "-",
                    o["rail"],
                    "-" if o["fee"] is None else o["fee"],
                    o["eta_at"] or "-",
                    o["reason"],
                )
                for o in options
            ),
            title=f"{amount} {currency}, preference {result['preference']}",
        ),
    )


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
    with open_kernel() as kernel:
        payment, _ = kernel.payments.create(
            body if isinstance(body, dict) else {},
            tenant_id=kernel.settings.tenant,
            requested_by=actor(as_),
            idempotency_key=idempotency_key,
        )
    emit(payment.as_dict(), as_json=as_json, human=_payment_line)


@app.command("show")
def show(payment_id: str, as_json: JsonFlag = False) -> None:
    """A payment and its transitions."""
    with open_kernel() as kernel:
        data = {
            **kernel.payments.get(payment_id).as_dict(),
            "history": kernel.payments.history(payment_id),
        }
    emit(
        data,
        as_json=as_json,
        human=[
            _payment_line(data),
            *(f"  #{s['seq']} {s['recorded_at']} {s['transition']}" for s in data["history"]),
        ],
    )


def _review(payment_id: str, approve: bool, note: str, as_: str | None, as_json: bool) -> None:
    with open_kernel() as kernel:
        action = kernel.payments.approve if approve else kernel.payments.reject
        payment = action(payment_id, approver=actor(as_), note=note)
    emit(payment.as_dict(), as_json=as_json, human=_payment_line)


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
