"""Builds the AML service (called by kernel.bootstrap after the ledger)."""

from __future__ import annotations

from paygod.aml.ports import AlertStore
from paygod.aml.service import AmlService
from paygod.aml.stores.alerts import MemoryAlertStore, SqlAlertStore
from paygod.kernel.clock import Clock
from paygod.kernel.database import Database
from paygod.ledger import LedgerService

# How often the monitor reads what was sealed since its cursor (seconds).
SCAN_EVERY = 2.0


def build_aml(db: Database, clock: Clock, ledger: LedgerService) -> AmlService:
    sql = ledger.store.name in ("sqlite", "postgres")
    store: AlertStore = SqlAlertStore(db) if sql else MemoryAlertStore()
    return AmlService(ledger, store, clock)
