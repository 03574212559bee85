"""What loans and credit lines share in how they are sealed: each version a whole-state entry
about the aggregate's subject, its transitions listed from them, a receipt of an entry, and
the event envelope every step sends (the borrower as `principal_id`, whom a notification
subscription tells)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from paygod.kernel.clock import Clock
from paygod.kernel.events import EventEnvelope
from paygod.ledger import LedgerService
from paygod.ledger.model import Entry


def transitions(ledger: LedgerService, subject: str, kind: str) -> list[dict[str, Any]]:
    """Each sealed version's seq, time and transition, oldest first."""
    return [
        {"seq": e.seq, "recorded_at": e.timestamp, "transition": e.payload["transition"]}
        for e in ledger.history(subject)
        if e.kind == kind
    ]


def receipt(ledger: LedgerService, entry: Entry) -> dict[str, Any]:
    """Where the entry sits in the ledger, proved under a signed tree head: the ledger's one
    receipt issuer (its head cache shared with every other module)."""
    issued = ledger.receipts.issue([entry])
    assert issued is not None
    return {**issued, "recorded_at": entry.timestamp}


def aggregate_event(
    clock: Clock,
    event_type: str,
    *,
    aggregate_type: str,
    id_key: str,
    aggregate_id: str,
    tenant_id: str,
    status: str,
    borrower: str,
    extra: Mapping[str, Any],
) -> EventEnvelope:
    now = clock.now()
    return EventEnvelope(
        event_type=event_type,
        aggregate_id=aggregate_id,
        aggregate_type=aggregate_type,
        tenant_id=tenant_id,
        payload={id_key: aggregate_id, "status": status, "principal_id": borrower, **extra},
        occurred_at=now,
        recorded_at=now,
        correlation_id=aggregate_id,
    )
