"""PostgreSQL: several processes append to one ledger; the chain head serialises them."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import uuid
from collections.abc import Iterator

import psycopg
import pytest

from paygod.kernel.clock import SystemClock
from paygod.kernel.database import PostgresDatabase, migrate
from paygod.ledger import EntryDraft, LedgerService
from paygod.ledger.stores.postgres import PostgresLedgerStore

WRITER = textwrap.dedent(
    """
    import sys, threading
    from paygod.kernel.clock import SystemClock
    from paygod.kernel.database import PostgresDatabase
    from paygod.ledger import EntryDraft, LedgerService
    from paygod.ledger.stores.postgres import PostgresLedgerStore

    url, name = sys.argv[1], sys.argv[2]
    db = PostgresDatabase(url)
    ledger = LedgerService(PostgresLedgerStore(db), SystemClock())

    def run(t):
        for i in range(15):
            ledger.append(EntryDraft("observation", name, {"t": t, "i": i}))

    threads = [threading.Thread(target=run, args=(t,)) for t in range(3)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    ledger.append_many([EntryDraft("observation", name, {"bulk": k}) for k in range(10)])
    ledger.close()
    db.close()
    """
)


@pytest.fixture
def schema_url(postgres_url: str) -> Iterator[str]:
    schema = f"t_{uuid.uuid4().hex}"
    with psycopg.connect(postgres_url, autocommit=True) as admin:
        admin.execute(f"CREATE SCHEMA {schema}")
    sep = "&" if "?" in postgres_url else "?"
    url = f"{postgres_url}{sep}options=-csearch_path%3D{schema}"
    try:
        yield url
    finally:
        with psycopg.connect(postgres_url, autocommit=True) as admin:
            admin.execute(f"DROP SCHEMA {schema} CASCADE")


def test_concurrent_writers_in_several_processes(schema_url: str) -> None:
    db = PostgresDatabase(schema_url)
    migrate(db)
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, schema_url, f"proc-{n}"],
            env={**os.environ},
            stderr=subprocess.PIPE,
        )
        for n in range(3)
    ]
    for proc in procs:
        assert proc.wait(120) == 0, proc.stderr.read().decode() if proc.stderr else ""
    ledger = LedgerService(PostgresLedgerStore(db), SystemClock())
    try:
        assert ledger.size == 3 * (3 * 15 + 10)
        report = ledger.verify()
        assert report.ok, report.as_dict()
        for n in range(3):
            assert len(ledger.history(f"proc-{n}")) == 55
        # append_many stayed contiguous even with other processes writing
        bulk = [e for e in ledger.history("proc-0") if "bulk" in e.payload]
        assert [e.seq for e in bulk] == list(range(bulk[0].seq, bulk[0].seq + 10))
    finally:
        ledger.close()
        db.close()


def test_unreachable_store_fails_fast_and_reads_keep_working(schema_url: str) -> None:
    db = PostgresDatabase(schema_url)
    migrate(db)
    ledger = LedgerService(PostgresLedgerStore(db), SystemClock())
    ledger.append(EntryDraft("observation", "s", {"n": 1}))
    dead = PostgresDatabase("postgresql://postgres@127.0.0.1:1/none")
    down = LedgerService(PostgresLedgerStore(dead), SystemClock())
    from paygod.kernel.errors import Unavailable

    try:
        with pytest.raises(Unavailable) as first:
            down.append(EntryDraft("observation", "s", {"n": 2}))
        assert first.value.retry_after
        with pytest.raises(Unavailable):  # now without even trying the network
            down.append(EntryDraft("observation", "s", {"n": 3}))
        assert ledger.verify().ok
    finally:
        down.close()
        dead.close()
        ledger.close()
        db.close()


def test_migration_converts_node_rows_into_tiles(schema_url: str) -> None:
    """ledger_0002 on PostgreSQL: a ledger stored one row per node keeps every node."""
    from datetime import UTC, datetime

    from alembic import command

    from paygod.kernel.migrations.runner import alembic_config
    from paygod.ledger.chain import ChainState, seal

    db = PostgresDatabase(schema_url)
    try:
        command.upgrade(alembic_config(db.sqlalchemy_url), "ledger_0001")
        now = datetime(2026, 3, 1, tzinfo=UTC)
        sealed = seal(ChainState(), [EntryDraft("k", "s", {"i": i}) for i in range(140)], now)
        with psycopg.connect(schema_url) as conn, conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO ledger_entries (seq, entry_id, kind, tenant_id, subject, payload,"
                " recorded_at, valid_from, valid_to, supersedes, previous_hash, record_hash)"
                " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                sealed.rows,
            )
            cur.executemany(
                "INSERT INTO ledger_merkle (level, idx, hash) VALUES (%s, %s, %s)",
                sealed.nodes,
            )
            cur.execute(
                "UPDATE ledger_head SET size = %s, last_hash = %s, last_recorded_at = %s,"
                " frontier = %s",
                (
                    140,
                    sealed.state.last_hash,
                    sealed.state.last_recorded_at,
                    sealed.state.frontier_json(),
                ),
            )
        migrate(db)
        ledger = LedgerService(PostgresLedgerStore(db), SystemClock())
        try:
            wanted = {(level, index): node for level, index, node in sealed.nodes}
            assert ledger.store.nodes(wanted) == wanted
            assert ledger.verify().ok
            ledger.append_many([EntryDraft("k", "s", {"after": k}) for k in range(3)])
            assert ledger.verify().ok
        finally:
            ledger.close()
    finally:
        db.close()


def test_a_dropped_writer_connection_is_a_short_503_then_writes_resume(schema_url: str) -> None:
    """pg_terminate_backend under the writer: the request gets Unavailable (503 with
    Retry-After), never a raw driver error; the next batch reconnects within a moment."""
    import time

    from paygod.kernel.errors import Unavailable

    db = PostgresDatabase(schema_url)
    migrate(db)
    store = PostgresLedgerStore(db)
    ledger = LedgerService(store, SystemClock())
    try:
        ledger.append(EntryDraft("observation", "s", {"n": 1}))
        assert store._writer is not None
        with psycopg.connect(schema_url, autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", (store._writer.info.backend_pid,))

        def work(conn: object) -> tuple[None, list[EntryDraft]]:
            return None, [EntryDraft("observation", "s", {"n": 2})]

        with pytest.raises(Unavailable) as dropped:
            ledger.transact(work)
        assert dropped.value.retry_after
        deadline = time.monotonic() + 5
        while True:
            try:
                ledger.append(EntryDraft("observation", "s", {"n": 3}))
                break
            except Unavailable:
                assert time.monotonic() < deadline, "writes did not resume"
                time.sleep(0.05)
        assert time.monotonic() < deadline - 4, "a single drop kept the ledger read-only for >1 s"
        assert ledger.verify().ok
        assert [e.payload["n"] for e in ledger.history("s")] == [1, 3]
    finally:
        ledger.close()
        db.close()
