"""Build the ledger service from settings (called by the composition root, paygod.bootstrap)."""

from __future__ import annotations

from paygod.kernel.clock import Clock
from paygod.kernel.database import Database, SqliteDatabase
from paygod.kernel.settings import Settings
from paygod.ledger.ports import LedgerStore
from paygod.ledger.service import LedgerService
from paygod.ledger.signing import load_or_create_signer


def store_for(db: Database) -> LedgerStore:
    if isinstance(db, SqliteDatabase):
        from paygod.ledger.stores.sqlite import SqliteLedgerStore

        return SqliteLedgerStore(db)
    from paygod.ledger.stores.postgres import PostgresLedgerStore

    return PostgresLedgerStore(db)


def ledger_from_settings(settings: Settings, db: Database, clock: Clock) -> LedgerService:
    return LedgerService(
        store_for(db),
        clock,
        load_or_create_signer(settings.home, settings.signing_key),
        tree_head_every_entries=settings.tree_head_every_entries,
        tree_head_every_seconds=settings.tree_head_every_seconds,
    )
