"""The panic switch in memory (tests, embedded kernels)."""

from __future__ import annotations

import threading

from paygod.executor.model import PANIC_OFF, PanicState
from paygod.kernel.clock import Clock, SystemClock


class MemoryPanicSwitch:
    def __init__(self, clock: Clock | None = None) -> None:
        self._clock = clock or SystemClock()
        self._state = PANIC_OFF
        self._lock = threading.Lock()

    def status(self) -> PanicState:
        return self._state

    def turn_on(self, reason: str, actor: str) -> PanicState:
        with self._lock:
            self._state = PanicState(True, reason, actor, self._clock.now())
            return self._state

    def turn_off(self, actor: str) -> PanicState:
        with self._lock:
            self._state = PanicState(False, None, actor, self._clock.now())
            return self._state
