"""One contract for every ledger store: memory, sqlite, jsonl, postgres."""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from paygod.kernel.clock import ManualClock
from paygod.kernel.events import EventEnvelope
from paygod.ledger import EntryDraft, LedgerService
from paygod.ledger.groupcommit import WriteRequest
from paygod.ledger.ports import LedgerStore
from paygod.ledger.steps import Offload, Steps, run_async, run_blocking
from paygod.ledger.verifier import check_consistency, check_inclusion

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def _postgres_store(postgres_url: str) -> Iterator[LedgerStore]:
    import psycopg

    from paygod.kernel.database import PostgresDatabase, migrate
    from paygod.ledger.stores.postgres import PostgresLedgerStore

    schema = f"t_{uuid.uuid4().hex}"
    with psycopg.connect(postgres_url, autocommit=True) as admin:
        admin.execute(f"CREATE SCHEMA {schema}")
    sep = "&" if "?" in postgres_url else "?"
    db = PostgresDatabase(f"{postgres_url}{sep}options=-csearch_path%3D{schema}")
    try:
        migrate(db)
        yield PostgresLedgerStore(db)
    finally:
        db.close()
        with psycopg.connect(postgres_url, autocommit=True) as admin:
            admin.execute(f"DROP SCHEMA {schema} CASCADE")


