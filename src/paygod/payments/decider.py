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
from paygod.kernel.record_ids import new_id
from paygod.ledger.steps import Steps
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
        draft = EntryDraft(
            kind="decision",
            subject=f"decision:{decision_id}",
            payload=payload,
            tenant_id=tenant_id,
            events=(event,),
        )
        sealing = self.ledger.transaction(lambda conn: (None, [draft]))
        yield sealing
        _, (entry,) = self.ledger.outcome(sealing)
        return PaymentDecision(
            decision_id, verdict, reason, entry.seq, tuple(flags), ("builtin/payment-thresholds",)
        )


# The payment packs name rails in their own words (paygod/v1 reference vocabulary).
PACK_RAILS = {
    "ach": "ach",
    "wire": "wire",
    "card": "card",
    "instant": "rtp",
    "sepa_credit": "sepa",
    "internal": "ach",
}


def decision_input(
    request: PaymentRequest, rail: str, payee_ref: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(input, context) for the decision runtime. Only references and non-personal facts:
    the payee travels as its digest, never as names or account numbers."""
    metadata = dict(request.metadata)
    payment: dict[str, Any] = {
        "amount_minor": request.amount,
        "currency": request.currency,
        "rail": PACK_RAILS.get(rail, rail),
        "paygod_rail": rail,
        "purpose": request.purpose,
        "counterparty": {
            "ref": payee_ref,
            "verified": metadata.get("counterparty_verified") is True,
        },
    }
    country = request.payee.get("country")
    if isinstance(country, str):
        payment["counterparty"]["country"] = country
    input_doc: dict[str, Any] = {"payment": payment}
    risk = metadata.get("risk")
    if isinstance(risk, dict):
        input_doc["risk"] = risk
    context: dict[str, Any] = {"channel": "payments", "evidence_refs": [payee_ref]}
    mandate = mandate_context(metadata, rail)
    if mandate is not None:  # measured by paygod.mandates (`measure.mandate.*`)
        context["mandate"] = mandate
    return input_doc, context


def mandate_context(metadata: dict[str, Any], rail: str) -> dict[str, Any] | None:
    """The mandate a payment is made under (`metadata.mandate_id`) and the facts its
    constraints are checked against: merchant, category, rail."""
    mandate_id = metadata.get("mandate_id")
    if not isinstance(mandate_id, str):
        return None
    found: dict[str, Any] = {"mandate_id": mandate_id, "rail": rail}
    for key, name in (("merchant_id", "merchant"), ("merchant_category", "category")):
        if isinstance(metadata.get(key), str):
            found[name] = metadata[key]
    return found


def risk_unavailable(result: dict[str, Any]) -> bool:
    return any(
        isinstance(m, dict) and m.get("name") == "risk_band" and m.get("value") == "unavailable"
        for m in result.get("measurements") or ()
    )


class RuntimeDecider:
    """Adapter over `paygod.decisions.DecisionService` (kernel.decisions)."""

    def __init__(self, decisions: Any, *, quote_rail: Any = None) -> None:
        self.decisions = decisions
        self.quote_rail = quote_rail  # (request) -> rail name the payment would take

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
        from paygod.canonical import digest

        if rail is None:
            rail = self.quote_rail(request) if self.quote_rail else request.rail_preference
        input_doc, context = decision_input(request, rail, digest(dict(request.payee)))
        result = yield from self.decisions.decide_steps(
            subject=f"account:{request.payer_account}",
            context=context,
            input=input_doc,
            idempotency_key=f"payment:{payment_id}",
            tenant_id=tenant_id,
            requested_by=requested_by,
            receipt=False,  # the payment keeps the seq; its own entries are its receipt
        )
        raw = str(result.get("decision", "error"))
        verdict = payment_verdict(raw)
        reason = str(result.get("reason") or raw)
        # Whatever the packs read, money never moves on a risk model that could not score.
        if verdict == "allow" and risk_unavailable(result):
            verdict, reason = "review", "the risk model could not score this payment (fail closed)"
        packs = result.get("packs") or []
        flags = tuple(
            f"{p.get('name')}/{p.get('rule')}"
            for p in packs
            if isinstance(p, dict) and p.get("decision") in ("deny", "flag", "error")
        )
        return PaymentDecision(
            decision_id=str(result["decision_id"]),
            verdict=verdict,
            reason=reason,
            seq=(result.get("ledger") or {}).get("seq"),
            risk_flags=flags,
            packs=tuple(
                f"{p.get('name')}@{p.get('version')}" for p in packs if isinstance(p, dict)
            ),
        )
