"""The port contauth owns: sessions' trust, derived features and model artefacts.

Writes that accompany a ledger entry (`save`, `add_features`, `put_model`) take the ledger's
write transaction `conn`, so the row and the entry sealing it commit together or not at all.
`put_model` raises `paygod.decisions.ports.DuplicateKey` for a version already taken.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol

from paygod.contauth.model import FeatureRecord, SessionTrust, StoredModel


class ContauthStore(Protocol):
    def open(self, session: SessionTrust) -> None: ...

    def get(self, session_id: str) -> SessionTrust | None: ...

    def save(self, conn: Any, session: SessionTrust, *, expected: SessionTrust) -> None:
        """Write `session` if the stored one is still `expected` (what the caller read: its
        event count and its last update), else raise `paygod.kernel.errors.Conflict`: two
        processes scoring the same session at once never lose one's update, even when a
        batch adds no scored event."""
        ...

    def sessions(self, tenant_id: str, principal_id: str) -> list[SessionTrust]: ...

    def add_features(self, conn: Any, records: Sequence[FeatureRecord]) -> None: ...

    def features(self, tenant_id: str, kind: str) -> list[FeatureRecord]: ...

    def purge(self, now: datetime) -> int: ...

    def put_model(self, conn: Any, model: StoredModel) -> None: ...

    def model(
        self, tenant_id: str, principal_id: str, version: int | None = None
    ) -> StoredModel | None: ...

    def versions(self, tenant_id: str, principal_id: str) -> list[int]: ...
