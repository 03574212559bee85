"""The SQLite write lock: one writer across threads and processes, handed over at once."""

from __future__ import annotations

import multiprocessing
import threading
import time
from pathlib import Path

from paygod.kernel.clock import SystemClock
from paygod.kernel.database import SqliteDatabase, WriteLock, migrate
from paygod.ledger import EntryDraft, LedgerService
from paygod.ledger.stores.sqlite import SqliteLedgerStore


def _hold(path: str, held: multiprocessing.synchronize.Event, seconds: float) -> None:
    with WriteLock(Path(path)):
        held.set()
        time.sleep(seconds)


def test_another_process_waits_for_the_holder_and_gets_the_lock_at_release(
    tmp_path: Path,
) -> None:
    lock_file = tmp_path / "db.write-lock"
    ctx = multiprocessing.get_context("spawn")
    held = ctx.Event()
    holder = ctx.Process(target=_hold, args=(str(lock_file), held, 1.0))
    holder.start()
    try:
        assert held.wait(30)
        began = time.monotonic()
        with WriteLock(lock_file):
            waited = time.monotonic() - began
        holder.join(30)
        assert holder.exitcode == 0
    finally:
        holder.kill()
    # It waited for the holder (not a moment), and did not sleep on long past the release.
    assert 0.3 < waited < 5.0


def test_reentrant_on_one_thread_exclusive_across_threads(tmp_path: Path) -> None:
    lock = WriteLock(tmp_path / "db.write-lock")
    inside: list[str] = []
    with lock:
        with lock:  # a write inside a write on the same thread
            inside.append("nested")

        def other() -> None:
            with lock:
                inside.append("other")

        thread = threading.Thread(target=other)
        thread.start()
        thread.join(0.2)
        assert thread.is_alive() and inside == ["nested"]  # still held by the outer block
    thread.join(5)
    assert inside == ["nested", "other"]


def _append(path: str, label: str, count: int) -> None:
    db = SqliteDatabase(Path(path))
    ledger = LedgerService(SqliteLedgerStore(db), SystemClock())
    try:
        for n in range(count):
            ledger.append(EntryDraft("observation", label, {"n": n}))
    finally:
        ledger.close()
        db.close()


def test_two_processes_appending_to_one_file_keep_one_chain(tmp_path: Path) -> None:
    path = tmp_path / "ledger.db"
    db = SqliteDatabase(path)
    migrate(db)
    ctx = multiprocessing.get_context("spawn")
    writers = [ctx.Process(target=_append, args=(str(path), f"p{k}", 60)) for k in range(2)]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join(60)
        assert writer.exitcode == 0
    ledger = LedgerService(SqliteLedgerStore(db), SystemClock())
    try:
        assert ledger.size == 120
        assert ledger.verify().ok
        subjects = sorted(e.subject for e in ledger.entries(limit=200))
        assert subjects == ["p0"] * 60 + ["p1"] * 60
    finally:
        ledger.close()
        db.close()
