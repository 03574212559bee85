"""The ports the identity module owns: where its tenants, principals, keys and records live.

Adapters: `stores/memory.py` (dicts, for tests) and `stores/sql.py` (SQLite, PostgreSQL).
Every method takes and returns the records of `model.py`. A taken unique key raises
`DuplicateKey`, translated once inside each adapter; the services decide what it means.
Lists come back in a stated order, so every adapter answers the same.

A write that the ledger seals (a tenant, a principal, an API key, a consent) takes `conn`:
the ledger's write transaction, so the row and its entry commit or roll back together
(None: on its own, as the memory store always does). Its update methods return the
object's state after the change, read in that same transaction, which is what is sealed.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from paygod.identity.model import (
    AccessRecord,
    ApiKey,
    ConsentRecord,
    EnrolmentToken,
    Principal,
    PrincipalKind,
    Role,
    SigningKey,
    Tenant,
    TotpFactor,
)
from paygod.kernel.errors import Conflict


class DuplicateKey(Conflict):
    """A unique key is taken: an id, or a principal's name or external id in its tenant.

    A `Conflict` (same problem type and exit code as before), so one that a service lets
    through still reaches the caller as a 409."""


class TenantStore(Protocol):
    def add_tenant(self, conn: Any, tenant: Tenant) -> None:
        """Raises `DuplicateKey` when the tenant id is taken."""

    def get_tenant(self, tenant_id: str) -> Tenant | None: ...

    def tenants(self) -> list[Tenant]:
        """Every tenant, by tenant id."""


class PrincipalStore(Protocol):
    def add_principal(self, conn: Any, principal: Principal) -> None:
        """Raises `DuplicateKey` when the principal id, or the (tenant, name) or
        (tenant, external id) pair, is taken."""

    def get_principal(self, principal_id: str) -> Principal | None: ...

    def principals(
        self, tenant_id: str | None = None, kind: PrincipalKind | None = None
    ) -> list[Principal]:
        """By principal id; `None` filters nothing."""

    def principals_with_external_id(self, external_id: str) -> list[Principal]:
        """Every tenant's principal with this external id, by tenant id."""

    def set_roles(self, conn: Any, principal_id: str, roles: frozenset[Role]) -> Principal | None:
        """The principal after the change (None: no such principal)."""

    def set_disabled(self, conn: Any, principal_id: str, disabled: bool) -> Principal | None:
        """The principal after the change (None: no such principal)."""

    def has_principals(self) -> bool: ...


class ApiKeyStore(Protocol):
    def add_key(self, conn: Any, key: ApiKey, secret_hash: str) -> None:
        """Raises `DuplicateKey` when the key id or its prefix is taken."""

    def get_key(self, key_id: str) -> ApiKey | None: ...

    def api_keys(
        self, *, principal_id: str | None = None, tenant_id: str | None = None
    ) -> list[ApiKey]:
        """By key id; `None` filters nothing."""

    def key_by_prefix(self, prefix: str) -> tuple[ApiKey, str, Principal] | None:
        """The key with this public prefix, its secret's hash and its principal: one round
        trip, as it runs on every request."""

    def end_key(self, conn: Any, key_id: str, at: datetime) -> ApiKey | None:
        """The key ends at `at` (revoked_at), unless it already ends no later. The key
        after the change; None when this call changed nothing (no such key, or it already
        ends no later)."""

    def end_key_chain(self, conn: Any, key_id: str, at: datetime) -> list[ApiKey]:
        """`end_key` for the key and every key it replaced (following `rotated_from`), in one
        transaction: revoking a successor must not leave a compromised predecessor alive on
        its rotation grace. The keys this call changed, after the change, in chain order."""

    def touch_key(self, key_id: str, at: datetime) -> None:
        """Records `at` as the key's last use."""


class SigningKeyStore(Protocol):
    def add_signing_key(self, key: SigningKey) -> None:
        """Raises `DuplicateKey` when the key id is taken."""

    def newest_signing_key(self) -> SigningKey | None:
        """The latest by creation time (then key id): the one every process signs with."""

    def signing_keys(self) -> list[SigningKey]: ...

    def replace_signing_pem(self, key_id: str, old: str, new: str) -> bool:
        """Compare-and-set: true when the stored PEM was `old` and is now `new`."""


class TotpStore(Protocol):
    """Factors and enrolment tokens. The conditional writes return whether this call won:
    they are what makes a code or a token single-use across processes."""

    def get_factor(self, principal_id: str) -> TotpFactor | None: ...

    def factors(self) -> list[TotpFactor]: ...

    def replace_factor_secret(self, principal_id: str, old: str, new: str) -> bool:
        """Compare-and-set of the sealed secret."""

    def put_factor(self, factor: TotpFactor) -> None:
        """Replaces the principal's factor (one transaction)."""

    def confirm_factor(self, principal_id: str, counter: int) -> bool:
        """Marks an unconfirmed factor confirmed at `counter`; false if already confirmed."""

    def claim_counter(self, principal_id: str, counter: int) -> bool:
        """Accepts `counter` only above the last accepted one (a code is used once)."""

    def start_enrolment(self, token: EnrolmentToken) -> None:
        """In one transaction: delete the principal's factor, void its unused tokens (used
        at `token.created_at`) and store `token`."""

    def redeem_enrolment(self, token_hash: str, principal_id: str, at: datetime) -> bool:
        """Marks an unused, unexpired token of this principal used; false otherwise."""

    def newest_enrolment(self, principal_id: str) -> EnrolmentToken | None: ...


class ConsentStore(Protocol):
    def add_consent(self, conn: Any, record: ConsentRecord) -> None:
        """On `conn`, the ledger's write transaction sealing it (None: on its own)."""

    def consent_history(self, tenant_id: str, subject: str) -> list[ConsentRecord]:
        """The subject's records in this tenant, by recorded_at then consent id."""


class AccessLogStore(Protocol):
    def add_access(self, record: AccessRecord) -> None: ...

    def accesses_since(
        self, since: datetime, *, tenant_id: str | None = None, limit: int = 1000
    ) -> list[AccessRecord]:
        """Records at or after `since`, by occurred_at then event id, at most `limit`."""

    def delete_accesses_before(self, tenant_id: str, before: datetime) -> int:
        """Delete the tenant's records older than `before`; how many went."""


class IdentityStore(
    TenantStore,
    PrincipalStore,
    ApiKeyStore,
    SigningKeyStore,
    TotpStore,
    ConsentStore,
    AccessLogStore,
    Protocol,
):
    """Everything identity keeps: one adapter serves every port (the tables share a
    database, and a memory world shares a lock)."""
