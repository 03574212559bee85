"""kill -9 during a stream of appends: the ledger verifies and every acknowledged entry is there."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from paygod.kernel.clock import SystemClock
from paygod.ledger import LedgerService

WRITER = textwrap.dedent(
    """
    import sys, threading
    from pathlib import Path
    from paygod.kernel.clock import SystemClock
    from paygod.ledger import EntryDraft, LedgerService

    kind, path = sys.argv[1], Path(sys.argv[2])
    if kind == "sqlite":
        from paygod.kernel.database import SqliteDatabase, migrate
        from paygod.ledger.stores.sqlite import SqliteLedgerStore
        db = SqliteDatabase(path)
        migrate(db)
        store = SqliteLedgerStore(db)
    else:
        from paygod.ledger.stores.jsonl import JsonlLedgerStore
        store = JsonlLedgerStore(path)
    ledger = LedgerService(store, SystemClock())
    lock = threading.Lock()

    def run(worker):
        i = 0
        while True:
            if worker == 0 and i % 7 == 0:
                entries = ledger.append_many(
                    [EntryDraft("observation", f"w{worker}", {"i": i, "k": k}) for k in range(20)]
                )
            else:
                entries = [ledger.append(EntryDraft("observation", f"w{worker}", {"i": i}))]
            with lock:
                for e in entries:
                    sys.stdout.write(f"{e.seq} {e.record_hash}\\n")
                sys.stdout.flush()
            i += 1

    for w in range(4):
        threading.Thread(target=run, args=(w,), daemon=True).start()
    threading.Event().wait()
    """
)


def open_store(kind: str, path: Path) -> LedgerService:
    if kind == "sqlite":
        from paygod.kernel.database import SqliteDatabase
        from paygod.ledger.stores.sqlite import SqliteLedgerStore

        return LedgerService(SqliteLedgerStore(SqliteDatabase(path)), SystemClock())
    from paygod.ledger.stores.jsonl import JsonlLedgerStore

    return LedgerService(JsonlLedgerStore(path), SystemClock())


@pytest.mark.parametrize("kind", ["sqlite", "jsonl"])
def test_kill_9_mid_stream(kind: str, tmp_path: Path) -> None:
    path = tmp_path / ("ledger.db" if kind == "sqlite" else "ledger.jsonl")
    out = tmp_path / "acks.txt"
    with out.open("wb") as acks:
        proc = subprocess.Popen(
            [sys.executable, "-c", WRITER, kind, str(path)],
            stdout=acks,
            stderr=subprocess.PIPE,
            env={**os.environ},
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and out.stat().st_size < 20_000:
            if proc.poll() is not None:
                raise AssertionError(proc.stderr.read().decode() if proc.stderr else "exited")
            time.sleep(0.02)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
    acknowledged = {}
    for line in out.read_text().splitlines():
        parts = line.split()
        if len(parts) == 2 and len(parts[1]) == 64:  # the last line may be torn
            acknowledged[int(parts[0])] = parts[1]
    assert len(acknowledged) > 50
    ledger = open_store(kind, path)
    try:
        report = ledger.verify()
        assert report.ok, report.as_dict()
        for seq, record_hash in acknowledged.items():
            entry = ledger.get(seq)
            assert entry is not None, f"acknowledged entry {seq} lost"
            assert entry.record_hash == record_hash
        # and the ledger keeps going after the crash
        from paygod.ledger import EntryDraft

        after = ledger.append(EntryDraft("observation", "after", {"ok": True}))
        assert after.seq == report.tree_size
    finally:
        ledger.close()
