"""Secrets never enter the ledger: what the credential rule (kernel/credentials.py) costs.

Figures, each beside a baseline measured in the same run:
- a sealed decision (in process, SQLite, the bundled packs) with the rule on, against the
  same decision with the rule switched off (interleaved rounds, best of each);
- the rule alone on a typical decision body, against the personal-data rule
  (`kernel.pii`) that every write already ran on the same body;
- the rule on a body full of long strings (the worst ordinary case: nothing is skipped by
  length), against the same baseline.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from statistics import median
from typing import Any

from bench.harness import Figure, benchmark
from paygod.decisions import service as decisions_service
from paygod.decisions.evidence import find_raw_pii
from paygod.kernel.credentials import credential_problems

BODY: dict[str, Any] = {
    "subject": "urn:paygod:agent:bench",
    "context": {"evidence_refs": ["sha256:" + "ab" * 32], "channel": "api"},
    "input": {
        "payment": {
            "amount_minor": 1250,
            "currency": "EUR",
            "rail": "card",
            "purpose": "invoice 2026-117 for cloud hosting",
            "counterparty": {"ref": "urn:paygod:cp:0f9e8d7c-6b5a-4321", "verified": True},
            "tags": ["recurring", "b2b"],
        }
    },
}
LONG: dict[str, Any] = {
    "notes": [
        f"line {i}: the supplier confirmed the delivery of order {i} by e-mail" * 2
        for i in range(20)
    ]
}


def _per_call(fn: Any, doc: Any, rounds: int = 20_000) -> float:
    started = time.perf_counter()
    for _ in range(rounds):
        fn(doc, "")
    return (time.perf_counter() - started) / rounds * 1e6


def _decisions_per_second(kernel: Any, scan: bool, count: int, offset: int) -> float:
    real = decisions_service.credential_problems
    if not scan:
        decisions_service.credential_problems = lambda *a, **k: []  # type: ignore[assignment]
    try:
        started = time.perf_counter()
        for i in range(count):
            kernel.decisions.decide(
                subject=BODY["subject"],
                context=BODY["context"],
                input=BODY["input"],
                idempotency_key=f"bench-{offset}-{scan}-{i}",
            )
        return count / (time.perf_counter() - started)
    finally:
        decisions_service.credential_problems = real  # type: ignore[assignment]


@benchmark("secret_scan")
def run() -> Iterator[Figure]:
    credential_problems(BODY, "")  # load the plugins outside the timings
    pii_us = _per_call(find_raw_pii, BODY)
    scan_us = _per_call(credential_problems, BODY)
    yield Figure("secret_scan.decision_body_us", scan_us, "us", pii_us, "pii_scan.decision_body_us")
    long_us = _per_call(credential_problems, LONG, 2000)
    long_pii_us = _per_call(find_raw_pii, LONG, 2000)
    yield Figure(
        "secret_scan.long_strings_body_us",
        long_us,
        "us",
        long_pii_us,
        "pii_scan.long_strings_body_us",
    )

    from paygod.bootstrap import build_kernel
    from paygod.kernel.settings import load_settings

    with tempfile.TemporaryDirectory() as home:
        kernel = build_kernel(load_settings(home=Path(home), database_url=None, redis_url=None))
        try:
            _decisions_per_second(kernel, True, 50, -1)  # warm up
            rates: dict[bool, list[float]] = {True: [], False: []}
            # The order alternates: the ledger grows as rounds go, and whichever ran second
            # would otherwise always pay for the larger store. Medians: best-of-n favours
            # whichever round a neighbour's load happened to spare.
            for r in range(6):
                for scan in (False, True) if r % 2 == 0 else (True, False):
                    rates[scan].append(_decisions_per_second(kernel, scan, 200, r))
            with_scan, without = median(rates[True]), median(rates[False])
        finally:
            kernel.close()
    # The rule's own share of one sealed decision: its cost on this body (measured alone,
    # above) against the time of a decision without it. Less noisy than the throughput
    # ratio below, which two neighbours' load can move by 20 %.
    yield Figure("secret_scan.share_of_a_decision_us", scan_us, "us", 1e6 / without, "decision_us")
    yield Figure(
        "secret_scan.sealed_decisions_per_s",
        with_scan,
        "decisions/s",
        without,
        "no_scan.sealed_decisions_per_s",
    )
