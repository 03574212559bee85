"""Ledger: batched and single appends, verify throughput, proofs and as-of at 1M entries.

Every figure carries a same-run baseline: raw executemany of the same rows without
hashing, a single raw INSERT + COMMIT, parsing the export without checking it, and a
primary-key point read.
"""

from __future__ import annotations

import os
import random
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

from bench.harness import Figure, benchmark, percentile
from paygod.kernel.clock import ManualClock, SystemClock
from paygod.kernel.database import PostgresDatabase, SqliteDatabase, migrate
from paygod.ledger import EntryDraft, LedgerService
from paygod.ledger.chain import ChainState, seal
from paygod.ledger.stores.sql import ENTRY_COLUMNS
from paygod.ledger.stores.sqlite import SqliteLedgerStore

POSTGRES_URL = os.environ.get(
    "PAYGOD_BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test"
)


def payload(i: int) -> dict[str, Any]:
    """About 300 bytes of canonical JSON, like an observation with references."""
    return {
        "amount": {"minor_units": 1000 + i, "currency": "EUR"},
        "account": f"urn:paygod:account:{i % 1000:06d}",
        "counterparty": "urn:paygod:counterparty:0042",
        "reference": f"invoice 2026-11-25 #{i}",
        "evidence": "sha256:" + "ab" * 32,
        "risk": {"score": i % 100, "band": "low", "rules": ["velocity_1h", "geo"]},
        "channel": "api",
    }


def drafts(n: int, start: int = 0) -> list[EntryDraft]:
    return [
        EntryDraft("observation", f"acct-{i % 1000}", payload(i)) for i in range(start, start + n)
    ]


def sqlite_ledger(folder: Path, clock: Any = None) -> tuple[LedgerService, SqliteDatabase]:
    db = SqliteDatabase(folder / f"{uuid.uuid4().hex}.db")
    migrate(db)
    return LedgerService(SqliteLedgerStore(db), clock or SystemClock()), db


def raw_rows(n: int) -> list[tuple[Any, ...]]:
    """The same rows the ledger writes, rendered without hashing (the baseline's input)."""
    sealed = seal(ChainState(), drafts(n), datetime.now(UTC))
    return sealed.rows


@benchmark("ledger_append")
def ledger_append() -> Iterator[Figure]:
    total, batch = 40_000, 2_000
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        rows = raw_rows(total)
        db = SqliteDatabase(folder / "raw.db")
        migrate(db)
        conn = db.connect()
        started = time.perf_counter()
        for k in range(0, total, batch):
            conn.execute("BEGIN IMMEDIATE")
            conn.executemany(
                f"INSERT INTO ledger_entries ({ENTRY_COLUMNS}) VALUES "
                "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                rows[k : k + batch],
            )
            conn.execute("COMMIT")
        raw = total / (time.perf_counter() - started)
        conn.close()

        ledger, ldb = sqlite_ledger(folder)
        work = drafts(total)
        started = time.perf_counter()
        for k in range(0, total, batch):
            ledger.append_many(work[k : k + batch])
        ours = total / (time.perf_counter() - started)
        payload_bytes = sum(len(r[5]) for r in rows) / len(rows)
        yield Figure(
            "ledger_append_many_sqlite_per_s", ours, "entries/s", raw,
            "raw executemany of the same rows, no hashing",
            {"batch": batch, "payload_bytes": round(payload_bytes)},
        )  # fmt: skip

        # group commit: many threads, one append each at a time
        threads, per_thread = 32, 150
        started = time.perf_counter()

        def client(t: int) -> None:
            for i in range(per_thread):
                ledger.append(EntryDraft("observation", f"t{t}", payload(i)))

        pool = [threading.Thread(target=client, args=(t,)) for t in range(threads)]
        for th in pool:
            th.start()
        for th in pool:
            th.join()
        grouped = threads * per_thread / (time.perf_counter() - started)
        yield Figure(
            "ledger_group_commit_sqlite_per_s", grouped, "entries/s", raw,
            "raw executemany of the same rows, no hashing", {"threads": threads},
        )  # fmt: skip
        ledger.close()
        ldb.close()


