"""OSCAL assessment results over N sealed decisions, beside a plain scan of the same rows.

The ledger holds N decision entries (default 1,000,000: PAYGOD_BENCH_OSCAL_N), sealed by
the ledger's own store transaction (`commit_batch`, as the group-commit writer runs it)
in batches of 20,000: every entry chained and hashed, every Merkle node stored. The
figure is the assessment as `paygod compliance oscal assessment-results` runs it: choose
and verify the signed head, scan the period's decisions, recompute each record hash and
leaf, prove each against the head (RFC 9162 audit paths), build and validate the
document, write it to a file, with one worker process per CPU core (its default) and,
beside it, in one process. The baseline, in the same run over the same database: one
SELECT of the same rows and one SHA-256 of each row's payload text, the least any
re-check of them does. CPU seconds are given beside wall seconds: the machines are
shared, and `python_loop_us` (sum(range(1000))) says how fast this one was at the time.
"""

from __future__ import annotations

import os
import resource
import tempfile
import time
import timeit
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.harness import Figure, benchmark
from paygod.assurance.model import Period
from paygod.assurance.service import AssuranceService
from paygod.decisions.model import Pack
from paygod.decisions.packs import compile_pack
from paygod.kernel.clock import ManualClock
from paygod.kernel.database import SqliteDatabase, migrate
from paygod.ledger import EntryDraft, LedgerService
from paygod.ledger.groupcommit import WriteRequest
from paygod.ledger.stores.sql import ENTRY_COLUMNS
from paygod.ledger.stores.sqlite import SqliteLedgerStore

PACK = b"""\
api_version: paygod/v1
kind: Pack
metadata: {name: bench-gate, version: 1.0.0, controls: [nist-800-53:si-10]}
spec:
  policy:
    rules:
      - {name: deny-big, condition: input.p.amount > 1000, decision: deny, reason: big,
         controls: [nist-800-53:ac-5, pci-dss-4:7.2]}
      - {name: allow, condition: "true", decision: allow, reason: ok, controls: [soc2:CC6.1]}
"""
START = datetime(2026, 1, 1, tzinfo=UTC)
BATCH = 20_000


class Packs:
    def __init__(self, pack: Pack) -> None:
        self.pack = pack

    def packs(self) -> list[Pack]:
        return [self.pack]

    def by_digest(self, digest: str) -> Pack | None:
        return self.pack if digest == self.pack.digest else None


def decision(i: int, pack: Pack) -> dict[str, Any]:
    verdict, rule = ("deny", "deny-big") if i % 3 == 0 else ("allow", "allow")
    return {
        "decision_id": f"d-{i:08d}",
        "decision": verdict,
        "pack": pack.name,
        "rule": rule,
        "packs": [{"name": pack.name, "version": pack.version, "digest": pack.digest,
                   "decision": verdict, "rule": rule}],
        "input_hash": "sha256:" + "ab" * 32,
        "measurements_digest": "sha256:" + "cd" * 32,
    }  # fmt: skip


def build(folder: Path, n: int, pack: Pack) -> tuple[LedgerService, SqliteDatabase]:
    """N sealed decisions, one transaction per BATCH (a second apart), and a signed head."""
    db = SqliteDatabase(folder / "ledger.db")
    migrate(db)
    store = SqliteLedgerStore(db)
    for k in range(0, n, BATCH):
        drafts = [
            EntryDraft("decision", f"urn:agent:{i % 100}", decision(i, pack))
            for i in range(k, min(n, k + BATCH))
        ]
        at = START + timedelta(seconds=k // BATCH)  # all within the period assessed
        store.commit_batch([WriteRequest(drafts=drafts)], at)
    clock = ManualClock(START + timedelta(days=1))
    ledger = LedgerService(store, clock, tree_head_every_entries=10**9)
    ledger.flush_tree_head()
    return ledger, db


def scan_and_hash(db: SqliteDatabase) -> int:
    import hashlib

    conn = db.connect()
    try:
        rows = conn.execute(f"SELECT {ENTRY_COLUMNS} FROM ledger_entries ORDER BY seq")
        return sum(1 for row in rows if hashlib.sha256(row[5].encode()).digest())
    finally:
        conn.close()


def assess(
    service: AssuranceService, period: Period, out: Path, workers: int
) -> tuple[float, float]:
    """As `paygod compliance oscal assessment-results --workers N` runs it: (wall seconds,
    CPU seconds of this process and of its worker processes)."""
    started, cpu = time.perf_counter(), _cpu()
    base = service.basis("default", period)
    with out.open("wb") as handle:
        for part in service.assessment_parts(base, workers):
            handle.write(part)
    return time.perf_counter() - started, _cpu() - cpu


def _cpu() -> float:
    """CPU seconds of this process and of its children that ended (the workers)."""
    own, ended = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    return own.ru_utime + own.ru_stime + ended.ru_utime + ended.ru_stime


@benchmark("oscal_assessment")
def oscal_assessment() -> Iterator[Figure]:
    n = int(os.environ.get("PAYGOD_BENCH_OSCAL_N", "1000000"))
    pack = compile_pack(PACK, Path("pack.yaml"))
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        ledger, db = build(Path(tmp), n, pack)
        built = time.perf_counter() - started
        started, cpu = time.perf_counter(), time.process_time()
        assert scan_and_hash(db) == n
        scan, scan_cpu = time.perf_counter() - started, time.process_time() - cpu
        service = AssuranceService(ledger, Packs(pack), "bench")
        period = Period(START, START + timedelta(days=1))
        out = Path(tmp) / "assessment-results.json"
        workers = os.cpu_count() or 1
        runs = {w: assess(service, period, out, w) for w in (1, workers)}
        size = out.stat().st_size
        assert size > 1000 * n, "the period holds every decision"
        ledger.close()
        db.close()
    loop = min(timeit.repeat("sum(range(1000))", number=1000, repeat=5)) * 1000
    wall, cpu = runs[workers]
    yield Figure(
        "oscal_assessment_seconds",
        wall,
        "s",
        scan,
        "SELECT of the same rows and SHA-256 of each payload",
        {
            "decisions": n,
            "target_seconds": 10,
            "workers": workers,
            "cpu_seconds": round(cpu, 2),
            "one_process_seconds": round(runs[1][0], 2),
            "one_process_cpu_seconds": round(runs[1][1], 2),
            "baseline_cpu_seconds": round(scan_cpu, 2),
            "cpu_us_per_decision": round(cpu * 1e6 / n, 1),
            "document_bytes": size,
            "build_seconds": round(built, 1),
            "python_loop_us": round(loop, 1),
        },
    )
