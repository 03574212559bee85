"""Build the projection service (called by kernel.bootstrap)."""

from __future__ import annotations

from paygod.banking.service import ProjectionService
from paygod.kernel.clock import Clock
from paygod.kernel.database import Database
from paygod.ledger import LedgerService


def build_projections(db: Database, clock: Clock, ledger: LedgerService) -> ProjectionService:
    return ProjectionService(db, ledger, clock)
