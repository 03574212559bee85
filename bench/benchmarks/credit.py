"""Credit: a 360-instalment schedule in `decimal` (target < 5 ms) and a Reg Z APR solve."""

from __future__ import annotations

import time
from collections.abc import Iterator

from bench.harness import Figure, benchmark, percentile
from paygod.credit.apr import annual_percentage_rate, parse_case
from paygod.credit.schedule import amortize, parse_terms

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
