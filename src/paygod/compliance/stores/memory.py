"""In-memory sanctions and KYC stores (tests, the memory ledger)."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from dataclasses import replace
from typing import Any

from paygod.compliance.model import KycStatus, ListEntry, ScreeningQuery, Snapshot


class MemorySanctionsStore:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._snapshots: dict[str, Snapshot] = {}
        self._entries: dict[str, list[ListEntry]] = {}
        self._subjects: dict[tuple[str, str], ScreeningQuery] = {}
        self._thresholds: dict[str, float] = {}

    def save_snapshot(self, conn: Any, snapshot: Snapshot, entries: Sequence[ListEntry]) -> None:
        with self._lock:
            for key, old in list(self._snapshots.items()):
                if old.tenant_id == snapshot.tenant_id and old.list == snapshot.list and old.active:
                    self._snapshots[key] = replace(old, active=False)
            self._snapshots[snapshot.snapshot_id] = replace(snapshot, active=True)
            self._entries[snapshot.snapshot_id] = list(entries)

    def active_snapshots(self, tenant_id: str) -> list[Snapshot]:
        with self._lock:
            found = [s for s in self._snapshots.values() if s.tenant_id == tenant_id and s.active]
        return sorted(found, key=lambda s: s.list)

    def snapshots(self, tenant_id: str, list_name: str | None = None) -> list[Snapshot]:
        with self._lock:
            found = [
                s
                for s in self._snapshots.values()
                if s.tenant_id == tenant_id and (list_name is None or s.list == list_name)
            ]
        return sorted(found, key=lambda s: (s.list, s.version))

    def snapshot(self, tenant_id: str, snapshot_id: str) -> Snapshot | None:
        with self._lock:
            found = self._snapshots.get(snapshot_id)
        return found if found is not None and found.tenant_id == tenant_id else None

    def entries(self, snapshot_id: str) -> list[ListEntry]:
        with self._lock:
            return list(self._entries.get(snapshot_id, []))

    def next_version(self, tenant_id: str, list_name: str) -> int:
        return 1 + max((s.version for s in self.snapshots(tenant_id, list_name)), default=0)

    def remember_subject(
        self, conn: Any, tenant_id: str, subject: str, query: ScreeningQuery
    ) -> None:
        with self._lock:
            self._subjects[(tenant_id, subject)] = query

    def subjects(self, tenant_id: str) -> Iterator[tuple[str, ScreeningQuery]]:
        with self._lock:
            rows = [(s, q) for (t, s), q in self._subjects.items() if t == tenant_id]
        yield from sorted(rows, key=lambda r: r[0])

    def threshold(self, tenant_id: str) -> float | None:
        with self._lock:
            return self._thresholds.get(tenant_id)

    def set_threshold(self, conn: Any, tenant_id: str, value: float) -> None:
        with self._lock:
            self._thresholds[tenant_id] = value


class MemoryKycStore:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rows: dict[tuple[str, str], KycStatus] = {}

    def put(self, conn: Any, status: KycStatus) -> None:
        with self._lock:
            self._rows[(status.tenant_id, status.subject)] = status

    def get(self, tenant_id: str, subject: str) -> KycStatus | None:
        with self._lock:
            return self._rows.get((tenant_id, subject))

    def by_reference(self, provider: str, reference: str) -> KycStatus | None:
        with self._lock:
            return next(
                (
                    s
                    for s in self._rows.values()
                    if (s.provider, s.reference) == (provider, reference)
                ),
                None,
            )
