"""The panic switches as rows of the `panic_switch` table (SQLite or PostgreSQL).

Used alone when no Redis is configured in distributed mode, and as the fallback of the
Redis adapter: every change is written here too, so the rows are always current. The
platform switch is the row `global`; a tenant's is the row `tenant:<tenant id>`.
"""

from __future__ import annotations

from typing import Any

from paygod.executor.model import PanicState, panic_off
from paygod.kernel.clock import Clock, SystemClock, isoformat, parse_instant
from paygod.kernel.database import Database, SqliteDatabase

SWITCH_ID = "global"
TENANT_PREFIX = "tenant:"


def switch_id(tenant_id: str | None) -> str:
    return SWITCH_ID if tenant_id is None else TENANT_PREFIX + tenant_id


def tenant_of(row_id: str) -> str | None:
    return row_id[len(TENANT_PREFIX) :] if row_id.startswith(TENANT_PREFIX) else None


class DatabasePanicSwitch:
    def __init__(self, db: Database, clock: Clock | None = None) -> None:
        self.db = db
        self._clock = clock or SystemClock()

    def _rows(self, where: str, params: tuple[Any, ...]) -> list[Any]:
        sql = f"SELECT switch_id, is_on, reason, actor, since FROM panic_switch WHERE {where}"
        if isinstance(self.db, SqliteDatabase):
            return list(self.db.connection().execute(sql, params).fetchall())
        with self.db.connection() as conn:
            return list(conn.execute(sql.replace("?", "%s"), params).fetchall())

    def status(self, tenant_id: str | None = None) -> PanicState:
        rows = self._rows("switch_id = ?", (switch_id(tenant_id),))
        return _state(rows[0]) if rows else panic_off(tenant_id)

    def states(self) -> list[PanicState]:
        """Every switch ever set (the Redis adapter copies them back after an outage)."""
        return [_state(row) for row in self._rows("1 = 1", ())]

    def frozen_tenants(self) -> frozenset[str]:
        rows = self._rows("is_on = 1 AND switch_id LIKE ?", (TENANT_PREFIX + "%",))
        return frozenset(t for row in rows if (t := tenant_of(row[0])) is not None)

    def turn_on(self, reason: str, actor: str, tenant_id: str | None = None) -> PanicState:
        return self.write(PanicState(True, reason, actor, self._clock.now(), tenant_id))

    def turn_off(self, actor: str, tenant_id: str | None = None) -> PanicState:
        return self.write(PanicState(False, None, actor, self._clock.now(), tenant_id))

    def write(self, state: PanicState) -> PanicState:
        params = (
            switch_id(state.tenant_id),
            1 if state.on else 0,
            state.reason,
            state.actor,
            isoformat(state.since) if state.since else None,
        )
        upsert = (
            "INSERT INTO panic_switch (switch_id, is_on, reason, actor, since) "
            "VALUES ({p}, {p}, {p}, {p}, {p}) ON CONFLICT (switch_id) DO UPDATE SET "
            "is_on = excluded.is_on, reason = excluded.reason, actor = excluded.actor, "
            "since = excluded.since"
        )
        if isinstance(self.db, SqliteDatabase):
            self.db.connection().execute(upsert.format(p="?"), params)
        else:
            with self.db.connection() as conn:
                conn.execute(upsert.format(p="%s"), params)
        return state


def _state(row: Any) -> PanicState:
    row_id, is_on, reason, actor, since = row
    return PanicState(
        bool(is_on), reason, actor, parse_instant(since) if since else None, tenant_of(row_id)
    )
