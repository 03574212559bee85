"""The distributed-mode fault harness, small: one API process, a short run, every fault.

The full run (1, 2 and 4 API processes, two concurrency levels) is `python -m
bench.fault_harness`; this keeps its four checks from regressing in CI.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.fault_harness import print_report, run_configuration

pytestmark = [pytest.mark.xdist_group("nats"), pytest.mark.slow]


def test_faults_lose_nothing_and_do_nothing_twice(
    paygod_home: Path,
    postgres_url: str,
    nats_url: str,
    redis_url: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    report = run_configuration(1, [6], 4.0, faults=True, worker_lease=3.0)
    print_report(report)
    shown = capsys.readouterr().out
    assert len(report.faults) == 3, shown
    assert [c.name for c in report.checks] == [
        "ledger verifies",
        "balances sum to zero",
        "every acknowledged request is present",
        "no side effect happened twice",
    ]
    assert report.ok, shown
    acknowledged = report.levels[0][1].acknowledged
    assert all(acknowledged[op] for op in ("decision", "transfer", "payment")), shown
