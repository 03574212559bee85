"""Deciders for payments.

`RuntimeDecider` asks the decision runtime (`kernel.decisions`) and maps its verdict:
allow → allow, deny → deny, flag → review (a human looks), error → deny (fail closed).

`ThresholdDecider` is the stand-in used when no decision runtime is wired (tests of the
payment lifecycle alone): it seals a small decision entry itself, with the same
`decision.finalized` event, so nothing moves without a sealed decision either way.
"""

from __future__ import annotations

from typing import Any

from paygod.kernel.clock import Clock
from paygod.kernel.events import EventEnvelope
from paygod.kernel.ids import new_id
from paygod.payments.model import PaymentDecision, PaymentRequest

VERDICTS = {"allow": "allow", "deny": "deny", "flag": "review", "review": "review"}


def payment_verdict(raw: str) -> str:
    """Fail closed: anything but allow/flag/review (error, unknown) denies."""
    return VERDICTS.get(raw, "deny")


class ThresholdDecider:
    def __init__(
        self,
        ledger: Any,
        clock: Clock,
        *,
        review_over: int = 1_000_000,
        deny_over: int = 100_000_000,
        blocked_payees: frozenset[str] = frozenset(),
    ) -> None:
        self.ledger = ledger
        self.clock = clock
        self.review_over = review_over
        self.deny_over = deny_over
        self.blocked_payees = blocked_payees

    def decide(
        self,
        *,
        tenant_id: str,
        payment_id: str,
        request: PaymentRequest,
        requested_by: str,
        idempotency_key: str,
    ) -> PaymentDecision:
        from paygod.ledger import EntryDraft

        flags: list[str] = []
        name = str(request.payee.get("name", ""))
        if name in self.blocked_payees:
            verdict, reason = "deny", "payee is on the blocked list"
            flags.append("blocked_payee")
        elif request.amount > self.deny_over:
            verdict, reason = "deny", f"amount above {self.deny_over}"
            flags.append("amount_over_limit")
        elif request.amount > self.review_over:
            verdict, reason = "review", f"amount above {self.review_over} needs a second person"
            flags.append("large_amount")
        else:
            verdict, reason = "allow", "within limits"
        decision_id = new_id()
        now = self.clock.now()
        payload = {
            "decision_id": decision_id,
            "verdict": verdict,
            "reason": reason,
            "subject": f"payment:{payment_id}",
            "pack": "builtin/payment-thresholds",
            "risk_flags": flags,
        }
        event = EventEnvelope(
            event_type="decision.finalized",
            aggregate_id=decision_id,
            aggregate_type="decision",
            tenant_id=tenant_id,
            payload=payload,
            occurred_at=now,
            recorded_at=now,
            correlation_id=payment_id,
        )
        entry = self.ledger.append(
            EntryDraft(
                kind="decision",
                subject=f"decision:{decision_id}",
                payload=payload,
                tenant_id=tenant_id,
                events=(event,),
            )
        )
        return PaymentDecision(
            decision_id, verdict, reason, entry.seq, tuple(flags), ("builtin/payment-thresholds",)
        )
