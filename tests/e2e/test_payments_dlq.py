"""The dead-letter queue as an operator meets it: list, retry, discard — each recorded."""

from __future__ import annotations

import json
from pathlib import Path

from paygod.bootstrap import build_kernel
from paygod.kernel.events import EventEnvelope
from paygod.ledger import EntryDraft
from tests.e2e.conftest import run_cli


def test_dead_letter_list_retry_discard(paygod_home: Path) -> None:
    kernel = build_kernel()
    try:
        now = kernel.clock.now()
        event = EventEnvelope(
            event_type="payment.dispatch",
            aggregate_id="no-such-payment",
            aggregate_type="payment",
            tenant_id="default",
            payload={},
            occurred_at=now,
            recorded_at=now,
        )
        kernel.ledger.append(EntryDraft(kind="test", subject="orphan", payload={}, events=(event,)))
        kernel.executor.drain()  # unknown payment: a permanent failure, dead at once
    finally:
        kernel.close()
    listed = json.loads(run_cli("executor", "dlq", "list", "--json").stdout)["dead"]
    assert [d["event_id"] for d in listed] == [event.event_id]
    assert "no payment no-such-payment" in listed[0]["last_error"]

    retried = run_cli("executor", "dlq", "retry", event.event_id, "--json")
    assert json.loads(retried.stdout)["requeued"] == [event.event_id]
    assert run_cli("worker", "--once").code == 0  # still unknown: dead again
    discarded = run_cli("executor", "dlq", "discard", "--all", "--json")
    assert json.loads(discarded.stdout)["discarded"] == [event.event_id]
    assert json.loads(run_cli("executor", "dlq", "list", "--json").stdout)["dead"] == []

    kernel = build_kernel()
    try:
        actions = [e.payload["action"] for e in kernel.ledger.history(f"outbox:{event.event_id}")]
        assert actions == ["retry", "discard"]
    finally:
        kernel.close()
