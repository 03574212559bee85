"""Ports the payments module owns: rail connectors."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from paygod.payments.model import PaymentInstruction, RailReceipt, SettlementNotice

SettlementListener = Callable[[SettlementNotice], None]


class RailConnector(Protocol):
    """Carries one payment instruction to one rail.

    `send` must be idempotent on `instruction.idempotency_key` at the rail (real rails
    dedupe on it). It raises `RailUnavailable` when the rail did not take the payment (safe
    to try another rail) and `RailRefused` when the instruction itself is unacceptable.
    `lookup` asks the rail what it knows about a key without sending anything: after a
    crash mid-dispatch the executor looks before it sends again.
    """

    name: str

    def send(self, instruction: PaymentInstruction) -> RailReceipt: ...

    def lookup(self, idempotency_key: str) -> RailReceipt | None: ...
