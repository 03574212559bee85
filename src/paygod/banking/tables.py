"""Shadow tables and the atomic switch, on SQLite and PostgreSQL.

A rebuild writes into `<table>__rebuild`, a table with the live one's columns, defaults and
checks but no indexes yet (bulk inserts into an unindexed table are several times faster);
the switch then, in ONE transaction that also holds the ledger's writer lock, applies the
entries sealed meanwhile, drops the live table, renames the shadow into its place and
recreates the live table's keys and indexes under their own names. Both engines run DDL
inside a transaction, so a reader sees the old table or the new one, never neither, and a
failed switch leaves the old table as it was.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from paygod.banking.projectors.base import Row, Table
from paygod.kernel.database import Database, SqliteDatabase

SUFFIX = "__rebuild"
CHUNK = 5000


def shadow_name(table: str) -> str:
    return table + SUFFIX


@dataclass(frozen=True, slots=True)
class Schema:
    """What the switch must recreate on the renamed table, read from the live one."""

    create: str  # SQLite: the table's own CREATE statement (PostgreSQL: unused)
    constraints: tuple[tuple[str, str], ...]  # PostgreSQL: (name, definition) of keys
    indexes: tuple[str, ...]  # CREATE INDEX statements, names as the migrations gave them


class TableSwap:
    def __init__(self, db: Database) -> None:
        self.db = db
        self.sqlite = isinstance(db, SqliteDatabase)
        self.mark = "?" if self.sqlite else "%s"

    @contextmanager
    def _conn(self) -> Iterator[Any]:
        conn: Any = self.db.connect()
        try:
            yield conn
        finally:
            conn.close()

    # -- reading the live schema ------------------------------------------------------

    def schema(self, conn: Any, table: str) -> Schema:
        if self.sqlite:
            found = conn.execute(
                "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)
            ).fetchone()
            if found is None:
                raise LookupError(f"no table {table}")
            indexes = conn.execute(
                "SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ?"
                " AND sql IS NOT NULL ORDER BY name",
                (table,),
            ).fetchall()
            return Schema(found[0], (), tuple(r[0] for r in indexes))
        constraints = conn.execute(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint"
            " WHERE conrelid = to_regclass(%s) AND contype IN ('p', 'u') ORDER BY conname",
            (table,),
        ).fetchall()
        names = [c[0] for c in constraints]
        indexes = conn.execute(
            "SELECT indexdef FROM pg_indexes WHERE schemaname = current_schema()"
            " AND tablename = %s AND NOT (indexname = ANY(%s)) ORDER BY indexname",
            (table, names),
        ).fetchall()
        return Schema("", tuple((c[0], c[1]) for c in constraints), tuple(r[0] for r in indexes))

    # -- building ---------------------------------------------------------------------

    def create_shadow(self, table: Table) -> None:
        shadow = shadow_name(table.name)
        with self._conn() as conn:
            if isinstance(self.db, SqliteDatabase):
                create = self.schema(conn, table.name).create
                renamed = re.sub(
                    r"^\s*CREATE\s+TABLE\s+(IF\s+NOT\s+EXISTS\s+)?\"?"
                    + re.escape(table.name)
                    + r"\"?",
                    f"CREATE TABLE {shadow}",
                    create,
                    count=1,
                    flags=re.I,
                )
                with self.db.write_lock:
                    conn.execute(f"DROP TABLE IF EXISTS {shadow}")
                    conn.execute(renamed)
                return
            conn.execute(f"DROP TABLE IF EXISTS {shadow}")
            conn.execute(
                f"CREATE TABLE {shadow} (LIKE {table.name}"
                " INCLUDING DEFAULTS INCLUDING CONSTRAINTS)"
            )
            # LIKE copies NOT NULL and CHECK but not keys: the switch adds them by name.
            conn.commit()

    def fill(self, table: Table, rows: Iterable[Row]) -> int:
        shadow = shadow_name(table.name)
        cols = ", ".join(table.columns)
        count = 0
        with self._conn() as conn:
            if isinstance(self.db, SqliteDatabase):
                # A chunk per transaction, each under the write lock the ledger's writer
                # takes too: a writer waits one chunk at most, never the whole fill (it
                # would give up after SQLite's busy timeout, and the ledger go read-only).
                marks = ", ".join(["?"] * len(table.columns))
                sql = f"INSERT INTO {shadow} ({cols}) VALUES ({marks})"
                batch: list[Row] = []
                for row in rows:
                    batch.append(row)
                    if len(batch) >= CHUNK:
                        count += self._sqlite_chunk(conn, sql, batch)
                        batch = []
                return count + self._sqlite_chunk(conn, sql, batch)
            with conn.cursor() as cur, cur.copy(f"COPY {shadow} ({cols}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
                    count += 1
            conn.commit()
        return count

    def _sqlite_chunk(self, conn: Any, sql: str, batch: list[Row]) -> int:
        assert isinstance(self.db, SqliteDatabase)
        with self.db.write_lock:
            conn.execute("BEGIN IMMEDIATE")
            try:
                conn.executemany(sql, batch)
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
        return len(batch)

    def drop_shadow(self, table: Table) -> None:
        with self._conn() as conn:
            if isinstance(self.db, SqliteDatabase):
                with self.db.write_lock:
                    conn.execute(f"DROP TABLE IF EXISTS {shadow_name(table.name)}")
                return
            conn.execute(f"DROP TABLE IF EXISTS {shadow_name(table.name)}")
            conn.commit()

    # -- the switch -------------------------------------------------------------------

    def switch(self, tables: Iterable[Table], catch_up: Callable[[Any], None]) -> None:
        """In one transaction holding the ledger's writer lock: `catch_up(conn)` (it writes
        the entries sealed since the build into the shadows), then every shadow takes its
        live table's place, keys and indexes."""
        tables = list(tables)
        if isinstance(self.db, SqliteDatabase):
            with self.db.write_lock, self._conn() as conn:
                conn.execute("BEGIN IMMEDIATE")
                try:
                    schemas = [self.schema(conn, t.name) for t in tables]
                    catch_up(conn)
                    for t, s in zip(tables, schemas, strict=True):
                        conn.execute(f"DROP TABLE {t.name}")
                        conn.execute(f"ALTER TABLE {shadow_name(t.name)} RENAME TO {t.name}")
                        for index in s.indexes:
                            conn.execute(index)
                    conn.execute("COMMIT")
                except BaseException:
                    conn.execute("ROLLBACK")
                    raise
            return
        with self._conn() as conn:
            try:
                # The ledger's writers lock this row first in every batch: holding it, no
                # entry (and so no write to a live table) commits until the switch has.
                conn.execute("SELECT id FROM ledger_head WHERE id = 1 FOR UPDATE")
                for t in tables:
                    conn.execute(f"LOCK TABLE {t.name} IN ACCESS EXCLUSIVE MODE")
                schemas = [self.schema(conn, t.name) for t in tables]
                catch_up(conn)
                for t, s in zip(tables, schemas, strict=True):
                    conn.execute(f"DROP TABLE {t.name}")
                    conn.execute(f"ALTER TABLE {shadow_name(t.name)} RENAME TO {t.name}")
                    for name, definition in s.constraints:
                        conn.execute(f"ALTER TABLE {t.name} ADD CONSTRAINT {name} {definition}")
                    for index in s.indexes:
                        conn.execute(index)
                conn.commit()
            except BaseException:
                conn.rollback()
                raise

    def rewrite(self, conn: Any, table: Table, rows: dict[tuple[Any, ...], Row]) -> None:
        """Replace the shadow rows with these keys (the catch-up, inside the switch)."""
        if not rows:
            return
        shadow = shadow_name(table.name)
        m = self.mark
        where = " AND ".join(f"{c} = {m}" for c in table.key)
        marks = ", ".join([m] * len(table.columns))
        cur = conn.cursor()
        cur.executemany(f"DELETE FROM {shadow} WHERE {where}", list(rows))
        cur.executemany(
            f"INSERT INTO {shadow} ({', '.join(table.columns)}) VALUES ({marks})",
            list(rows.values()),
        )

    def live_rows(self, table: Table) -> Iterator[Row]:
        """Every live row, in key order (the row-by-row comparison reads these)."""
        order = ", ".join(table.key)
        with self._conn() as conn:
            cur = conn.execute(
                f"SELECT {', '.join(table.columns)} FROM {table.name} ORDER BY {order}"
            )
            while True:
                batch = cur.fetchmany(CHUNK)
                if not batch:
                    return
                yield from (tuple(r) for r in batch)

    def count(self, table: str) -> int:
        with self._conn() as conn:
            row = conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()
            return int(row[0])
