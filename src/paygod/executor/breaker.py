"""A circuit breaker per rail: stop calling a rail that keeps failing, probe it later.

closed --K consecutive failures--> open --cool-down elapsed--> half-open (one probe)
half-open --probe succeeds--> closed;  half-open --probe fails--> open (cool-down restarts)

Time comes from the kernel clock, so tests drive it with a ManualClock.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from paygod.kernel.clock import Clock, isoformat


class CircuitState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


@dataclass(frozen=True, slots=True)
class BreakerSnapshot:
    name: str
    state: CircuitState
    consecutive_failures: int
    opened_at: datetime | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "state": self.state.value,
            "consecutive_failures": self.consecutive_failures,
            "opened_at": isoformat(self.opened_at) if self.opened_at else None,
        }


class CircuitBreaker:
    def __init__(
        self, name: str, clock: Clock, *, failure_threshold: int = 5, cool_down: float = 30.0
    ) -> None:
        if failure_threshold < 1:
            raise ValueError("failure_threshold must be at least 1")
        self.name = name
        self.clock = clock
        self.failure_threshold = failure_threshold
        self.cool_down = timedelta(seconds=cool_down)
        self._state = CircuitState.CLOSED
        self._failures = 0
        self._opened_at: datetime | None = None
        self._probe_in_flight = False
        self._lock = threading.Lock()

    @property
    def state(self) -> CircuitState:
        """The state as of now: an open breaker whose cool-down elapsed reads half-open."""
        with self._lock:
            return self._current()

    def _current(self) -> CircuitState:
        if (
            self._state is CircuitState.OPEN
            and self._opened_at is not None
            and self.clock.now() >= self._opened_at + self.cool_down
        ):
            self._state = CircuitState.HALF_OPEN
            self._probe_in_flight = False
        return self._state

    def allow(self) -> bool:
        """May a call go through now? In half-open, exactly one probe is let through."""
        with self._lock:
            state = self._current()
            if state is CircuitState.CLOSED:
                return True
            if state is CircuitState.HALF_OPEN and not self._probe_in_flight:
                self._probe_in_flight = True
                return True
            return False

    def would_allow(self) -> bool:
        """Like `allow` without taking the probe slot (for quotes, which call nothing)."""
        with self._lock:
            state = self._current()
            return state is CircuitState.CLOSED or (
                state is CircuitState.HALF_OPEN and not self._probe_in_flight
            )

    def record_success(self) -> None:
        with self._lock:
            self._state = CircuitState.CLOSED
            self._failures = 0
            self._opened_at = None
            self._probe_in_flight = False

    def record_failure(self) -> None:
        with self._lock:
            state = self._current()
            self._failures += 1
            if state is CircuitState.HALF_OPEN or self._failures >= self.failure_threshold:
                self._state = CircuitState.OPEN
                self._opened_at = self.clock.now()
                self._probe_in_flight = False

    def snapshot(self) -> BreakerSnapshot:
        with self._lock:
            return BreakerSnapshot(self.name, self._current(), self._failures, self._opened_at)


class BreakerBoard:
    """One breaker per name (rail), created on first use with the same settings."""

    def __init__(self, clock: Clock, *, failure_threshold: int = 5, cool_down: float = 30.0):
        self.clock = clock
        self.failure_threshold = failure_threshold
        self.cool_down = cool_down
        self._breakers: dict[str, CircuitBreaker] = {}
        self._lock = threading.Lock()

    def get(self, name: str) -> CircuitBreaker:
        with self._lock:
            breaker = self._breakers.get(name)
            if breaker is None:
                breaker = CircuitBreaker(
                    name,
                    self.clock,
                    failure_threshold=self.failure_threshold,
                    cool_down=self.cool_down,
                )
                self._breakers[name] = breaker
            return breaker

    def snapshots(self) -> list[BreakerSnapshot]:
        with self._lock:
            breakers = list(self._breakers.values())
        return [b.snapshot() for b in breakers]
