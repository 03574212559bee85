"""Payment values: the lifecycle, instructions sent to rails and what rails answer."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
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


S = PaymentStatus
# The lifecycle, the one place it is written down: each status and where it may go next.
# DECIDED -> DECIDED is a reviewer's approval (the verdict stays, an approval is added);
# DISPATCHING -> DISPATCHING is the fallback to the next rail after one was unavailable.
TRANSITIONS: Mapping[PaymentStatus, frozenset[PaymentStatus]] = {
    S.REQUESTED: frozenset({S.DECIDED}),
    S.DECIDED: frozenset({S.DECIDED, S.DENIED, S.REJECTED, S.HELD, S.FAILED}),
    S.HELD: frozenset({S.DISPATCHING, S.FAILED}),
    S.DISPATCHING: frozenset({S.DISPATCHING, S.DISPATCHED, S.FAILED}),
    S.DISPATCHED: frozenset({S.SETTLED, S.REVERSED, S.FAILED}),
    S.SETTLED: frozenset({S.REVERSED}),  # a return after settlement (ACH R01...)
    S.FAILED: frozenset(),
    S.REVERSED: frozenset(),
    S.DENIED: frozenset(),
    S.REJECTED: frozenset(),
}
del S


class IllegalTransition(Exception):
    """A step the lifecycle does not have: a defect in the caller, never bad input."""

    def __init__(self, payment_id: str, source: PaymentStatus, target: PaymentStatus) -> None:
        super().__init__(f"payment {payment_id}: {source.value} -> {target.value} is not a step")
        self.source, self.target = source, target


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


@dataclass(frozen=True, slots=True)
class PaymentRequest:
    """A validated payment intent, as the caller sent it."""

    payer_account: str
    payee: Mapping[str, Any]
    amount: int
    currency: str
    purpose: str
    rail_preference: str = "cheapest"
    metadata: Mapping[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "payer_account": self.payer_account,
            "payee": dict(self.payee),
            "amount": self.amount,
            "currency": self.currency,
            "purpose": self.purpose,
            "rail_preference": self.rail_preference,
            "metadata": dict(self.metadata),
        }


@dataclass(frozen=True, slots=True)
class PaymentDecision:
    """The sealed decision a payment rests on (what the decision runtime answered)."""

    decision_id: str
    verdict: str  # allow | deny | review
    reason: str
    seq: int | None = None
    risk_flags: tuple[str, ...] = ()
    packs: tuple[str, ...] = ()
    # What else the verdict rests on (the payee's sanctions screening), sealed with it.
    evidence: Mapping[str, Any] | None = None

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "decision_id": self.decision_id,
            "verdict": self.verdict,
            "reason": self.reason,
            "seq": self.seq,
            "risk_flags": list(self.risk_flags),
            "packs": list(self.packs),
        }
        if self.evidence is not None:
            out["evidence"] = dict(self.evidence)
        return out


@dataclass(frozen=True, slots=True)
class Payment:
    """A payment's current state: the payload of the newest ledger entry for its subject.

    The raw payee (names, account numbers: personal data) is not part of it; the ledger
    holds its digest, the payee vault the data.
    """

    payment_id: str
    tenant_id: str
    status: PaymentStatus
    payer_account: str
    payee_ref: str
    amount: int
    currency: str
    purpose: str
    rail_preference: str
    metadata: Mapping[str, Any]
    requested_by: str
    request_digest: str
    created_at: str
    updated_at: str
    idempotency_key: str | None = None
    decision: Mapping[str, Any] | None = None
    hold_id: str | None = None
    rail: str | None = None
    rail_reference: str | None = None
    fee: int | None = None
    attempted_rails: tuple[str, ...] = ()
    approvals: tuple[Mapping[str, Any], ...] = ()
    failure_reason: str | None = None
    version: int = 0

    def can_move_to(self, status: PaymentStatus) -> bool:
        return status in TRANSITIONS[self.status]

    def move_to(self, status: PaymentStatus, at: str, **changes: Any) -> Payment:
        """The payment one step on, at `at`, with `changes`; refuses a step the lifecycle
        does not have (`TRANSITIONS`)."""
        if not self.can_move_to(status):
            raise IllegalTransition(self.payment_id, self.status, status)
        return replace(self, status=status, updated_at=at, version=self.version + 1, **changes)

    def as_dict(self) -> dict[str, Any]:
        return {
            "payment_id": self.payment_id,
            "tenant_id": self.tenant_id,
            "status": self.status.value,
            "payer_account": self.payer_account,
            "payee_ref": self.payee_ref,
            "amount": self.amount,
            "currency": self.currency,
            "purpose": self.purpose,
            "rail_preference": self.rail_preference,
            "metadata": dict(self.metadata),
            "requested_by": self.requested_by,
            "request_digest": self.request_digest,
            "idempotency_key": self.idempotency_key,
            "decision": dict(self.decision) if self.decision else None,
            "hold_id": self.hold_id,
            "rail": self.rail,
            "rail_reference": self.rail_reference,
            "fee": self.fee,
            "attempted_rails": list(self.attempted_rails),
            "approvals": [dict(a) for a in self.approvals],
            "failure_reason": self.failure_reason,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            "version": self.version,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Payment:
        return cls(
            payment_id=data["payment_id"],
            tenant_id=data["tenant_id"],
            status=PaymentStatus(data["status"]),
            payer_account=data["payer_account"],
            payee_ref=data["payee_ref"],
            amount=int(data["amount"]),
            currency=data["currency"],
            purpose=data["purpose"],
            rail_preference=data["rail_preference"],
            metadata=dict(data.get("metadata") or {}),
            requested_by=data["requested_by"],
            request_digest=data["request_digest"],
            created_at=data["created_at"],
            updated_at=data["updated_at"],
            idempotency_key=data.get("idempotency_key"),
            decision=data.get("decision"),
            hold_id=data.get("hold_id"),
            rail=data.get("rail"),
            rail_reference=data.get("rail_reference"),
            fee=data.get("fee"),
            attempted_rails=tuple(data.get("attempted_rails") or ()),
            approvals=tuple(data.get("approvals") or ()),
            failure_reason=data.get("failure_reason"),
            version=int(data.get("version") or 0),
        )
