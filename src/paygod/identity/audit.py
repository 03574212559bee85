"""Access audit: who read what, when and why; and every failed authentication.

Each record is an `audit.access` (or `audit.auth_failure`) event in `identity_access_log`
plus one structured log line, so both a query (`paygod audit access --since`) and a log
pipeline see it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from paygod.identity.stores.sql import SqlRunner
from paygod.kernel.clock import Clock, isoformat, parse_instant
from paygod.kernel.ids import new_id
from paygod.kernel.logging import get_logger

log = get_logger("paygod.audit")


@dataclass(frozen=True, slots=True)
class AccessRecord:
    event_id: str
    event_type: str
    tenant_id: str
    principal_id: str | None
    action: str
    target: str
    reason: str | None
    outcome: str
    occurred_at: datetime

    def as_dict(self) -> dict[str, Any]:
        return {
            "event_id": self.event_id,
            "event_type": self.event_type,
            "tenant_id": self.tenant_id,
            "principal_id": self.principal_id,
            "action": self.action,
            "target": self.target,
            "reason": self.reason,
            "outcome": self.outcome,
            "occurred_at": isoformat(self.occurred_at),
        }


class AccessAudit:
    def __init__(self, sql: SqlRunner, clock: Clock) -> None:
        self.sql = sql
        self.clock = clock

    def record(
        self,
        event_type: str,
        *,
        tenant_id: str,
        principal_id: str | None,
        action: str,
        target: str,
        reason: str | None = None,
        outcome: str = "allowed",
    ) -> AccessRecord:
        record = AccessRecord(
            new_id(),
            event_type,
            tenant_id,
            principal_id,
            action,
            target,
            (reason or "")[:500] or None,
            outcome,
            self.clock.now(),
        )
        self.sql.run(
            "INSERT INTO identity_access_log (event_id, event_type, tenant_id, principal_id,"
            " action, target, reason, outcome, occurred_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                record.event_id,
                event_type,
                tenant_id,
                principal_id,
                action,
                target,
                record.reason,
                outcome,
                isoformat(record.occurred_at),
            ),
        )
        log.info(event_type, **{k: v for k, v in record.as_dict().items() if k != "event_type"})
        return record

    def since(
        self, since: datetime, *, tenant_id: str | None = None, limit: int = 1000
    ) -> list[AccessRecord]:
        sql = (
            "SELECT event_id, event_type, tenant_id, principal_id, action, target, reason,"
            " outcome, occurred_at FROM identity_access_log WHERE occurred_at >= ?"
        )
        params: list[Any] = [isoformat(since)]
        if tenant_id is not None and tenant_id != "*":
            sql += " AND tenant_id = ?"
            params.append(tenant_id)
        rows = self.sql.all(sql + " ORDER BY occurred_at, event_id LIMIT ?", [*params, limit])
        return [
            AccessRecord(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], parse_instant(r[8]))
            for r in rows
        ]
