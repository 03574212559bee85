"""The credit saga scaled out: kernels in several processes on one PAYGOD_HOME, as several
`paygod serve` or `paygod worker` processes run beside each other on one SQLite ledger
(each process's ledger writer takes the database's write lock and reads the chain head
inside its transaction, so their entries interleave in one chain). Each process runs the
whole saga inline for its share of the applications (submit → checks → assess → decide →
accept → disburse → first repayment, simulated providers), all starting together.

Beside it, in the same run: sealed decisions/s by the same number of processes on another
fresh home, and both figures by one process — the CPU-bound Python work of a kernel holds
one core, so what more processes buy is the machine's other cores."""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from bench.harness import Figure, benchmark

APPLICATIONS = int(os.environ.get("BENCH_APPLICATIONS", "600"))
DECISIONS = int(os.environ.get("BENCH_PAYMENTS", "1500"))
THREADS = int(os.environ.get("BENCH_CREDIT_THREADS", "64"))  # clients in flight, in all
PROCESSES = int(os.environ.get("BENCH_CREDIT_PROCESSES", "0"))  # 0: one per CPU core


def _applications(home: str, share: range, threads: int) -> Callable[[], int]:
    """The saga for `share`'s applications on a kernel of `home`, ready to run."""
    from bench.benchmarks.credit import APPLICATION, _after_offer, _applicants
    from bench.benchmarks.payments import _kernel

    kernel = _kernel(Path(home))
    lending = kernel.lending
    applicant = _applicants(kernel)
    rest = _after_offer(kernel, f"r{share.start}")

    def one(i: int) -> None:
        made, _ = lending.submit(
            {**APPLICATION, "applicant_ref": applicant(i)},
            tenant_id="default",
            applicant=f"agent-{i}",
            idempotency_key=f"a-{i}",
        )
        assert made.status.value == "offered", made.status
        rest(i, made.application_id)

    def run() -> int:
        with ThreadPoolExecutor(threads) as pool:
            list(pool.map(one, share))
        kernel.close()
        return len(share)

    return run


def _decisions(home: str, share: range, threads: int) -> Callable[[], int]:
    """Sealed decisions for `share` on a kernel of `home`, ready to run: the payments
    benchmark's `sealed_decisions_per_s` (its decision, input and pack, its clients in
    flight on one event loop), on the share."""
    from bench.benchmarks.payments import INPUT_PAYMENT, PAYERS, _kernel, in_flight

    kernel = _kernel(Path(home))

    def one(j: int) -> Any:
        i = share.start + j
        return kernel.decisions.decide_steps(
            subject=f"account:payer-{i % PAYERS}",
            context={"channel": "payments"},
            input={"payment": INPUT_PAYMENT},
            idempotency_key=f"bench-{i}",
        )

    def run() -> int:
        results = in_flight(kernel, one, len(share))
        assert all(r["decision"] == "allow" for r in results)
        kernel.close()
        return len(share)

    return run


WORKLOADS = {"applications": _applications, "decisions": _decisions}


def _process(workload: str, home: str, share: range, threads: int, start: Any, out: Any) -> None:
    """One process: its kernel built, then every process starts together (`start`)."""
    run = WORKLOADS[workload](home, share, threads)
    start.wait()
    began, cpu = time.time(), time.process_time()
    done = run()
    out.put((began, time.time(), time.process_time() - cpu, done))


def per_s(workload: str, home: Path, total: int, processes: int) -> tuple[float, float]:
    """(per second, CPU ms each) for `total` in `processes` processes on `home`."""
    from bench.benchmarks.payments import _kernel

    _kernel(home).close()  # migrated once, before the processes open it
    context = get_context("spawn")
    start, out = context.Barrier(processes), context.Queue()
    cut = [total * p // processes for p in range(processes + 1)]
    workers = [
        context.Process(
            target=_process,
            args=(workload, str(home), range(cut[p], cut[p + 1]), THREADS // processes, start, out),
        )
        for p in range(processes)
    ]
    for worker in workers:
        worker.start()
    results = [out.get(timeout=600) for _ in workers]
    for worker in workers:
        worker.join()
        assert worker.exitcode == 0, worker.exitcode
    began, ended = min(r[0] for r in results), max(r[1] for r in results)
    assert sum(r[3] for r in results) == total
    return total / (ended - began), sum(r[2] for r in results) * 1000 / total


def _balanced(home: Path) -> bool:
    from bench.benchmarks.payments import _kernel

    kernel = _kernel(home)
    try:
        ok = kernel.accounting.trial_balance("default")["balanced"]
        return bool(ok and kernel.ledger.verify().ok)
    finally:
        kernel.close()


@benchmark("credit_saga_processes")
def credit_saga_processes() -> Iterator[Figure]:
    processes = PROCESSES or os.cpu_count() or 1
    rates: dict[tuple[str, int], tuple[float, float]] = {}
    for count in (processes, 1):
        for workload, total in (("applications", APPLICATIONS), ("decisions", DECISIONS)):
            with tempfile.TemporaryDirectory() as home:
                rates[workload, count] = per_s(workload, Path(home), total, count)
                if workload == "applications":
                    assert _balanced(Path(home)), "the books balance and the ledger verifies"
    saga, saga_cpu = rates["applications", processes]
    yield Figure(
        "credit_saga_processes_applications_per_s",
        saga,
        "applications/s",
        rates["decisions", processes][0],
        f"sealed decisions/s, {processes} processes, same run",
        {
            "target_per_s": 200,
            "processes": processes,
            "applications": APPLICATIONS,
            "threads_in_all": THREADS,
            "steps": "apply, saga inline (checks, assess, decide) → accept → disburse → repay",
            "cpu_ms_per_application": round(saga_cpu, 2),
            "one_process_applications_per_s": round(rates["applications", 1][0], 1),
            "one_process_cpu_ms_per_application": round(rates["applications", 1][1], 2),
            "one_process_sealed_decisions_per_s": round(rates["decisions", 1][0], 1),
        },
    )
