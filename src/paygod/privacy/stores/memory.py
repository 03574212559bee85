"""The vault and register in memory (tests, and the reference for the SQL adapter)."""

from __future__ import annotations

import threading
from dataclasses import replace
from typing import Any

from paygod.privacy.model import (
    DataClass,
    ExportRecord,
    LegalHold,
    RetentionPolicy,
    SubjectKey,
    VaultRecord,
)


class MemoryVault:
    """Implements both `VaultStore` and `PrivacyRegister`."""

    def __init__(self) -> None:
        self._keys: dict[tuple[str, str], SubjectKey] = {}
        self._records: dict[str, VaultRecord] = {}
        self._holds: dict[tuple[str, str], LegalHold] = {}
        self._policies: dict[tuple[str, DataClass], RetentionPolicy] = {}
        self._exports: dict[str, ExportRecord] = {}
        self._lock = threading.Lock()

    # -- vault ----------------------------------------------------------------------------

    def key(self, tenant_id: str, subject: str, conn: Any = None) -> SubjectKey | None:
        return self._keys.get((tenant_id, subject))

    def add_key(self, conn: Any, key: SubjectKey) -> None:
        with self._lock:
            self._keys.setdefault((key.tenant_id, key.subject), key)

    def shred(self, conn: Any, tenant_id: str, subject: str, at: str, by: str) -> None:
        with self._lock:
            key = self._keys[(tenant_id, subject)]
            self._keys[(tenant_id, subject)] = replace(
                key, wrapped=None, erased_at=at, erased_by=by
            )

    def add_record(self, conn: Any, record: VaultRecord) -> None:
        with self._lock:
            self._records[record.record_id] = record

    def record(self, tenant_id: str, record_id: str) -> VaultRecord | None:
        found = self._records.get(record_id)
        return found if found is not None and found.tenant_id == tenant_id else None

    def records(self, tenant_id: str, subject: str) -> list[VaultRecord]:
        found = [
            r for r in self._records.values() if (r.tenant_id, r.subject) == (tenant_id, subject)
        ]
        return sorted(found, key=lambda r: (r.created_at, r.record_id))

    def stale_subjects(self, tenant_id: str, before: str) -> list[str]:
        newest: dict[str, str] = {}
        for r in self._records.values():
            if r.tenant_id == tenant_id:
                newest[r.subject] = max(newest.get(r.subject, ""), r.created_at)
        return sorted(
            s for s, at in newest.items() if at < before and not self._keys[(tenant_id, s)].erased
        )

    def forget(self) -> None:
        return None

    # -- register -------------------------------------------------------------------------

    def hold(self, tenant_id: str, subject: str) -> LegalHold | None:
        return self._holds.get((tenant_id, subject))

    def holds(self, tenant_id: str) -> list[LegalHold]:
        return sorted(
            (h for h in self._holds.values() if h.tenant_id == tenant_id), key=lambda h: h.subject
        )

    def put_hold(self, conn: Any, hold: LegalHold) -> None:
        with self._lock:
            self._holds[(hold.tenant_id, hold.subject)] = hold

    def drop_hold(self, conn: Any, tenant_id: str, subject: str) -> bool:
        with self._lock:
            return self._holds.pop((tenant_id, subject), None) is not None

    def put_policy(self, conn: Any, policy: RetentionPolicy) -> None:
        with self._lock:
            self._policies[(policy.tenant_id, policy.data_class)] = policy

    def policies(self, tenant_id: str) -> list[RetentionPolicy]:
        found = [p for p in self._policies.values() if p.tenant_id == tenant_id]
        return sorted(found, key=lambda p: p.data_class.value)

    def policy_tenants(self) -> list[str]:
        return sorted({t for t, _ in self._policies})

    def add_export(self, conn: Any, export: ExportRecord) -> None:
        with self._lock:
            self._exports[export.export_id] = export

    def exports(self, tenant_id: str, subject: str) -> list[ExportRecord]:
        found = [
            e for e in self._exports.values() if (e.tenant_id, e.subject) == (tenant_id, subject)
        ]
        return sorted(found, key=lambda e: (e.created_at, e.export_id))

    def drop_exports(self, conn: Any, tenant_id: str, before: str) -> int:
        with self._lock:
            gone = [
                k
                for k, e in self._exports.items()
                if e.tenant_id == tenant_id and e.created_at < before
            ]
            for k in gone:
                del self._exports[k]
            return len(gone)
