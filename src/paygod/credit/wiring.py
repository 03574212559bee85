"""Builds the credit services from a kernel whose ledger, accounting and payments are wired
(simulated bureau)."""

from __future__ import annotations

from typing import Any

from paygod.credit.bureau import SimulatedBureau
from paygod.credit.loans import LoanService
from paygod.credit.service import CreditService


def wire_credit(kernel: Any) -> None:
    kernel.lending = CreditService(kernel.ledger, kernel.clock, SimulatedBureau())
    kernel.loans = LoanService(
        kernel.ledger, kernel.clock, kernel.lending, kernel.accounting, kernel.payments
    )
