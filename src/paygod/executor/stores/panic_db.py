"""The panic switch as one row of the `panic_switch` table (SQLite or PostgreSQL).

Used alone when no Redis is configured in distributed mode, and as the fallback of the
Redis adapter: every change is written here too, so the row is always current.
"""

from __future__ import annotations

from typing import Any

from paygod.executor.model import PANIC_OFF, PanicState
from paygod.kernel.clock import Clock, SystemClock, isoformat, parse_instant
from paygod.kernel.database import Database, SqliteDatabase

SWITCH_ID = "global"


class DatabasePanicSwitch:
    def __init__(self, db: Database, clock: Clock | None = None) -> None:
        self.db = db
        self._clock = clock or SystemClock()

    def status(self) -> PanicState:
        sql = "SELECT is_on, reason, actor, since FROM panic_switch WHERE switch_id = "
        if isinstance(self.db, SqliteDatabase):
            row = self.db.connection().execute(sql + "?", (SWITCH_ID,)).fetchone()
        else:
            with self.db.connection() as conn:
                row = conn.execute(sql + "%s", (SWITCH_ID,)).fetchone()
        return _state(row)

    def turn_on(self, reason: str, actor: str) -> PanicState:
        return self.write(PanicState(True, reason, actor, self._clock.now()))

    def turn_off(self, actor: str) -> PanicState:
        return self.write(PanicState(False, None, actor, self._clock.now()))

    def write(self, state: PanicState) -> PanicState:
        params = (
            SWITCH_ID,
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
    if row is None:
        return PANIC_OFF
    is_on, reason, actor, since = row
    return PanicState(bool(is_on), reason, actor, parse_instant(since) if since else None)
