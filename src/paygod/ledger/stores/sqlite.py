"""The SQLite store (standalone default): WAL, synchronous=FULL, BEGIN IMMEDIATE per batch.

The chain head row is read inside the write transaction, so several processes sharing
the file (a server and a CLI) serialise on SQLite's write lock and never fork the chain.
A kill -9 leaves either a committed batch or nothing of it: no torn entry.
"""

from __future__ import annotations

import contextlib
import functools
import sqlite3
import threading
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from paygod.kernel.database import SqliteDatabase, write_refusal
from paygod.kernel.errors import Unavailable
from paygod.ledger.chain import ChainState, Sealed
from paygod.ledger.groupcommit import WriteRequest
from paygod.ledger.model import EntryDraft, SignedTreeHead
from paygod.ledger.stores.common import outbox_params, outbox_rows, run_requests
from paygod.ledger.stores.sql import (
    ENTRY_COLUMNS,
    HEAD_COLUMNS,
    OUTBOX_INSERT_COLUMNS,
    SqlLedgerReads,
    TileCache,
    grown_tiles,
    row_to_state,
    tile_writes,
)

RETRY_AFTER = 5
# The writer's page cache holds the right edges of the table and its indexes and the pages
# of the subject index that random subjects touch: 64 MiB instead of SQLite's 2 MiB keeps
# a million-entry ledger's inserts from re-reading index pages. Readers map the file
# instead (shared OS page cache, no per-thread copy): a proof or an as-of lookup reads a
# few dozen scattered pages, and a memory read beats a read() call for each.
WRITER_PRAGMAS = ("PRAGMA cache_size=-65536",)
READER_PRAGMAS = ("PRAGMA mmap_size=1073741824",)


# Rows per multi-row statement, at most: a power of two within SQLite's 32,766 bound
# variables (3.32+) for the widest table (ledger_entries, 12 columns).
MAX_ROWS = 2048


@functools.cache
def _values_sql(head: str, width: int, rows: int, tail: str) -> str:
    row = "(" + ", ".join("?" * width) + ")"
    return f"{head} VALUES {', '.join([row] * rows)}{tail}"


def _insert_rows(
    conn: sqlite3.Connection, head: str, rows: Sequence[Sequence[Any]], tail: str = ""
) -> None:
    """`head VALUES (...), (...), ... tail` for all rows, in statements of 2^k rows.

    One statement per power of two in len(rows) instead of `executemany`'s step per row:
    every step releases the GIL and must take it back from a busy event loop, which cost
    the single writer more than the SQLite work itself. Powers of two keep the distinct
    statement texts few, so they stay in the connection's statement cache.
    """
    at, count = 0, len(rows)
    while at < count:
        size = min(1 << ((count - at).bit_length() - 1), MAX_ROWS)
        chunk = rows[at : at + size]
        conn.execute(
            _values_sql(head, len(chunk[0]), size, tail), [v for row in chunk for v in row]
        )
        at += size


def _unavailable(exc: BaseException) -> Unavailable:
    return Unavailable(
        f"the ledger store is unavailable (read-only mode): {exc}", retry_after=RETRY_AFTER
    )