def make_store(kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[LedgerStore]:
    if kind == "memory":
        from paygod.ledger.stores.memory import MemoryLedgerStore

        yield MemoryLedgerStore()
    elif kind == "sqlite":
        from paygod.kernel.database import SqliteDatabase, migrate
        from paygod.ledger.stores.sqlite import SqliteLedgerStore

        db = SqliteDatabase(tmp_path / "ledger.db")
        migrate(db)
        yield SqliteLedgerStore(db)
        db.close()
    elif kind == "jsonl":
        from paygod.ledger.stores.jsonl import JsonlLedgerStore

        yield JsonlLedgerStore(tmp_path / "ledger.jsonl")
    else:
        yield from _postgres_store(request.getfixturevalue("postgres_url"))


STORES = ["memory", "sqlite", "jsonl", "postgres"]


@pytest.fixture(params=STORES)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[LedgerStore]:
    yield from make_store(request.param, tmp_path, request)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(T0)


@pytest.fixture
def ledger(store: LedgerStore, clock: ManualClock) -> Iterator[LedgerService]:
    service = LedgerService(store, clock, tree_head_every_entries=5)
    yield service
    service.close()


def draft(subject: str = "acct-1", **payload: Any) -> EntryDraft:
    return EntryDraft(kind="observation", subject=subject, payload=payload or {"n": 1})


def test_appended_entries_chain(ledger: LedgerService) -> None:
    first = ledger.append(draft(n=1))
    second = ledger.append(draft(n=2))
    assert (first.seq, second.seq) == (0, 1)
    assert first.previous_hash == "0" * 64
    assert second.previous_hash == first.record_hash
    assert ledger.get(1) == second
    assert ledger.get_by_id(first.entry_id) == first
    assert ledger.get(2) is None
    assert ledger.verify().ok


def test_append_many_is_consecutive_and_atomic(ledger: LedgerService) -> None:
    ledger.append(draft())
    entries = ledger.append_many([draft(n=i) for i in range(5)])
    assert [e.seq for e in entries] == [1, 2, 3, 4, 5]
    with pytest.raises(Exception, match="payload"):
        ledger.append_many([draft(n=9), EntryDraft("k", "s", {"bad": float("nan")})])
    assert ledger.size == 6
    assert ledger.append(draft()).seq == 6


def test_entries_pagination(ledger: LedgerService) -> None:
    ledger.append_many([draft(n=i) for i in range(7)])
    assert [e.seq for e in ledger.entries(limit=3)] == [0, 1, 2]
    assert [e.seq for e in ledger.entries(after=4, limit=10)] == [5, 6]


def test_transact_failure_isolated(ledger: LedgerService) -> None:
    def good(conn: Any) -> tuple[str, list[EntryDraft]]:
        return "ok", [draft(n=1)]

    def bad(conn: Any) -> tuple[str, list[EntryDraft]]:
        raise RuntimeError("work failed")

    results: dict[str, Any] = {}

    def run(name: str, work: Any) -> None:
        try:
            results[name] = ledger.transact(work)
        except RuntimeError as exc:
            results[name] = exc

    threads = [
        threading.Thread(target=run, args=(f"w{i}", bad if i % 3 == 0 else good)) for i in range(12)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    failures = [v for v in results.values() if isinstance(v, RuntimeError)]
    assert len(failures) == 4
    seqs = sorted(v[1][0].seq for v in results.values() if isinstance(v, tuple))
    assert seqs == list(range(8))
    assert ledger.verify().ok


def test_concurrent_appends_gap_free(ledger: LedgerService) -> None:
    seqs: list[int] = []
    lock = threading.Lock()

    def run(i: int) -> None:
        entry = ledger.append(draft(subject=f"s{i % 3}", n=i))
        with lock:
            seqs.append(entry.seq)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(40)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(seqs) == list(range(40))
    assert ledger.verify().ok


def _two_step_work(ledger: LedgerService, label: str, fail: bool = False) -> Steps[list[int]]:
    """Two transactions in a row, the second only after the first is settled."""

    def first(conn: Any) -> tuple[str, list[EntryDraft]]:
        return label, [draft(subject=label, n=1)]

    def second(conn: Any) -> tuple[str, list[EntryDraft]]:
        if fail:
            raise RuntimeError(f"{label} refused")
        return label, [draft(subject=label, n=2), draft(subject=label, n=3)]

    one = ledger.transaction(first)
    yield one
    _, entries = ledger.outcome(one)
    two = ledger.transaction(second)
    yield two
    _, more = ledger.outcome(two)
    return [e.seq for e in entries + more]


def test_steps_settle_alike_from_a_thread_and_an_event_loop(ledger: LedgerService) -> None:
    assert run_blocking(ledger, _two_step_work(ledger, "thread")) == [0, 1, 2]
    assert asyncio.run(run_async(ledger, _two_step_work(ledger, "loop"))) == [3, 4, 5]
    with pytest.raises(RuntimeError, match="loop-bad refused"):
        asyncio.run(run_async(ledger, _two_step_work(ledger, "loop-bad", fail=True)))
    assert ledger.size == 7  # the refused second step wrote nothing, the first stays
    assert [e.subject for e in ledger.entries()][-1] == "loop-bad"
    assert ledger.verify().ok


def _offloading_work(
    ledger: LedgerService, label: str, fail: bool = False
) -> Steps[tuple[int, str]]:
    """A ledger write, then a blocking call (a rail's round trip), then another write."""
    one = ledger.transaction(lambda conn: (label, [draft(subject=label)]))
    yield one
    _, [entry] = ledger.outcome(one)

    def call() -> str:
        if fail:
            raise ConnectionError(f"{label} rail down")
        return f"{label} on {threading.current_thread().name}"

    rail = Offload(call)
    yield rail
    answer = rail.outcome()  # raises the call's exception in this frame
    two = ledger.transaction(lambda conn: (label, [draft(subject=label, answer=answer)]))
    yield two
    return entry.seq, answer


def test_offloaded_calls_run_in_place_from_a_thread_and_off_the_loop(
    ledger: LedgerService,
) -> None:
    here = threading.current_thread().name
    seq, answer = run_blocking(ledger, _offloading_work(ledger, "thread"))
    assert (seq, answer) == (0, f"thread on {here}")

    async def on_loop() -> tuple[int, str]:
        return await run_async(ledger, _offloading_work(ledger, "loop"))

    seq, answer = asyncio.run(on_loop())
    assert seq == 2 and not answer.endswith(f" on {here}")  # a worker thread made the call
    with pytest.raises(ConnectionError, match="bad rail down"):
        asyncio.run(run_async(ledger, _offloading_work(ledger, "bad", fail=True)))
    with pytest.raises(ConnectionError, match="worse rail down"):
        run_blocking(ledger, _offloading_work(ledger, "worse", fail=True))
    assert ledger.size == 6  # each failed call stopped its work before the second write
    assert ledger.verify().ok


def test_event_loop_callers_share_the_writer_without_threads(ledger: LedgerService) -> None:
    async def many() -> list[Any]:
        return await asyncio.gather(
            *(
                run_async(ledger, _two_step_work(ledger, f"t{i}", fail=i % 5 == 0))
                for i in range(40)
            ),
            return_exceptions=True,
        )

    before = threading.active_count()
    results = asyncio.run(many())
    assert threading.active_count() <= before + 1  # at most the writer, started on demand
    refused = [r for r in results if isinstance(r, RuntimeError)]
    assert len(refused) == 8
    sealed = [seq for r in results if isinstance(r, list) for seq in r]
    assert sorted(sealed) == [s for s in range(ledger.size) if s not in _firsts(ledger, refused)]
    assert ledger.size == 8 * 1 + 32 * 3
    assert ledger.verify().ok


def _firsts(ledger: LedgerService, refused: list[Any]) -> set[int]:
    """Seqs of the first steps of refused works (sealed, but no result list returned)."""
    labels = {str(r).split()[0] for r in refused}
    return {e.seq for e in ledger.entries(limit=1000) if e.subject in labels}


def test_proofs_verify_with_standalone_verifier(ledger: LedgerService) -> None:
    ledger.append_many([draft(n=i) for i in range(13)])
    for size in (1, 2, 7, 13):
        for index in range(size):
            proof = ledger.inclusion_proof(index, size).as_dict()
            assert check_inclusion(proof) is None
    for first in range(0, 14):
        assert check_consistency(ledger.consistency_proof(first, 13).as_dict()) is None


def test_proofs_read_between_appends_stay_right_as_the_edge_tiles_grow(
    ledger: LedgerService,
) -> None:
    # Every receipt reads the right edge of the tree, which the next append extends: a
    # node read earlier must never stand in for one written since.
    for n in range(150):
        entry = ledger.append(draft(n=n))
        size = n + 1
        root = ledger.root_hash(size)
        for seq in {0, entry.seq, entry.seq // 2, max(0, entry.seq - 64)}:
            proof = ledger.inclusion_proof(seq, size).as_dict()
            assert proof["root_hash"] == root
            assert check_inclusion(proof) is None
        if n % 37 == 0:
            assert (
                check_consistency(ledger.consistency_proof(max(1, n // 2), size).as_dict()) is None
            )


def test_tree_heads_signed_every_n_entries(ledger: LedgerService) -> None:
    ledger.append_many([draft(n=i) for i in range(6)])
    head = ledger.latest_signed_tree_head()
    assert head is not None and head.tree_size == 6
    assert head.root_hash == ledger.root_hash()


def test_outbox_written_with_entry(ledger: LedgerService, store: LedgerStore) -> None:
    event = EventEnvelope(
        event_type="DecisionFinalized",
        aggregate_id="dec-1",
        aggregate_type="decision",
        tenant_id="default",
        payload={"verdict": "allow"},
        occurred_at=T0,
        recorded_at=T0,
    )
    entry = ledger.append(EntryDraft("decision", "dec-1", {"verdict": "allow"}, events=(event,)))
    if store.name in ("memory", "jsonl"):
        rows = ledger.outbox
        assert rows[0]["event_id"] == event.event_id
        assert rows[0]["entry_seq"] == entry.seq
        assert rows[0]["status"] == "pending"
        return
    db = store.db  # type: ignore[attr-defined]
    if store.name == "sqlite":
        row = (
            db.connection()
            .execute(
                "SELECT entry_seq, event_type, status, attempts FROM outbox WHERE event_id = ?",
                (event.event_id,),
            )
            .fetchone()
        )
    else:
        with db.connection() as conn:
            row = conn.execute(
                "SELECT entry_seq, event_type, status, attempts FROM outbox WHERE event_id = %s",
                (event.event_id,),
            ).fetchone()
    assert tuple(row) == (entry.seq, "DecisionFinalized", "pending", 0)


def test_large_append_returns_what_was_stored(ledger: LedgerService, store: LedgerStore) -> None:
    """A large append's entries (built by the caller while the writer commits, on the SQL
    stores) are exactly the stored ones, events included; a bad draft stores nothing."""
    first = ledger.append(draft(n=0))
    event = EventEnvelope(
        event_type="Observed",
        aggregate_id="acct-7",
        aggregate_type="account",
        tenant_id="t2",
        payload={"n": 5},
        occurred_at=T0,
        recorded_at=T0,
    )
    drafts = [
        EntryDraft(
            "observation",
            f"acct-{i % 9}",
            {"n": i, "nested": {"list": [i, "x"]}},
            tenant_id="t2" if i % 2 else "default",
            valid_from=T0 - timedelta(days=i) if i % 3 == 0 else None,
            valid_to=T0 + timedelta(days=1) if i % 5 == 0 else None,
            supersedes=first.entry_id if i == 7 else None,
            events=(event,) if i == 5 else (),
        )
        for i in range(150)
    ]
    entries = ledger.append_many(drafts)
    assert [e.seq for e in entries] == list(range(1, 151))
    assert entries == [ledger.get(seq) for seq in range(1, 151)]
    assert entries[7].supersedes == first.entry_id
    assert entries[0].valid_from == T0 and entries[0].valid_to == T0 + timedelta(days=1)
    assert entries[1].valid_from == entries[1].recorded_at and entries[1].valid_to is None
    if store.name in ("memory", "jsonl"):
        assert [r["entry_seq"] for r in ledger.outbox] == [6]
    else:
        db = store.db  # type: ignore[attr-defined]
        sql = "SELECT entry_seq FROM outbox WHERE event_id = " + (
            "?" if store.name == "sqlite" else "%s"
        )
        if store.name == "sqlite":
            rows = db.connection().execute(sql, (event.event_id,)).fetchall()
        else:
            with db.connection() as conn:
                rows = conn.execute(sql, (event.event_id,)).fetchall()
        assert [tuple(r) for r in rows] == [(6,)]
    with pytest.raises(Exception, match="payload"):
        ledger.append_many([*drafts[:100], EntryDraft("k", "s", {"bad": float("nan")})])
    assert ledger.size == 151
    assert ledger.verify().ok


def test_bitemporal_correction(ledger: LedgerService, clock: ManualClock) -> None:
    original = ledger.append(EntryDraft("observation", "acct-9", {"limit": 100}, valid_from=T0))
    clock.advance(60)
    before_correction = clock.now()
    clock.advance(60)
    correction = ledger.append(
        EntryDraft(
            "correction", "acct-9", {"limit": 150}, valid_from=T0, supersedes=original.entry_id
        )
    )
    now = ledger.as_of("acct-9")
    assert [e.entry_id for e in now] == [correction.entry_id]
    then = ledger.as_of("acct-9", recorded_at=before_correction)
    assert [e.entry_id for e in then] == [original.entry_id]
    assert [e.seq for e in ledger.history("acct-9")] == [original.seq, correction.seq]
    # valid time: nothing was valid before T0
    assert ledger.as_of("acct-9", valid_at=T0 - timedelta(days=1)) == []


def test_latest_entry_of_a_kind_about_a_subject(ledger: LedgerService, clock: ManualClock) -> None:
    assert ledger.latest("loan:1", "loan") is None
    first = ledger.append(EntryDraft("loan", "loan:1", {"v": 1}))
    clock.advance(60)
    after_first = clock.now()
    clock.advance(60)
    ledger.append(EntryDraft("note", "loan:1", {"n": 1}))
    ledger.append(EntryDraft("loan", "loan:2", {"v": 1}))
    second = ledger.append(EntryDraft("loan", "loan:1", {"v": 2}))
    ledger.append(EntryDraft("note", "loan:1", {"n": 2}))
    latest = ledger.latest("loan:1", "loan")
    assert latest is not None and (latest.seq, latest.payload) == (second.seq, {"v": 2})
    then = ledger.latest("loan:1", "loan", recorded_at=after_first)
    assert then is not None and then.seq == first.seq
    assert ledger.latest("loan:1", "loan", recorded_at=T0 - timedelta(days=1)) is None
    assert ledger.latest("loan:3", "loan") is None


def test_verify_reports_intact_ledger_with_head(ledger: LedgerService) -> None:
    ledger.append_many([draft(n=i) for i in range(3)])
    ledger.flush_tree_head()
    report = ledger.verify()
    assert report.ok, report.as_dict()
    assert report.tree_size == 3


def _sql(store: LedgerStore, sql: str) -> list[Any]:
    db = store.db  # type: ignore[attr-defined]
    if store.name == "sqlite":
        conn = db.connect()
        try:
            return conn.execute(sql).fetchall()
        finally:
            conn.close()
    with db.connection() as conn:
        cur = conn.execute(sql)
        return cur.fetchall() if cur.description else []


def test_transact_commits_work_rows_with_entries_or_neither(
    ledger: LedgerService, store: LedgerStore
) -> None:
    if store.name in ("memory", "jsonl"):
        result, entries = ledger.transact(lambda conn: (conn, [draft(n=1)]))
        assert result is None and entries[0].seq == 0
        return
    _sql(store, "CREATE TABLE work_rows (name TEXT PRIMARY KEY)")
    p = "?" if store.name == "sqlite" else "%s"

    def good(conn: Any) -> tuple[str, list[EntryDraft]]:
        conn.execute(f"INSERT INTO work_rows (name) VALUES ({p})", ("kept",))
        return "done", [draft(n=1)]

    def bad(conn: Any) -> tuple[str, list[EntryDraft]]:
        conn.execute(f"INSERT INTO work_rows (name) VALUES ({p})", ("dropped",))
        raise ValueError("refused after writing")

    assert ledger.transact(good)[0] == "done"
    with pytest.raises(ValueError, match="refused"):
        ledger.transact(bad)
    assert [tuple(r) for r in _sql(store, "SELECT name FROM work_rows")] == [("kept",)]
    assert ledger.size == 1


def test_one_batch_of_appends_and_work_seals_in_order_and_isolates_failures(
    ledger: LedgerService, store: LedgerStore
) -> None:
    # The batch's entries are written together after every request has run: a work that
    # fails (after writing its own rows) or whose drafts cannot be sealed leaves no gap,
    # and the requests around it get consecutive seqs, their own entries and valid proofs.
    ledger.append_many([draft(n=i) for i in range(62)])  # the next batch straddles a tile

    def failing(conn: Any) -> tuple[str, list[EntryDraft]]:
        raise RuntimeError("work failed")

    batch = [
        WriteRequest(drafts=[draft(n=100), draft(n=101)]),
        WriteRequest(lambda conn: ("a", [draft(n=102)])),
        WriteRequest(failing),
        WriteRequest(lambda conn: ("nan", [EntryDraft("k", "s", {"x": float("nan")})])),
        WriteRequest(lambda conn: ("b", [draft(n=103), draft(n=104)])),
        WriteRequest(drafts=[draft(n=105)]),
    ]
    state = store.commit_batch(batch, T0)
    assert state.size == 62 + 6
    assert [[e.seq for e in r.entries] for r in batch] == [
        [62, 63], [64], [], [], [65, 66], [67]
    ]  # fmt: skip
    assert isinstance(batch[2].error, RuntimeError) and batch[3].error is not None
    assert (batch[1].result, batch[4].result) == ("a", "b")
    assert [ledger.get(seq).payload["n"] for seq in range(62, 68)] == [100, 101, 102, 103, 104, 105]  # type: ignore[union-attr]
    for size in (63, 65, 68):
        for seq in (0, 61, 62, size - 1):
            assert check_inclusion(ledger.inclusion_proof(seq, size).as_dict()) is None
    assert check_consistency(ledger.consistency_proof(62, 68).as_dict()) is None
    assert ledger.append(draft(n=106)).seq == 68
    assert ledger.verify().ok


def test_two_writers_on_one_database_keep_the_tree_right(
    store: LedgerStore, clock: ManualClock, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    # A server and a CLI (two store objects, each caching the tiles it wrote) append to
    # one database in turns: each must build on the tiles the other grew since.
    if store.name in ("memory", "jsonl"):
        pytest.skip("one store object per ledger: no second writer to interleave with")
    if store.name == "sqlite":
        from paygod.ledger.stores.sqlite import SqliteLedgerStore

        other: Any = SqliteLedgerStore(store.db)  # type: ignore[attr-defined]
    else:
        from paygod.ledger.stores.postgres import PostgresLedgerStore

        other = PostgresLedgerStore(store.db)  # type: ignore[attr-defined]
    first = LedgerService(store, clock, tree_head_every_entries=10_000)
    second = LedgerService(other, clock, tree_head_every_entries=10_000)
    try:
        for turn in range(40):
            writer = first if turn % 3 else second
            writer.append_many([draft(n=turn * 10 + k) for k in range(turn % 5 + 1)])
            size = writer.size
            for reader in (first, second):
                assert reader.root_hash(size) == writer.root_hash(size)
                for seq in (0, size - 1, size // 2):
                    assert check_inclusion(reader.inclusion_proof(seq, size).as_dict()) is None
        assert first.verify().ok and second.verify().ok
    finally:
        first.close()
        second.close()


def test_tree_head_recorded_after_quiet_period(store: LedgerStore, clock: ManualClock) -> None:
    service = LedgerService(
        store, clock, tree_head_every_entries=1000, tree_head_every_seconds=0.05
    )
    try:
        service.append(draft())
        deadline = datetime.now(UTC) + timedelta(seconds=10)
        while service.latest_signed_tree_head() is None and datetime.now(UTC) < deadline:
            threading.Event().wait(0.02)
        head = service.latest_signed_tree_head()
        assert head is not None and head.tree_size == 1
    finally:
        service.close()


def test_a_work_that_records_no_entry_commits_its_own_rows(
    ledger: LedgerService, store: LedgerStore
) -> None:
    # A transaction may write only its module's tables (an index row, a payee) and seal
    # nothing: it used to fail sealing an empty batch of payloads (IndexError).
    result, entries = ledger.transact(lambda conn: ("done", []))
    assert (result, entries) == ("done", [])
    assert ledger.size == 0
    assert ledger.append(draft(n=1)).seq == 0
    assert ledger.verify().ok


def test_node_spans_and_scans_read_what_is_stored(
    ledger: LedgerService, store: LedgerStore
) -> None:
    from paygod.ledger.chain import compute_record_hash, entry_leaf_hash, row_hashes
    from paygod.ledger.model import ScanWindow

    # 150 entries: tiles of 64 nodes end mid-level, the tree has a partial right border.
    for k in range(0, 150, 50):
        ledger.append_many(
            [
                EntryDraft("decision" if i % 3 else "evidence", f"s{i}", {"i": i, "é": "ü"},
                           tenant_id="t1" if i % 2 else "*")
                for i in range(k, k + 50)
            ]
        )  # fmt: skip
    levels = store.state().size.bit_length()
    for level in range(levels):
        count = 150 >> level
        for start, end in ((0, count), (1, count - 1), (count // 2, count + 5), (3, 3)):
            span = store.node_span(level, start, end)
            expected = [store.node(level, i) for i in range(start, min(end, count))]
            assert span == b"".join(expected), (level, start, end)
    entries = ledger.entries(-1, 200)
    middle = entries[40].timestamp
    window = ScanWindow(120, ("decision",), ("t1", "*"), middle, entries[-1].timestamp)
    rows = list(store.scan(window))
    wanted = [e for e in entries if e.seq < 120 and e.kind == "decision" and e.timestamp >= middle]
    assert [r[0] for r in rows] == [e.seq for e in wanted] and rows
    for row, entry in zip(rows, wanted, strict=True):
        assert row_hashes(row) == (compute_record_hash(entry), entry_leaf_hash(entry))
    assert list(store.scan(ScanWindow(150, ("decision",), ("t2",), middle, "9999"))) == []
    # A window cut at `start` holds the rows from it on: the ranges that processes scan
    # apart make the whole window, each row once.
    cut = rows[len(rows) // 2][0]
    head = list(store.scan(ScanWindow(cut, ("decision",), ("t1", "*"), middle, window.recorded_to)))
    tail = list(store.scan(replace(window, start=cut)))
    assert head + tail == rows and head and tail and tail[0][0] == cut


def test_an_opener_reads_the_same_store_elsewhere(
    ledger: LedgerService, store: LedgerStore
) -> None:
    """`opener()` is what a worker process opens the store's reads with (pickled): it reads
    the same rows and nodes; a store held in this process's memory has none."""
    import pickle

    from paygod.ledger.model import ScanWindow

    ledger.append_many([EntryDraft("decision", f"s{i}", {"i": i}) for i in range(5)])
    opener = store.opener()
    if store.name in ("memory", "jsonl"):
        assert opener is None
        return
    assert opener is not None
    other = pickle.loads(pickle.dumps(opener))()
    try:
        window = ScanWindow(5, ("decision",), ("default",), "0", "9999", start=2)
        assert [r[0] for r in other.scan(window)] == [2, 3, 4]
        assert list(other.scan(window)) == list(store.scan(window))
        assert other.node_span(0, 0, 5) == store.node_span(0, 0, 5) != b""
    finally:
        other.close()
