"""Ports the payments module owns: rail connectors, the decision it rests on, holds, payees."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Protocol

from paygod.payments.model import (
    Payment,
    PaymentDecision,
    PaymentInstruction,
    PaymentRequest,
    RailReceipt,
    SettlementNotice,
)

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


class PaymentDecider(Protocol):
    """Asks the decision runtime about a payment and returns the sealed decision."""

    def decide(
        self,
        *,
        tenant_id: str,
        payment_id: str,
        request: PaymentRequest,
        requested_by: str,
        idempotency_key: str,
    ) -> PaymentDecision: ...


class Holds(Protocol):
    """Two-phase money movement for payments (accounting pending transfers)."""

    def place(self, payment: Payment) -> str: ...

    def post(self, payment: Payment) -> None: ...

    def release(self, payment: Payment) -> None: ...

    def reverse(self, payment: Payment) -> None: ...


class PayeeVault(Protocol):
    """Where raw payee details live (personal data), outside the ledger.

    `put` receives the ledger's transaction handle (`conn`), so the payee row commits
    with the entry that references it.
    """

    def put(self, conn: Any, payment_id: str, payee: Mapping[str, Any]) -> None: ...

    def get(self, payment_id: str) -> dict[str, Any] | None: ...
