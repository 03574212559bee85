"""OSCAL assessment results over N sealed decisions, beside the ledger's own verify.

Both walk the same SQLite ledger in the same run: `verify` recomputes every record hash
and the Merkle tree (the baseline); the assessment recomputes each decision's record and
leaf hash, fetches its RFC 9162 inclusion proof against the signed head, verifies it, and
builds and validates the OSCAL document with compliance-trestle. The ratio is the figure
to compare. N: PAYGOD_BENCH_OSCAL_N (default 20,000 decisions, i.e. 20,000 entries).
"""

from __future__ import annotations

import os
import tempfile
import time
import uuid
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


def build(folder: Path, n: int, pack: Pack) -> tuple[LedgerService, ManualClock]:
    db = SqliteDatabase(folder / f"{uuid.uuid4().hex}.db")
    migrate(db)
    clock = ManualClock(START)
    ledger = LedgerService(SqliteLedgerStore(db), clock, tree_head_every_entries=10**9)
    batch = 5000
    for k in range(0, n, batch):
        clock.set(START + timedelta(seconds=k))
        ledger.append_many(
            [
                EntryDraft("decision", f"urn:agent:{i % 100}", decision(i, pack))
                for i in range(k, min(n, k + batch))
            ]
        )
    clock.set(START + timedelta(days=1))
    ledger.flush_tree_head()
    return ledger, clock


@benchmark("oscal_assessment")
def oscal_assessment() -> Iterator[Figure]:
    n = int(os.environ.get("PAYGOD_BENCH_OSCAL_N", "20000"))
    pack = compile_pack(PACK, Path("pack.yaml"))
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        ledger, _ = build(Path(tmp), n, pack)
        built = time.perf_counter() - started
        started = time.perf_counter()
        report = ledger.verify()
        verify = time.perf_counter() - started
        assert report.ok
        service = AssuranceService(ledger, Packs(pack), "bench")
        period = Period(START, START + timedelta(days=1))
        started = time.perf_counter()
        base = service.basis("default", period)
        document = service.assessment(base)
        assess = time.perf_counter() - started
        ledger.close()
    yield Figure(
        "oscal_assessment_seconds",
        assess,
        "s",
        verify,
        "ledger_verify_seconds",
        {
            "decisions": n,
            "document_bytes": len(document),
            "build_seconds": round(built, 2),
            "extrapolated_1m_seconds": round(assess * 1_000_000 / n, 1),
        },
    )
