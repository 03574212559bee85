"""Credit: a 360-instalment schedule in `decimal` (target < 5 ms), a Reg Z APR solve, and
applications through the whole saga (bureau, scorecard, offer with its APR, e-signature,
disbursement booked in double entry, a first repayment) with the simulated bureau, on a
standalone kernel — beside sealed decisions/s on another fresh kernel in the same run."""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bench.harness import Figure, benchmark, percentile
from paygod.credit.apr import annual_percentage_rate, parse_case
from paygod.credit.schedule import amortize, parse_terms

if TYPE_CHECKING:
    from paygod.bootstrap import Kernel

TERMS = parse_terms(
    principal=30_000_000,
    currency="USD",
    annual_rate="0.0675",
    payments=360,
    frequency="monthly",
    day_count="actual/365",
    start="2025-01-31",
)


def _float_schedule() -> float:
    """The baseline: the same amortisation loop in binary floating point (what not to book)."""
    rate = 0.0675 / 12
    balance = 300_000.0
    payment = balance * rate / (1 - (1 + rate) ** -360)
    total = 0.0
    for _ in range(360):
        interest = round(balance * rate, 2)
        balance -= payment - interest
        total += interest
    return total


def _timed(fn: object, runs: int) -> list[float]:
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()  # type: ignore[operator]
        samples.append((time.perf_counter() - started) * 1000)
    return samples


@benchmark("credit")
def credit() -> Iterator[Figure]:
    baseline = _timed(_float_schedule, 200)
    ours = _timed(lambda: amortize(TERMS), 200)
    yield Figure(
        "schedule_360_monthly_ms_p50",
        percentile(ours, 50),
        "ms",
        percentile(baseline, 50),
        "float loop, same 360 rows",
        {"p99_ms": round(percentile(ours, 99), 4), "target_ms": 5},
    )
    schedule = amortize(TERMS)
    case = {
        "amount_financed": 30_000_000 - 600_000,  # 2 points of fees financed
        "advance_date": "2025-01-31",
        "unit_period": "month",
        "payments": [{"date": r.due_date.isoformat(), "amount": r.payment} for r in schedule.rows],
    }
    parsed = parse_case(case)
    solves = _timed(lambda: annual_percentage_rate(parsed), 20)
    yield Figure(
        "apr_360_payments_ms_p50",
        percentile(solves, 50),
        "ms",
        percentile(ours, 50),
        "one 360-row schedule",
        {"apr": annual_percentage_rate(parsed).as_dict()["apr"]},
    )


APPLICATIONS = int(os.environ.get("BENCH_APPLICATIONS", "600"))
THREADS = int(os.environ.get("BENCH_CREDIT_THREADS", "64"))  # clients in flight
# One applicant per application (`urn:applicant:bench-<i>`, each with the prime file), as
# the decisions baseline spreads its decisions over payers. BENCH_CREDIT_ONE_APPLICANT=1
# sends every application from `urn:applicant:prime`: a burst the risk module's windows see
# as one subject (each decision re-measured in the writer as the velocity moves).
ONE_APPLICANT = os.environ.get("BENCH_CREDIT_ONE_APPLICANT") == "1"


class _PrimeFiles:
    """The simulated bureau, answering the prime fixture's file for every bench applicant."""

    def __init__(self) -> None:
        from paygod.credit.bureau import SimulatedBureau

        self.inner = SimulatedBureau()

    def report(self, applicant_ref: str) -> Any:
        return replace(self.inner.report("urn:applicant:prime"), applicant_ref=applicant_ref)


def _applicants(kernel: Kernel) -> Callable[[int], str]:
    if ONE_APPLICANT:
        return lambda i: "urn:applicant:prime"
    kernel.lending.saga.bureau = _PrimeFiles()
    return lambda i: f"urn:applicant:bench-{i}"


APPLICATION = {
    "product_id": "personal-term-loan",
    "applicant_ref": "urn:applicant:prime",
    "amount": 1_000_000,
    "currency": "USD",
    "payments": 24,
    "monthly_income": 900_000,
}


def _after_offer(kernel: Any, prefix: str) -> Callable[[int, str], None]:
    """accept → disburse → a first repayment, for the i-th application."""
    lending, loans = kernel.lending, kernel.loans

    def rest(i: int, application_id: str) -> None:
        lending.accept(application_id, tenant_id="default", signer=f"agent-{i}")
        loans.disburse(application_id, tenant_id="default", operator="bench")
        loans.repay(
            application_id,
            {"amount": 10_000, "currency": "USD"},
            tenant_id="default",
            owner=None,
            idempotency_key=f"{prefix}-{i}",
        )

    return rest


