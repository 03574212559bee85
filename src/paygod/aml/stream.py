"""What the monitor reads from sealed ledger entries: money movements and thresholds.

Money moves in accounting: a `transfer` entry whose action posts funds (`post`, or
`post_pending` resolving a hold) moves `amount` from its debit account to its credit
account. Reversals undo a movement and are not one. A `payment` entry at its `held`
transition adds where a payment's funds go (the payee's country), which the transfers do
not say.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from paygod.aml.model import Movement, Thresholds
from paygod.kernel.clock import parse_instant
from paygod.ledger.model import Entry

THRESHOLDS_KIND = "aml.thresholds"
POSTING_ACTIONS = frozenset({"post", "post_pending"})


def thresholds_subject(tenant_id: str) -> str:
    return f"urn:paygod:aml-thresholds:{tenant_id}"


def _at(value: Any, entry: Entry) -> float:
    if isinstance(value, str):
        try:
            return parse_instant(value).timestamp()
        except ValueError:
            pass
    return entry.recorded_at.timestamp()


def payment_country(payment: Mapping[str, Any]) -> str | None:
    """The payee's country: the screening evidence sealed with the decision, or the
    payment's metadata (`payee_country`)."""
    decision = payment.get("decision") or {}
    evidence = decision.get("evidence") if isinstance(decision, Mapping) else None
    screening = evidence.get("screening") if isinstance(evidence, Mapping) else None
    country = screening.get("country") if isinstance(screening, Mapping) else None
    if not isinstance(country, str):
        metadata = payment.get("metadata") or {}
        country = metadata.get("payee_country") if isinstance(metadata, Mapping) else None
    if isinstance(country, str) and len(country) == 2 and country.isalpha():
        return country.upper()
    return None


def movement(entry: Entry) -> Movement | None:
    p = entry.payload
    if entry.kind == "transfer":
        if p.get("action") not in POSTING_ACTIONS or "reversal_of" in p:
            return None
        debit, credit = p.get("debit_account_id"), p.get("credit_account_id")
        if not isinstance(debit, str) or not isinstance(credit, str):
            return None
        return Movement(
            entry.tenant_id,
            "transfer",
            str(p.get("transfer_id")),
            entry.seq,
            _at(p.get("timestamp"), entry),
            debit,
            credit,
            int(p.get("amount") or 0),
        )
    if entry.kind == "payment" and p.get("transition") == "held":
        payment = p.get("payment") or {}
        return Movement(
            entry.tenant_id,
            "payment",
            str(payment.get("payment_id")),
            entry.seq,
            _at(payment.get("updated_at"), entry),
            str(payment.get("payer_account")),
            str(payment.get("payee_ref")),
            int(payment.get("amount") or 0),
            payment_country(payment),
        )
    return None


def thresholds(entry: Entry) -> Thresholds | None:
    if entry.kind != THRESHOLDS_KIND:
        return None
    return Thresholds.from_dict(entry.payload.get("thresholds") or {})
