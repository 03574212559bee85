"""Payee vaults: memory, and the `payment_payees` table (SQLite or PostgreSQL).

The SQL vault writes on the connection the ledger hands to `transact`, so the payee row
and the `requested` entry that references its digest commit together. The row is also the
payment's claim on its id: `put` says whether this call wrote it, so of two requests
creating the same payment at once (two threads, two API processes) exactly one records it.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

import orjson

from paygod.kernel.database import Database, SqliteDatabase


class MemoryPayeeVault:
    def __init__(self) -> None:
        self._rows: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()

    def put(self, conn: Any, payment_id: str, payee: Mapping[str, Any]) -> bool:
        with self._lock:
            if payment_id in self._rows:
                return False
            self._rows[payment_id] = dict(payee)
            return True

    def get(self, payment_id: str) -> dict[str, Any] | None:
        with self._lock:
            row = self._rows.get(payment_id)
            return dict(row) if row is not None else None


class SqlPayeeVault:
    def __init__(self, db: Database) -> None:
        self.db = db
        self.p = "?" if isinstance(db, SqliteDatabase) else "%s"

    def put(self, conn: Any, payment_id: str, payee: Mapping[str, Any]) -> bool:
        sql = (
            f"INSERT INTO payment_payees (payment_id, payee) VALUES ({self.p}, {self.p}) "
            "ON CONFLICT (payment_id) DO NOTHING"
        )
        params = (payment_id, orjson.dumps(dict(payee)).decode())
        if conn is not None:
            return bool(conn.execute(sql, params).rowcount == 1)
        if isinstance(self.db, SqliteDatabase):
            return bool(self.db.connection().execute(sql, params).rowcount == 1)
        with self.db.connection() as own:
            return bool(own.execute(sql, params).rowcount == 1)

    def get(self, payment_id: str) -> dict[str, Any] | None:
        sql = f"SELECT payee FROM payment_payees WHERE payment_id = {self.p}"
        if isinstance(self.db, SqliteDatabase):
            row = self.db.connection().execute(sql, (payment_id,)).fetchone()
        else:
            with self.db.connection() as conn:
                row = conn.execute(sql, (payment_id,)).fetchone()
        if row is None:
            return None
        data = orjson.loads(row[0])
        return data if isinstance(data, dict) else None
