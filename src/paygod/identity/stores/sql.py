"""Run SQL on SQLite or PostgreSQL with one set of statements (`?` placeholders).

The runner is shared with contauth; identity's own adapter is `stores/identity_sql.py`.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import psycopg.errors

from paygod.identity.ports import DuplicateKey
from paygod.kernel.database import Database, SqliteDatabase

Row = tuple[Any, ...]


class SqlRunner:
    """Thin: one statement, one round trip. Transactions only where two writes must agree."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.sqlite = isinstance(db, SqliteDatabase)

    def _pg(self, sql: str) -> str:
        return sql.replace("?", "%s")

    def one(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        if isinstance(self.db, SqliteDatabase):
            row = self.db.connection().execute(sql, tuple(params)).fetchone()
            return tuple(row) if row is not None else None
        with self.db.connection() as conn:
            found = conn.execute(self._pg(sql), tuple(params)).fetchone()
            return tuple(found) if found is not None else None

    def all(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        if isinstance(self.db, SqliteDatabase):
            return [tuple(r) for r in self.db.connection().execute(sql, tuple(params))]
        with self.db.connection() as conn:
            return [tuple(r) for r in conn.execute(self._pg(sql), tuple(params)).fetchall()]

    def run(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Execute one write; returns the number of rows it touched."""
        if isinstance(self.db, SqliteDatabase):
            return int(self.db.connection().execute(sql, tuple(params)).rowcount)
        with self.db.connection() as conn:
            return int(conn.execute(self._pg(sql), tuple(params)).rowcount)

    @contextmanager
    def transaction(self) -> Iterator[Transaction]:
        if isinstance(self.db, SqliteDatabase):
            conn = self.db.connection()
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield Transaction(conn, sqlite=True)
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
            return
        with self.db.connection() as pg, pg.transaction():
            yield Transaction(pg, sqlite=False)


class Transaction:
    def __init__(self, conn: Any, *, sqlite: bool) -> None:
        self.conn = conn
        self.sqlite = sqlite

    def run(self, sql: str, params: Sequence[Any] = ()) -> int:
        sql = sql if self.sqlite else sql.replace("?", "%s")
        return int(self.conn.execute(sql, tuple(params)).rowcount)

    def one(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        sql = sql if self.sqlite else sql.replace("?", "%s")
        row = self.conn.execute(sql, tuple(params)).fetchone()
        return tuple(row) if row is not None else None


_SQLITE_UNIQUE = {sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY}


def is_unique_violation(exc: BaseException) -> bool:
    """A unique or primary key taken, told by the driver's error, not by its class name: a
    NOT NULL or foreign-key failure is a bug to surface, not a duplicate."""
    if isinstance(exc, psycopg.errors.UniqueViolation):
        return True
    return isinstance(exc, sqlite3.IntegrityError) and exc.sqlite_errorcode in _SQLITE_UNIQUE


@contextmanager
def unique(what: str) -> Iterator[None]:
    """The one place a driver's unique violation becomes the domain's `DuplicateKey`."""
    try:
        yield
    except Exception as exc:
        if is_unique_violation(exc):
            raise DuplicateKey(f"{what} already exists") from None
        raise
