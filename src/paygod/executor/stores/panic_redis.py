"""The panic switches in Redis (distributed mode), with the database rows as fallback.

Redis is the fast path every worker polls: the platform switch is the key `paygod:panic`,
the tenants' switches are the fields of the hash `paygod:panic:tenants`. When Redis is
unreachable the switches do not guess: reads come from the `panic_switch` rows, which
every change also writes (write through), so the fallback is never staler than the last
change. A change made while Redis is down lands in the rows and is copied back to Redis on
the next successful read (`resync`), so the two cannot disagree for long.
"""

from __future__ import annotations

from typing import Any

import orjson
import redis

from paygod.executor.model import PanicState, panic_off
from paygod.executor.stores.panic_db import DatabasePanicSwitch
from paygod.kernel.clock import Clock, SystemClock
from paygod.kernel.logging import get_logger

KEY = "paygod:panic"
log = get_logger("paygod.executor.panic")


def _decode(raw: Any, tenant_id: str | None) -> PanicState:
    if raw is None:
        return panic_off(tenant_id)
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return PanicState(True, "unreadable panic flag in Redis", "system", None, tenant_id)
    if not isinstance(data, dict):
        return panic_off(tenant_id)
    return PanicState.from_dict({**data, "tenant_id": tenant_id})


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

    @property
    def tenants_key(self) -> str:
        return f"{self.key}:tenants"

    @classmethod
    def from_url(
        cls, url: str, fallback: DatabasePanicSwitch, clock: Clock | None = None, **kw: Any
    ) -> RedisPanicSwitch:
        client = redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
        return cls(client, fallback, clock, **kw)

    def status(self, tenant_id: str | None = None) -> PanicState:
        try:
            if tenant_id is None:
                raw: Any = self.client.get(self.key)
            else:
                raw = self.client.hget(self.tenants_key, tenant_id)
        except redis.RedisError as exc:
            self._degrade(exc)
            return self.fallback.status(tenant_id)
        if self._recovered():
            return self.fallback.status(tenant_id)
        return _decode(raw, tenant_id)

    def frozen_tenants(self) -> frozenset[str]:
        try:
            raw: Any = self.client.hgetall(self.tenants_key)
        except redis.RedisError as exc:
            self._degrade(exc)
            return self.fallback.frozen_tenants()
        if self._recovered():
            return self.fallback.frozen_tenants()
        frozen = set()
        for field, value in raw.items():
            tenant_id = field.decode() if isinstance(field, bytes) else str(field)
            if _decode(value, tenant_id).on:
                frozen.add(tenant_id)
        return frozenset(frozen)

    def turn_on(self, reason: str, actor: str, tenant_id: str | None = None) -> PanicState:
        return self._write(PanicState(True, reason, actor, self._clock.now(), tenant_id))

    def turn_off(self, actor: str, tenant_id: str | None = None) -> PanicState:
        return self._write(PanicState(False, None, actor, self._clock.now(), tenant_id))

    def _write(self, state: PanicState) -> PanicState:
        self.fallback.write(state)  # the row first: it must never be older than Redis
        self._set(state)
        return state

    def _recovered(self) -> bool:
        """Back from an outage: the rows may hold changes Redis never saw; copy them."""
        if not self.degraded:
            return False
        self.degraded = False
        for state in self.fallback.states():
            self._set(state)
        return True

    def _set(self, state: PanicState) -> None:
        value = orjson.dumps(state.as_dict())
        try:
            if state.tenant_id is None:
                self.client.set(self.key, value)
            else:
                self.client.hset(self.tenants_key, state.tenant_id, value)
        except redis.RedisError as exc:
            self._degrade(exc)

    def _degrade(self, exc: Exception) -> None:
        if not self.degraded:
            log.warning("panic_switch_redis_down_using_db_row", error=str(exc))
        self.degraded = True
