"""The panic switch as a Redis key (distributed mode), with the database row as fallback.

Redis is the fast path every worker polls. When Redis is unreachable the switch does not
guess: reads come from the `panic_switch` row, which every change also writes (write
through), so the fallback is never staler than the last change. A change made while
Redis is down lands in the row and is copied back to Redis on the next successful read
(`resync`), so the two cannot disagree for long.
"""

from __future__ import annotations

from typing import Any

import orjson
import redis

from paygod.executor.model import PANIC_OFF, PanicState
from paygod.executor.stores.panic_db import DatabasePanicSwitch
from paygod.kernel.clock import Clock, SystemClock
from paygod.kernel.logging import get_logger

KEY = "paygod:panic"
log = get_logger("paygod.executor.panic")


class RedisPanicSwitch:
    def __init__(
        self,
        client: redis.Redis,
        fallback: DatabasePanicSwitch,
        clock: Clock | None = None,
        *,
        key: str = KEY,
    ) -> None:
        self.client = client
        self.fallback = fallback
        self.key = key
        self._clock = clock or SystemClock()
        self.degraded = False  # True while the last Redis call failed

    @classmethod
    def from_url(
        cls, url: str, fallback: DatabasePanicSwitch, clock: Clock | None = None, **kw: Any
    ) -> RedisPanicSwitch:
        client = redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
        return cls(client, fallback, clock, **kw)

    def status(self) -> PanicState:
        try:
            raw: Any = self.client.get(self.key)
        except redis.RedisError as exc:
            self._degrade(exc)
            return self.fallback.status()
        row = self.fallback.status() if self.degraded else None
        self.degraded = False
        if row is not None:
            # Back from an outage: the row may hold a change Redis never saw.
            self._set(row)
            return row
        if raw is None:
            return PANIC_OFF
        data = orjson.loads(raw)
        return PanicState.from_dict(data) if isinstance(data, dict) else PANIC_OFF

    def turn_on(self, reason: str, actor: str) -> PanicState:
        return self._write(PanicState(True, reason, actor, self._clock.now()))

    def turn_off(self, actor: str) -> PanicState:
        return self._write(PanicState(False, None, actor, self._clock.now()))

    def _write(self, state: PanicState) -> PanicState:
        self.fallback.write(state)  # the row first: it must never be older than Redis
        self._set(state)
        return state

    def _set(self, state: PanicState) -> None:
        try:
            self.client.set(self.key, orjson.dumps(state.as_dict()))
        except redis.RedisError as exc:
            self._degrade(exc)

    def _degrade(self, exc: Exception) -> None:
        if not self.degraded:
            log.warning("panic_switch_redis_down_using_db_row", error=str(exc))
        self.degraded = True
