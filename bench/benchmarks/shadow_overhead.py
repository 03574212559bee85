"""Sealed decisions/s with one challenger in shadow against none, same run, same service
(memory ledger, so the figure is the decision path's own cost). Rounds alternate none and
shadow (the challenger retired and proposed again between), best of each kept.
Target: shadow costs <= 15 % of the rate."""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.harness import Figure, benchmark

PACK = "agent-payment-limits"


def _request(n: int) -> dict[str, Any]:
    return {
        "subject": f"urn:paygod:agent:{n % 97}",
        "context": {},
        "input": {
            "payment": {
                "amount_minor": (n * 7919) % 3_000_000 + 1,
                "currency": "EUR",
                "rail": ["card", "sepa", "wire", "ach"][n % 4],
                "counterparty": {"ref": "urn:paygod:cp:1", "verified": n % 5 != 0},
            }
        },
        "idempotency_key": f"s{n}",
    }


@benchmark("shadow_overhead")
def shadow_overhead() -> Iterator[Figure]:
    from paygod.decisions.packs import DEFAULT_PACKS_DIR, PackRepository
    from paygod.decisions.service import DecisionService
    from paygod.decisions.stores.memory import MemoryDecisionIndex
    from paygod.governance.model import Stage
    from paygod.governance.service import GovernanceService
    from paygod.kernel.clock import ManualClock
    from paygod.ledger.service import LedgerService
    from paygod.ledger.stores.memory import MemoryLedgerStore

    per_round = int(os.environ.get("BENCH_SHADOW_DECISIONS", "1500"))
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        shutil.copytree(DEFAULT_PACKS_DIR, home / "packs")
        challenger = home / "challenger"
        shutil.copytree(DEFAULT_PACKS_DIR / PACK, challenger)
        text = (challenger / "pack.yaml").read_text()
        text = text.replace('version: "1.1.0"', 'version: "9.0.0"')
        (challenger / "pack.yaml").write_text(text.replace("> 500000)", "> 400000)"))
        clock = ManualClock(datetime(2026, 1, 1, tzinfo=UTC))
        ledger = LedgerService(MemoryLedgerStore(), clock)
        packs = PackRepository(home / "packs")
        service = DecisionService(ledger, packs, clock, MemoryDecisionIndex())
        governance = GovernanceService(ledger, packs, clock, home)
        service.policy = governance
        counter = iter(range(10**9))

        def run() -> float:
            started = time.perf_counter()
            for _ in range(per_round):
                service.decide(**_request(next(counter)))
                clock.advance(1)
            return per_round / (time.perf_counter() - started)

        run()  # warm: publishes the packs once
        none, shadow = 0.0, 0.0
        for _ in range(3):
            none = max(none, run())
            governance.propose(challenger, actor="bench")
            governance.promote(PACK, Stage.SHADOW, actor="bench")
            shadow = max(shadow, run())
            compared = governance.challenger(PACK).compared
            governance.rollback(PACK, actor="bench", reason="next round")
    yield Figure(
        "shadow.sealed_decisions_per_s",
        shadow,
        "decisions/s",
        none,
        "sealed decisions/s with no challenger, same service",
        {
            "cost": round(1 - shadow / none, 4),
            "target_cost": 0.15,
            "per_round": per_round,
            "shadow_compared": compared,
        },
    )
