"""The outbox store over the ledger's `outbox` table, SQLite and PostgreSQL.

SQLite has one writer at a time, so a claim is `BEGIN IMMEDIATE` + select + update in
one transaction: no two workers can claim the same row. PostgreSQL claims with
`FOR UPDATE SKIP LOCKED`, so many workers in many processes claim disjoint rows
without waiting for each other.

Timestamps are the kernel's fixed-width ISO text (`isoformat`), so text order is time order.
"""

from __future__ import annotations

import sqlite3
from abc import ABC, abstractmethod
from collections.abc import Collection, Sequence
from datetime import datetime, timedelta
from typing import Any

import orjson

from paygod.executor.model import OutboxMessage
from paygod.kernel.clock import isoformat
from paygod.kernel.database import PostgresDatabase, SqliteDatabase
from paygod.ledger import OUTBOX_COLUMNS

COLUMNS = ", ".join(OUTBOX_COLUMNS)
ERROR_LIMIT = 2000  # last_error is for people; a 5 MB traceback helps no one


def row_to_message(row: Sequence[Any]) -> OutboxMessage:
    envelope = row[5]
    if isinstance(envelope, str | bytes):
        envelope = orjson.loads(envelope)
    return OutboxMessage(
        event_id=row[0],
        entry_seq=row[1],
        event_type=row[2],
        tenant_id=row[3],
        aggregate_id=row[4],
        envelope=envelope if isinstance(envelope, dict) else {},
        status=row[6],
        attempts=int(row[7] or 0),
        available_at=row[8],
        claimed_by=row[9],
        claimed_until=row[10],
        last_error=row[11],
        created_at=row[12],
    )


def _types_clause(event_types: Sequence[str] | None, p: str) -> tuple[str, list[str]]:
    if not event_types:
        return "", []
    return f" AND event_type IN ({', '.join(p for _ in event_types)})", list(event_types)


def _skip_clause(tenants: Collection[str], p: str) -> tuple[str, list[str]]:
    """Leave out the messages of tenants whose panic switch is on."""
    if not tenants:
        return "", []
    return f" AND tenant_id NOT IN ({', '.join(p for _ in tenants)})", sorted(tenants)


