"""Events no executor handler consumes are written as done; handled ones wait for a worker."""

from __future__ import annotations

from paygod.bootstrap import Kernel
from paygod.kernel.clock import SystemClock
from paygod.kernel.events import EventEnvelope
from paygod.ledger.model import EntryDraft


def envelope(event_type: str) -> EventEnvelope:
    now = SystemClock().now()
    return EventEnvelope(
        event_type=event_type,
        aggregate_id="agg-1",
        aggregate_type="test",
        tenant_id="default",
        payload={},
        occurred_at=now,
        recorded_at=now,
    )


def test_only_handled_event_types_wait_in_the_outbox(standalone_kernel: Kernel) -> None:
    kernel = standalone_kernel
    handled = envelope("payment.dispatch")
    unhandled = envelope("decision.finalized")
    kernel.ledger.append(
        EntryDraft(kind="test", subject="s", payload={}, events=(handled, unhandled))
    )
    store = kernel.executor.store
    assert store.get(handled.event_id).status == "pending"  # type: ignore[union-attr]
    assert store.get(unhandled.event_id).status == "done"  # type: ignore[union-attr]
    # The table is live: a handler registered later routes its events to the worker.
    kernel.executor.register("audit.access", lambda message: None)
    later = envelope("audit.access")
    kernel.ledger.append(EntryDraft(kind="test", subject="s", payload={}, events=(later,)))
    assert store.get(later.event_id).status == "pending"  # type: ignore[union-attr]
    # The relay publishes by its own cursor: every event counts as unpublished.
    from paygod.events.wiring import cursor_store_for

    assert cursor_store_for(kernel.db).lag((-1, "")) == 3


def test_an_outbox_message_has_the_ledger_outbox_tables_columns() -> None:
    # The stores build an OutboxMessage from a row read by the ledger's column list.
    from dataclasses import fields

    from paygod.executor.model import OutboxMessage
    from paygod.ledger import OUTBOX_COLUMNS

    assert tuple(f.name for f in fields(OutboxMessage)) == OUTBOX_COLUMNS
