"""Builds the credit service from a kernel whose ledger is wired (simulated bureau)."""

from __future__ import annotations

from typing import Any

from paygod.credit.bureau import SimulatedBureau
from paygod.credit.service import CreditService


def wire_credit(kernel: Any) -> None:
    kernel.lending = CreditService(kernel.ledger, kernel.clock, SimulatedBureau())
