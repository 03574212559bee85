"""Projection rebuild: entries/s folded from the ledger into fresh tables and switched in
(every projection, one pass; the ledger holds accounts and transfers with holds posted and
voided and reversals, the bulk of a busy home),
beside the ledger's own verify (`LedgerService.verify`: the chain, every record hash and
the stored Merkle leaves) over the same SQLite store in the same run. Goal: >= 0.3x.

The issue's target is 1M entries; `PAYGOD_BENCH_PROJECTION_SIZE` (default 200,000) sets
the size, so the run stays within a few minutes on a shared two-core machine.
"""

from __future__ import annotations

import os
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bench.harness import Figure, benchmark
from paygod.accounting import AccountCode, AccountSpec
from paygod.accounting.model import TransferFlags, TransferRequest
from paygod.bootstrap import build_kernel
from paygod.kernel.settings import Settings, load_settings

POSTGRES_URL = os.environ.get(
    "PAYGOD_BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test"
)

ACCOUNTS = 1000
BATCH = 2000


def _fill(kernel: object, total: int) -> None:
    """Transfers between 1,000 accounts: plain posts, holds posted or voided, reversals."""
    acc = kernel.accounting  # type: ignore[attr-defined]
    acc.open_accounts(
        "default",
        [
            AccountSpec(ledger="USD", code=AccountCode.ASSET, id=f"a{i}", metadata={"n": i})
            for i in range(ACCOUNTS)
        ],
    )
    n = 0
    while kernel.ledger.size < total:  # type: ignore[attr-defined]
        batch = []
        for _ in range(BATCH // 4):
            d, c = f"a{n % ACCOUNTS}", f"a{(n * 7 + 1) % ACCOUNTS}"
            batch.append(TransferRequest(f"t{n}", d, c, 100, metadata={"i": n % 10}))
            batch.append(TransferRequest(f"h{n}", d, c, 50, flags=TransferFlags(pending=True)))
            batch.append(
                TransferRequest(
                    f"h{n}.{'post' if n % 2 else 'void'}",
                    pending_id=f"h{n}",
                    flags=TransferFlags(post_pending=bool(n % 2), void_pending=not n % 2),
                )
            )
            batch.append(TransferRequest(f"t{n}.r", c, d, 10, reversal_of=f"t{n}"))
            n += 1
        results = acc.create_transfers("default", batch)
        assert all(r.ok for r in results), next(r.error for r in results if not r.ok)


def _measure(settings: Settings, total: int) -> dict[str, Any]:
    kernel = build_kernel(settings)
    try:
        started = time.perf_counter()
        _fill(kernel, total)
        size = kernel.ledger.size
        filled = time.perf_counter() - started
        started = time.perf_counter()
        report = kernel.ledger.verify()
        verify_s = time.perf_counter() - started
        assert report.ok, report.findings
        started = time.perf_counter()
        rebuilt = kernel.projections.rebuild()[0]  # every projection, one pass
        rebuild_s = time.perf_counter() - started
        started = time.perf_counter()
        (checked,) = kernel.projections.compare("accounting")
        compare_s = time.perf_counter() - started
        assert checked.ok and rebuilt.unresolved_metadata == 0
    finally:
        kernel.close()
    return {
        "size": size,
        "rebuild": size / rebuild_s,
        "verify": size / verify_s,
        "extra": {
            "entries": size,
            "target_entries": 1_000_000,
            "rows": rebuilt.rows,
            "rebuild_seconds": round(rebuild_s, 2),
            "verify_seconds": round(verify_s, 2),
            "fill_seconds": round(filled, 2),
            "compare_seconds": round(compare_s, 2),
            "goal_ratio": 0.3,
        },
    }


@benchmark("projection_rebuild")
def projection_rebuild() -> Iterator[Figure]:
    total = int(os.environ.get("PAYGOD_BENCH_PROJECTION_SIZE", "200000"))
    with tempfile.TemporaryDirectory() as tmp:
        got = _measure(load_settings(home=Path(tmp), database_url=None, redis_url=None), total)
    yield Figure(
        "projection_rebuild_all_per_s", got["rebuild"], "entries/s", got["verify"],
        "LedgerService.verify over the same store", got["extra"],
    )  # fmt: skip


@benchmark("projection_rebuild_postgres")
def projection_rebuild_postgres() -> Iterator[Figure]:
    """The same on PostgreSQL (`PAYGOD_BENCH_DATABASE_URL`), in a schema of its own;
    `PAYGOD_BENCH_PROJECTION_PG_SIZE` entries (default 50,000). Nothing when unreachable."""
    import psycopg

    total = int(os.environ.get("PAYGOD_BENCH_PROJECTION_PG_SIZE", "50000"))
    try:
        admin = psycopg.connect(POSTGRES_URL, autocommit=True, connect_timeout=2)
    except psycopg.OperationalError:
        return
    schema = f"bench_{uuid.uuid4().hex}"
    admin.execute(f"CREATE SCHEMA {schema}")
    url = f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
    try:
        with tempfile.TemporaryDirectory() as tmp:
            settings = load_settings(home=Path(tmp), database_url=url, redis_url=None)
            got = _measure(settings, total)
    finally:
        admin.execute(f"DROP SCHEMA {schema} CASCADE")
        admin.close()
    yield Figure(
        "projection_rebuild_all_postgres_per_s", got["rebuild"], "entries/s", got["verify"],
        "LedgerService.verify over the same store", got["extra"],
    )  # fmt: skip
