"""Payee vaults: memory, and the `payment_payees` table (SQLite or PostgreSQL).

With the privacy vault wired (`vault`), the row holds only the URN of the payee's record,
sealed under the key of the payee's data subject (`urn:paygod:payee:<hex of payee_ref>`),
so erasing that subject (`paygod gdpr erase`) leaves no readable payee anywhere. Rows
written before hold the details as JSON and are still read.

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

from paygod.canonical import digest
from paygod.kernel.database import Database, SqliteDatabase, placeholder
from paygod.kernel.errors import Gone
from paygod.payments.ports import PersonalDataVault


def payee_subject(payee: Mapping[str, Any]) -> str:
    """The payee's data subject: named by the digest the payment seals as `payee_ref`."""
    return "urn:paygod:payee:" + digest(dict(payee)).removeprefix("sha256:")


class MemoryPayeeVault:
    def __init__(self) -> None:
        self._rows: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()

    def put(
        self, conn: Any, payment_id: str, payee: Mapping[str, Any], tenant_id: str = "default"
    ) -> bool:
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
    def __init__(self, db: Database, vault: PersonalDataVault | None = None) -> None:
        self.db = db
        self.vault = vault
        self.p = placeholder(db)

    def put(
        self, conn: Any, payment_id: str, payee: Mapping[str, Any], tenant_id: str = "default"
    ) -> bool:
        if conn is not None:
            return self._put(conn, payment_id, payee, tenant_id)
        if isinstance(self.db, SqliteDatabase):
            return self._put(self.db.connection(), payment_id, payee, tenant_id)
        with self.db.connection() as own, own.transaction():
            return self._put(own, payment_id, payee, tenant_id)

    def _put(self, conn: Any, payment_id: str, payee: Mapping[str, Any], tenant_id: str) -> bool:
        stored: dict[str, Any] = dict(payee)
        if self.vault is not None:
            # Sealed first: when the claim below loses, the caller's rollback takes it too.
            record = self.vault.seal_in(conn, tenant_id, payee_subject(payee), "payee", payee)
            stored = {"vault": record.urn, "tenant_id": tenant_id}
        sql = (
            f"INSERT INTO payment_payees (payment_id, payee) VALUES ({self.p}, {self.p}) "
            "ON CONFLICT (payment_id) DO NOTHING"
        )
        params = (payment_id, orjson.dumps(stored).decode())
        return bool(conn.execute(sql, params).rowcount == 1)

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
        if not isinstance(data, dict):
            return None
        if self.vault is not None and set(data) == {"vault", "tenant_id"}:
            try:
                found = self.vault.read(str(data["tenant_id"]), str(data["vault"]))["data"]
            except Gone:
                return None  # erased: the payee's key is destroyed
            return found if isinstance(found, dict) else None
        return data
