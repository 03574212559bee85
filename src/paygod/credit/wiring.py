"""Builds the credit services (simulated bureau) from the ledger, accounting and payments
they lend through."""

from __future__ import annotations

from typing import TYPE_CHECKING

from paygod.credit.bureau import SimulatedBureau
from paygod.credit.loans import LoanService
from paygod.credit.service import CreditService

if TYPE_CHECKING:
    from paygod.accounting import AccountingService
    from paygod.kernel.clock import Clock
    from paygod.ledger import LedgerService
    from paygod.payments.service import PaymentService


def build_credit(
    ledger: LedgerService, clock: Clock, accounting: AccountingService, payments: PaymentService
) -> tuple[CreditService, LoanService]:
    lending = CreditService(ledger, clock, SimulatedBureau())
    return lending, LoanService(ledger, clock, lending, accounting, payments)
