"""Accounts most payment tests start from: a treasury and a payer funded from it."""

from __future__ import annotations

from paygod.accounting import AccountCode, AccountFlags, AccountingService, AccountSpec
from paygod.accounting.model import TransferRequest


def open_funded_payer(
    accounting: AccountingService,
    account_id: str = "agent-1",
    amount: int = 10_000_000,
    *,
    tenant: str = "default",
    owner: str | None = None,
) -> str:
    """Open `treasury` (equity) and a USD payer that may not overdraw, owned by `owner`,
    and move `amount` minor units into it (transfer `fund-<account_id>`)."""
    accounting.open_accounts(
        tenant,
        [
            AccountSpec(ledger="USD", code=AccountCode.EQUITY, id="treasury"),
            AccountSpec(
                ledger="USD",
                code=AccountCode.LIABILITY,
                id=account_id,
                flags=AccountFlags(debits_must_not_exceed_credits=True),
                owner=owner,
            ),
        ],
    )
    accounting.transfer(
        tenant,
        TransferRequest(
            id=f"fund-{account_id}",
            debit_account_id="treasury",
            credit_account_id=account_id,
            amount=amount,
            ledger="USD",
        ),
    )
    return account_id
