"""Access audit: who read what, when and why; and every failed authentication.

Each record is an `audit.access` (or `audit.auth_failure`) event in `identity_access_log`
plus one structured log line, so both a query (`paygod audit access --since`) and a log
pipeline see it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from paygod.identity.stores.sql import SqlRunner
from paygod.kernel.clock import Clock, isoformat, parse_instant
from paygod.kernel.database import write_refusal
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
    def __init__(
        self, sql: SqlRunner, clock: Clock, ledger: Callable[[], Any] | None = None
    ) -> None:
        self.sql = sql
        self.clock = clock
        self._ledger = ledger or (lambda: None)

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
        try:
            self._insert(record)
        except Exception as exc:
            # Reads keep working while the store refuses writes: the log line below still
            # records the access; any other failure is a real error.
            reason = write_refusal(exc)
            if reason is None:
                raise
            log.warning("access_audit_not_stored", event_id=record.event_id, reason=reason)
        log.info(event_type, **{k: v for k, v in record.as_dict().items() if k != "event_type"})
        if event_type == "audit.access":
            self._seal(record)
        return record

    def _insert(self, record: AccessRecord) -> None:
        self.sql.run(
            "INSERT INTO identity_access_log (event_id, event_type, tenant_id, principal_id,"
            " action, target, reason, outcome, occurred_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                record.event_id,
                record.event_type,
                record.tenant_id,
                record.principal_id,
                record.action,
                record.target,
                record.reason,
                record.outcome,
                isoformat(record.occurred_at),
            ),
        )

    def _seal(self, record: AccessRecord) -> None:
        """Human reads become ledger entries with an `audit.access` outbox event, so the
        access trail is as tamper-evident as what was read. Reads must keep working when the
        ledger is read-only: the row and the log line above already exist then."""
        ledger = self._ledger()
        if ledger is None:
            return
        import importlib

        from paygod.kernel.events import EventEnvelope

        entry_draft = importlib.import_module("paygod.ledger").EntryDraft
        envelope = EventEnvelope(
            event_type="audit.access",
            aggregate_id=record.principal_id or "unknown",
            aggregate_type="principal",
            tenant_id=record.tenant_id,
            payload=record.as_dict(),
            occurred_at=record.occurred_at,
            recorded_at=record.occurred_at,
            event_id=record.event_id,
        )
        try:
            ledger.append(
                entry_draft(
                    kind="audit.access",
                    subject=f"access:{record.principal_id}",
                    payload=record.as_dict(),
                    tenant_id=record.tenant_id,
                    events=(envelope,),
                )
            )
        except Exception as exc:  # the read itself must not fail because sealing did
            log.warning("access_audit_not_sealed", event_id=record.event_id, error=str(exc))

    def purge(self, tenant_id: str, before: datetime) -> int:
        """Delete the tenant's rows older than `before` (a retention policy, run by the
        privacy module); the sealed `audit.access` entries stay in the ledger."""
        return self.sql.run(
            "DELETE FROM identity_access_log WHERE tenant_id = ? AND occurred_at < ?",
            (tenant_id, isoformat(before)),
        )

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
