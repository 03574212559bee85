"""The relay cursor in the system of record (`relay_cursors`), SQLite and PostgreSQL.

The lease is a conditional UPDATE, so it works the same on both engines and across
processes: a relay may take the row when nobody holds it, when it already holds it, or
when the holder's lease ran out (it crashed or hangs). Advancing the cursor is conditional
on still holding the lease, so a relay that lost it (paused past its lease, then woke up)
cannot move the cursor under the new holder; at worst it published a few duplicates, which
JetStream drops by message id.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from paygod.events.model import RelayCursor, RelayEvent
from paygod.kernel.clock import isoformat
from paygod.kernel.database import PostgresDatabase, SqliteDatabase

CURSOR_COLUMNS = "name, last_seq, last_event_id, published, holder, lease_until, updated_at"


def _cursor(row: Sequence[Any]) -> RelayCursor:
    return RelayCursor(
        name=row[0],
        last_seq=int(row[1]),
        last_event_id=row[2] or "",
        published=int(row[3]),
        holder=row[4],
        lease_until=row[5],
        updated_at=row[6],
    )


def _event(row: Sequence[Any]) -> RelayEvent:
    body = row[4]
    if isinstance(body, str):
        body = body.encode()
    return RelayEvent(
        event_id=row[0], entry_seq=int(row[1]), event_type=row[2], tenant_id=row[3], body=body
    )


class SqlRelayCursorStore(ABC):
    p = "?"

    @abstractmethod
    def _rows(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        """Run one statement and return its rows."""

    @abstractmethod
    def _count(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run one statement and return how many rows it changed."""

    def acquire(
        self, name: str, holder: str, *, now: datetime, lease_seconds: float
    ) -> RelayCursor | None:
        p = self.p
        stamp = isoformat(now)
        self._count(
            f"INSERT INTO relay_cursors (name) VALUES ({p}) ON CONFLICT (name) DO NOTHING", (name,)
        )
        taken = self._count(
            f"UPDATE relay_cursors SET holder = {p}, lease_until = {p} WHERE name = {p} "
            f"AND (holder IS NULL OR holder = {p} OR lease_until IS NULL OR lease_until < {p})",
            (holder, isoformat(now + timedelta(seconds=lease_seconds)), name, holder, stamp),
        )
        return self.get(name) if taken else None

    def pending(self, after: tuple[int, str], *, limit: int) -> list[RelayEvent]:
        p = self.p
        seq, event_id = after
        rows = self._rows(
            "SELECT event_id, entry_seq, event_type, tenant_id, envelope FROM outbox "
            f"WHERE entry_seq > {p} OR (entry_seq = {p} AND event_id > {p}) "
            f"ORDER BY entry_seq, event_id LIMIT {p}",
            (seq, seq, event_id, limit),
        )
        return [_event(r) for r in rows]

    def advance(
        self,
        name: str,
        holder: str,
        to: tuple[int, str],
        count: int,
        *,
        now: datetime,
        lease_seconds: float,
    ) -> bool:
        p = self.p
        return (
            self._count(
                f"UPDATE relay_cursors SET last_seq = {p}, last_event_id = {p}, "
                f"published = published + {p}, lease_until = {p}, updated_at = {p} "
                f"WHERE name = {p} AND holder = {p}",
                (
                    to[0],
                    to[1],
                    count,
                    isoformat(now + timedelta(seconds=lease_seconds)),
                    isoformat(now),
                    name,
                    holder,
                ),
            )
            > 0
        )

    def release(self, name: str, holder: str) -> None:
        p = self.p
        self._count(
            f"UPDATE relay_cursors SET holder = NULL, lease_until = NULL "
            f"WHERE name = {p} AND holder = {p}",
            (name, holder),
        )

    def get(self, name: str) -> RelayCursor | None:
        rows = self._rows(
            f"SELECT {CURSOR_COLUMNS} FROM relay_cursors WHERE name = {self.p}", (name,)
        )
        return _cursor(rows[0]) if rows else None

    def lag(self, after: tuple[int, str]) -> int:
        p = self.p
        seq, event_id = after
        rows = self._rows(
            f"SELECT COUNT(*) FROM outbox WHERE entry_seq > {p} "
            f"OR (entry_seq = {p} AND event_id > {p})",
            (seq, seq, event_id),
        )
        return int(rows[0][0])


class SqliteRelayCursorStore(SqlRelayCursorStore):
    p = "?"

    def __init__(self, db: SqliteDatabase) -> None:
        self.db = db

    def _rows(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        return list(self.db.connection().execute(sql, tuple(params)).fetchall())

    def _count(self, sql: str, params: Sequence[Any] = ()) -> int:
        return int(self.db.connection().execute(sql, tuple(params)).rowcount)


class PostgresRelayCursorStore(SqlRelayCursorStore):
    p = "%s"

    def __init__(self, db: PostgresDatabase) -> None:
        self.db = db

    def _rows(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        with self.db.connection() as conn:
            cur = conn.execute(sql, tuple(params))
            return list(cur.fetchall()) if cur.description else []

    def _count(self, sql: str, params: Sequence[Any] = ()) -> int:
        with self.db.connection() as conn:
            return int(conn.execute(sql, tuple(params)).rowcount)
