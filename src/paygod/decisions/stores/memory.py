"""The decision index in memory (tests, the memory ledger)."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from paygod.decisions.ports import DecisionQuery, DuplicateKey, IndexRow

COUNTED = ("allow", "flag")


class MemoryDecisionIndex:
    def __init__(self) -> None:
        self._rows: dict[str, IndexRow] = {}
        self._keys: dict[tuple[str, str], str] = {}
        self._by_subject: dict[tuple[str, str], list[str]] = {}
        self._lock = threading.Lock()

    def record(self, conn: Any, row: IndexRow) -> None:
        with self._lock:
            if row.idempotency_key is not None:
                key = (row.tenant_id, row.idempotency_key)
                if key in self._keys:
                    raise DuplicateKey(row.idempotency_key)
                self._keys[key] = row.decision_id
            self._rows[row.decision_id] = row
            self._by_subject.setdefault((row.tenant_id, row.subject), []).append(row.decision_id)

    def set_seq(self, decision_id: str, seq: int) -> None:
        with self._lock:
            row = self._rows.get(decision_id)
            if row is not None:
                self._rows[decision_id] = replace(row, seq=seq)

    def by_key(self, tenant_id: str, key: str) -> IndexRow | None:
        decision_id = self._keys.get((tenant_id, key))
        return self._rows.get(decision_id) if decision_id else None

    def by_id(self, decision_id: str) -> IndexRow | None:
        return self._rows.get(decision_id)

    def window(self, tenant_id: str, subject: str, since: str, until: str) -> tuple[int, int]:
        count = total = 0
        for decision_id in list(self._by_subject.get((tenant_id, subject), ())):
            row = self._rows[decision_id]
            if row.verdict in COUNTED and since <= row.decided_at <= until:
                count += 1
                total += max(row.amount_minor or 0, 0)  # see SqlDecisionIndex.window
        return count, total

    def windows_in(
        self, conn: Any, tenant_id: str, subject: str, sinces: Sequence[str]
    ) -> list[tuple[int, int]]:
        # The memory ledger's single writer thread runs every work function in turn.
        with self._lock:
            rows = [self._rows[i] for i in self._by_subject.get((tenant_id, subject), ())]
        found = []
        for since in sinces:
            counted = [r for r in rows if r.verdict in COUNTED and r.decided_at >= since]
            found.append((len(counted), sum(max(r.amount_minor or 0, 0) for r in counted)))
        return found

    def search(self, query: DecisionQuery) -> list[IndexRow]:
        with self._lock:
            rows = list(self._rows.values())
        wanted = [
            r
            for r in rows
            if query.tenant_id in (None, r.tenant_id)
            and query.owner in (None, r.requested_by)
            and query.subject in (None, r.subject)
            and query.verdict in (None, r.verdict)
            and query.pack in (None, r.pack)
            and (query.since is None or r.decided_at >= query.since)
            and (query.until is None or r.decided_at <= query.until)
        ]
        wanted.sort(key=lambda r: (r.decided_at, r.decision_id), reverse=True)
        return wanted[: query.limit]

    def per_minute(self, tenant_id: str | None, since: str) -> list[tuple[str, str, int]]:
        counts: dict[tuple[str, str], int] = {}
        for row in self.search(DecisionQuery(tenant_id=tenant_id, since=since, limit=10**9)):
            key = (row.decided_at[:16], row.verdict)
            counts[key] = counts.get(key, 0) + 1
        return [(m, v, c) for (m, v), c in counts.items()]
