"""In-process token buckets (standalone mode: one process owns its limits)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from paygod.identity.ratelimit import RateDecision, refill

MAX_BUCKETS = 100_000


class MemoryRateLimiter:
    def __init__(self, now: Callable[[], float] = time.monotonic) -> None:
        self._now = now
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def take(self, key: str, rate: float, burst: int, cost: float = 1.0) -> RateDecision:
        with self._lock:
            now = self._now()
            tokens, updated = self._buckets.get(key, (float(burst), now))
            tokens, decision = refill(tokens, updated, now, rate, burst, cost)
            if len(self._buckets) >= MAX_BUCKETS and key not in self._buckets:
                # Bound memory under a flood of distinct keys: full buckets carry no state.
                self._buckets = {
                    k: v for k, v in self._buckets.items() if v[0] + (now - v[1]) * rate < burst
                }
            self._buckets[key] = (tokens, now)
            return decision
