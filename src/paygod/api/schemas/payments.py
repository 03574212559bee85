"""Success bodies of the payment routes (`api/routers/payments.py`)."""

from __future__ import annotations

from typing import Any

from paygod.api.schemas import Body


class RailOption(Body):
    rail: str
    eligible: bool
    rank: int | None
    fee: int | None
    eta_seconds: int | None
    eta_at: str | None
    reason: str


class Quote(Body):
    """Which rail, what fee (minor units), when it arrives, and why not the others."""

    amount: int
    currency: str
    preference: str
    quoted_at: str
    selected: RailOption | None
    rail: str | None
    fee: int | None
    eta_at: str | None
    alternatives: list[RailOption]


class Payment(Body):
    """A payment's current state (the raw payee is never part of it: `payee_ref`)."""

    payment_id: str
    tenant_id: str
    status: str
    payer_account: str
    payee_ref: str
    amount: int
    currency: str
    purpose: str
    rail_preference: str
    metadata: dict[str, Any]
    requested_by: str
    request_digest: str
    idempotency_key: str | None
    decision: dict[str, Any] | None
    hold_id: str | None
    rail: str | None
    rail_reference: str | None
    fee: int | None
    attempted_rails: list[str]
    approvals: list[dict[str, Any]]
    failure_reason: str | None
    created_at: str
    updated_at: str
    version: int


class PaymentList(Body):
    payments: list[Payment]


class PaymentStep(Body):
    seq: int
    transition: str | None
    status: str
    recorded_at: str
    evidence: dict[str, Any]


class PaymentWithHistory(Payment):
    history: list[PaymentStep]
