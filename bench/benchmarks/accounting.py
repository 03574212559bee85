"""Accounting: batched transfers (SQLite, PostgreSQL) and contention on a few hot accounts.

Each figure is printed beside a baseline measured in the same run: batches against plain
INSERTs of the same transfer rows (no rules, no balances, no ledger), contention against
one thread on the same books. Every run ends by checking the invariants: every transfer
was decided as expected, no flagged account broke its flag, the trial balance balances and
the running totals equal the totals rebuilt from the ledger entries.
"""

from __future__ import annotations

import multiprocessing
import os
import random
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote
from uuid import uuid4

from bench.harness import Figure, benchmark
from paygod.accounting import AccountCode, AccountFlags, AccountSpec, TransferRequest
from paygod.accounting.model import Transfer, TransferState
from paygod.accounting.stores.sql import TRANSFER_COLUMNS, transfer_row
from paygod.bootstrap import Kernel, build_kernel
from paygod.kernel.errors import Rejected
from paygod.kernel.settings import load_settings

BATCH = 1000
BATCHES = 12
WALLETS = 100
PG_URL = os.environ.get("PAYGOD_BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
NEVER_NEGATIVE = AccountFlags(debits_must_not_exceed_credits=True)
PLAIN_DDL = (
    "CREATE TABLE bench_plain_transfers (tenant_id TEXT, id TEXT, debit_account_id TEXT, "
    "credit_account_id TEXT, amount BIGINT, ledger TEXT, code TEXT, flags INTEGER, "
    "pending_id TEXT, timeout_seconds INTEGER, reversal_of TEXT, metadata TEXT, "
    "timestamp TEXT, state TEXT, expires_at TEXT, resolved_at TEXT, reversed_amount BIGINT, "
    "valid_from TEXT, "
    "PRIMARY KEY (tenant_id, id))"
)


@contextmanager
def _postgres_schema() -> Iterator[str]:
    import psycopg

    schema = f"bench_{uuid4().hex}"
    with psycopg.connect(PG_URL, autocommit=True) as admin:
        admin.execute(f"CREATE SCHEMA {schema}")
    sep = "&" if "?" in PG_URL else "?"
    try:
        yield f"{PG_URL}{sep}options={quote(f'-csearch_path={schema}')}"
    finally:
        with psycopg.connect(PG_URL, autocommit=True) as admin:
            admin.execute(f"DROP SCHEMA {schema} CASCADE")


@contextmanager
def _kernel(backend: str) -> Iterator[Kernel]:
    with tempfile.TemporaryDirectory() as home:
        if backend == "sqlite":
            kernel = build_kernel(load_settings(home=Path(home)))
            try:
                yield kernel
            finally:
                kernel.close()
            return
        with _postgres_schema() as url:
            kernel = build_kernel(load_settings(home=Path(home), database_url=url))
            try:
                yield kernel
            finally:
                kernel.close()


def _open_books(kernel: Kernel, tenant: str, wallets: int, funding: int) -> None:
    specs = [
        AccountSpec("EUR", AccountCode.LIABILITY, id=f"wallet-{i}", flags=NEVER_NEGATIVE)
        for i in range(wallets)
    ] + [AccountSpec("EUR", AccountCode.ASSET, id=f"bank-{i}") for i in range(wallets)]
    kernel.accounting.open_accounts(tenant, specs)
    fund = [
        TransferRequest(f"fund-{i}", f"bank-{i}", f"wallet-{i}", funding) for i in range(wallets)
    ]
    assert all(r.created for r in kernel.accounting.create_transfers(tenant, fund))


def check_invariants(kernel: Kernel, tenant: str) -> bool:
    """Trial balance balances, no flag broken, running totals == rebuilt from the ledger."""
    accounting = kernel.accounting
    tb = accounting.trial_balance(tenant)
    accounts = accounting.list_accounts(tenant, limit=1000)
    flags_ok = all(
        a.debits_posted + a.debits_pending <= a.credits_posted
        for a in accounts
        if a.flags.debits_must_not_exceed_credits
    )
    audit = accounting.rebuild_check(tenant)
    return bool(tb["balanced"]) and flags_ok and audit.ok


def _batches(seed: int) -> list[list[TransferRequest]]:
    rng = random.Random(seed)
    out = []
    for b in range(BATCHES):
        batch = []
        for i in range(BATCH):
            w = rng.randrange(WALLETS)
            if rng.random() < 0.5:
                batch.append(TransferRequest(f"s{b}-{i}", f"wallet-{w}", f"bank-{w}", 1))
            else:
                batch.append(TransferRequest(f"s{b}-{i}", f"bank-{w}", f"wallet-{w}", 1))
        out.append(batch)
    return out


def _plain_rows(
    kernel: Kernel, batches: list[list[TransferRequest]]
) -> list[list[tuple[Any, ...]]]:
    now = kernel.clock.now()
    return [
        [
            transfer_row(
                Transfer(
                    r.id,
                    "plain",
                    r.debit_account_id or "",
                    r.credit_account_id or "",
                    r.amount or 0,
                    "EUR",
                    r.code,
                    now,
                    TransferState.POSTED,
                )
            )
            for r in batch
        ]
        for batch in batches
    ]


def _plain_inserts(kernel: Kernel, rows: list[list[tuple[Any, ...]]]) -> float:
    """Transfers/s of plain INSERTs of the same rows, one transaction per batch."""
    marks = ", ".join(["?"] * 18)
    sql = f"INSERT INTO bench_plain_transfers ({TRANSFER_COLUMNS}) VALUES ({marks})"
    db = kernel.db
    if kernel.db.dialect == "sqlite":
        conn = db.connect()  # type: ignore[union-attr]
        conn.execute(PLAIN_DDL)
        started = time.perf_counter()
        for batch in rows:
            conn.execute("BEGIN IMMEDIATE")
            conn.executemany(sql, batch)
            conn.execute("COMMIT")
        elapsed = time.perf_counter() - started
        conn.close()
    else:
        pg = db.connect()
        pg.execute(PLAIN_DDL)
        pg.commit()
        started = time.perf_counter()
        for batch in rows:
            with pg.transaction(), pg.cursor() as cur:
                cur.executemany(sql.replace("?", "%s"), batch)
        elapsed = time.perf_counter() - started
        pg.close()
    return sum(len(b) for b in rows) / elapsed


def _batch_figures(backend: str) -> Iterator[Figure]:
    with _kernel(backend) as kernel:
        tenant = "bench"
        _open_books(kernel, tenant, WALLETS, 1_000_000)
        batches = _batches(7)
        warm = [TransferRequest(f"warm-{i}", "bank-0", "wallet-0", 1) for i in range(BATCH)]
        kernel.accounting.create_transfers(tenant, warm)
        started = time.perf_counter()
        decided_ok = True
        for batch in batches:
            results = kernel.accounting.create_transfers(tenant, batch)
            decided_ok &= all(r.created for r in results)
        elapsed = time.perf_counter() - started
        ours = BATCH * BATCHES / elapsed
        plain = _plain_inserts(kernel, _plain_rows(kernel, batches))
        invariants = decided_ok and check_invariants(kernel, tenant)
        yield Figure(
            f"accounting_{backend}_batched_transfers_per_s",
            ours,
            "transfers/s",
            plain,
            "plain INSERT of the same rows (no rules, balances or ledger)",
            {
                "batch": BATCH,
                "batches": BATCHES,
                "invariants_ok": invariants,
                "target": 10_000 if backend == "sqlite" else 5_000,
            },
        )


@benchmark("accounting_batch_sqlite")
def batch_sqlite() -> Iterator[Figure]:
    yield from _batch_figures("sqlite")


@benchmark("accounting_batch_postgres")
def batch_postgres() -> Iterator[Figure]:
    yield from _batch_figures("postgres")


# -- contention -------------------------------------------------------------------------

HOT = 5  # 5 never-negative wallets + 5 banks = the same 10 accounts for everyone
THREADS = 32
SECONDS = 6.0


def _hammer(home: str, url: str | None, tag: str, threads: int, seconds: float, out: Any) -> None:
    settings = (
        load_settings(home=Path(home), database_url=url) if url else load_settings(home=Path(home))
    )
    kernel = build_kernel(settings)
    created = refused = 0
    lock = threading.Lock()
    began = time.time()
    deadline = time.monotonic() + seconds

    def worker(n: int) -> None:
        nonlocal created, refused
        rng = random.Random(f"{tag}-{n}")
        mine_created = mine_refused = 0
        i = 0
        while time.monotonic() < deadline:
            w = rng.randrange(HOT)
            pair = (
                (f"wallet-{w}", f"bank-{w}") if rng.random() < 0.6 else (f"bank-{w}", f"wallet-{w}")
            )
            try:
                kernel.accounting.transfer(
                    "hot", TransferRequest(f"{tag}-{n}-{i}", pair[0], pair[1], rng.randint(1, 50))
                )
                mine_created += 1
            except Rejected:
                mine_refused += 1
            i += 1
        with lock:
            created += mine_created
            refused += mine_refused

    pool = [threading.Thread(target=worker, args=(n,)) for n in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    ended = time.time()
    kernel.close()
    out.put((created, refused, began, ended))


def _contention(backend: str) -> Iterator[Figure]:
    with tempfile.TemporaryDirectory() as home:
        schema = _postgres_schema() if backend == "postgres" else None
        url = schema.__enter__() if schema else None
        try:
            settings = (
                load_settings(home=Path(home), database_url=url)
                if url
                else load_settings(home=Path(home))
            )
            kernel = build_kernel(settings)
            _open_books(kernel, "hot", HOT, 2_000)
            ctx = multiprocessing.get_context("spawn")
            out = ctx.Queue()
            # Baseline: one thread in one process on the same books, same run.
            _hammer(home, url, "solo", 1, SECONDS / 2, out)
            solo_created, solo_refused, solo_began, solo_ended = out.get()
            solo = (solo_created + solo_refused) / (solo_ended - solo_began)
            procs = [
                ctx.Process(target=_hammer, args=(home, url, f"p{p}", THREADS, SECONDS, out))
                for p in range(2)
            ]
            for p in procs:
                p.start()
            counts = [out.get(timeout=SECONDS * 20) for _ in procs]
            for p in procs:
                p.join(60)
            # The hammering window: from the first process starting to the last finishing.
            elapsed = max(c[3] for c in counts) - min(c[2] for c in counts)
            created = sum(c[0] for c in counts) + solo_created
            refused = sum(c[1] for c in counts) + solo_refused
            # Page through every transfer: nothing lost, nothing doubled.
            seen: list[str] = []
            cursor: str | None = None
            while True:
                page = kernel.accounting.list_transfers("hot", after=cursor, limit=1000)
                seen.extend(t.id for t in page)
                if len(page) < 1000:
                    break
                cursor = page[-1].id
            total = len(seen) - HOT
            invariants = (
                total == created and len(set(seen)) == len(seen) and check_invariants(kernel, "hot")
            )
            kernel.close()
            ops = sum(c[0] + c[1] for c in counts)
            yield Figure(
                f"accounting_{backend}_contention_ops_per_s",
                ops / elapsed,
                "transfers/s",
                solo,
                "1 thread, 1 process on the same 10 accounts",
                {
                    "processes": 2,
                    "threads_per_process": THREADS,
                    "accounts": 2 * HOT,
                    "created": created,
                    "refused_exceeds_credits": refused,
                    "invariants_ok": invariants,
                    "elapsed_s": round(elapsed, 2),
                },
            )
        finally:
            if schema:
                schema.__exit__(None, None, None)


@benchmark("accounting_contention_sqlite")
def contention_sqlite() -> Iterator[Figure]:
    yield from _contention("sqlite")


@benchmark("accounting_contention_postgres")
def contention_postgres() -> Iterator[Figure]:
    yield from _contention("postgres")
