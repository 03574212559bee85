"""Payee screening at payment time: a `PaymentDecider` that wraps the payments decider.

The payee is screened before the decision is asked for. No hit: the decision stands and
carries the screening (threshold, snapshots) as evidence. A hit at or above the tenant's
threshold: the screening is sealed first (with its `compliance.screening_hit` event, which
opens a case), then the decision is asked for and its verdict becomes `review` (a denial
stays a denial) with the hits in its evidence. A payment never passes a hit silently.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from paygod.canonical import digest
from paygod.compliance.model import ScreeningQuery
from paygod.compliance.query import payee_query
from paygod.compliance.service import ScreeningService
from paygod.ledger.steps import Steps
from paygod.payments.model import PaymentDecision, PaymentRequest
from paygod.payments.ports import PaymentDecider

REMEMBERED = 100_000


class ScreeningDecider:
    def __init__(self, inner: PaymentDecider, screening: ScreeningService) -> None:
        self.inner = inner
        self.screening = screening
        # Payees this process already remembered for re-screening: a repeat payee costs
        # no write (a new one costs one small upsert outside the payment's transaction).
        self._remembered: dict[tuple[str, str, ScreeningQuery], None] = {}

    def _remember(self, tenant_id: str, subject: str, query: ScreeningQuery) -> None:
        key = (tenant_id, subject, query)
        if key in self._remembered:
            return
        self.screening.store.remember_subject(None, tenant_id, subject, query)
        self._remembered[key] = None
        if len(self._remembered) > REMEMBERED:
            self._remembered.pop(next(iter(self._remembered)))

    def decide_steps(
        self,
        *,
        tenant_id: str,
        payment_id: str,
        request: PaymentRequest,
        requested_by: str,
        idempotency_key: str,
        rail: str | None = None,
    ) -> Steps[PaymentDecision]:
        query = payee_query(request.payee)
        ask: dict[str, Any] = {
            "tenant_id": tenant_id,
            "payment_id": payment_id,
            "request": request,
            "requested_by": requested_by,
            "idempotency_key": idempotency_key,
            "rail": rail,
        }
        if query is None:
            decision = yield from self.inner.decide_steps(**ask)
            return replace(decision, evidence={"screening": {"decision": "not-screened"}})
        subject = digest(dict(request.payee))  # the payment's payee_ref
        result = self.screening.screen(tenant_id, query)
        screened = {
            "decision": result.decision,
            "threshold": result.threshold,
            "snapshots": list(result.snapshots),
            # The payee's country alone (no name): AML's high-risk jurisdiction typology.
            "country": query.country,
        }
        if not result.hits:
            self._remember(tenant_id, subject, query)
            decision = yield from self.inner.decide_steps(**ask)
            return replace(decision, evidence={"screening": screened})
        screening_id, draft = self.screening.screening_draft(
            tenant_id,
            query,
            result,
            source="payment",
            subject=subject,
            requested_by=requested_by,
            payment_id=payment_id,
        )

        def work(conn: Any) -> tuple[None, list[Any]]:
            self.screening.store.remember_subject(conn, tenant_id, subject, query)
            return None, [draft]

        sealing = self.screening.ledger.transaction(work)
        yield sealing
        _, (entry,) = self.screening.ledger.outcome(sealing)
        decision = yield from self.inner.decide_steps(**ask)
        best = result.hits[0]
        verdict = "deny" if decision.verdict == "deny" else "review"
        reason = (
            decision.reason
            if verdict == "deny"
            else f"sanctions screening hit: {best.list} {best.entry_id} {best.name!r} "
            f"scored {best.score} >= {result.threshold}"
        )
        flags = tuple(f"sanctions/{h.list}:{h.entry_id}" for h in result.hits)
        return replace(
            decision,
            verdict=verdict,
            reason=reason,
            risk_flags=(*decision.risk_flags, *flags),
            evidence={
                "screening": {
                    **screened,
                    "screening_id": screening_id,
                    "seq": entry.seq,
                    "hits": [h.evidence() for h in result.hits],
                }
            },
        )