class SqliteLedgerStore(SqlLedgerReads):
    p = "?"

    name = "sqlite"

    def __init__(self, db: SqliteDatabase) -> None:
        self.db = db
        self._writer: sqlite3.Connection | None = None
        self._tiles = TileCache()
        self._tuned = threading.local()  # the reader connection this thread has tuned

    def _write_conn(self) -> sqlite3.Connection:
        if self._writer is None:
            writer = self.db.connect()
            for pragma in WRITER_PRAGMAS:
                writer.execute(pragma)
            self._writer = writer
        return self._writer

    def commit_batch(self, batch: Sequence[WriteRequest], now: datetime) -> ChainState:
        with self.db.write_lock:  # see SqliteDatabase.write_lock
            return self._commit_batch(batch, now)

    def _commit_batch(self, batch: Sequence[WriteRequest], now: datetime) -> ChainState:
        try:
            conn = self._write_conn()
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            self._drop_writer()
            raise _unavailable(exc) from exc
        try:
            row = conn.execute(
                "SELECT size, last_hash, last_recorded_at, frontier FROM ledger_head WHERE id = 1"
            ).fetchone()
            state = row_to_state(row)
            written: list[tuple[bytes, int]] = []  # (hashes, tile), for the cache after COMMIT

            def isolate(position: int, step: Callable[[], Sealed]) -> Sealed:
                conn.execute(f"SAVEPOINT request_{position}")
                try:
                    sealed = step()
                except BaseException:
                    conn.execute(f"ROLLBACK TO request_{position}")
                    conn.execute(f"RELEASE request_{position}")
                    raise
                conn.execute(f"RELEASE request_{position}")
                return sealed

            def write(sealed: Sealed, drafts: Sequence[EntryDraft]) -> None:
                done: list[tuple[bytes, int]] = []  # kept only if every statement succeeds
                _insert_rows(conn, f"INSERT INTO ledger_entries ({ENTRY_COLUMNS})", sealed.rows)
                fresh, grown = tile_writes(sealed)
                if grown:
                    stored = self._tiles_before(
                        lambda sql, params: conn.execute(sql, params).fetchall(), grown
                    )
                    updates = grown_tiles(grown, stored)
                    # Each grown tile exists and holds exactly the nodes before ours
                    # (grown_tiles checked): the upsert only ever updates here.
                    _insert_rows(
                        conn,
                        "INSERT INTO ledger_merkle_tiles (tile, hashes)",
                        [(key, hashes) for hashes, key in updates],
                        " ON CONFLICT (tile) DO UPDATE SET hashes = excluded.hashes",
                    )
                    done.extend(updates)
                # A fresh tile must not exist yet: a plain INSERT fails loudly if it does.
                _insert_rows(conn, "INSERT INTO ledger_merkle_tiles (tile, hashes)", fresh)
                done.extend((hashes, key) for key, hashes in fresh)
                rows = outbox_rows(sealed, drafts, self.outbox_work_types)
                if rows:
                    _insert_rows(
                        conn,
                        f"INSERT INTO outbox ({OUTBOX_INSERT_COLUMNS})",
                        [outbox_params(r) for r in rows],
                    )
                written.extend(done)

            new_state = run_requests(batch, state, now, conn, isolate=isolate, write=write)
            if new_state.size != state.size:
                conn.execute(
                    "UPDATE ledger_head SET size = ?, last_hash = ?, last_recorded_at = ?, "
                    "frontier = ? WHERE id = 1",
                    (
                        new_state.size,
                        new_state.last_hash,
                        new_state.last_recorded_at,
                        new_state.frontier_json(),
                    ),
                )
            conn.execute("COMMIT")
            self._remember_tiles(written)
            return new_state
        except BaseException as exc:
            try:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
            except sqlite3.Error:
                self._drop_writer()
            if isinstance(exc, sqlite3.OperationalError) or write_refusal(exc) is not None:
                # A file opened while its mount was read-only stays read-only: reopen it
                # for the next batch, so writes resume once the store takes them again.
                self._drop_writer()
                raise _unavailable(exc) from exc
            raise

    def _drop_writer(self) -> None:
        if self._writer is not None:
            with contextlib.suppress(sqlite3.Error):
                self._writer.close()
            self._writer = None

    # -- reads ----------------------------------------------------------------------------

    def _read(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        try:
            conn = self.db.connection()
            if getattr(self._tuned, "conn", None) is not conn:
                for pragma in READER_PRAGMAS:
                    conn.execute(pragma)
                self._tuned.conn = conn
            return conn.execute(sql, params).fetchall()
        except sqlite3.OperationalError as exc:
            raise _unavailable(exc) from exc

    def save_tree_head(self, head: SignedTreeHead) -> None:
        try:
            # This thread's own connection (autocommit): tree heads may be recorded from any
            # thread, and the writer's connection belongs to the writer thread.
            conn = self.db.connection()
            conn.execute(
                f"INSERT OR IGNORE INTO ledger_tree_heads ({HEAD_COLUMNS}) VALUES (?, ?, ?, ?, ?)",
                (head.tree_size, head.root_hash, head.timestamp, head.key_id, head.signature),
            )
        except sqlite3.Error as exc:
            raise _unavailable(exc) from exc

    def probe_write(self) -> None:
        """Write and commit once without changing anything: raises `Unavailable` while the
        file, its mount or the disk refuses writes. The head row is moved and moved back
        (SQLite skips writing a row set to its own values, so that would prove nothing)."""
        with self.db.write_lock:
            conn: sqlite3.Connection | None = None
            try:
                conn = self.db.connect()
                conn.execute("BEGIN IMMEDIATE")
                conn.execute("UPDATE ledger_head SET size = size + 1 WHERE id = 1")
                conn.execute("UPDATE ledger_head SET size = size - 1 WHERE id = 1")
                conn.execute("COMMIT")
            except sqlite3.Error as exc:
                raise _unavailable(exc) from exc
            finally:
                if conn is not None:
                    with contextlib.suppress(sqlite3.Error):
                        conn.close()

    def opener(self) -> Callable[[], SqliteLedgerStore]:
        return functools.partial(open_reader, str(self.db.path))

    def close(self) -> None:
        self._drop_writer()


def open_reader(path: str) -> SqliteLedgerStore:
    """The store of the SQLite file at `path`, for reads (`SqliteLedgerStore.opener`)."""
    return SqliteLedgerStore(SqliteDatabase(Path(path)))
