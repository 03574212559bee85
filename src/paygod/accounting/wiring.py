"""Build the accounting and credits services (called by the composition root, paygod.bootstrap)."""

from __future__ import annotations

from paygod.accounting.credits import CreditsService
from paygod.accounting.ports import AccountStore, LedgerPort
from paygod.accounting.proofs import BalanceProofs, SealingLedger
from paygod.accounting.service import AccountingService
from paygod.kernel.clock import Clock
from paygod.kernel.database import Database, SqliteDatabase
from paygod.ledger import EntryDraft


def store_for(db: Database | None) -> AccountStore:
    """The store of `db`; in memory without one (tests)."""
    if db is None:
        from paygod.accounting.stores.memory import MemoryAccountStore

        return MemoryAccountStore()
    if isinstance(db, SqliteDatabase):
        from paygod.accounting.stores.sqlite import SqliteAccountStore

        return SqliteAccountStore(db)
    from paygod.accounting.stores.postgres import PostgresAccountStore

    return PostgresAccountStore(db)


def build_proofs(
    accounting: AccountingService, ledger: SealingLedger, schedule: str
) -> BalanceProofs:
    """Balance proofs over the accounting store; `schedule`: off, day or month."""
    return BalanceProofs(accounting.store, ledger, accounting.clock, EntryDraft, schedule)


def build_accounting(
    db: Database | None, clock: Clock, ledger: LedgerPort
) -> tuple[AccountingService, CreditsService]:
    accounting = AccountingService(store_for(db), ledger, clock, EntryDraft)
    return accounting, CreditsService(accounting)
