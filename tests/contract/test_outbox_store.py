"""One contract for every outbox store adapter: memory, SQLite, PostgreSQL."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from paygod.executor.ports import OutboxStore
from paygod.executor.stores.outbox_memory import MemoryOutboxStore
from paygod.executor.stores.outbox_sql import PostgresOutboxStore, SqliteOutboxStore
from paygod.kernel.clock import isoformat
from tests.contract.outbox_support import insert_outbox_row, postgres_database, sqlite_database

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


class Harness:
    def __init__(self, store: OutboxStore, add: object) -> None:
        self.store = store
        self._add = add

    def add(
        self,
        event_id: str,
        event_type: str = "payment.dispatch",
        *,
        at: datetime = T0,
        seq: int = 0,
        tenant: str = "default",
    ) -> None:
        self._add(event_id, event_type, isoformat(at), seq, tenant)  # type: ignore[operator]


@pytest.fixture(params=["memory", "sqlite", "postgres"])
def outbox(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Harness]:
    if request.param == "memory":
        memory = MemoryOutboxStore()

        def add_memory(event_id: str, event_type: str, at: str, seq: int, tenant: str) -> None:
            memory.source.append(
                {
                    "event_id": event_id,
                    "entry_seq": seq,
                    "event_type": event_type,
                    "tenant_id": tenant,
                    "aggregate_id": f"agg-{seq}",
                    "envelope": {"event_id": event_id, "payload": {"n": seq}},
                    "available_at": at,
                    "created_at": at,
                }
            )

        yield Harness(memory, add_memory)
    elif request.param == "sqlite":
        db = sqlite_database(tmp_path)
        yield Harness(SqliteOutboxStore(db), lambda *a: insert_outbox_row(db, *a))
        db.close()
    else:
        with postgres_database(request.getfixturevalue("postgres_url")) as pg:
            yield Harness(PostgresOutboxStore(pg), lambda *a: insert_outbox_row(pg, *a))


def test_claim_leases_pending_rows_in_order(outbox: Harness) -> None:
    outbox.add("e2", at=T0 + timedelta(seconds=1), seq=2)
    outbox.add("e1", seq=1)
    claimed = outbox.store.claim("w1", now=T0 + timedelta(seconds=5), limit=10, lease_seconds=30)
    assert [m.event_id for m in claimed] == ["e1", "e2"]
    assert all(m.claimed_by == "w1" and m.attempts == 1 for m in claimed)
    assert claimed[0].payload == {"n": 1}
    # Leased: a second worker gets nothing until the lease ends.
    assert outbox.store.claim("w2", now=T0 + timedelta(seconds=6), limit=10, lease_seconds=30) == []


def test_future_rows_wait_until_available(outbox: Harness) -> None:
    outbox.add("later", at=T0 + timedelta(minutes=5))
    assert outbox.store.claim("w1", now=T0, limit=10, lease_seconds=30) == []
    later = T0 + timedelta(minutes=5)
    assert [
        m.event_id for m in outbox.store.claim("w1", now=later, limit=10, lease_seconds=30)
    ] == ["later"]


def test_expired_lease_is_claimed_again_and_counts_an_attempt(outbox: Harness) -> None:
    outbox.add("e1")
    outbox.store.claim("crashed", now=T0, limit=1, lease_seconds=10)
    again = outbox.store.claim("w2", now=T0 + timedelta(seconds=11), limit=1, lease_seconds=10)
    assert [(m.event_id, m.attempts, m.claimed_by) for m in again] == [("e1", 2, "w2")]
    # The crashed worker lost its lease: its late ack changes nothing.
    assert outbox.store.ack("e1", "crashed") is False
    assert outbox.store.ack("e1", "w2") is True
    assert outbox.store.counts()["done"] == 1


def test_limit_and_event_type_filter(outbox: Harness) -> None:
    for i in range(5):
        outbox.add(f"p{i}", "payment.dispatch", seq=i)
    outbox.add("d1", "decision.finalized", seq=9)
    only = outbox.store.claim(
        "w", now=T0, limit=10, lease_seconds=5, event_types=["decision.finalized"]
    )
    assert [m.event_id for m in only] == ["d1"]
    assert len(outbox.store.claim("w", now=T0, limit=3, lease_seconds=5)) == 3


def test_claim_skips_the_tenants_whose_panic_switch_is_on(outbox: Harness) -> None:
    outbox.add("a1", seq=1, tenant="acme")
    outbox.add("g1", seq=2, tenant="globex")
    outbox.add("i1", seq=3, tenant="initech")
    claimed = outbox.store.claim(
        "w", now=T0, limit=10, lease_seconds=5, skip_tenants=frozenset({"acme", "initech"})
    )
    assert [m.event_id for m in claimed] == ["g1"]
    # Frozen messages were not leased: no attempt counted, claimable once released.
    again = outbox.store.claim("w", now=T0, limit=10, lease_seconds=5)
    assert [(m.event_id, m.attempts) for m in again] == [("a1", 1), ("i1", 1)]


def test_release_moves_available_at_and_keeps_the_error(outbox: Harness) -> None:
    outbox.add("e1")
    outbox.store.claim("w", now=T0, limit=1, lease_seconds=30)
    retry_at = T0 + timedelta(seconds=8)
    assert outbox.store.release("e1", "w", error="rail timeout", available_at=retry_at)
    assert outbox.store.claim("w", now=T0 + timedelta(seconds=7), limit=1, lease_seconds=30) == []
    message = outbox.store.get("e1")
    assert message is not None and message.last_error == "rail timeout"
    assert len(outbox.store.claim("w", now=retry_at, limit=1, lease_seconds=30)) == 1


def test_dead_letter_list_retry_and_discard(outbox: Harness) -> None:
    outbox.add("e1", seq=1)
    outbox.add("e2", seq=2)
    outbox.store.claim("w", now=T0, limit=2, lease_seconds=30)
    assert outbox.store.bury("e1", "w", error="boom 1")
    assert outbox.store.bury("e2", "w", error="boom 2")
    dead = outbox.store.list("dead")
    assert {(m.event_id, m.last_error) for m in dead} == {("e1", "boom 1"), ("e2", "boom 2")}
    assert outbox.store.requeue("e1", now=T0) is True
    again = outbox.store.claim("w", now=T0, limit=5, lease_seconds=30)
    assert [(m.event_id, m.attempts) for m in again] == [("e1", 1)]
    assert outbox.store.discard("e2") is True
    assert outbox.store.discard("e2") is False  # no longer dead
    assert outbox.store.counts() == {"pending": 1, "done": 1, "dead": 0}
    assert outbox.store.requeue("missing", now=T0) is False


def test_concurrent_claims_never_share_a_row(outbox: Harness) -> None:
    for i in range(60):
        outbox.add(f"e{i:02d}", seq=i)
    seen: list[str] = []
    lock = threading.Lock()

    def work(name: str) -> None:
        while True:
            got = outbox.store.claim(name, now=T0, limit=4, lease_seconds=60)
            if not got:
                return
            with lock:
                seen.extend(m.event_id for m in got)

    threads = [threading.Thread(target=work, args=(f"w{i}",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(seen) == [f"e{i:02d}" for i in range(60)]


def test_ack_many_acknowledges_only_what_this_worker_holds(outbox: Harness) -> None:
    for i in range(4):
        outbox.add(f"e{i}", seq=i)
    outbox.store.claim("w1", now=T0, limit=3, lease_seconds=30)
    assert outbox.store.ack_many(["e0", "e1", "e3"], "w1") == 2  # e3 was never claimed by w1
    assert outbox.store.ack_many([], "w1") == 0
    assert outbox.store.counts() == {"pending": 2, "done": 2, "dead": 0}
