"""The outbox store in memory, over a list of rows (the memory ledger store's outbox).

Rows are dicts with the columns of the `outbox` table. `source` may be any list the
memory ledger appends to; items that are EventEnvelopes or envelope dicts are turned
into rows the first time the store looks.
"""

from __future__ import annotations

import threading
from collections.abc import Collection, Sequence
from datetime import datetime, timedelta
from typing import Any

from paygod.executor.model import OutboxMessage
from paygod.kernel.clock import isoformat
from paygod.kernel.events import EventEnvelope
from paygod.ledger import OUTBOX_COLUMNS


def as_row(item: Any) -> dict[str, Any]:
    """A row dict from whatever the memory ledger keeps (row dict, envelope or its dict)."""
    entry_seq = None
    if isinstance(item, tuple) and len(item) == 2:
        entry_seq, item = item
    if isinstance(item, EventEnvelope):
        item = item.as_dict()
    if isinstance(item, dict) and "envelope" in item:
        row = {name: item.get(name) for name in OUTBOX_COLUMNS}
    elif isinstance(item, dict):
        row = {
            "event_id": item["event_id"],
            "entry_seq": entry_seq,
            "event_type": item["event_type"],
            "tenant_id": item.get("tenant_id", "default"),
            "aggregate_id": item.get("aggregate_id", ""),
            "envelope": item,
            "status": None,
            "attempts": None,
            "available_at": item.get("recorded_at"),
            "claimed_by": None,
            "claimed_until": None,
            "last_error": None,
            "created_at": item.get("recorded_at"),
        }
    else:
        raise TypeError(f"cannot read an outbox row from {type(item).__name__}")
    row["status"] = row["status"] or "pending"
    row["attempts"] = int(row["attempts"] or 0)
    row["available_at"] = row["available_at"] or isoformat(datetime.now().astimezone())
    return row


def _message(row: dict[str, Any]) -> OutboxMessage:
    return OutboxMessage(**{name: row[name] for name in OUTBOX_COLUMNS})


class MemoryOutboxStore:
    def __init__(self, source: list[Any] | None = None) -> None:
        self.source: list[Any] = source if source is not None else []
        self._rows: dict[str, dict[str, Any]] = {}
        self._seen = 0
        self._lock = threading.Lock()

    def add(self, envelope: EventEnvelope | dict[str, Any], entry_seq: int | None = None) -> None:
        with self._lock:
            self.source.append((entry_seq, envelope))

    def _sync(self) -> None:
        while self._seen < len(self.source):
            item = self.source[self._seen]
            if isinstance(item, dict) and "envelope" in item:
                row = item  # a row dict the ledger owns: share it, don't copy
                as_row(row)  # validate
                row.setdefault("status", "pending")
                row.setdefault("attempts", 0)
                for name in OUTBOX_COLUMNS:
                    row.setdefault(name, None)
                row["status"] = row["status"] or "pending"
                row["attempts"] = int(row["attempts"] or 0)
            else:
                row = as_row(item)
            self._rows[row["event_id"]] = row
            self._seen += 1

    def claim(
        self,
        worker_id: str,
        *,
        now: datetime,
        limit: int,
        lease_seconds: float,
        event_types: Sequence[str] | None = None,
        skip_tenants: Collection[str] = (),
    ) -> list[OutboxMessage]:
        stamp = isoformat(now)
        until = isoformat(now + timedelta(seconds=lease_seconds))
        with self._lock:
            self._sync()
            ready = [
                r
                for r in self._rows.values()
                if r["status"] == "pending"
                and r["available_at"] <= stamp
                and (r["claimed_until"] is None or r["claimed_until"] < stamp)
                and (not event_types or r["event_type"] in event_types)
                and r["tenant_id"] not in skip_tenants
            ]
            ready.sort(key=lambda r: (r["available_at"], r["entry_seq"] or 0))
            claimed = []
            for row in ready[:limit]:
                row["claimed_by"] = worker_id
                row["claimed_until"] = until
                row["attempts"] += 1
                claimed.append(_message(row))
            return claimed

    def _owned(self, event_id: str, worker_id: str | None) -> dict[str, Any] | None:
        self._sync()
        row = self._rows.get(event_id)
        if row is None or row["status"] != "pending":
            return None
        if worker_id is not None and row["claimed_by"] != worker_id:
            return None
        return row

    def ack(self, event_id: str, worker_id: str) -> bool:
        with self._lock:
            row = self._owned(event_id, worker_id)
            if row is None:
                return False
            row.update(status="done", claimed_by=None, claimed_until=None, last_error=None)
            return True

    def ack_many(self, event_ids: Sequence[str], worker_id: str) -> int:
        done = 0
        with self._lock:
            for event_id in event_ids:
                row = self._owned(event_id, worker_id)
                if row is not None:
                    row.update(status="done", claimed_by=None, claimed_until=None, last_error=None)
                    done += 1
        return done

    def release(self, event_id: str, worker_id: str, *, error: str, available_at: datetime) -> bool:
        with self._lock:
            row = self._owned(event_id, worker_id)
            if row is None:
                return False
            row.update(
                claimed_by=None,
                claimed_until=None,
                last_error=error[:2000],
                available_at=isoformat(available_at),
            )
            return True

    def bury(self, event_id: str, worker_id: str | None, *, error: str) -> bool:
        with self._lock:
            row = self._owned(event_id, worker_id)
            if row is None:
                return False
            row.update(status="dead", claimed_by=None, claimed_until=None, last_error=error[:2000])
            return True

    def get(self, event_id: str) -> OutboxMessage | None:
        with self._lock:
            self._sync()
            row = self._rows.get(event_id)
            return _message(row) if row else None

    def list(self, status: str, *, limit: int = 100) -> list[OutboxMessage]:
        with self._lock:
            self._sync()
            rows = [r for r in self._rows.values() if r["status"] == status]
            rows.sort(key=lambda r: (r["created_at"] or "", r["event_id"]))
            return [_message(r) for r in rows[:limit]]

    def _dead(self, event_id: str) -> dict[str, Any] | None:
        self._sync()
        row = self._rows.get(event_id)
        return row if row is not None and row["status"] == "dead" else None

    def requeue(self, event_id: str, *, now: datetime) -> bool:
        with self._lock:
            row = self._dead(event_id)
            if row is None:
                return False
            row.update(
                status="pending",
                attempts=0,
                available_at=isoformat(now),
                claimed_by=None,
                claimed_until=None,
            )
            return True

    def discard(self, event_id: str) -> bool:
        with self._lock:
            row = self._dead(event_id)
            if row is None:
                return False
            row.update(
                status="done",
                last_error="discarded from the dead-letter queue: " + (row["last_error"] or ""),
            )
            return True

    def counts(self) -> dict[str, int]:
        with self._lock:
            self._sync()
            counts = {"pending": 0, "done": 0, "dead": 0}
            for row in self._rows.values():
                counts[row["status"]] = counts.get(row["status"], 0) + 1
            return counts
