"""Model stores: memory, and the `risk_models` table (SQLite or PostgreSQL).

The SQL store writes on the ledger's write transaction, so a registry row and the
`risk.model` entry that seals its digest commit together.
"""

from __future__ import annotations

import sqlite3
import threading
from typing import Any

import orjson

from paygod.decisions.ports import DuplicateKey
from paygod.kernel.database import SqlStore
from paygod.risk.model import StoredModel


class MemoryModelStore:
    def __init__(self) -> None:
        self._rows: dict[int, StoredModel] = {}
        self._lock = threading.Lock()

    def put(self, conn: Any, model: StoredModel) -> None:
        with self._lock:
            if model.version in self._rows:
                raise DuplicateKey(f"model version {model.version}")
            self._rows[model.version] = model

    def get(self, version: int) -> StoredModel | None:
        return self._rows.get(version)

    def latest(self) -> StoredModel | None:
        with self._lock:
            return self._rows[max(self._rows)] if self._rows else None

    def versions(self) -> list[int]:
        return sorted(self._rows)


class SqlModelStore(SqlStore):
    def put(self, conn: Any, model: StoredModel) -> None:
        sql = (
            "INSERT INTO risk_models (version, artefact_digest, artefact, meta) "
            f"VALUES ({self.p}, {self.p}, {self.p}, {self.p})"
        )
        params = (
            model.version,
            model.artefact_digest,
            model.artefact,
            orjson.dumps(dict(model.meta)).decode(),
        )
        try:
            conn.execute(sql, params)
        except sqlite3.IntegrityError:
            raise DuplicateKey(f"model version {model.version}") from None
        except Exception as exc:
            if type(exc).__name__ == "UniqueViolation":
                raise DuplicateKey(f"model version {model.version}") from None
            raise

    def _row(self, row: Any) -> StoredModel:
        meta = orjson.loads(row[3])
        return StoredModel(int(row[0]), str(row[1]), bytes(row[2]), meta)

    def get(self, version: int) -> StoredModel | None:
        rows = self._read(
            "SELECT version, artefact_digest, artefact, meta FROM risk_models "
            f"WHERE version = {self.p}",
            (version,),
        )
        return self._row(rows[0]) if rows else None

    def latest(self) -> StoredModel | None:
        rows = self._read(
            "SELECT version, artefact_digest, artefact, meta FROM risk_models "
            "ORDER BY version DESC LIMIT 1"
        )
        return self._row(rows[0]) if rows else None

    def versions(self) -> list[int]:
        return [int(r[0]) for r in self._read("SELECT version FROM risk_models ORDER BY version")]
