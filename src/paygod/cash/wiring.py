"""Build the cash service (called by kernel.bootstrap)."""

from __future__ import annotations

from paygod.accounting.service import AccountingService
from paygod.cash.service import CashService


def build_cash(accounting: AccountingService) -> CashService:
    return CashService(accounting)
