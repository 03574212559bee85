"""AML typologies: what evaluating newly sealed transfers costs incrementally (the monitor
after its cursor) beside a batch scan of the whole history (the same-run baseline: what a
monitor without a cursor and windows would redo on every pass)."""

from __future__ import annotations

import os
import random
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

from bench.harness import Figure, benchmark
from paygod.accounting.model import Transfer, TransferState
from paygod.accounting.rules import transfer_payload
from paygod.aml.service import AmlService
from paygod.aml.stores.alerts import MemoryAlertStore
from paygod.kernel.clock import FixedClock
from paygod.ledger import EntryDraft, LedgerService
from paygod.ledger.stores.memory import MemoryLedgerStore

HISTORY = int(os.environ.get("PAYGOD_BENCH_AML_HISTORY", "100000"))
NEW = int(os.environ.get("PAYGOD_BENCH_AML_NEW", "2000"))
START = datetime(2026, 1, 1, tzinfo=UTC)


def _amount(rng: random.Random) -> int:
    """Mostly ordinary amounts; 2 % just under the threshold, 2 % round thousands."""
    draw = rng.random()
    if draw < 0.02:
        return rng.randint(900_000, 999_999)
    if draw < 0.04:
        return 100_000 * rng.randint(1, 20)
    return rng.randint(100, 500_000)


def _drafts(rng: random.Random, first: int, count: int) -> list[EntryDraft]:
    """Transfers among 5,000 accounts, one every 30 s."""
    drafts = []
    for n in range(first, first + count):
        src, dst = rng.randrange(5000), rng.randrange(5000)
        t = Transfer(
            f"t{n}", "default", f"a{src}", f"a{dst}", _amount(rng), "USD", "transfer",
            START + timedelta(seconds=30 * n), TransferState.POSTED,
        )  # fmt: skip
        drafts.append(EntryDraft("transfer", t.id, transfer_payload(t, "post")))
    return drafts


@benchmark("aml.typologies")
def typologies() -> Iterator[Figure]:
    rng = random.Random(18)
    clock = FixedClock(START)
    ledger = LedgerService(MemoryLedgerStore(), clock)
    for first in range(0, HISTORY, 5000):
        ledger.append_many(_drafts(rng, first, min(5000, HISTORY - first)))
    aml = AmlService(ledger, MemoryAlertStore(), clock)
    started = time.process_time()
    aml.catch_up()
    replay = time.process_time() - started
    ledger.append_many(_drafts(rng, HISTORY, NEW))
    started = time.process_time()
    raised = aml.catch_up()
    incremental = time.process_time() - started
    started = time.process_time()
    scan = aml.scan("default", record=False)
    batch = time.process_time() - started
    yield Figure(
        "aml.incremental.transfers_per_s",
        NEW / incremental,
        "transfers/s",
        NEW / batch,
        "batch_rescan_of_history",
        {
            "history": HISTORY,
            "new": NEW,
            "alerts_raised_on_new": len(raised),
            "hits_in_full_scan": len(scan.hits),
            "first_pass_over_history_cpu_s": round(replay, 2),
            "measured_as": "process CPU time",
        },
    )
