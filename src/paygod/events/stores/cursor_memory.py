"""The relay cursor beside the memory ledger store's outbox list (tests, in-memory runs)."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import orjson

from paygod.events.model import RelayCursor, RelayEvent
from paygod.kernel.clock import isoformat


class MemoryRelayCursorStore:
    def __init__(self, outbox: list[dict[str, Any]]) -> None:
        self.outbox = outbox  # the memory ledger store's rows, shared, appended to by it
        self._cursors: dict[str, RelayCursor] = {}
        self._lock = threading.Lock()

    def acquire(
        self, name: str, holder: str, *, now: datetime, lease_seconds: float
    ) -> RelayCursor | None:
        with self._lock:
            cursor = self._cursors.get(name) or RelayCursor(name=name)
            free = (
                cursor.holder is None
                or cursor.holder == holder
                or cursor.lease_until is None
                or cursor.lease_until < isoformat(now)
            )
            if not free:
                return None
            cursor = replace(
                cursor, holder=holder, lease_until=isoformat(now + timedelta(seconds=lease_seconds))
            )
            self._cursors[name] = cursor
            return cursor

    def pending(self, after: tuple[int, str], *, limit: int) -> list[RelayEvent]:
        rows = sorted(
            (r for r in list(self.outbox) if (r["entry_seq"], r["event_id"]) > after),
            key=lambda r: (r["entry_seq"], r["event_id"]),
        )
        return [
            RelayEvent(
                event_id=r["event_id"],
                entry_seq=r["entry_seq"],
                event_type=r["event_type"],
                tenant_id=r["tenant_id"],
                body=orjson.dumps(r["envelope"]),
            )
            for r in rows[:limit]
        ]

    def advance(
        self,
        name: str,
        holder: str,
        to: tuple[int, str],
        count: int,
        *,
        now: datetime,
        lease_seconds: float,
    ) -> bool:
        with self._lock:
            cursor = self._cursors.get(name)
            if cursor is None or cursor.holder != holder:
                return False
            self._cursors[name] = replace(
                cursor,
                last_seq=to[0],
                last_event_id=to[1],
                published=cursor.published + count,
                lease_until=isoformat(now + timedelta(seconds=lease_seconds)),
                updated_at=isoformat(now),
            )
            return True

    def release(self, name: str, holder: str) -> None:
        with self._lock:
            cursor = self._cursors.get(name)
            if cursor is not None and cursor.holder == holder:
                self._cursors[name] = replace(cursor, holder=None, lease_until=None)

    def get(self, name: str) -> RelayCursor | None:
        return self._cursors.get(name)

    def lag(self, after: tuple[int, str]) -> int:
        return sum(1 for r in list(self.outbox) if (r["entry_seq"], r["event_id"]) > after)
