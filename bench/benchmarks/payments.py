"""Payments end to end, standalone (SQLite): decide, seal, hold, dispatch to a simulated rail
with zero latency, settle — against sealed decisions alone, in the same run.

Both sides keep the same number of requests in flight against a fresh kernel each, driven
the way `paygod serve` drives them on SQLite: as ledger steps on one event loop (see
api/hotpath.py), not a thread per request. The ratio says what the payment lifecycle (the
hold with the payment's first states, the outbox round trip, dispatching, the rail call,
the post of the hold with dispatched/settled: three ledger transactions) costs on top of
a sealed decision. The outbox worker runs in its own thread, as in the server.
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

from bench.harness import Figure, benchmark
from paygod.api.app import freeze_startup_heap
from paygod.bootstrap import Kernel, build_kernel
from paygod.kernel.interpreter import short_gil_turns
from paygod.kernel.settings import load_settings
from paygod.ledger.steps import Steps, run_async
from paygod.payments.model import Payment

T = TypeVar("T")

CLIENTS = 64
PAYMENTS = int(os.environ.get("BENCH_PAYMENTS", "1500"))
PAYERS = 500  # the bundled pack limits velocity per payer (20 an hour): spread the load
PAYEE = {"name": "Vendor", "account_number": "000123456789", "routing_number": "021000021"}
INPUT_PAYMENT = {
    "amount_minor": 100,
    "currency": "USD",
    "rail": "ach",
    "purpose": "bench",
    "counterparty": {"ref": "sha256:" + "ab" * 32, "verified": True},
}


def _kernel(home: Path) -> Kernel:
    kernel = build_kernel(load_settings(home=home, database_url=None, redis_url=None))
    freeze_startup_heap()  # as `paygod serve` does once its kernel is built
    return kernel


def fund_payers(kernel: Kernel) -> None:
    from paygod.accounting import AccountCode, AccountFlags, AccountSpec
    from paygod.accounting.model import TransferRequest

    kernel.accounting.open_accounts(
        "default",
        [AccountSpec(ledger="USD", code=AccountCode.EQUITY, id="treasury")]
        + [
            AccountSpec(
                ledger="USD",
                code=AccountCode.LIABILITY,
                id=f"payer-{i}",
                flags=AccountFlags(debits_must_not_exceed_credits=True),
            )
            for i in range(PAYERS)
        ],
    )
    kernel.accounting.create_transfers(
        "default",
        [
            TransferRequest(
                id=f"fund-{i}",
                debit_account_id="treasury",
                credit_account_id=f"payer-{i}",
                amount=10**9,
                ledger="USD",
            )
            for i in range(PAYERS)
        ],
    )


def _writer_cpu() -> float:
    """CPU seconds spent so far by the ledger's group-commit writer thread(s) in this process:
    the single writer every sealed step goes through, so its share says whether the ledger
    is what limits the figure."""
    total = 0.0
    for thread in threading.enumerate():
        if thread.name.startswith("ledger-writer") and thread.native_id is not None:
            try:
                stat = Path(f"/proc/self/task/{thread.native_id}/stat").read_text()
            except OSError:
                continue
            fields = stat.rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def in_flight(kernel: Kernel, steps_for: Callable[[int], Steps[T]], count: int) -> list[T]:
    """Run `steps_for(0..count-1)` on one event loop, CLIENTS of them in flight at a time."""

    async def main() -> list[T]:
        slots = asyncio.Semaphore(CLIENTS)

        async def one(i: int) -> T:
            async with slots:
                return await run_async(kernel.ledger, steps_for(i))

        return await asyncio.gather(*(one(i) for i in range(count)))

    return asyncio.run(main())


def sealed_decisions_per_s(home: Path) -> float:
    kernel = _kernel(home)
    try:

        def one(i: int) -> Steps[dict[str, Any]]:
            return kernel.decisions.decide_steps(
                subject=f"account:payer-{i % PAYERS}",
                context={"channel": "payments"},
                input={"payment": INPUT_PAYMENT},
                idempotency_key=f"bench-{i}",
            )

        started = time.perf_counter()
        results = in_flight(kernel, one, PAYMENTS)
        elapsed = time.perf_counter() - started
        assert all(r["decision"] == "allow" for r in results)
        return PAYMENTS / elapsed
    finally:
        kernel.close()


def payments_per_s(home: Path) -> tuple[float, float, float, dict[str, float]]:
    """(end-to-end settled/s, create/s, rail calls per payment, where the CPU went)."""
    kernel = _kernel(home)
    try:
        fund_payers(kernel)
        worker = kernel.executor
        worker.batch, worker.concurrency = 256, 16
        settled = threading.Event()

        def one(i: int) -> Steps[tuple[Payment, bool]]:
            return kernel.payments.create_steps(
                {
                    "payer_account": f"payer-{i % PAYERS}",
                    "payee": PAYEE,
                    "amount": 100,
                    "currency": "USD",
                    "purpose": "bench",
                    "metadata": {"counterparty_verified": True},
                },
                tenant_id="default",
                requested_by="bench",
                idempotency_key=f"bench-{i}",
            )

        worker.start()
        writer_before, cpu_before = _writer_cpu(), time.process_time()
        started = time.perf_counter()
        ids = [payment.payment_id for payment, _ in in_flight(kernel, one, PAYMENTS)]
        created = time.perf_counter() - started
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            counts = worker.store.counts()
            if counts["pending"] == 0:
                settled.set()
                break
            # Counting groups the whole outbox by status: polled every 10 ms it took about
            # 6% of the process's samples (py-spy), work the server itself never does.
            time.sleep(0.05)
        elapsed = time.perf_counter() - started
        writer, cpu = _writer_cpu() - writer_before, time.process_time() - cpu_before
        worker.stop()
        assert settled.is_set(), "the queue did not drain"
        statuses = {kernel.payments.get(p).status.value for p in ids[:50]}
        assert statuses == {"settled"}, statuses
        rail: Any = kernel.payments.connectors["ach"]
        calls = sum(rail.all_calls().values()) / len(ids)
        cost = {
            "cpu_ms_per_payment": round(cpu / PAYMENTS * 1000, 3),
            "ledger_writer_cpu_ms_per_payment": round(writer / PAYMENTS * 1000, 3),
            "ledger_writer_share_of_cpu": round(writer / cpu, 3) if cpu else 0.0,
            "process_cpu_cores": round(cpu / elapsed, 2),
        }
        return PAYMENTS / elapsed, PAYMENTS / created, calls, cost
    finally:
        kernel.close()


@benchmark("payments")
def payments() -> Iterator[Figure]:
    before = sys.getswitchinterval()
    short_gil_turns()  # as `paygod serve` and `paygod worker` run (kernel/interpreter.py)
    try:
        with tempfile.TemporaryDirectory() as a, tempfile.TemporaryDirectory() as b:
            baseline = sealed_decisions_per_s(Path(a))
            e2e, create, calls, cost = payments_per_s(Path(b))
    finally:
        sys.setswitchinterval(before)  # the next benchmark in this process runs as it was
    extra = {"clients": CLIENTS, "payments": PAYMENTS, "rail_calls_per_payment": calls, **cost}
    yield Figure("payments_settled_per_s", e2e, "payments/s", baseline, "sealed decisions/s", extra)
    yield Figure(
        "payments_accepted_per_s", create, "payments/s", baseline, "sealed decisions/s", extra
    )
