"""A disbursement paid out through the payments rail router: the amount financed, from the
borrower's wallet to their payee, decided, held and dispatched as any payment is."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from paygod.credit.books import wallet_id
from paygod.kernel.errors import FieldError, InvalidInput, PaygodError

FIELDS = ("payee", "rail_preference", "metadata")


def payout_request(
    payments: Any, loan_id: str, payout: Mapping[str, Any], application: Any
) -> dict[str, Any]:
    """The payment request, checked by payments' own rules before anything is booked
    (pointers under `/payout`)."""
    for key in payout:
        if key not in FIELDS:
            message = f"unknown field {key!r}"
            raise InvalidInput(message, errors=[FieldError(f"/payout/{key}", message)])
    fee = int((application.offer or {})["disclosure"]["prepaid_finance_charge"])
    body = {
        "payer_account": wallet_id(loan_id),
        "payee": payout.get("payee"),
        "amount": application.amount - fee,
        "currency": application.currency,
        "purpose": f"loan {loan_id} disbursement",
        "rail_preference": payout.get("rail_preference"),
        # What the lender knows of the payee (e.g. counterparty_verified after an account
        # verification) is the payment decision's to weigh, as for any payment.
        "metadata": payout.get("metadata") or {},
    }
    try:
        payments.validate(body)
    except InvalidInput as exc:
        raise InvalidInput(
            f"invalid payout: {exc.detail}",
            errors=[FieldError("/payout" + e.pointer, e.message) for e in exc.errors],
        ) from None
    return body


def pay_out(payments: Any, loan: Any, body: dict[str, Any], operator: str) -> dict[str, Any]:
    """Create the payment (its key makes a repeated call find the same one): what to seal."""
    try:
        payment, _ = payments.create(
            body,
            tenant_id=loan.tenant_id,
            requested_by=operator,
            idempotency_key=f"credit-payout-{loan.loan_id}",
        )
    except PaygodError as exc:
        return {"payment_id": None, "error": exc.detail}
    return {
        "payment_id": payment.payment_id,
        "status": payment.status.value,
        "amount": payment.amount,
    }
