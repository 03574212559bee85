"""Building the assurance service from the ledger and the decision packs it reads."""

from __future__ import annotations

from paygod import __version__
from paygod.assurance.service import AssuranceService
from paygod.decisions.packs import PackRepository
from paygod.ledger import LedgerService


def wire_assurance(ledger: LedgerService, packs: PackRepository) -> AssuranceService:
    return AssuranceService(ledger, packs, __version__)
