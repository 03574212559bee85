"""Notifications: what the outbox tap costs events nobody subscribed to, and how fast
subscribed events reach an in-app inbox.

Same kernel (SQLite), interleaved rounds. (1) Ledger appends each carrying one event of a
type no subscription wants, with ten subscriptions to other types installed, against the
same appends with the tap removed (the baseline): the tap's price is one dict lookup per
event at write time, so the ratio should be ~1. (2) Events fanned out to one in-app
subscription and delivered (queue entry, delivery, inbox row, sealed outcome), against the
same events consumed by a no-op handler (the baseline: the executor round trip alone).
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.harness import Figure, benchmark


def _draft(kind: str, i: int) -> Any:
    from paygod.kernel.events import EventEnvelope
    from paygod.ledger import EntryDraft

    now = datetime.now(UTC)
    event = EventEnvelope(
        event_type=kind, aggregate_id=f"a{i}", aggregate_type="bench", tenant_id="default",
        payload={"i": i}, occurred_at=now, recorded_at=now,
    )  # fmt: skip
    return EntryDraft("bench.event", f"bench:{i}", {"i": i}, events=(event,))


def _appends(kernel: Any, kind: str, n: int) -> float:
    started = time.perf_counter()
    for i in range(n):
        kernel.ledger.append(_draft(kind, i))
    return n / (time.perf_counter() - started)


@benchmark("notifications")
def notifications() -> Iterator[Figure]:
    from paygod.bootstrap import build_kernel
    from paygod.kernel.settings import load_settings

    n = int(os.environ.get("PAYGOD_BENCH_NOTIFICATION_EVENTS", "1000"))
    home = Path(tempfile.mkdtemp(prefix="paygod-bench-notify-"))
    kernel = build_kernel(load_settings(home=home, database_url=None, redis_url=None))
    try:
        for k in range(10):
            kernel.notifications.subscribe(
                "default", channel="inapp", target=f"p{k}", event_types=[f"other{k}.*"],
                actor="bench",
            )  # fmt: skip
        worker = kernel.executor
        taps = list(worker.taps)
        with_tap, without = [], []
        for _ in range(3):
            with_tap.append(_appends(kernel, "unwanted.event", n))
            worker.taps.clear()
            without.append(_appends(kernel, "unwanted.event", n))
            worker.taps.extend(taps)
        yield Figure(
            "notifications.unsubscribed_appends_per_s", max(with_tap), "appends/s",
            max(without), "the same appends without the notifications tap",
            {"events": n, "load_average": os.getloadavg()[0]},
        )  # fmt: skip
        kernel.notifications.subscribe(
            "default", channel="inapp", target="ops", event_types=["wanted.*"], actor="bench"
        )
        worker.register("plain.event", lambda message: None)
        rates: dict[str, float] = {}
        for kind in ("plain.event", "wanted.event"):
            for i in range(n):
                kernel.ledger.append(_draft(kind, i))
            started = time.perf_counter()
            worker.drain()
            rates[kind] = n / (time.perf_counter() - started)
        assert len(kernel.notifications.inbox("default", "ops")) >= min(n, 500)
        yield Figure(
            "notifications.inapp_deliveries_per_s", rates["wanted.event"], "deliveries/s",
            rates["plain.event"], "the same events consumed by a no-op handler",
            {"events": n, "load_average": os.getloadavg()[0]},
        )  # fmt: skip
    finally:
        kernel.close()