@benchmark("ledger_append_single")
def ledger_append_single() -> Iterator[Figure]:
    samples_n = 200
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        rows = raw_rows(samples_n)
        db = SqliteDatabase(folder / "raw.db")
        migrate(db)
        conn = db.connect()
        raw: list[float] = []
        for row in rows:
            started = time.perf_counter()
            conn.execute("BEGIN IMMEDIATE")
            conn.execute(
                f"INSERT INTO ledger_entries ({ENTRY_COLUMNS}) VALUES "
                "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                row,
            )
            conn.execute("COMMIT")
            raw.append(time.perf_counter() - started)
        conn.close()
        ledger, ldb = sqlite_ledger(folder)
        ours: list[float] = []
        for draft in drafts(samples_n):
            started = time.perf_counter()
            ledger.append(draft)
            ours.append(time.perf_counter() - started)
        ledger.close()
        ldb.close()
    for q in (50, 99):
        yield Figure(
            f"ledger_single_append_sqlite_p{q}_ms", percentile(ours, q) * 1000, "ms",
            percentile(raw, q) * 1000, "one raw INSERT + COMMIT (synchronous=FULL)",
        )  # fmt: skip


@benchmark("ledger_append_postgres")
def ledger_append_postgres() -> Iterator[Figure]:
    import psycopg

    from paygod.ledger.stores.postgres import PostgresLedgerStore

    try:
        admin = psycopg.connect(POSTGRES_URL, autocommit=True, connect_timeout=2)
    except psycopg.OperationalError:
        return
    schema = f"bench_{uuid.uuid4().hex}"
    admin.execute(f"CREATE SCHEMA {schema}")
    url = f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
    db = PostgresDatabase(url)
    try:
        migrate(db)
        total, batch = 40_000, 4_000
        rows = raw_rows(total)
        with psycopg.connect(url) as conn:
            conn.execute("CREATE TABLE raw_entries (LIKE ledger_entries INCLUDING ALL)")
            conn.commit()
            started = time.perf_counter()
            for k in range(0, total, batch):
                with conn.cursor() as cur:
                    cur.executemany(
                        f"INSERT INTO raw_entries ({ENTRY_COLUMNS}) VALUES "
                        "(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                        rows[k : k + batch],
                    )
                conn.commit()
            raw = total / (time.perf_counter() - started)
        ledger = LedgerService(PostgresLedgerStore(db), SystemClock())
        work = drafts(total)
        started = time.perf_counter()
        for k in range(0, total, batch):
            ledger.append_many(work[k : k + batch])
        ours = total / (time.perf_counter() - started)
        ledger.close()
        yield Figure(
            "ledger_append_many_postgres_per_s", ours, "entries/s", raw,
            "raw executemany of the same rows, no hashing", {"batch": batch},
        )  # fmt: skip
    finally:
        db.close()
        admin.execute(f"DROP SCHEMA {schema} CASCADE")
        admin.close()


def _write_export(path: str, total: int) -> None:
    """Seal `total` entries in a memory ledger and export them (run in a child process)."""
    from paygod.ledger.stores.memory import MemoryLedgerStore

    ledger = LedgerService(MemoryLedgerStore(), SystemClock())
    work = drafts(total)
    for k in range(0, total, 10_000):
        ledger.append_many(work[k : k + 10_000])
    with Path(path).open("wb") as out:
        ledger.export_jsonl(out)
    ledger.close()


