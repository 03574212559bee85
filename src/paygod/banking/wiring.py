"""Build the projection service (called by the composition root)."""

from __future__ import annotations

from paygod.accounting import AccountingService
from paygod.banking.service import ProjectionService
from paygod.kernel.clock import Clock
from paygod.kernel.database import Database
from paygod.ledger import LedgerService


def build_projections(
    db: Database, clock: Clock, ledger: LedgerService, accounting: AccountingService
) -> ProjectionService:
    return ProjectionService(db, ledger, clock, accounting.rebuild_postings)
