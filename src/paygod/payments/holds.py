"""Holds through accounting: a pending transfer from the payer to the payments clearing
account when a payment is allowed, posted when the rail settles, voided when it fails.

Transfer ids derive from the payment id, so every step is idempotent: a worker that
retries after a crash gets the original result, never a second hold or a second post.
"""

from __future__ import annotations

import threading
from typing import Any

from paygod.payments.model import Payment

CLEARING_PREFIX = "payments-clearing-"


def hold_id(payment: Payment) -> str:
    return f"{payment.payment_id}.hold"


class AccountingHolds:
    """Adapter over `paygod.accounting.AccountingService` (typed loosely: no import cycle)."""

    def __init__(self, accounting: Any) -> None:
        self.accounting = accounting
        self._opened: set[tuple[str, str]] = set()
        self._lock = threading.Lock()

    def clearing_account(self, tenant_id: str, currency: str) -> str:
        account_id = CLEARING_PREFIX + currency
        key = (tenant_id, currency)
        if key not in self._opened:
            from paygod.accounting import AccountCode, AccountSpec

            with self._lock:
                self.accounting.open_account(
                    tenant_id,
                    AccountSpec(
                        ledger=currency,
                        code=AccountCode.LIABILITY,
                        id=account_id,
                        metadata={"purpose": "payments in flight to rails"},
                    ),
                )
                self._opened.add(key)
        return account_id

    def place(self, payment: Payment) -> str:
        from paygod.accounting import TransferFlags, TransferRequest

        transfer_id = hold_id(payment)
        self.accounting.transfer(
            payment.tenant_id,
            TransferRequest(
                id=transfer_id,
                debit_account_id=payment.payer_account,
                credit_account_id=self.clearing_account(payment.tenant_id, payment.currency),
                amount=payment.amount,
                ledger=payment.currency,
                code="payment_hold",
                flags=TransferFlags(pending=True),
                metadata={"payment_id": payment.payment_id},
            ),
        )
        return transfer_id

    def post(self, payment: Payment) -> None:
        if payment.hold_id:
            self.accounting.post_pending(
                payment.tenant_id, payment.hold_id, metadata={"payment_id": payment.payment_id}
            )

    def release(self, payment: Payment) -> None:
        if payment.hold_id:
            self.accounting.void_pending(
                payment.tenant_id, payment.hold_id, metadata={"payment_id": payment.payment_id}
            )

    def reverse(self, payment: Payment) -> None:
        """A settled payment the rail returned: book the money back to the payer."""
        if payment.hold_id:
            self.accounting.reverse(
                payment.tenant_id,
                f"{payment.hold_id}.post",
                metadata={"payment_id": payment.payment_id},
            )


class NoHolds:
    """For kernels without accounting (tests of the lifecycle alone)."""

    def place(self, payment: Payment) -> str:
        return hold_id(payment)

    def post(self, payment: Payment) -> None:
        return None

    def release(self, payment: Payment) -> None:
        return None

    def reverse(self, payment: Payment) -> None:
        return None
