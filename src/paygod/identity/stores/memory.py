"""Every identity port in dicts, for tests: the same uniqueness, filters and orders as the
tables, under one lock (the conditional writes must stay single-winner across threads)."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import datetime
from typing import Any

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
from paygod.identity.ports import DuplicateKey


class MemoryIdentityStore:
    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._tenants: dict[str, Tenant] = {}
        self._principals: dict[str, Principal] = {}
        self._keys: dict[str, tuple[ApiKey, str]] = {}
        self._signing: dict[str, SigningKey] = {}
        self._factors: dict[str, TotpFactor] = {}
        self._enrolments: dict[str, EnrolmentToken] = {}
        self._consents: dict[str, ConsentRecord] = {}
        self._accesses: dict[str, AccessRecord] = {}

    # -- tenants -------------------------------------------------------------------------
    # `conn` (the ledger's transaction in the SQL store) is ignored: dicts have none.
    def add_tenant(self, conn: Any, tenant: Tenant) -> None:
        with self._lock:
            if tenant.tenant_id in self._tenants:
                raise DuplicateKey(f"tenant {tenant.tenant_id!r} already exists")
            self._tenants[tenant.tenant_id] = tenant

    def get_tenant(self, tenant_id: str) -> Tenant | None:
        return self._tenants.get(tenant_id)

    def tenants(self) -> list[Tenant]:
        with self._lock:
            return sorted(self._tenants.values(), key=lambda t: t.tenant_id)

    # -- principals ----------------------------------------------------------------------
    def add_principal(self, conn: Any, principal: Principal) -> None:
        with self._lock:
            for other in self._principals.values():
                if other.principal_id == principal.principal_id or (
                    other.tenant_id == principal.tenant_id
                    and (
                        other.name == principal.name
                        or (
                            principal.external_id is not None
                            and other.external_id == principal.external_id
                        )
                    )
                ):
                    raise DuplicateKey(
                        f"principal {principal.name!r} in tenant {principal.tenant_id}"
                        " already exists"
                    )
            self._principals[principal.principal_id] = principal

    def get_principal(self, principal_id: str) -> Principal | None:
        return self._principals.get(principal_id)

    def principals(
        self, tenant_id: str | None = None, kind: PrincipalKind | None = None
    ) -> list[Principal]:
        with self._lock:
            found = [
                p
                for p in self._principals.values()
                if tenant_id in (None, p.tenant_id) and kind in (None, p.kind)
            ]
        return sorted(found, key=lambda p: p.principal_id)

    def principals_with_external_id(self, external_id: str) -> list[Principal]:
        with self._lock:
            found = [p for p in self._principals.values() if p.external_id == external_id]
        return sorted(found, key=lambda p: p.tenant_id)

    def _update_principal(self, principal_id: str, **changes: Any) -> Principal | None:
        with self._lock:
            found = self._principals.get(principal_id)
            if found is None:
                return None
            self._principals[principal_id] = replace(found, **changes)
            return self._principals[principal_id]

    def set_roles(self, conn: Any, principal_id: str, roles: frozenset[Role]) -> Principal | None:
        return self._update_principal(principal_id, roles=frozenset(roles))

    def set_disabled(self, conn: Any, principal_id: str, disabled: bool) -> Principal | None:
        return self._update_principal(principal_id, disabled=disabled)

    def has_principals(self) -> bool:
        return bool(self._principals)

    # -- API keys ------------------------------------------------------------------------
    def add_key(self, conn: Any, key: ApiKey, secret_hash: str) -> None:
        with self._lock:
            if key.key_id in self._keys or any(
                k.prefix == key.prefix for k, _ in self._keys.values()
            ):
                raise DuplicateKey(f"API key {key.key_id} already exists")
            self._keys[key.key_id] = (key, secret_hash)

    def get_key(self, key_id: str) -> ApiKey | None:
        found = self._keys.get(key_id)
        return found[0] if found else None

    def api_keys(
        self, *, principal_id: str | None = None, tenant_id: str | None = None
    ) -> list[ApiKey]:
        with self._lock:
            found = [
                k
                for k, _ in self._keys.values()
                if principal_id in (None, k.principal_id) and tenant_id in (None, k.tenant_id)
            ]
        return sorted(found, key=lambda k: k.key_id)

    def key_by_prefix(self, prefix: str) -> tuple[ApiKey, str, Principal] | None:
        with self._lock:
            for key, secret_hash in self._keys.values():
                principal = self._principals.get(key.principal_id)
                if key.prefix == prefix and principal is not None:
                    return key, secret_hash, principal
        return None

    def end_key(self, conn: Any, key_id: str, at: datetime) -> ApiKey | None:
        with self._lock:
            found = self._keys.get(key_id)
            if found is None:
                return None
            key, secret_hash = found
            if key.revoked_at is not None and key.revoked_at <= at:
                return None
            ended = replace(key, revoked_at=at)
            self._keys[key_id] = (ended, secret_hash)
            return ended

    def end_key_chain(self, conn: Any, key_id: str, at: datetime) -> list[ApiKey]:
        changed: list[ApiKey] = []
        with self._lock:
            following: str | None = key_id
            seen: set[str] = set()
            while following is not None and following not in seen:
                seen.add(following)
                ended = self.end_key(conn, following, at)
                if ended is not None:
                    changed.append(ended)
                key = self.get_key(following)
                following = key.rotated_from if key else None
        return changed

    def touch_key(self, key_id: str, at: datetime) -> None:
        with self._lock:
            found = self._keys.get(key_id)
            if found is not None:
                self._keys[key_id] = (replace(found[0], last_used_at=at), found[1])

    # -- session signing keys ------------------------------------------------------------
    def add_signing_key(self, key: SigningKey) -> None:
        with self._lock:
            if key.key_id in self._signing:
                raise DuplicateKey(f"signing key {key.key_id} already exists")
            self._signing[key.key_id] = key

    def newest_signing_key(self) -> SigningKey | None:
        with self._lock:
            keys = list(self._signing.values())
        return max(keys, key=lambda k: (k.created_at, k.key_id), default=None)

    def signing_keys(self) -> list[SigningKey]:
        with self._lock:
            return sorted(self._signing.values(), key=lambda k: k.key_id)

    def replace_signing_pem(self, key_id: str, old: str, new: str) -> bool:
        with self._lock:
            found = self._signing.get(key_id)
            if found is None or found.private_pem != old:
                return False
            self._signing[key_id] = replace(found, private_pem=new)
            return True

    # -- TOTP ----------------------------------------------------------------------------
    def get_factor(self, principal_id: str) -> TotpFactor | None:
        return self._factors.get(principal_id)

    def factors(self) -> list[TotpFactor]:
        with self._lock:
            return sorted(self._factors.values(), key=lambda f: f.principal_id)

    def replace_factor_secret(self, principal_id: str, old: str, new: str) -> bool:
        with self._lock:
            found = self._factors.get(principal_id)
            if found is None or found.secret != old:
                return False
            self._factors[principal_id] = replace(found, secret=new)
            return True

    def put_factor(self, factor: TotpFactor) -> None:
        with self._lock:
            self._factors[factor.principal_id] = factor

    def confirm_factor(self, principal_id: str, counter: int) -> bool:
        with self._lock:
            found = self._factors.get(principal_id)
            if found is None or found.confirmed:
                return False
            self._factors[principal_id] = replace(found, confirmed=True, last_counter=counter)
            return True

    def claim_counter(self, principal_id: str, counter: int) -> bool:
        with self._lock:
            found = self._factors.get(principal_id)
            if found is None or (found.last_counter is not None and found.last_counter >= counter):
                return False
            self._factors[principal_id] = replace(found, last_counter=counter)
            return True

    def start_enrolment(self, token: EnrolmentToken) -> None:
        with self._lock:
            if token.token_hash in self._enrolments:
                raise DuplicateKey("enrolment token already exists")
            self._factors.pop(token.principal_id, None)
            for key, other in self._enrolments.items():
                if other.principal_id == token.principal_id and other.used_at is None:
                    self._enrolments[key] = replace(other, used_at=token.created_at)
            self._enrolments[token.token_hash] = token

    def redeem_enrolment(self, token_hash: str, principal_id: str, at: datetime) -> bool:
        with self._lock:
            found = self._enrolments.get(token_hash)
            if (
                found is None
                or found.principal_id != principal_id
                or found.used_at is not None
                or found.expires_at <= at
            ):
                return False
            self._enrolments[token_hash] = replace(found, used_at=at)
            return True

    def newest_enrolment(self, principal_id: str) -> EnrolmentToken | None:
        with self._lock:
            mine = [t for t in self._enrolments.values() if t.principal_id == principal_id]
        return max(mine, key=lambda t: t.created_at, default=None)

    # -- consents ------------------------------------------------------------------------
    def add_consent(self, conn: Any, record: ConsentRecord) -> None:
        with self._lock:
            if record.consent_id in self._consents:
                raise DuplicateKey(f"consent {record.consent_id} already exists")
            self._consents[record.consent_id] = record

    def consent_history(self, tenant_id: str, subject: str) -> list[ConsentRecord]:
        with self._lock:
            found = [
                c
                for c in self._consents.values()
                if (c.tenant_id, c.subject) == (tenant_id, subject)
            ]
        return sorted(found, key=lambda c: (c.recorded_at, c.consent_id))

    # -- access log ----------------------------------------------------------------------
    def add_access(self, record: AccessRecord) -> None:
        with self._lock:
            if record.event_id in self._accesses:
                raise DuplicateKey(f"access record {record.event_id} already exists")
            self._accesses[record.event_id] = record

    def delete_accesses_before(self, tenant_id: str, before: datetime) -> int:
        with self._lock:
            gone = [
                key
                for key, a in self._accesses.items()
                if a.tenant_id == tenant_id and a.occurred_at < before
            ]
            for key in gone:
                del self._accesses[key]
        return len(gone)

    def accesses_since(
        self, since: datetime, *, tenant_id: str | None = None, limit: int = 1000
    ) -> list[AccessRecord]:
        with self._lock:
            found = [
                a
                for a in self._accesses.values()
                if a.occurred_at >= since and tenant_id in (None, a.tenant_id)
            ]
        return sorted(found, key=lambda a: (a.occurred_at, a.event_id))[:limit]
