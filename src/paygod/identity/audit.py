"""Access audit: who read what, when and why; and every failed authentication.

Each record is an `audit.access` (or `audit.auth_failure`) event in `identity_access_log`
plus one structured log line, so both a query (`paygod audit access --since`) and a log
pipeline see it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from paygod.identity.model import AccessRecord
from paygod.identity.ports import AccessLogStore
from paygod.kernel.clock import Clock
from paygod.kernel.database import write_refusal
from paygod.kernel.logging import get_logger
from paygod.kernel.record_ids import new_id

log = get_logger("paygod.audit")


class AccessAudit:
    def __init__(
        self, store: AccessLogStore, clock: Clock, ledger: Callable[[], Any] | None = None
    ) -> None:
        self.store = store
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
            self.store.add_access(record)
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
        return self.store.delete_accesses_before(tenant_id, before)

    def since(
        self, since: datetime, *, tenant_id: str | None = None, limit: int = 1000
    ) -> list[AccessRecord]:
        return self.store.accesses_since(
            since, tenant_id=None if tenant_id == "*" else tenant_id, limit=limit
        )