@benchmark("ledger_verify")
def ledger_verify() -> Iterator[Figure]:
    """Verify a 100,000-entry export as `paygod ledger verify --file` does, vs parsing it.

    The export is written by a child process: the verifying process holds only what the
    CLI would (no 100,000 sealed entries in its heap, which every forked scanner would
    otherwise have to map and tear down). Each figure is the best of three runs.
    """
    import multiprocessing

    from paygod.ledger.fast_verify import verify_jsonl_report

    total = 100_000
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "ledger.jsonl"
        writer = multiprocessing.get_context("spawn").Process(
            target=_write_export, args=(str(path), total)
        )
        writer.start()
        writer.join()
        assert writer.exitcode == 0, "the export could not be written"
        baseline = ours = 0.0
        for _run in range(3):
            started = time.perf_counter()
            with path.open("rb") as handle:
                parsed = sum(1 for line in handle if orjson.loads(line))
            baseline = max(baseline, parsed / (time.perf_counter() - started))
            started = time.perf_counter()
            report = verify_jsonl_report(path)
            ours = max(ours, report.entries_checked / (time.perf_counter() - started))
            assert report.ok and report.entries_checked == total
    yield Figure(
        "ledger_verify_jsonl_per_s", ours, "entries/s", baseline,
        "orjson.loads of every line, no checks", {"entries": total, "runs": 3},
    )  # fmt: skip


@benchmark("ledger_1m")
def ledger_1m() -> Iterator[Figure]:
    """Proofs and as-of on a 1,000,000-entry SQLite ledger built with batched appends."""
    total = int(os.environ.get("PAYGOD_BENCH_LEDGER_SIZE", "1000000"))
    subjects = total // 10
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        clock = ManualClock(datetime(2026, 1, 1, tzinfo=UTC))
        ledger, db = sqlite_ledger(folder, clock)
        started = time.perf_counter()
        batch = 10_000
        for k in range(0, total, batch):
            ledger.append_many(
                [
                    EntryDraft("observation", f"s{i % subjects}", {"i": i})
                    for i in range(k, k + batch)
                ]
            )
            clock.advance(1)
        build_s = time.perf_counter() - started
        ledger.close()

        # a fresh service: no warm node cache from the build
        ledger = LedgerService(SqliteLedgerStore(db), clock)
        rng = random.Random(7)
        conn = db.connection()
        point: list[float] = []
        for _ in range(500):
            seq = rng.randrange(total)
            started = time.perf_counter()
            conn.execute(
                f"SELECT {ENTRY_COLUMNS} FROM ledger_entries WHERE seq = ?", (seq,)
            ).fetchone()
            point.append(time.perf_counter() - started)
        base = percentile(point, 50) * 1000
        inclusion: list[float] = []
        for _ in range(500):
            seq = rng.randrange(total)
            size = rng.randrange(seq + 1, total + 1)
            started = time.perf_counter()
            ledger.inclusion_proof(seq, size)
            inclusion.append(time.perf_counter() - started)
        consistency: list[float] = []
        for _ in range(500):
            first = rng.randrange(1, total)
            started = time.perf_counter()
            ledger.consistency_proof(first, total)
            consistency.append(time.perf_counter() - started)
        as_of: list[float] = []
        start = datetime(2026, 1, 1, tzinfo=UTC)
        for _ in range(500):
            subject = f"s{rng.randrange(subjects)}"
            when = start + timedelta(seconds=rng.randrange(total // batch))
            started = time.perf_counter()
            ledger.as_of(subject, recorded_at=when, tenant_id="default")
            as_of.append(time.perf_counter() - started)
        ledger.close()
        db.close()
    extra = {"entries": total, "build_s": round(build_s, 1), "build_per_s": round(total / build_s)}
    for name, samples in (
        ("ledger_inclusion_proof_1m", inclusion),
        ("ledger_consistency_proof_1m", consistency),
        ("ledger_as_of_1m", as_of),
    ):
        for q in (50, 99):
            yield Figure(
                f"{name}_p{q}_ms", percentile(samples, q) * 1000, "ms", base,
                "p50 primary-key read of one entry", extra,
            )  # fmt: skip
