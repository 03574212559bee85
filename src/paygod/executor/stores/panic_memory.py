"""The panic switches in memory (tests, embedded kernels)."""

from __future__ import annotations

import threading

from paygod.executor.model import PanicState, panic_off
from paygod.kernel.clock import Clock, SystemClock


class MemoryPanicSwitch:
    def __init__(self, clock: Clock | None = None) -> None:
        self._clock = clock or SystemClock()
        self._states: dict[str | None, PanicState] = {}
        self._lock = threading.Lock()

    def status(self, tenant_id: str | None = None) -> PanicState:
        return self._states.get(tenant_id) or panic_off(tenant_id)

    def turn_on(self, reason: str, actor: str, tenant_id: str | None = None) -> PanicState:
        return self._set(PanicState(True, reason, actor, self._clock.now(), tenant_id))

    def turn_off(self, actor: str, tenant_id: str | None = None) -> PanicState:
        return self._set(PanicState(False, None, actor, self._clock.now(), tenant_id))

    def frozen_tenants(self) -> frozenset[str]:
        with self._lock:
            return frozenset(t for t, s in self._states.items() if t is not None and s.on)

    def _set(self, state: PanicState) -> PanicState:
        with self._lock:
            self._states[state.tenant_id] = state
            return state
