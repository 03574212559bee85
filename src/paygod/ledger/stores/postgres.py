"""The PostgreSQL store (distributed mode): psycopg 3, one writer connection per process.

Every batch locks the single `ledger_head` row FOR UPDATE before reading the chain head,
so writers in several processes serialise on it and the chain never forks. Each request
runs in a nested transaction (a savepoint), so one failing `transact` leaves the others.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from paygod.kernel.database import PostgresDatabase, write_refusal
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

if TYPE_CHECKING:
    import psycopg

RETRY_AFTER = 2


def _refusing(exc: BaseException) -> bool:
    """Whether the store, not the request, failed: unreachable or refusing writes."""
    import psycopg

    return isinstance(exc, psycopg.OperationalError) or write_refusal(exc) is not None


class PostgresLedgerStore(SqlLedgerReads):
    p = "%s"

    name = "postgres"

    def __init__(self, db: PostgresDatabase) -> None:
        self.db = db
        self._writer: psycopg.Connection[Any] | None = None
        self._tiles = TileCache()
        self._refused = False  # the last batch met a store refusing writes

    def _write_conn(self) -> psycopg.Connection[Any]:
        if self._writer is None or self._writer.closed or self._writer.broken:
            self._writer = self.db.connect()
        return self._writer

    def commit_batch(self, batch: Sequence[WriteRequest], now: datetime) -> ChainState:
        import psycopg

        try:
            conn = self._write_conn()
            with conn.transaction():
                row = conn.execute(
                    "SELECT size, last_hash, last_recorded_at, frontier FROM ledger_head "
                    "WHERE id = 1 FOR UPDATE"
                ).fetchone()
                assert row is not None, "ledger_head row missing: run migrations"
                state = row_to_state(row)
                written: list[tuple[bytes, int]] = []  # (hashes, tile), cached once committed

                def isolate(position: int, step: Callable[[], Sealed]) -> Sealed:
                    try:
                        with conn.transaction():  # a savepoint inside the batch transaction
                            return step()
                    except psycopg.Error as exc:
                        if not _refusing(exc):
                            raise
                        self._drop_writer()  # the next batch opens a fresh connection
                        self._refused = True
                        # The connection died under a request's own work (a dropped
                        # backend): the store is unavailable, not the request malformed —
                        # a 503 with Retry-After for the caller, never a raw driver error.
                        raise Unavailable(
                            f"the ledger store is unavailable (read-only mode): {exc}",
                            retry_after=RETRY_AFTER,
                        ) from exc

                def write(sealed: Sealed, drafts: Sequence[EntryDraft]) -> None:
                    done: list[tuple[bytes, int]] = []  # kept only if every statement succeeds
                    with conn.cursor() as cur:
                        with cur.copy(f"COPY ledger_entries ({ENTRY_COLUMNS}) FROM STDIN") as copy:
                            for params in sealed.rows:
                                copy.write_row(params)
                        fresh, grown = tile_writes(sealed)
                        if grown:
                            stored = self._tiles_before(
                                lambda sql, params: cur.execute(sql, params).fetchall(), grown
                            )
                            updates = grown_tiles(grown, stored)
                            cur.executemany(
                                "UPDATE ledger_merkle_tiles SET hashes = %s WHERE tile = %s",
                                updates,
                            )
                            done.extend(updates)
                        with cur.copy("COPY ledger_merkle_tiles (tile, hashes) FROM STDIN") as copy:
                            for tile in fresh:
                                copy.write_row(tile)
                        done.extend((hashes, key) for key, hashes in fresh)
                        rows = outbox_rows(sealed, drafts, self.outbox_work_types)
                        if rows:
                            cur.executemany(
                                f"INSERT INTO outbox ({OUTBOX_INSERT_COLUMNS}) VALUES "
                                "(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                                [outbox_params(r) for r in rows],
                            )
                    written.extend(done)

                new_state = run_requests(batch, state, now, conn, isolate=isolate, write=write)
                if new_state.size != state.size:
                    conn.execute(
                        "UPDATE ledger_head SET size = %s, last_hash = %s, "
                        "last_recorded_at = %s, frontier = %s WHERE id = 1",
                        (
                            new_state.size,
                            new_state.last_hash,
                            new_state.last_recorded_at,
                            new_state.frontier_json(),
                        ),
                    )
            self._remember_tiles(written)  # the transaction above has committed
            if self._refused:
                # Writes are back: sessions the pool opened while they were refused keep
                # their read-only default, so they are replaced before they fail a write.
                self._refused = False
                self.db.renew()
            return new_state
        except psycopg.Error as exc:
            # Unreachable, or reachable but refusing writes (a standby after a fail-over,
            # default_transaction_read_only, a full disk): 503 for every request of the
            # batch, and a fresh connection for the next one (a session keeps the
            # read-only default it connected with).
            if not _refusing(exc):
                raise
            self._drop_writer()
            self._refused = True
            raise Unavailable(
                f"the ledger store is unavailable (read-only mode): {exc}",
                retry_after=RETRY_AFTER,
            ) from exc

    def _drop_writer(self) -> None:
        if self._writer is not None:
            with contextlib.suppress(Exception):
                self._writer.close()
            self._writer = None

    # -- reads ----------------------------------------------------------------------------

    def _read(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        import psycopg

        try:
            with self.db.connection() as conn:
                return conn.execute(sql, params).fetchall()
        except psycopg.OperationalError as exc:
            raise Unavailable(f"the ledger store is unreachable: {exc}", retry_after=2) from exc

    def save_tree_head(self, head: SignedTreeHead) -> None:
        with self.db.connection() as conn:  # pooled: heads may be recorded from any thread
            conn.execute(
                f"INSERT INTO ledger_tree_heads ({HEAD_COLUMNS}) VALUES (%s, %s, %s, %s, %s) "
                "ON CONFLICT DO NOTHING",
                (head.tree_size, head.root_hash, head.timestamp, head.key_id, head.signature),
            )

    def probe_write(self) -> None:
        """Raises `Unavailable` while PostgreSQL refuses writes: a session that would be
        read-only (a standby, default_transaction_read_only), or a write that fails."""
        with self.db.connection() as conn:
            row = conn.execute("SHOW transaction_read_only").fetchone()
            stale = row is not None and row[0] == "on"
        if stale:
            if self.db.session_read_only():
                raise Unavailable(
                    "the ledger store refuses writes (read-only mode): transactions are "
                    "read-only (a standby, or default_transaction_read_only = on)",
                    retry_after=RETRY_AFTER,
                )
            self.db.renew()  # the database takes writes again; the pool's sessions do not
        with self.db.connection() as conn, conn.transaction():
            conn.execute("UPDATE ledger_head SET size = size WHERE id = 1")

    def opener(self) -> Callable[[], PostgresLedgerStore]:
        return functools.partial(open_reader, self.db.url)

    def close(self) -> None:
        self._drop_writer()


def open_reader(url: str) -> PostgresLedgerStore:
    """The store of the database at `url`, for reads (`PostgresLedgerStore.opener`)."""
    return PostgresLedgerStore(PostgresDatabase(url, min_size=1, max_size=2))
