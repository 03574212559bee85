"""Case stores: memory, and the `cases`/`case_alerts` tables (SQLite or PostgreSQL)."""

from __future__ import annotations

import threading
from typing import Any

import orjson

from paygod.cases.model import Case, CaseStatus
from paygod.kernel.database import SqlStore, where_given


class MemoryCaseStore:
    def __init__(self) -> None:
        self._cases: dict[str, Case] = {}
        self._alerts: dict[str, str] = {}
        self._lock = threading.Lock()

    def save(self, conn: Any, case: Case) -> None:
        with self._lock:
            self._cases[case.case_id] = case

    def get(self, case_id: str) -> Case | None:
        return self._cases.get(case_id)

    def list(self, tenant_id: str | None, status: str | None = None) -> list[Case]:
        with self._lock:
            found = [
                c
                for c in self._cases.values()
                if (tenant_id is None or c.tenant_id == tenant_id)
                and (status is None or c.status.value == status)
            ]
        return sorted(found, key=lambda c: (c.opened_at, c.case_id))

    def open_case(self, tenant_id: str, subject: str, alert_type: str) -> Case | None:
        for case in self.list(tenant_id):
            if (case.subject, case.alert_type) == (subject, alert_type) and (
                case.status is not CaseStatus.CLOSED
            ):
                return case
        return None

    def link_alert(self, conn: Any, alert_id: str, case_id: str) -> bool:
        with self._lock:
            if alert_id in self._alerts:
                return False
            self._alerts[alert_id] = case_id
            return True

    def case_of_alert(self, alert_id: str) -> str | None:
        return self._alerts.get(alert_id)


class SqlCaseStore(SqlStore):
    def save(self, conn: Any, case: Case) -> None:
        p = self.p
        conn.execute(
            "INSERT INTO cases (case_id, tenant_id, subject, alert_type, status, opened_at, doc) "
            f"VALUES ({p}, {p}, {p}, {p}, {p}, {p}, {p}) ON CONFLICT (case_id) DO UPDATE SET "
            "status = excluded.status, doc = excluded.doc",
            (
                case.case_id,
                case.tenant_id,
                case.subject,
                case.alert_type,
                case.status.value,
                case.opened_at,
                orjson.dumps(case.as_dict()).decode(),
            ),
        )

    def get(self, case_id: str) -> Case | None:
        rows = self._read(f"SELECT doc FROM cases WHERE case_id = {self.p}", (case_id,))
        return Case.from_dict(orjson.loads(rows[0][0])) if rows else None

    def list(self, tenant_id: str | None, status: str | None = None) -> list[Case]:
        clause, params = where_given([("tenant_id =", tenant_id), ("status =", status)], self.p)
        rows = self._read(
            f"SELECT doc FROM cases{clause} ORDER BY opened_at, case_id", tuple(params)
        )
        return [Case.from_dict(orjson.loads(r[0])) for r in rows]

    def open_case(self, tenant_id: str, subject: str, alert_type: str) -> Case | None:
        p = self.p
        rows = self._read(
            f"SELECT doc FROM cases WHERE tenant_id = {p} AND subject = {p} AND alert_type = {p} "
            f"AND status <> {p} ORDER BY opened_at LIMIT 1",
            (tenant_id, subject, alert_type, CaseStatus.CLOSED.value),
        )
        return Case.from_dict(orjson.loads(rows[0][0])) if rows else None

    def link_alert(self, conn: Any, alert_id: str, case_id: str) -> bool:
        sql = (
            f"INSERT INTO case_alerts (alert_id, case_id) VALUES ({self.p}, {self.p}) "
            "ON CONFLICT (alert_id) DO NOTHING"
        )
        return bool(conn.execute(sql, (alert_id, case_id)).rowcount == 1)

    def case_of_alert(self, alert_id: str) -> str | None:
        rows = self._read(f"SELECT case_id FROM case_alerts WHERE alert_id = {self.p}", (alert_id,))
        return str(rows[0][0]) if rows else None
