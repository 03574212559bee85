"""Success bodies of the accounting routes (`api/routers/accounting.py`). Amounts are
integer minor units; a ledger (book) is named per currency or purpose."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from paygod.api.schemas import Body


class Account(Body):
    """An account with its four running totals and what follows from them."""

    id: str
    tenant_id: str
    ledger: str
    code: str
    flags: list[str]
    metadata: dict[str, Any]
    owner: str | None
    created_at: str
    debits_posted: int
    credits_posted: int
    debits_pending: int
    credits_pending: int
    balance: int
    available: int


class AccountPage(Body):
    accounts: list[Account]
    next_after: str | None


class BalanceAt(Body):
    """Recorded time only: the balance as the books stood at `at`."""

    account_id: str
    ledger: str
    at: str
    debits_posted: int
    credits_posted: int
    debits_pending: int
    credits_pending: int
    balance: int


class BalanceOnBothAxes(Body):
    """The balance on `valid_at`, as the books stood at `recorded_at`."""

    account_id: str
    ledger: str
    valid_at: str
    recorded_at: str
    debits_posted: int
    credits_posted: int
    balance: int


class StatementLine(Body):
    transfer_id: str
    timestamp: str
    code: str
    counterparty: str
    debit: int
    credit: int
    balance: int
    reference: str | None


class Statement(Body):
    account_id: str
    ledger: str
    from_: str = Field(alias="from")
    to: str
    opening_balance: int
    closing_balance: int
    total_debits: int
    total_credits: int
    lines: list[StatementLine]


class Transfer(Body):
    id: str
    tenant_id: str
    debit_account_id: str
    credit_account_id: str
    amount: int
    ledger: str
    code: str
    flags: list[str]
    pending_id: str | None
    timeout_seconds: int
    reversal_of: str | None
    metadata: dict[str, Any]
    timestamp: str
    state: str
    expires_at: str | None
    resolved_at: str | None
    reversed_amount: int
    valid_from: str | None


class TransferPage(Body):
    transfers: list[Transfer]
    next_after: str | None


class TrialBalanceRow(Body):
    account_id: str
    code: str
    debit: int
    credit: int


class LedgerTrialBalance(Body):
    ledger: str
    accounts: list[TrialBalanceRow]
    total_debits: int
    total_credits: int
    debits_posted: int
    credits_posted: int
    balanced: bool


class TrialBalance(Body):
    ledgers: list[LedgerTrialBalance]
    balanced: bool


class AuditReport(Body):
    """Running totals against totals replayed from the ledger's transfer entries."""

    ok: bool
    accounts_checked: int
    entries_replayed: int
    mismatches: list[dict[str, Any]]
    unbalanced_ledgers: list[str]


class Reconciliation(Body):
    """A recorded reconciliation, as sealed: its amounts are decimal strings there
    (RFC 8785 numbers are doubles), matches and the unmatched on both sides."""

    id: str
    account_id: str
    ledger: str
    recorded_at: str
    statement_digest: str
    period: dict[str, str]
    window_days: int
    lines: int
    statement_total: str
    ledger_total: str
    difference: str
    matched: list[dict[str, Any]]
    unmatched_statement_lines: list[dict[str, Any]]
    unmatched_transfers: list[dict[str, Any]]


class CreditBalance(Body):
    tenant_id: str
    balance: int
    reserved: int
    available: int
    low_balance_threshold: int | None
