"""Request bodies many tests send: a decision the bundled packs allow (by default)."""

from __future__ import annotations

from typing import Any


def decision_body(amount: int = 1500, verified: bool = True, **extra: Any) -> dict[str, Any]:
    return {
        "subject": "urn:paygod:agent:billing-bot",
        "context": {"channel": "api", "evidence_refs": ["urn:paygod:invoice:991"]},
        "input": {
            "payment": {
                "amount_minor": amount,
                "currency": "EUR",
                "rail": "sepa",
                "counterparty": {"ref": "urn:paygod:cp:acme", "verified": verified},
            }
        },
        **extra,
    }
