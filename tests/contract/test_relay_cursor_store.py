"""One contract for every relay cursor store: memory, SQLite, PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest

from paygod.events.ports import RelayCursorStore
from paygod.events.stores.cursor_memory import MemoryRelayCursorStore
from paygod.events.stores.cursor_sql import PostgresRelayCursorStore, SqliteRelayCursorStore
from paygod.kernel.clock import isoformat
from tests.contract.outbox_support import insert_outbox_row, postgres_database, sqlite_database

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@dataclass
class Harness:
    store: RelayCursorStore
    add: Callable[[str, int], None]


@pytest.fixture(params=["memory", "sqlite", "postgres"])
def cursors(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Harness]:
    if request.param == "memory":
        rows: list[dict[str, Any]] = []

        def add_memory(event_id: str, seq: int) -> None:
            rows.append(
                {
                    "event_id": event_id,
                    "entry_seq": seq,
                    "event_type": "payment.settled",
                    "tenant_id": "default",
                    "envelope": {"event_id": event_id, "payload": {"n": seq}},
                }
            )

        yield Harness(MemoryRelayCursorStore(rows), add_memory)
    elif request.param == "sqlite":
        db = sqlite_database(tmp_path)
        yield Harness(
            SqliteRelayCursorStore(db),
            lambda event_id, seq: insert_outbox_row(
                db, event_id, "payment.settled", isoformat(T0), seq
            ),
        )
        db.close()
    else:
        with postgres_database(request.getfixturevalue("postgres_url")) as pg:
            yield Harness(
                PostgresRelayCursorStore(pg),
                lambda event_id, seq: insert_outbox_row(
                    pg, event_id, "payment.settled", isoformat(T0), seq
                ),
            )


def test_a_new_cursor_starts_before_the_first_entry(cursors: Harness) -> None:
    assert cursors.store.get("main") is None
    cursor = cursors.store.acquire("main", "r1", now=T0, lease_seconds=10)
    assert cursor is not None
    assert cursor.position == (-1, "") and cursor.published == 0 and cursor.holder == "r1"


def test_one_holder_at_a_time_until_the_lease_lapses(cursors: Harness) -> None:
    assert cursors.store.acquire("main", "r1", now=T0, lease_seconds=10) is not None
    assert (
        cursors.store.acquire("main", "r2", now=T0 + timedelta(seconds=5), lease_seconds=10) is None
    )
    # The holder renews its own lease.
    assert cursors.store.acquire("main", "r1", now=T0 + timedelta(seconds=9), lease_seconds=10)
    assert (
        cursors.store.acquire("main", "r2", now=T0 + timedelta(seconds=15), lease_seconds=10)
        is None
    )
    # r1 went quiet: after its lease, r2 takes over.
    taken = cursors.store.acquire("main", "r2", now=T0 + timedelta(seconds=20), lease_seconds=10)
    assert taken is not None and taken.holder == "r2"
    # Cursors are independent by name.
    assert cursors.store.acquire("audit", "r1", now=T0, lease_seconds=10) is not None


def test_pending_reads_in_ledger_order_after_the_cursor(cursors: Harness) -> None:
    for event_id, seq in [("b", 2), ("a", 2), ("c", 1), ("d", 3), ("e", 0)]:
        cursors.add(event_id, seq)
    first = cursors.store.pending((-1, ""), limit=3)
    assert [(e.entry_seq, e.event_id) for e in first] == [(0, "e"), (1, "c"), (2, "a")]
    assert orjson.loads(first[0].body)["payload"] == {"n": 0}
    assert first[0].event_type == "payment.settled" and first[0].tenant_id == "default"
    # The cursor may sit between two events of one entry.
    rest = cursors.store.pending((2, "a"), limit=10)
    assert [e.event_id for e in rest] == ["b", "d"]
    assert cursors.store.lag((2, "a")) == 2
    assert cursors.store.lag((-1, "")) == 5
    assert cursors.store.pending((3, "d"), limit=10) == []


def test_advance_needs_the_lease_and_counts_what_was_published(cursors: Harness) -> None:
    cursors.add("x", 0)
    cursors.add("y", 1)
    assert cursors.store.acquire("main", "r1", now=T0, lease_seconds=10)
    assert cursors.store.advance("main", "r1", (1, "y"), 2, now=T0, lease_seconds=10)
    cursor = cursors.store.get("main")
    assert cursor is not None and cursor.position == (1, "y") and cursor.published == 2
    assert cursors.store.lag(cursor.position) == 0
    # r2 takes over after the lease; r1, waking up late, cannot move the cursor any more.
    assert cursors.store.acquire("main", "r2", now=T0 + timedelta(seconds=30), lease_seconds=10)
    assert not cursors.store.advance("main", "r1", (5, "z"), 1, now=T0, lease_seconds=10)
    after = cursors.store.get("main")
    assert after is not None and after.position == (1, "y") and after.holder == "r2"


def test_release_hands_the_lease_over_at_once(cursors: Harness) -> None:
    assert cursors.store.acquire("main", "r1", now=T0, lease_seconds=60)
    cursors.store.release("main", "r2")  # not the holder: nothing happens
    assert cursors.store.acquire("main", "r2", now=T0, lease_seconds=60) is None
    cursors.store.release("main", "r1")
    assert cursors.store.acquire("main", "r2", now=T0, lease_seconds=60) is not None
