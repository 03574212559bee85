"""The AML service: evaluates the typologies as movements are sealed, scans history,
keeps each tenant's thresholds, lists the alerts.

Incremental: `catch_up` reads the ledger after the monitor's cursor, feeds the monitor,
and in ONE ledger transaction moves the cursor and seals each new hit as an `aml.alert`
entry whose `aml.alert` event (the outbox) opens a case. The cursor moves by compare
and swap: two processes never both raise one batch. On start, or when another process
moved the cursor, the monitor's windows are rebuilt by replaying the ledger up to it.

Batch: `scan` runs a fresh monitor over a tenant's history; a hit already raised (same
typology, subject and movements: the same key) is reported, not raised again.

Thresholds are sealed `aml.thresholds` entries; the monitor reads them from the same
ledger stream, so a change applies from its seq on, in either pass.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from paygod.aml import stream
from paygod.aml.model import Alert, Hit, Thresholds, threshold_problems
from paygod.aml.ports import AlertStore
from paygod.aml.typologies import Monitor
from paygod.kernel.clock import Clock, isoformat
from paygod.kernel.errors import Conflict, FieldError, InvalidInput, NotFound
from paygod.kernel.events import EventEnvelope
from paygod.ledger import EntryDraft, LedgerService
from paygod.ledger.model import Entry

ALERT_KIND = "aml.alert"
ALERT_EVENT = "aml.alert"
RAISED_BY = "paygod:aml"
BATCH = 2000


def alert_subject(alert_id: str) -> str:
    return f"urn:paygod:aml-alert:{alert_id}"


@dataclass(frozen=True)
class ScanResult:
    hits: tuple[Hit, ...]
    raised: tuple[Alert, ...]

    def as_dict(self) -> dict[str, Any]:
        raised = {a.key for a in self.raised}
        return {
            "hits": [
                {
                    "alert_id": h.alert_id,
                    "typology": h.typology,
                    "subject": h.subject,
                    "transactions": h.transactions(),
                    "detail": dict(h.detail),
                    "raised_now": h.key in raised,
                }
                for h in self.hits
            ],
            "raised": len(self.raised),
        }


def feed(monitor: Monitor, entry: Entry) -> list[Hit]:
    """One ledger entry into the monitor: a threshold change or a movement."""
    changed = stream.thresholds(entry)
    if changed is not None:
        monitor.set_thresholds(entry.tenant_id, changed)
        return []
    found = stream.movement(entry)
    return monitor.observe(found) if found is not None else []


class AmlService:
    def __init__(self, ledger: LedgerService, store: AlertStore, clock: Clock) -> None:
        self.ledger = ledger
        self.store = store
        self.clock = clock
        self._lock = threading.Lock()
        self._monitor: Monitor | None = None
        self._seen = -1

    # -- incremental -----------------------------------------------------------------

    def catch_up(self, batch: int = BATCH) -> list[Alert]:
        """Evaluate every entry sealed since the cursor; the alerts raised now."""
        raised: list[Alert] = []
        with self._lock:
            while True:
                cursor = self.store.cursor()
                monitor = self._replayed(cursor)
                entries = self.ledger.entries(cursor, batch)
                if not entries:
                    return raised
                hits = [h for e in entries for h in feed(monitor, e)]
                try:
                    raised += self._raise(hits, advance=(cursor, entries[-1].seq))
                except Exception:
                    # The windows took in entries the cursor did not pass (another process
                    # moved on, the store refused the write): replay up to it next time.
                    self._monitor = None
                    raise
                self._seen = entries[-1].seq

    def run_once(self) -> None:
        """The housekeeping task's body (kernel/periodic.py)."""
        # Another process raised this batch: the next tick replays and goes on.
        with contextlib.suppress(Conflict):
            self.catch_up()

    def _replayed(self, cursor: int) -> Monitor:
        if self._monitor is not None and self._seen == cursor:
            return self._monitor
        monitor = Monitor()
        for entry in self.ledger.iter_entries():
            if entry.seq > cursor:
                break
            feed(monitor, entry)
        self._monitor, self._seen = monitor, cursor
        return monitor

    def _raise(self, hits: Iterable[Hit], advance: tuple[int, int] | None) -> list[Alert]:
        now = isoformat(self.clock.now())
        alerts = [self._alert(h, now) for h in hits if not self.store.known(h.key)]
        if not alerts and advance is None:
            return []

        def work(conn: Any) -> tuple[list[Alert], list[EntryDraft]]:
            if advance is not None and not self.store.advance(conn, *advance):
                raise Conflict("the AML cursor moved concurrently")
            added = [a for a in alerts if self.store.add(conn, a)]
            return added, [self._draft(a) for a in added]

        added, _ = self.ledger.transact(work)
        return list(added)

    def _alert(self, hit: Hit, now: str) -> Alert:
        first = hit.movements[0]
        payload = {
            "alert_id": hit.alert_id,
            "alert_type": f"aml.{hit.typology}",
            "typology": hit.typology,
            "rule": hit.typology,
            "subject": hit.subject,
            "transactions": hit.transactions(),
            "detail": dict(hit.detail),
            "correlation_id": f"{first.kind}:{first.txn_id}",
            "occurred_at": isoformat(datetime.fromtimestamp(hit.at, UTC)),
            "raised_by": RAISED_BY,
            "source": "aml",
        }
        return Alert(hit.alert_id, hit.tenant_id, hit.key, hit.typology, hit.subject, now, payload)

    def _draft(self, alert: Alert) -> EntryDraft:
        now = self.clock.now()
        event = EventEnvelope(
            event_type=ALERT_EVENT,
            aggregate_id=alert.alert_id,
            aggregate_type="aml_alert",
            tenant_id=alert.tenant_id,
            payload=dict(alert.payload),
            occurred_at=now,
            recorded_at=now,
            correlation_id=str(alert.payload["correlation_id"]),
            causation_id=None,
        )
        payload = {**dict(alert.payload), "hit_key": alert.key}
        return EntryDraft(
            ALERT_KIND,
            alert_subject(alert.alert_id),
            payload,
            tenant_id=alert.tenant_id,
            events=(event,),
        )

    # -- batch -----------------------------------------------------------------------

    def scan(
        self,
        tenant_id: str,
        start: datetime | None = None,
        end: datetime | None = None,
        *,
        record: bool = True,
    ) -> ScanResult:
        """Run the typologies over the tenant's history (movements sealed within
        [start, end]); with `record`, raise the hits not raised before."""
        if start is not None and end is not None and end < start:
            raise InvalidInput(
                "invalid scan period", errors=[FieldError("/to", "must not be before from")]
            )
        low = start.timestamp() if start is not None else float("-inf")
        high = end.timestamp() if end is not None else float("inf")
        monitor = Monitor()
        hits: list[Hit] = []
        for entry in self.ledger.iter_entries():
            if entry.tenant_id != tenant_id:
                continue
            changed = stream.thresholds(entry)
            if changed is not None:
                monitor.set_thresholds(tenant_id, changed)
                continue
            found = stream.movement(entry)
            if found is not None and low <= found.at <= high:
                hits += monitor.observe(found)
        raised = self._raise(hits, advance=None) if record else []
        return ScanResult(tuple(hits), tuple(raised))

    # -- thresholds ------------------------------------------------------------------

    def thresholds(self, tenant_id: str, as_of: datetime | None = None) -> dict[str, Any]:
        found = [
            e
            for e in self.ledger.history(stream.thresholds_subject(tenant_id), tenant_id)
            if e.kind == stream.THRESHOLDS_KIND and (as_of is None or e.recorded_at <= as_of)
        ]
        if not found:
            return {"thresholds": Thresholds().as_dict(), "seq": None, "set_by": None}
        last = found[-1]
        current = Thresholds.from_dict(last.payload.get("thresholds") or {})
        return {
            "thresholds": current.as_dict(),
            "seq": last.seq,
            "set_by": last.payload.get("set_by"),
            "set_at": last.timestamp,
        }

    def set_thresholds(
        self, tenant_id: str, changes: Mapping[str, Any], actor: str | None
    ) -> dict[str, Any]:
        """Change some thresholds (the others keep their value); sealed, applies to
        movements sealed after it."""
        errors = threshold_problems(changes)
        if errors:
            raise InvalidInput("invalid AML thresholds", errors=errors)
        merged = {**self.thresholds(tenant_id)["thresholds"], **dict(changes)}
        value = Thresholds.from_dict(merged).as_dict()
        payload = {"thresholds": value, "set_by": actor}
        entry = self.ledger.append(
            EntryDraft(
                stream.THRESHOLDS_KIND,
                stream.thresholds_subject(tenant_id),
                payload,
                tenant_id=tenant_id,
            )
        )
        return {"thresholds": value, "seq": entry.seq, "set_by": actor, "set_at": entry.timestamp}

    # -- reads -----------------------------------------------------------------------

    def alerts(
        self, tenant_id: str | None, typology: str | None = None, as_of: datetime | None = None
    ) -> list[Alert]:
        until = isoformat(as_of) if as_of is not None else None
        return self.store.list(tenant_id, typology, until)

    def alert(self, alert_id: str, tenant_id: str | None) -> dict[str, Any]:
        found = self.store.get(alert_id)
        if found is None or (tenant_id is not None and found.tenant_id != tenant_id):
            raise NotFound("no such AML alert")
        sealed = [e for e in self.ledger.history(alert_subject(alert_id)) if e.kind == ALERT_KIND]
        return {**found.as_dict(), "seq": sealed[-1].seq if sealed else None}