def _saga_per_s(home: Path) -> tuple[float, float, float]:
    """(applications/s through apply → accept → disburse → first repayment, applies/s,
    process CPU ms per application)."""
    from bench.benchmarks.payments import _kernel

    kernel = _kernel(home)
    try:
        lending = kernel.lending
        applicant = _applicants(kernel)
        rest = _after_offer(kernel, "r")

        def apply(i: int) -> str:
            made, _ = lending.submit(
                {**APPLICATION, "applicant_ref": applicant(i)},
                tenant_id="default",
                applicant=f"agent-{i}",
                idempotency_key=f"a-{i}",
            )
            assert made.status.value == "offered"
            return made.application_id

        with ThreadPoolExecutor(THREADS) as pool:
            started, cpu = time.perf_counter(), time.process_time()
            ids = list(pool.map(apply, range(APPLICATIONS)))
            applied = time.perf_counter() - started
            list(pool.map(rest, range(APPLICATIONS), ids))
            elapsed = time.perf_counter() - started
            cpu_ms = (time.process_time() - cpu) * 1000 / APPLICATIONS
        assert kernel.accounting.trial_balance("default")["balanced"]
        return APPLICATIONS / elapsed, APPLICATIONS / applied, cpu_ms
    finally:
        kernel.close()


def _worker_saga_per_s(home: Path) -> tuple[float, float, float]:
    """The same, the application saga run by the outbox worker (checks → assess → decide,
    one message and one sealed transaction each, simulated KYC, screening, account and
    bureau, raw answers into the PII vault): (whole saga /s, submitted → offered /s,
    process CPU ms per application)."""
    from bench.benchmarks.payments import _kernel

    kernel = _kernel(home)
    worker = kernel.executor
    try:
        lending = kernel.lending
        lending.inline = False
        worker.concurrency, worker.batch = 16, 64
        applicant = _applicants(kernel)
        rest = _after_offer(kernel, "wr")

        def apply(i: int) -> str:
            made, _ = lending.submit(
                {**APPLICATION, "applicant_ref": applicant(i)},
                tenant_id="default",
                applicant=f"agent-{i}",
                idempotency_key=f"w-{i}",
            )
            return made.application_id

        worker.start()
        with ThreadPoolExecutor(THREADS) as pool:
            started, cpu = time.perf_counter(), time.process_time()
            ids = list(pool.map(apply, range(APPLICATIONS)))
            # The queue drained (a cheap count, not a read of every application per poll).
            while any(n for s, n in worker.store.counts().items() if s not in ("done", "dead")):
                time.sleep(0.01)
            offered = time.perf_counter() - started
            assert all(lending.get(a).status.value == "offered" for a in ids)
            list(pool.map(rest, range(APPLICATIONS), ids))
            elapsed = time.perf_counter() - started
            cpu_ms = (time.process_time() - cpu) * 1000 / APPLICATIONS
        assert kernel.accounting.trial_balance("default")["balanced"]
        return APPLICATIONS / elapsed, APPLICATIONS / offered, cpu_ms
    finally:
        worker.stop()
        kernel.close()


@benchmark("credit_saga")
def credit_saga() -> Iterator[Figure]:
    from bench.benchmarks.payments import sealed_decisions_per_s

    with tempfile.TemporaryDirectory() as a, tempfile.TemporaryDirectory() as b:
        baseline = sealed_decisions_per_s(Path(a))
        saga, applied, saga_cpu = _saga_per_s(Path(b))
    with tempfile.TemporaryDirectory() as c:
        on_worker, offered, worker_cpu = _worker_saga_per_s(Path(c))
    yield Figure(
        "credit_saga_applications_per_s",
        saga,
        "applications/s",
        baseline,
        "sealed decisions/s, same run",
        {
            "target_per_s": 200,
            "applications": APPLICATIONS,
            "threads": THREADS,
            "steps": "apply, saga inline (checks, assess, decide) → accept → disburse → repay",
            "ledger_transactions_per_application": 7,
            "applicants": "one, urn:applicant:prime" if ONE_APPLICANT else "one each, prime files",
            "apply_only_per_s": round(applied, 1),
            # The machine's load moves the rates; the process's CPU per application less so.
            "cpu_ms_per_application": round(saga_cpu, 2),
        },
    )
    yield Figure(
        "credit_saga_on_worker_applications_per_s",
        on_worker,
        "applications/s",
        baseline,
        "sealed decisions/s, same run",
        {
            "target_per_s": 200,
            "applications": APPLICATIONS,
            "steps": "submit → worker: checks (KYC→screening ∥ bureau ∥ account, vault) → "
            "assess → decide → accept → disburse → repay",
            "ledger_transactions_per_application": 7,
            "applicants": "one, urn:applicant:prime" if ONE_APPLICANT else "one each, prime files",
            "submitted_to_offered_per_s": round(offered, 1),
            "cpu_ms_per_application": round(worker_cpu, 2),
        },
    )
