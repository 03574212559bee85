"""Retry delays: exponential backoff with jitter, computed by tenacity's wait strategies.

The worker does not sleep inside a retry loop (a crash would lose the loop); it writes
the next `available_at` on the outbox row and moves on. tenacity only computes the delay.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace
from typing import cast

from tenacity import RetryCallState, wait_exponential, wait_random
from tenacity.wait import wait_base


@dataclass(frozen=True)
class Backoff:
    initial: float = 0.5
    maximum: float = 60.0
    jitter: float = 0.5
    max_attempts: int = 5

    def strategy(self) -> wait_base:
        return wait_exponential(multiplier=self.initial, max=self.maximum) + wait_random(
            0, self.jitter
        )

    def delay(self, attempt: int) -> float:
        """Seconds to wait after failed attempt number `attempt` (1-based)."""
        state = cast(RetryCallState, SimpleNamespace(attempt_number=max(1, attempt)))
        return float(self.strategy()(state))
