"""In-process stores: mandates, principal keys and request nonces (tests, no database)."""

from __future__ import annotations

import threading
from typing import Any

from paygod.mandates.model import Mandate, PrincipalKey


class MemoryMandateStore:
    def __init__(self) -> None:
        self._rows: dict[str, Mandate] = {}

    def save(self, conn: Any, mandate: Mandate) -> None:
        self._rows[mandate.mandate_id] = mandate

    def get(self, mandate_id: str) -> Mandate | None:
        return self._rows.get(mandate_id)

    def get_in(self, conn: Any, mandate_id: str) -> Mandate | None:
        return self._rows.get(mandate_id)

    def list(self, tenant_id: str | None, grantee: str | None = None) -> list[Mandate]:
        found = [
            m
            for m in self._rows.values()
            if (tenant_id is None or m.tenant_id == tenant_id)
            and (grantee is None or m.grantee == grantee)
        ]
        return sorted(found, key=lambda m: (m.granted_at, m.mandate_id))


class MemoryKeyStore:
    def __init__(self) -> None:
        self._rows: dict[tuple[str, str], PrincipalKey] = {}

    def add(self, conn: Any, key: PrincipalKey) -> bool:
        return self._rows.setdefault((key.tenant_id, key.key_id), key) is key

    def get(self, tenant_id: str, key_id: str) -> PrincipalKey | None:
        return self._rows.get((tenant_id, key_id))

    def of_principal(self, tenant_id: str, principal_id: str) -> list[PrincipalKey]:
        return [
            k
            for k in self._rows.values()
            if k.tenant_id == tenant_id and k.principal_id == principal_id
        ]

    def by_thumbprint(self, tenant_id: str, thumbprint: str) -> list[PrincipalKey]:
        return [
            k
            for k in self._rows.values()
            if k.tenant_id == tenant_id and k.thumbprint == thumbprint
        ]


class MemoryNonceStore:
    def __init__(self) -> None:
        self._held: dict[tuple[str, str], int] = {}
        self._lock = threading.Lock()

    def claim(self, scope: str, nonce: str, expires_at: int, now: int) -> bool:
        with self._lock:
            if len(self._held) > 10_000:
                self._held = {k: t for k, t in self._held.items() if t > now}
            held = self._held.get((scope, nonce))
            if held is not None and held > now:
                return False
            self._held[(scope, nonce)] = expires_at
            return True