class _SqlOutbox(ABC):
    """The outbox queries shared by SQLite and PostgreSQL; each adapter supplies execution."""

    p = "?"

    @abstractmethod
    def _execute(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        """Run one statement and return its rows."""

    def _changed(self, sql: str, params: Sequence[Any]) -> bool:
        return self._count(sql, params) > 0

    @abstractmethod
    def _count(self, sql: str, params: Sequence[Any]) -> int:
        """Run one statement and return how many rows it changed."""

    def claim(
        self,
        worker_id: str,
        *,
        now: datetime,
        limit: int,
        lease_seconds: float,
        event_types: Sequence[str] | None = None,
        skip_tenants: Collection[str] = (),
    ) -> list[OutboxMessage]:
        types_sql, types = _types_clause(event_types, self.p)
        tenants_sql, tenants = _skip_clause(skip_tenants, self.p)
        stamp = isoformat(now)
        until = isoformat(now + timedelta(seconds=lease_seconds))
        where = types_sql + tenants_sql
        return self._claim_rows(worker_id, stamp, until, where, [*types, *tenants], limit)

    @abstractmethod
    def _claim_rows(
        self, worker_id: str, stamp: str, until: str, where: str, params: list[str], limit: int
    ) -> list[OutboxMessage]:
        """Lease up to `limit` claimable messages (pending, due, not leased, matching the
        `where` filter and its `params`) to `worker_id` until `until`; oldest first."""

    def ack(self, event_id: str, worker_id: str) -> bool:
        p = self.p
        return self._changed(
            "UPDATE outbox SET status = 'done', claimed_by = NULL, claimed_until = NULL, "
            f"last_error = NULL WHERE event_id = {p} AND claimed_by = {p} AND status = 'pending'",
            (event_id, worker_id),
        )

    def ack_many(self, event_ids: Sequence[str], worker_id: str) -> int:
        """One statement (one commit) for a whole batch: acks are the hot path."""
        if not event_ids:
            return 0
        p = self.p
        marks = ", ".join(p for _ in event_ids)
        return self._count(
            "UPDATE outbox SET status = 'done', claimed_by = NULL, claimed_until = NULL, "
            f"last_error = NULL WHERE event_id IN ({marks}) AND claimed_by = {p} "
            "AND status = 'pending'",
            (*event_ids, worker_id),
        )

    def release(self, event_id: str, worker_id: str, *, error: str, available_at: datetime) -> bool:
        p = self.p
        return self._changed(
            f"UPDATE outbox SET claimed_by = NULL, claimed_until = NULL, last_error = {p}, "
            f"available_at = {p} WHERE event_id = {p} AND claimed_by = {p} "
            "AND status = 'pending'",
            (error[:ERROR_LIMIT], isoformat(available_at), event_id, worker_id),
        )

    def bury(self, event_id: str, worker_id: str | None, *, error: str) -> bool:
        p = self.p
        owner = f" AND claimed_by = {p}" if worker_id is not None else ""
        params: list[Any] = [error[:ERROR_LIMIT], event_id]
        if worker_id is not None:
            params.append(worker_id)
        return self._changed(
            f"UPDATE outbox SET status = 'dead', claimed_by = NULL, claimed_until = NULL, "
            f"last_error = {p} WHERE event_id = {p} AND status = 'pending'{owner}",
            params,
        )

    def get(self, event_id: str) -> OutboxMessage | None:
        rows = self._execute(f"SELECT {COLUMNS} FROM outbox WHERE event_id = {self.p}", (event_id,))
        return row_to_message(rows[0]) if rows else None

    def list(self, status: str, *, limit: int = 100) -> list[OutboxMessage]:
        p = self.p
        rows = self._execute(
            f"SELECT {COLUMNS} FROM outbox WHERE status = {p} "
            f"ORDER BY created_at, event_id LIMIT {p}",
            (status, limit),
        )
        return [row_to_message(r) for r in rows]

    def requeue(self, event_id: str, *, now: datetime) -> bool:
        p = self.p
        return self._changed(
            f"UPDATE outbox SET status = 'pending', attempts = 0, available_at = {p}, "
            f"claimed_by = NULL, claimed_until = NULL WHERE event_id = {p} AND status = 'dead'",
            (isoformat(now), event_id),
        )

    def discard(self, event_id: str) -> bool:
        # 'done' with a note, not a new status: the table's status set is pending|done|dead.
        p = self.p
        return self._changed(
            "UPDATE outbox SET status = 'done', last_error = "
            "'discarded from the dead-letter queue: ' || COALESCE(last_error, '') "
            f"WHERE event_id = {p} AND status = 'dead'",
            (event_id,),
        )

    def counts(self) -> dict[str, int]:
        rows = self._execute("SELECT status, COUNT(*) FROM outbox GROUP BY status")
        counts = {"pending": 0, "done": 0, "dead": 0}
        counts.update({str(status): int(n) for status, n in rows})
        return counts


class SqliteOutboxStore(_SqlOutbox):
    p = "?"

    def __init__(self, db: SqliteDatabase) -> None:
        self.db = db

    def _execute(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        return list(self.db.connection().execute(sql, tuple(params)).fetchall())

    def _count(self, sql: str, params: Sequence[Any]) -> int:
        with self.db.write_lock:  # an UPDATE: one writer of this process at a time
            return int(self.db.connection().execute(sql, tuple(params)).rowcount)

    def _claim_rows(
        self, worker_id: str, stamp: str, until: str, where: str, params: list[str], limit: int
    ) -> list[OutboxMessage]:
        claimable = (
            "FROM outbox WHERE status = 'pending' AND available_at <= ? "
            f"AND (claimed_until IS NULL OR claimed_until < ?){where} "
        )
        conn = self.db.connection()
        # Look before taking SQLite's one write lock: an idle worker polls many times a
        # second, and a poll holding the lock makes the ledger writer's BEGIN IMMEDIATE
        # wait in SQLite's busy handler (sleeps of 1, 2, 5 ms...) for nothing.
        if conn.execute(f"SELECT 1 {claimable}LIMIT 1", (stamp, stamp, *params)).fetchone() is None:
            return []
        with self.db.write_lock:
            return self._claim(conn, claimable, stamp, until, params, limit, worker_id)

    def _claim(
        self,
        conn: Any,
        claimable: str,
        stamp: str,
        until: str,
        types: Sequence[str],
        limit: int,
        worker_id: str,
    ) -> list[OutboxMessage]:
        conn.execute("BEGIN IMMEDIATE")
        try:
            rows = conn.execute(
                f"SELECT {COLUMNS} {claimable}ORDER BY available_at, entry_seq LIMIT ?",
                (stamp, stamp, *types, limit),
            ).fetchall()
            if rows:
                ids = [r[0] for r in rows]
                conn.execute(
                    "UPDATE outbox SET claimed_by = ?, claimed_until = ?, attempts = attempts + 1 "
                    f"WHERE event_id IN ({', '.join('?' for _ in ids)})",
                    (worker_id, until, *ids),
                )
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        return [
            row_to_message((*r[:7], int(r[7] or 0) + 1, r[8], worker_id, until, *r[11:]))
            for r in rows
        ]


class PostgresOutboxStore(_SqlOutbox):
    p = "%s"

    def __init__(self, db: PostgresDatabase) -> None:
        self.db = db

    def _execute(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        with self.db.connection() as conn:
            cur = conn.execute(sql, tuple(params))
            return list(cur.fetchall()) if cur.description else []

    def _count(self, sql: str, params: Sequence[Any]) -> int:
        with self.db.connection() as conn:
            return int(conn.execute(sql, tuple(params)).rowcount)

    def _claim_rows(
        self, worker_id: str, stamp: str, until: str, where: str, params: list[str], limit: int
    ) -> list[OutboxMessage]:
        sql = (
            "UPDATE outbox SET claimed_by = %s, claimed_until = %s, attempts = attempts + 1 "
            "WHERE event_id IN (SELECT event_id FROM outbox WHERE status = 'pending' "
            "AND available_at <= %s AND (claimed_until IS NULL OR claimed_until < %s)"
            f"{where} ORDER BY available_at, entry_seq LIMIT %s "
            f"FOR UPDATE SKIP LOCKED) RETURNING {COLUMNS}"
        )
        rows = self._execute(sql, (worker_id, until, stamp, stamp, *params, limit))
        messages = [row_to_message(r) for r in rows]
        return sorted(messages, key=lambda m: (m.available_at, m.entry_seq or 0))


def is_missing_table(exc: BaseException) -> bool:
    return isinstance(exc, sqlite3.OperationalError) and "no such table" in str(exc)
