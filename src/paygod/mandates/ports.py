"""The mandates module's ports: where mandates and principal keys are indexed (the ledger
is their record; these tables are folded from it in the same transaction), and where the
nonces of signed agent requests are claimed."""

from __future__ import annotations

from typing import Any, Protocol

from paygod.mandates.httpsig import NonceStore
from paygod.mandates.model import Mandate, PrincipalKey

__all__ = ["KeyStore", "MandateStore", "NonceStore"]


class MandateStore(Protocol):
    def save(self, conn: Any, mandate: Mandate) -> None: ...

    def get(self, mandate_id: str) -> Mandate | None: ...

    def get_in(self, conn: Any, mandate_id: str) -> Mandate | None:
        """Read inside the ledger's write transaction (a revocation committed before this
        transaction began is seen)."""
        ...

    def list(self, tenant_id: str | None, grantee: str | None = None) -> list[Mandate]: ...


class KeyStore(Protocol):
    def add(self, conn: Any, key: PrincipalKey) -> bool:
        """False if the tenant already has a key with this key_id."""
        ...

    def get(self, tenant_id: str, key_id: str) -> PrincipalKey | None: ...

    def of_principal(self, tenant_id: str, principal_id: str) -> list[PrincipalKey]: ...

    def by_thumbprint(self, tenant_id: str, thumbprint: str) -> list[PrincipalKey]:
        """The keys with this RFC 7638 thumbprint (an AP2 holder's `cnf.jwk`)."""
        ...
