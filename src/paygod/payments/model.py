"""Payment values: the lifecycle, instructions sent to rails and what rails answer."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class PaymentStatus(StrEnum):
    REQUESTED = "requested"
    DECIDED = "decided"
    HELD = "held"
    DISPATCHING = "dispatching"  # intent recorded before the rail call (crash recovery)
    DISPATCHED = "dispatched"
    SETTLED = "settled"
    FAILED = "failed"
    REVERSED = "reversed"
    DENIED = "denied"
    REJECTED = "rejected"  # review rejected by the checker


TERMINAL = frozenset(
    {
        PaymentStatus.SETTLED,
        PaymentStatus.FAILED,
        PaymentStatus.REVERSED,
        PaymentStatus.DENIED,
        PaymentStatus.REJECTED,
    }
)


class RailError(Exception):
    """Base of rail connector failures."""


class RailUnavailable(RailError):
    """The rail did not take the payment (timeout, 5xx, outage): try another rail."""


class RailRefused(RailError):
    """The rail will never take this instruction (invalid IBAN, unsupported payee)."""


@dataclass(frozen=True, slots=True)
class PaymentInstruction:
    payment_id: str
    rail: str
    amount: int
    currency: str
    payee: Mapping[str, Any]
    payer_account: str
    purpose: str
    tenant_id: str = "default"
    idempotency_key: str = ""

    @property
    def key(self) -> str:
        return self.idempotency_key or self.payment_id

    def as_dict(self) -> dict[str, Any]:
        return {
            "payment_id": self.payment_id,
            "idempotency_key": self.key,
            "rail": self.rail,
            "amount": self.amount,
            "currency": self.currency,
            "payee": dict(self.payee),
            "payer_account": self.payer_account,
            "purpose": self.purpose,
            "tenant_id": self.tenant_id,
        }


@dataclass(frozen=True, slots=True)
class RailReceipt:
    rail: str
    idempotency_key: str
    status: str  # accepted | settled | failed
    reference: str
    detail: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "rail": self.rail,
            "idempotency_key": self.idempotency_key,
            "status": self.status,
            "reference": self.reference,
            "detail": self.detail,
        }


@dataclass(frozen=True, slots=True)
class SettlementNotice:
    """A rail's word that a payment settled or failed (callback or verified webhook)."""

    rail: str
    idempotency_key: str
    status: str  # settled | failed | reversed
    reference: str = ""
    detail: str = ""
    extra: Mapping[str, Any] = field(default_factory=dict)
