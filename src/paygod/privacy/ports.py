"""Ports the privacy module owns: the vault (subject keys and sealed records) and the
register (legal holds, retention policies, the exports made).

Writes take the ledger's transaction handle (`conn`), so a shredded key, a hold or a policy
commits with the ledger entry that records it, or not at all.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, Protocol

from paygod.privacy.model import (
    DataClass,
    ExportRecord,
    LegalHold,
    RetentionPolicy,
    SubjectKey,
    VaultRecord,
)


class VaultStore(Protocol):
    def key(self, tenant_id: str, subject: str, conn: Any = None) -> SubjectKey | None: ...
    def add_key(self, conn: Any, key: SubjectKey) -> None:
        """Insert `key` unless the subject already has one (the first writer's key stays)."""

    def shred(self, conn: Any, tenant_id: str, subject: str, at: str, by: str) -> None:
        """Destroy the subject's wrapped key; keep when and by whom."""

    def add_record(self, conn: Any, record: VaultRecord) -> None: ...
    def record(self, tenant_id: str, record_id: str) -> VaultRecord | None: ...
    def records(self, tenant_id: str, subject: str) -> list[VaultRecord]: ...
    def stale_subjects(self, tenant_id: str, before: str) -> list[str]:
        """Subjects with a live key whose newest record was written before `before`."""

    def forget(self) -> None:
        """Make a shredded key's old bytes unreachable in the files themselves (SQLite: the
        WAL checkpointed and truncated; secure_delete zeroes freed cells)."""


class PrivacyRegister(Protocol):
    def hold(self, tenant_id: str, subject: str) -> LegalHold | None: ...
    def holds(self, tenant_id: str) -> list[LegalHold]: ...
    def put_hold(self, conn: Any, hold: LegalHold) -> None: ...
    def drop_hold(self, conn: Any, tenant_id: str, subject: str) -> bool: ...
    def put_policy(self, conn: Any, policy: RetentionPolicy) -> None: ...
    def policies(self, tenant_id: str) -> list[RetentionPolicy]: ...
    def policy_tenants(self) -> list[str]: ...
    def add_export(self, conn: Any, export: ExportRecord) -> None: ...
    def exports(self, tenant_id: str, subject: str) -> list[ExportRecord]: ...
    def drop_exports(self, conn: Any, tenant_id: str, before: str) -> int: ...


# What other modules lend the vault: a subject's consent history, and deleting a
# tenant's access-log rows older than an instant (identity owns both).
ConsentHistory = Callable[[str, str], list[dict[str, Any]]]
AccessLogPurge = Callable[[str, datetime], int]

__all__ = ["AccessLogPurge", "ConsentHistory", "DataClass", "PrivacyRegister", "VaultStore"]
