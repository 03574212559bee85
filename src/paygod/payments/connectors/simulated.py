"""A simulated rail for tests, the demo and benchmarks.

Configurable latency, failure rate (a seeded RNG, so runs repeat), and settlement either
in the send receipt (`settle_after=0`) or by an asynchronous callback after a delay. It
counts calls per idempotency key, which is how tests prove a payment went out exactly
once. With `state_path` the counts live in a small SQLite file, so they survive a
`kill -9` of the process that called the rail (crash tests).
"""

from __future__ import annotations

import random
import sqlite3
import threading
import time
from collections import Counter
from pathlib import Path

from paygod.kernel.record_ids import new_id
from paygod.payments.model import (
    PaymentInstruction,
    RailReceipt,
    RailUnavailable,
    SettlementNotice,
)
from paygod.payments.ports import SettlementListener


class SimulatedRail:
    def __init__(
        self,
        name: str,
        *,
        latency: float = 0.0,
        failure_rate: float = 0.0,
        settle_after: float = 0.0,
        seed: int = 7,
        state_path: Path | None = None,
    ) -> None:
        self.name = name
        self.latency = latency
        self.failure_rate = failure_rate
        self.settle_after = settle_after
        self.down = False  # flip to make every call fail (fallback demos, breaker tests)
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self._listeners: list[SettlementListener] = []
        self.attempts: Counter[str] = Counter()  # every send, accepted or not
        self._accepted: dict[str, RailReceipt] = {}
        self._sends: Counter[str] = Counter()  # accepted sends per key; a duplicate adds one
        self._state: sqlite3.Connection | None = None
        if state_path is not None:
            self._state = sqlite3.connect(state_path, isolation_level=None, check_same_thread=False)
            self._state.execute("PRAGMA journal_mode=WAL")
            self._state.execute("PRAGMA busy_timeout=10000")
            self._state.execute(
                "CREATE TABLE IF NOT EXISTS rail_calls (rail TEXT, idempotency_key TEXT,"
                " calls INTEGER, status TEXT, reference TEXT,"
                " PRIMARY KEY (rail, idempotency_key))"
            )

    @property
    def blocking(self) -> bool:
        """Whether `send` waits on anything (its latency, its state file): the executor
        then calls it from a thread; otherwise in place, even on an event loop."""
        return self.latency > 0 or self._state is not None

    def on_settlement(self, listener: SettlementListener) -> None:
        self._listeners.append(listener)

    def calls(self, idempotency_key: str) -> int:
        """How many times the rail accepted a payment with this key (exactly-once means 1)."""
        if self._state is not None:
            row = self._state.execute(
                "SELECT calls FROM rail_calls WHERE rail = ? AND idempotency_key = ?",
                (self.name, idempotency_key),
            ).fetchone()
            return int(row[0]) if row else 0
        with self._lock:
            return self._sends[idempotency_key]

    def all_calls(self) -> dict[str, int]:
        if self._state is not None:
            rows = self._state.execute(
                "SELECT idempotency_key, calls FROM rail_calls WHERE rail = ?", (self.name,)
            ).fetchall()
            return {k: int(n) for k, n in rows}
        with self._lock:
            return dict(self._sends)

    def send(self, instruction: PaymentInstruction) -> RailReceipt:
        key = instruction.key
        with self._lock:
            self.attempts[key] += 1
            failing = self.down or (
                self.failure_rate > 0 and self._rng.random() < self.failure_rate
            )
        if failing:
            raise RailUnavailable(f"{self.name}: simulated outage")
        status = "settled" if self.settle_after <= 0 else "accepted"
        receipt = RailReceipt(self.name, key, status, f"sim-{self.name}-{new_id()[-12:]}")
        receipt = self._accept(key, receipt)
        if self.latency > 0:
            time.sleep(self.latency)  # the rail has the payment; the answer is still on its way
        if self.settle_after > 0:
            timer = threading.Timer(self.settle_after, self._settle, args=(receipt,))
            timer.daemon = True
            timer.start()
        return receipt

    def _accept(self, key: str, receipt: RailReceipt) -> RailReceipt:
        if self._state is not None:
            self._state.execute(
                "INSERT INTO rail_calls VALUES (?, ?, 1, ?, ?) ON CONFLICT (rail, idempotency_key)"
                " DO UPDATE SET calls = calls + 1",
                (self.name, key, receipt.status, receipt.reference),
            )
            known = self.lookup(key)
            return known or receipt
        with self._lock:
            self._sends[key] += 1
            return self._accepted.setdefault(key, receipt)

    def lookup(self, idempotency_key: str) -> RailReceipt | None:
        if self._state is not None:
            row = self._state.execute(
                "SELECT status, reference FROM rail_calls WHERE rail = ? AND idempotency_key = ?",
                (self.name, idempotency_key),
            ).fetchone()
            return RailReceipt(self.name, idempotency_key, row[0], row[1]) if row else None
        with self._lock:
            return self._accepted.get(idempotency_key)

    def _settle(self, receipt: RailReceipt) -> None:
        settled = RailReceipt(receipt.rail, receipt.idempotency_key, "settled", receipt.reference)
        with self._lock:
            if receipt.idempotency_key in self._accepted:
                self._accepted[receipt.idempotency_key] = settled
        if self._state is not None:
            self._state.execute(
                "UPDATE rail_calls SET status = 'settled' WHERE rail = ? AND idempotency_key = ?",
                (self.name, receipt.idempotency_key),
            )
        notice = SettlementNotice(self.name, receipt.idempotency_key, "settled", receipt.reference)
        for listener in list(self._listeners):
            listener(notice)
