"""Holds through accounting: a pending transfer from the payer to the payments clearing
account when a payment is allowed, posted when the rail settles, voided when it fails.

Each hold operation runs inside the ledger transaction that records the payment's
transition (`conn`, from the payment's `transact` work) and returns the accounting's
ledger drafts, which go into that same transaction ahead of the payment's own: the
balance change and the state it explains commit together or not at all. (When they were
two transactions, a crash between them left a posted hold with the payment still
"dispatching", repaired only by the retry.)

Transfer ids derive from the payment id, so every step is idempotent: a worker that
retries after a crash gets the original result, never a second hold or a second post.
"""

from __future__ import annotations

from typing import Any

from paygod.accounting.errors import AccountingCode
from paygod.kernel.errors import PaygodError
from paygod.payments.model import Payment
from paygod.payments.ports import Allowances

CLEARING_PREFIX = "payments-clearing-"
# The module that owns a payment's hold, its posting and its reversal: accounting refuses
# anyone else who tries to post, void or reverse them (a user through /v1/transfers).
MODULE = "payments"


def hold_id(payment: Payment) -> str:
    return f"{payment.payment_id}.hold"


class AccountingHolds:
    """Adapter over `paygod.accounting.AccountingService` (typed loosely: no import cycle)."""

    def __init__(self, accounting: Any, allowances: Allowances | None = None) -> None:
        self.accounting = accounting
        # A mandate's allowance (paygod.mandates), held in the same batch as the payment.
        self.allowances = allowances
        self._opened: set[tuple[str, str]] = set()

    def _clearing_account(self, conn: Any, tenant_id: str, currency: str) -> tuple[str, list[Any]]:
        """The clearing account's id, and the drafts that open it the first time."""
        from paygod.accounting import AccountCode, AccountSpec

        account_id = CLEARING_PREFIX + currency
        if (tenant_id, currency) in self._opened:
            return account_id, []
        _, drafts = self.accounting.open_accounts_in(
            conn,
            tenant_id,
            [
                AccountSpec(
                    ledger=currency,
                    code=AccountCode.LIABILITY,
                    id=account_id,
                    metadata={"purpose": "payments in flight to rails"},
                )
            ],
        )
        # Known to exist only once this transaction commits; until then (or if it rolls
        # back) the next hold asks again, which costs one read.
        return account_id, drafts

    def committed(self, payment: Payment) -> None:
        """The transaction that held `payment` committed: its clearing account exists."""
        self._opened.add((payment.tenant_id, payment.currency))

    def place(self, conn: Any, payment: Payment) -> tuple[str | PaygodError, list[Any]]:
        """(hold id, or the refusal: insufficient funds...; drafts to record either way:
        the same transaction may have expired other holds that fell due)."""
        from paygod.accounting import TransferFlags, TransferRequest
        from paygod.accounting.service import error_for

        transfer_id = hold_id(payment)
        clearing, opening = self._clearing_account(conn, payment.tenant_id, payment.currency)
        linked, prepared = (
            self.allowances.hold_requests(conn, payment) if self.allowances else ([], [])
        )
        opening = [*opening, *prepared]
        if isinstance(linked, PaygodError):
            return linked, opening
        requests = [
            TransferRequest(
                id=transfer_id,
                debit_account_id=payment.payer_account,
                credit_account_id=clearing,
                amount=payment.amount,
                ledger=payment.currency,
                code="payment_hold",
                flags=TransferFlags(pending=True, linked=bool(linked)),
                metadata={"payment_id": payment.payment_id},
                module=MODULE,
            ),
            *linked,
        ]
        results, drafts = self.accounting.create_transfers_in(conn, payment.tenant_id, requests)
        # A linked chain fails whole: its first own error is the cause, the rest say
        # `linked_event_failed`.
        errors = [r.error for r in results if r.error is not None]
        if errors:
            cause = next(
                (e for e in errors if e.code != AccountingCode.LINKED_EVENT_FAILED), errors[0]
            )
            return error_for(cause), [*opening, *drafts]
        return transfer_id, [*opening, *drafts]

    def post(self, conn: Any, payment: Payment) -> list[Any]:
        from paygod.accounting.service import posting

        return self._resolve(conn, payment, posting) if payment.hold_id else []

    def release(self, conn: Any, payment: Payment) -> list[Any]:
        from paygod.accounting.service import voiding

        return self._resolve(conn, payment, voiding) if payment.hold_id else []

    def abandon(self, conn: Any, payment: Payment) -> list[Any]:
        from paygod.accounting import TransferState
        from paygod.accounting.service import error_for, voiding

        if not payment.hold_id:
            return []
        ids = [payment.hold_id]
        if self.allowances is not None:
            ids.extend(self.allowances.hold_ids(conn, payment))
        pending = []
        for held in ids:  # each on its own: the payment's may have expired, a mandate's not
            found = self.accounting.get_transfer_in(conn, payment.tenant_id, held)
            if found is not None and found.state is TransferState.PENDING:
                pending.append(
                    voiding(held, metadata={"payment_id": payment.payment_id}, module=MODULE)
                )
        if not pending:
            return []
        results, drafts = self.accounting.create_transfers_in(conn, payment.tenant_id, pending)
        for result in results:
            if result.error is not None:
                raise error_for(result.error)
        return list(drafts)

    def reverse(self, conn: Any, payment: Payment) -> list[Any]:
        """A settled payment the rail returned: book the money back to the payer."""
        if not payment.hold_id:
            return []
        from paygod.accounting.service import error_for

        (result,), drafts = self.accounting.reverse_in(
            conn,
            payment.tenant_id,
            f"{payment.hold_id}.post",
            metadata={"payment_id": payment.payment_id},
            module=MODULE,
        )
        if result.error is not None:
            raise error_for(result.error)
        return list(drafts)

    def problem(self, conn: Any, payment: Payment) -> str | None:
        from paygod.accounting import TransferState

        if not payment.hold_id:
            return "was never placed"
        hold = self.accounting.get_transfer_in(conn, payment.tenant_id, payment.hold_id)
        if hold is None:
            return f"{payment.hold_id} does not exist"
        if hold.state is not TransferState.PENDING:
            return f"{hold.id} is {hold.state.value}, no longer pending"
        if hold.expires_at is not None and self.accounting.clock.now() >= hold.expires_at:
            return f"{hold.id} expired"
        if hold.amount < payment.amount or hold.debit_account_id != payment.payer_account:
            return f"{hold.id} does not cover {payment.amount} from {payment.payer_account}"
        return self.allowances.problem(conn, payment) if self.allowances else None

    def _resolve(self, conn: Any, payment: Payment, request: Any) -> list[Any]:
        from paygod.accounting.service import error_for

        assert payment.hold_id is not None
        ids = [payment.hold_id]
        if self.allowances is not None:
            ids.extend(self.allowances.hold_ids(conn, payment))
        transfers = [
            request(held, metadata={"payment_id": payment.payment_id}, module=MODULE)
            for held in ids
        ]
        results, drafts = self.accounting.create_transfers_in(conn, payment.tenant_id, transfers)
        for result in results:
            if result.error is not None:
                raise error_for(result.error)
        return list(drafts)


class NoHolds:
    """For kernels without accounting (tests of the lifecycle alone)."""

    def place(self, conn: Any, payment: Payment) -> tuple[str | PaygodError, list[Any]]:
        return hold_id(payment), []

    def committed(self, payment: Payment) -> None:
        return None

    def post(self, conn: Any, payment: Payment) -> list[Any]:
        return []

    def release(self, conn: Any, payment: Payment) -> list[Any]:
        return []

    def reverse(self, conn: Any, payment: Payment) -> list[Any]:
        return []

    def abandon(self, conn: Any, payment: Payment) -> list[Any]:
        return []

    def problem(self, conn: Any, payment: Payment) -> str | None:
        return None
