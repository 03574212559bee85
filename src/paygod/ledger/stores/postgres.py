"""The PostgreSQL store (distributed mode): psycopg 3, one writer connection per process.

Every batch locks the single `ledger_head` row FOR UPDATE before reading the chain head,
so writers in several processes serialise on it and the chain never forks. Each request
runs in a nested transaction (a savepoint), so one failing `transact` leaves the others.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from paygod.kernel.database import PostgresDatabase
from paygod.kernel.errors import Unavailable
from paygod.ledger.chain import ChainState, Sealed
from paygod.ledger.groupcommit import WriteRequest
from paygod.ledger.model import Entry, EntryDraft, SignedTreeHead
from paygod.ledger.stores.common import outbox_params, outbox_rows, run_requests
from paygod.ledger.stores.sql import (
    ENTRY_COLUMNS,
    HEAD_COLUMNS,
    OUTBOX_INSERT_COLUMNS,
    NodeCache,
    row_to_entry,
    row_to_head,
    row_to_state,
)

if TYPE_CHECKING:
    import psycopg

RETRY_AFTER = 2


class PostgresLedgerStore:
    name = "postgres"

    def __init__(self, db: PostgresDatabase) -> None:
        self.db = db
        self._writer: psycopg.Connection[Any] | None = None
        self._nodes = NodeCache()

    def _write_conn(self) -> psycopg.Connection[Any]:
        if self._writer is None or self._writer.closed:
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

                def isolate(position: int, step: Callable[[], Sealed]) -> Sealed:
                    with conn.transaction():  # a savepoint inside the batch transaction
                        return step()

                def write(sealed: Sealed, drafts: Sequence[EntryDraft]) -> None:
                    with conn.cursor() as cur:
                        with cur.copy(f"COPY ledger_entries ({ENTRY_COLUMNS}) FROM STDIN") as copy:
                            for params in sealed.rows:
                                copy.write_row(params)
                        with cur.copy("COPY ledger_merkle (level, idx, hash) FROM STDIN") as copy:
                            for node in sealed.nodes:
                                copy.write_row(node)
                        rows = outbox_rows(sealed, drafts)
                        if rows:
                            cur.executemany(
                                f"INSERT INTO outbox ({OUTBOX_INSERT_COLUMNS}) VALUES "
                                "(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                                [outbox_params(r) for r in rows],
                            )

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
            return new_state
        except psycopg.OperationalError as exc:
            self._drop_writer()
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

    def state(self) -> ChainState:
        rows = self._read(
            "SELECT size, last_hash, last_recorded_at, frontier FROM ledger_head WHERE id = 1"
        )
        return row_to_state(rows[0])

    def get(self, seq: int) -> Entry | None:
        rows = self._read(f"SELECT {ENTRY_COLUMNS} FROM ledger_entries WHERE seq = %s", (seq,))
        return row_to_entry(rows[0]) if rows else None

    def get_by_id(self, entry_id: str) -> Entry | None:
        rows = self._read(
            f"SELECT {ENTRY_COLUMNS} FROM ledger_entries WHERE entry_id = %s", (entry_id,)
        )
        return row_to_entry(rows[0]) if rows else None

    def entries(self, after: int = -1, limit: int = 100) -> list[Entry]:
        rows = self._read(
            f"SELECT {ENTRY_COLUMNS} FROM ledger_entries WHERE seq > %s ORDER BY seq LIMIT %s",
            (after, max(limit, 0)),
        )
        return [row_to_entry(r) for r in rows]

    def subject_entries(
        self, subject: str, tenant_id: str | None, recorded_until: str | None
    ) -> list[Entry]:
        sql = f"SELECT {ENTRY_COLUMNS} FROM ledger_entries WHERE subject = %s"
        params: list[Any] = [subject]
        if tenant_id is not None:
            sql += " AND tenant_id = %s"
            params.append(tenant_id)
        if recorded_until is not None:
            sql += " AND recorded_at <= %s"
            params.append(recorded_until)
        rows = self._read(sql + " ORDER BY seq", params)
        return [row_to_entry(r) for r in rows]

    def node(self, level: int, index: int) -> bytes:
        key = (level, index)
        found = self._nodes.get(key)
        if found is None:
            rows = self._read(
                "SELECT hash FROM ledger_merkle WHERE level = %s AND idx = %s", (level, index)
            )
            if not rows:
                raise KeyError(key)
            found = bytes(rows[0][0])
            self._nodes.put(key, found)
        return found

    def save_tree_head(self, head: SignedTreeHead) -> None:
        with self.db.connection() as conn:  # pooled: heads may be recorded from any thread
            conn.execute(
                f"INSERT INTO ledger_tree_heads ({HEAD_COLUMNS}) VALUES (%s, %s, %s, %s, %s) "
                "ON CONFLICT DO NOTHING",
                (head.tree_size, head.root_hash, head.timestamp, head.key_id, head.signature),
            )

    def latest_tree_head(self) -> SignedTreeHead | None:
        rows = self._read(
            f"SELECT {HEAD_COLUMNS} FROM ledger_tree_heads ORDER BY tree_size DESC LIMIT 1"
        )
        return row_to_head(rows[0]) if rows else None

    def close(self) -> None:
        self._drop_writer()
