"""The in-memory contauth store (tests, a kernel on the memory ledger)."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from paygod.contauth.model import FeatureRecord, SessionTrust, StoredModel
from paygod.decisions.ports import DuplicateKey
from paygod.kernel.errors import Conflict


class MemoryContauthStore:
    def __init__(self) -> None:
        self._sessions: dict[str, SessionTrust] = {}
        self._features: list[FeatureRecord] = []
        self._models: dict[tuple[str, str, int], StoredModel] = {}
        self._lock = threading.Lock()

    def open(self, session: SessionTrust) -> None:
        with self._lock:
            self._sessions.setdefault(session.session_id, session)

    def get(self, session_id: str) -> SessionTrust | None:
        return self._sessions.get(session_id)

    def save(self, conn: Any, session: SessionTrust, *, expected: SessionTrust) -> None:
        with self._lock:
            current = self._sessions.get(session.session_id)
            if current is None or (current.events, current.updated_at) != (
                expected.events,
                expected.updated_at,
            ):
                raise Conflict("the session's trust moved meanwhile; send the batch again")
            self._sessions[session.session_id] = session

    def sessions(self, tenant_id: str, principal_id: str) -> list[SessionTrust]:
        found = [
            s
            for s in self._sessions.values()
            if s.tenant_id == tenant_id and s.principal_id == principal_id
        ]
        return sorted(found, key=lambda s: s.expires_at, reverse=True)

    def add_features(self, conn: Any, records: Sequence[FeatureRecord]) -> None:
        with self._lock:
            self._features.extend(records)

    def features(self, tenant_id: str, kind: str) -> list[FeatureRecord]:
        return [f for f in self._features if f.tenant_id == tenant_id and f.kind == kind]

    def purge(self, now: datetime) -> int:
        with self._lock:
            kept = [f for f in self._features if f.delete_after > now]
            purged = len(self._features) - len(kept)
            self._features = kept
        return purged

    def put_model(self, conn: Any, model: StoredModel) -> None:
        key = (model.tenant_id, model.principal_id, model.version)
        with self._lock:
            if key in self._models:
                raise DuplicateKey(f"contauth model {key}")
            self._models[key] = model

    def model(
        self, tenant_id: str, principal_id: str, version: int | None = None
    ) -> StoredModel | None:
        versions = self.versions(tenant_id, principal_id)
        if not versions:
            return None
        return self._models.get((tenant_id, principal_id, version or versions[-1]))

    def versions(self, tenant_id: str, principal_id: str) -> list[int]:
        return sorted(v for t, p, v in self._models if t == tenant_id and p == principal_id)
