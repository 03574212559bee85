"""The destination allowlist in the `action_destinations` table (SQLite or PostgreSQL).

The secret is kept here, never in the ledger: the sealed entry of a change records the
secret's sha256 fingerprint only.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from paygod.actions.model import Destination
from paygod.kernel.database import Database, SqliteDatabase

COLUMNS = "tenant_id, name, url, secret, allow_private, timeout_seconds, created_at, created_by"


class SqlDestinationStore:
    def __init__(self, db: Database) -> None:
        self.db = db
        self.sqlite = isinstance(db, SqliteDatabase)

    def _run(self, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
        if isinstance(self.db, SqliteDatabase):
            cursor = self.db.connection().execute(sql, tuple(params))
            return [tuple(r) for r in cursor.fetchall()] if cursor.description else []
        with self.db.connection() as conn:
            found = conn.execute(sql.replace("?", "%s"), tuple(params))
            return [tuple(r) for r in found.fetchall()] if found.description else []

    def _count(self, sql: str, params: Sequence[Any]) -> int:
        if isinstance(self.db, SqliteDatabase):
            return int(self.db.connection().execute(sql, tuple(params)).rowcount)
        with self.db.connection() as conn:
            return int(conn.execute(sql.replace("?", "%s"), tuple(params)).rowcount)

    def put(self, d: Destination) -> None:
        self._run(
            f"INSERT INTO action_destinations ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (tenant_id, name) DO UPDATE SET url = excluded.url,"
            " secret = excluded.secret, allow_private = excluded.allow_private,"
            " timeout_seconds = excluded.timeout_seconds, created_at = excluded.created_at,"
            " created_by = excluded.created_by",
            (
                d.tenant_id,
                d.name,
                d.url,
                d.secret,
                1 if d.allow_private else 0,
                d.timeout_seconds,
                d.created_at,
                d.created_by,
            ),
        )

    def get(self, tenant_id: str, name: str) -> Destination | None:
        rows = self._run(
            f"SELECT {COLUMNS} FROM action_destinations WHERE tenant_id = ? AND name = ?",
            (tenant_id, name),
        )
        return _destination(rows[0]) if rows else None

    def list(self, tenant_id: str) -> list[Destination]:
        rows = self._run(
            f"SELECT {COLUMNS} FROM action_destinations WHERE tenant_id = ? ORDER BY name",
            (tenant_id,),
        )
        return [_destination(r) for r in rows]

    def delete(self, tenant_id: str, name: str) -> bool:
        return (
            self._count(
                "DELETE FROM action_destinations WHERE tenant_id = ? AND name = ?",
                (tenant_id, name),
            )
            > 0
        )


def _destination(row: tuple[Any, ...]) -> Destination:
    return Destination(
        tenant_id=row[0],
        name=row[1],
        url=row[2],
        secret=row[3],
        allow_private=bool(row[4]),
        timeout_seconds=float(row[5]),
        created_at=row[6],
        created_by=row[7],
    )
