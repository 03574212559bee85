"""Alert stores: memory, and the `aml_alerts`/`aml_cursor` tables (SQLite or PostgreSQL).
Writes run on the ledger's transaction (`conn`): an alert, its ledger entry and the
cursor move commit together or not at all."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

import orjson

from paygod.aml.model import Alert
from paygod.kernel.database import SqlStore, where_given

CURSOR = "ledger"


class MemoryAlertStore:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._alerts: dict[str, Alert] = {}
        self._keys: set[str] = set()
        self._cursor = -1

    def cursor(self) -> int:
        return self._cursor

    def advance(self, conn: Any, old: int, new: int) -> bool:
        with self._lock:
            if self._cursor != old:
                return False
            self._cursor = new
            return True

    def add(self, conn: Any, alert: Alert) -> bool:
        with self._lock:
            if alert.key in self._keys or alert.alert_id in self._alerts:
                return False
            self._keys.add(alert.key)
            self._alerts[alert.alert_id] = alert
            return True

    def known(self, key: str) -> bool:
        return key in self._keys

    def get(self, alert_id: str) -> Alert | None:
        return self._alerts.get(alert_id)

    def list(
        self, tenant_id: str | None, typology: str | None = None, until: str | None = None
    ) -> list[Alert]:
        with self._lock:
            found = [
                a
                for a in self._alerts.values()
                if (tenant_id is None or a.tenant_id == tenant_id)
                and (typology is None or a.typology == typology)
                and (until is None or a.raised_at <= until)
            ]
        return sorted(found, key=lambda a: (a.raised_at, a.alert_id))


def _alert(row: Sequence[Any]) -> Alert:
    return Alert(row[0], row[1], row[2], row[3], row[4], row[5], orjson.loads(row[6]))


COLUMNS = "alert_id, tenant_id, hit_key, typology, subject, raised_at, doc"


class SqlAlertStore(SqlStore):
    def _q(self, sql: str) -> str:
        return sql.replace("?", self.p)

    def _rows(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        return self._read(self._q(sql), params)

    def cursor(self) -> int:
        rows = self._rows("SELECT seq FROM aml_cursor WHERE name = ?", (CURSOR,))
        return int(rows[0][0]) if rows else -1

    def advance(self, conn: Any, old: int, new: int) -> bool:
        if old == -1:
            sql = "INSERT INTO aml_cursor (name, seq) VALUES (?, ?) ON CONFLICT (name) DO NOTHING"
            return bool(conn.execute(self._q(sql), (CURSOR, new)).rowcount == 1)
        sql = "UPDATE aml_cursor SET seq = ? WHERE name = ? AND seq = ?"
        return bool(conn.execute(self._q(sql), (new, CURSOR, old)).rowcount == 1)

    def add(self, conn: Any, alert: Alert) -> bool:
        sql = (
            f"INSERT INTO aml_alerts ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT DO NOTHING"
        )
        doc = orjson.dumps(dict(alert.payload)).decode()
        params = (
            alert.alert_id,
            alert.tenant_id,
            alert.key,
            alert.typology,
            alert.subject,
            alert.raised_at,
            doc,
        )
        return bool(conn.execute(self._q(sql), params).rowcount == 1)

    def known(self, key: str) -> bool:
        return bool(self._rows("SELECT 1 FROM aml_alerts WHERE hit_key = ?", (key,)))

    def get(self, alert_id: str) -> Alert | None:
        rows = self._rows(f"SELECT {COLUMNS} FROM aml_alerts WHERE alert_id = ?", (alert_id,))
        return _alert(rows[0]) if rows else None

    def list(
        self, tenant_id: str | None, typology: str | None = None, until: str | None = None
    ) -> list[Alert]:
        clause, params = where_given(
            [("tenant_id =", tenant_id), ("typology =", typology), ("raised_at <=", until)]
        )
        rows = self._rows(
            f"SELECT {COLUMNS} FROM aml_alerts{clause} ORDER BY raised_at, alert_id", params
        )
        return [_alert(r) for r in rows]
