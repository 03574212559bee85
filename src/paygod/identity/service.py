"""Tenants, principals and API keys: the identity service over the SQL store."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from paygod.identity import keys
from paygod.identity.audit import AccessAudit
from paygod.identity.consent import ConsentRegistry
from paygod.identity.mfa import TotpService
from paygod.identity.model import (
    ALL_TENANTS,
    ApiKey,
    Authenticated,
    IssuedKey,
    Principal,
    PrincipalKind,
    Role,
    Tenant,
)
from paygod.identity.permissions import PERMISSIONS
from paygod.identity.ratelimit import RateLimiter
from paygod.identity.settings import IdentitySettings
from paygod.identity.stores.ratelimit_memory import MemoryRateLimiter
from paygod.identity.stores.sql import Row, SqlRunner, is_unique_violation
from paygod.identity.tokens import SESSION_ISSUER, OidcVerifier, SessionTokens, unverified_issuer
from paygod.kernel.clock import Clock, isoformat, parse_instant
from paygod.kernel.database import Database, write_refusal
from paygod.kernel.errors import Conflict, FieldError, InvalidInput, NotFound, Unauthorized
from paygod.kernel.ids import new_id

# last_used_at is a hint for humans, not an audit trail: writing it on every request
# would turn each authenticated read into a write.
LAST_USED_GRANULARITY = timedelta(seconds=60)

_PRINCIPAL_COLUMNS = "principal_id, tenant_id, kind, name, roles, created_at, disabled, external_id"
_KEY_COLUMNS = (
    "key_id, prefix, principal_id, tenant_id, scopes, created_at, expires_at, revoked_at,"
    " last_used_at"
)


_JOINED_KEY_COLUMNS = ", ".join("k." + c.strip() for c in _KEY_COLUMNS.split(","))
_JOINED_PRINCIPAL_COLUMNS = ", ".join("p." + c.strip() for c in _PRINCIPAL_COLUMNS.split(","))


def _opt_time(value: Any) -> datetime | None:
    return parse_instant(value) if value else None


def _principal(row: Row) -> Principal:
    return Principal(
        principal_id=row[0],
        tenant_id=row[1],
        kind=PrincipalKind(row[2]),
        name=row[3],
        roles=frozenset(Role(r) for r in json.loads(row[4])),
        created_at=parse_instant(row[5]),
        disabled=bool(row[6]),
        external_id=row[7],
    )


def _key(row: Row) -> ApiKey:
    return ApiKey(
        key_id=row[0],
        prefix=row[1],
        principal_id=row[2],
        tenant_id=row[3],
        scopes=tuple(json.loads(row[4])),
        created_at=parse_instant(row[5]),
        expires_at=_opt_time(row[6]),
        revoked_at=_opt_time(row[7]),
        last_used_at=_opt_time(row[8]),
    )


def parse_roles(values: Iterable[str]) -> frozenset[Role]:
    roles = set()
    for i, value in enumerate(values):
        try:
            roles.add(Role(value))
        except ValueError:
            allowed = ", ".join(r.value for r in Role)
            raise InvalidInput(
                f"unknown role {value!r}",
                errors=[FieldError(f"/roles/{i}", f"must be one of {allowed}")],
            ) from None
    return frozenset(roles)


def check_scopes(scopes: Sequence[str]) -> tuple[str, ...]:
    families = {p.split(":", 1)[0] for p in PERMISSIONS}
    for i, scope in enumerate(scopes):
        if scope == "*" or scope in PERMISSIONS:
            continue
        if scope.endswith(":*") and scope[:-2] in families:
            continue
        raise InvalidInput(
            f"unknown scope {scope!r}",
            errors=[FieldError(f"/scopes/{i}", "must be a permission like ledger:read")],
        )
    return tuple(scopes)


class IdentityService:
    """Principals and keys, plus the identity parts other edges need (tokens, MFA, consent,
    access audit, rate limits), built once by the composition root."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        *,
        settings: IdentitySettings | None = None,
        limiter: RateLimiter | None = None,
        ledger: Callable[[], Any] | None = None,
    ) -> None:
        self.sql = SqlRunner(db)
        self.clock = clock
        self.settings = settings or IdentitySettings()
        self.limiter: RateLimiter = limiter or MemoryRateLimiter()
        self.sessions = SessionTokens(self.sql, clock, self.settings)
        self.oidc = OidcVerifier(self.settings, clock) if self.settings.oidc_issuer else None
        self.totp = TotpService(self.sql, clock)
        self.consent = ConsentRegistry(self.sql, clock, ledger)
        self.audit = AccessAudit(self.sql, clock, ledger)

    def verifies_locally(self, token: str) -> bool:
        """Whether `authenticate_bearer(token)` needs no network call: API keys and Paygod
        session tokens are checked against local state; an OIDC token may need the
        issuer's keys fetched (JWKS), which must not stall an event loop."""
        return keys.looks_like_api_key(token) or unverified_issuer(token) != (
            self.oidc.issuer if self.oidc is not None else None
        )

    def authenticate_bearer(self, token: str) -> Authenticated:
        """An API key, a Paygod session JWT or an OIDC access token, told apart by shape."""
        if keys.looks_like_api_key(token):
            return self.authenticate_key(token)
        issuer = unverified_issuer(token)
        if issuer == SESSION_ISSUER:
            claims = self.sessions.verify(token)
            principal = self.get_principal(str(claims["sub"]))
            method = "session"
        elif self.oidc is not None and issuer == self.oidc.issuer:
            claims = self.oidc.verify(token)
            principal = self.by_external_id(f"oidc:{claims['sub']}")
            method = "oidc"
        else:
            raise Unauthorized("unrecognised bearer token")
        if principal is None or principal.disabled:
            raise Unauthorized("no active principal for this token")
        return Authenticated(principal, method, claims=claims)

    def authenticate_certificate(self, subject: str) -> Authenticated:
        """mTLS: the verified client certificate's subject DN names a principal."""
        principal = self.by_external_id(f"cert:{subject}")
        if principal is None or principal.disabled:
            raise Unauthorized("no active principal for this client certificate")
        return Authenticated(principal, "mtls")

    # -- tenants -------------------------------------------------------------------------
    def create_tenant(self, tenant_id: str, name: str | None = None) -> Tenant:
        tenant = Tenant(tenant_id, name or tenant_id, self.clock.now())
        try:
            self.sql.run(
                "INSERT INTO identity_tenants (tenant_id, name, created_at) VALUES (?, ?, ?)",
                (tenant.tenant_id, tenant.name, isoformat(tenant.created_at)),
            )
        except Exception as exc:
            if is_unique_violation(exc):
                raise Conflict(f"tenant {tenant_id!r} already exists") from None
            raise
        return tenant

    def ensure_tenant(self, tenant_id: str) -> None:
        if tenant_id == ALL_TENANTS or self.get_tenant(tenant_id) is not None:
            return
        with contextlib.suppress(Conflict):  # another request created it meanwhile
            self.create_tenant(tenant_id)

    def get_tenant(self, tenant_id: str) -> Tenant | None:
        row = self.sql.one(
            "SELECT tenant_id, name, created_at FROM identity_tenants WHERE tenant_id = ?",
            (tenant_id,),
        )
        return Tenant(row[0], row[1], parse_instant(row[2])) if row else None

    def list_tenants(self) -> list[Tenant]:
        rows = self.sql.all(
            "SELECT tenant_id, name, created_at FROM identity_tenants ORDER BY tenant_id"
        )
        return [Tenant(r[0], r[1], parse_instant(r[2])) for r in rows]

    # -- principals ----------------------------------------------------------------------
    def create_principal(
        self,
        tenant_id: str,
        name: str,
        kind: PrincipalKind,
        roles: Iterable[Role],
        *,
        external_id: str | None = None,
    ) -> Principal:
        roles = frozenset(roles)
        if Role.PLATFORM_ADMIN in roles and tenant_id != ALL_TENANTS:
            raise InvalidInput(
                "platform_admin principals live in tenant '*'",
                errors=[FieldError("/roles", "platform_admin needs tenant_id '*'")],
            )
        if not name.strip():
            raise InvalidInput("a name is required", errors=[FieldError("/name", "empty")])
        self.ensure_tenant(tenant_id)
        principal = Principal(
            principal_id=new_id(),
            tenant_id=tenant_id,
            kind=kind,
            name=name,
            roles=roles,
            created_at=self.clock.now(),
            external_id=external_id,
        )
        try:
            self.sql.run(
                f"INSERT INTO identity_principals ({_PRINCIPAL_COLUMNS})"
                " VALUES (?, ?, ?, ?, ?, ?, 0, ?)",
                (
                    principal.principal_id,
                    tenant_id,
                    kind.value,
                    name,
                    json.dumps(sorted(r.value for r in roles)),
                    isoformat(principal.created_at),
                    external_id,
                ),
            )
        except Exception as exc:
            if is_unique_violation(exc):
                raise Conflict(f"a principal named {name!r} already exists") from None
            raise
        return principal

    def get_principal(self, principal_id: str) -> Principal | None:
        row = self.sql.one(
            f"SELECT {_PRINCIPAL_COLUMNS} FROM identity_principals WHERE principal_id = ?",
            (principal_id,),
        )
        return _principal(row) if row else None

    def principal(self, principal_id: str) -> Principal:
        found = self.get_principal(principal_id)
        if found is None:
            raise NotFound(f"no principal {principal_id}")
        return found

    def require_member(self, tenant_id: str, principal_id: str, pointer: str) -> Principal:
        """The principal, which must belong to `tenant_id` (an object's owner, say): else bad
        input at `pointer`. An object owned by a stranger would be invisible to its owner."""
        found = self.get_principal(principal_id)
        if found is None or found.tenant_id != tenant_id:
            raise InvalidInput(
                "the owner is not a principal of this tenant; nothing was recorded",
                errors=[FieldError(pointer, f"no principal {principal_id} in tenant {tenant_id}")],
            )
        return found

    def by_external_id(self, external_id: str) -> Principal | None:
        row = self.sql.one(
            f"SELECT {_PRINCIPAL_COLUMNS} FROM identity_principals WHERE external_id = ?",
            (external_id,),
        )
        return _principal(row) if row else None

    def list_principals(
        self, tenant_id: str | None = None, kind: PrincipalKind | None = None
    ) -> list[Principal]:
        sql = f"SELECT {_PRINCIPAL_COLUMNS} FROM identity_principals WHERE 1 = 1"
        params: list[Any] = []
        if tenant_id is not None and tenant_id != ALL_TENANTS:
            sql += " AND tenant_id = ?"
            params.append(tenant_id)
        if kind is not None:
            sql += " AND kind = ?"
            params.append(kind.value)
        return [_principal(r) for r in self.sql.all(sql + " ORDER BY principal_id", params)]

    def set_roles(self, principal_id: str, roles: Iterable[Role]) -> Principal:
        current = self.principal(principal_id)
        roles = frozenset(roles)
        if Role.PLATFORM_ADMIN in roles and current.tenant_id != ALL_TENANTS:
            raise InvalidInput(
                "platform_admin principals live in tenant '*'",
                errors=[FieldError("/roles", "platform_admin needs tenant_id '*'")],
            )
        self.sql.run(
            "UPDATE identity_principals SET roles = ? WHERE principal_id = ?",
            (json.dumps(sorted(r.value for r in roles)), principal_id),
        )
        return self.principal(principal_id)

    def set_disabled(self, principal_id: str, disabled: bool) -> Principal:
        self.principal(principal_id)
        self.sql.run(
            "UPDATE identity_principals SET disabled = ? WHERE principal_id = ?",
            (1 if disabled else 0, principal_id),
        )
        return self.principal(principal_id)

    def has_principals(self) -> bool:
        return self.sql.one("SELECT 1 FROM identity_principals LIMIT 1") is not None

    # -- API keys ------------------------------------------------------------------------
    def issue_key(
        self,
        principal_id: str,
        *,
        scopes: Sequence[str] = (),
        expires_at: datetime | None = None,
    ) -> IssuedKey:
        principal = self.principal(principal_id)
        scopes = check_scopes(scopes)
        now = self.clock.now()
        if expires_at is not None and expires_at <= now:
            raise InvalidInput(
                "expiry must be in the future", errors=[FieldError("/expires_at", "in the past")]
            )
        token, prefix, secret_hash = keys.new_token()
        key = ApiKey(
            key_id=new_id(),
            prefix=prefix,
            principal_id=principal_id,
            tenant_id=principal.tenant_id,
            scopes=scopes,
            created_at=now,
            expires_at=expires_at,
        )
        self.sql.run(
            "INSERT INTO identity_api_keys (key_id, prefix, principal_id, tenant_id, secret_hash,"
            " scopes, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                key.key_id,
                prefix,
                principal_id,
                key.tenant_id,
                secret_hash,
                json.dumps(list(scopes)),
                isoformat(now),
                isoformat(expires_at) if expires_at else None,
            ),
        )
        return IssuedKey(key, token)

    def get_key(self, key_id: str) -> ApiKey | None:
        row = self.sql.one(
            f"SELECT {_KEY_COLUMNS} FROM identity_api_keys WHERE key_id = ?", (key_id,)
        )
        return _key(row) if row else None

    def key(self, key_id: str) -> ApiKey:
        found = self.get_key(key_id)
        if found is None:
            raise NotFound(f"no API key {key_id}")
        return found

    def list_keys(
        self, *, principal_id: str | None = None, tenant_id: str | None = None
    ) -> list[ApiKey]:
        sql = f"SELECT {_KEY_COLUMNS} FROM identity_api_keys WHERE 1 = 1"
        params: list[Any] = []
        if principal_id is not None:
            sql += " AND principal_id = ?"
            params.append(principal_id)
        if tenant_id is not None and tenant_id != ALL_TENANTS:
            sql += " AND tenant_id = ?"
            params.append(tenant_id)
        return [_key(r) for r in self.sql.all(sql + " ORDER BY key_id", params)]

    def revoke_key(self, key_id: str) -> ApiKey:
        self.key(key_id)
        self.sql.run(
            "UPDATE identity_api_keys SET revoked_at = ? WHERE key_id = ? AND revoked_at IS NULL",
            (isoformat(self.clock.now()), key_id),
        )
        return self.key(key_id)

    def rotate_key(self, key_id: str, *, grace_seconds: int = 0) -> IssuedKey:
        """A new key with the same scopes; the old one dies now (or after a short grace)."""
        old = self.key(key_id)
        if not old.active(self.clock.now()):
            raise Conflict("only an active key can be rotated")
        issued = self.issue_key(old.principal_id, scopes=old.scopes, expires_at=old.expires_at)
        ends = self.clock.now() + timedelta(seconds=grace_seconds)
        self.sql.run(
            "UPDATE identity_api_keys SET revoked_at = ? WHERE key_id = ?",
            (isoformat(ends), key_id),
        )
        return issued

    def authenticate_key(self, token: str) -> Authenticated:
        """Check a presented key against the store, every request: revocation is immediate."""
        parts = keys.split_token(token)
        if parts is None:
            raise Unauthorized("malformed API key")
        prefix, secret = parts
        # One round trip: the key, its hash and its principal (hot path of every request).
        row = self.sql.one(
            f"SELECT {_JOINED_KEY_COLUMNS}, k.secret_hash, {_JOINED_PRINCIPAL_COLUMNS}"
            " FROM identity_api_keys k JOIN identity_principals p"
            " ON p.principal_id = k.principal_id WHERE k.prefix = ?",
            (prefix,),
        )
        if row is None or not keys.secret_matches(secret, row[9]):
            raise Unauthorized("invalid API key")
        key = _key(row[:9])
        now = self.clock.now()
        if not key.active(now):
            raise Unauthorized("API key revoked or expired")
        principal = _principal(row[10:])
        if principal.disabled:
            raise Unauthorized("principal disabled")
        if key.last_used_at is None or now - key.last_used_at >= LAST_USED_GRANULARITY:
            try:
                self.sql.run(
                    "UPDATE identity_api_keys SET last_used_at = ? WHERE key_id = ?",
                    (isoformat(now), key.key_id),
                )
            except Exception as exc:
                # A bookkeeping write: a store that refuses writes must not lock anyone out
                # of reading (the ledger is read-only, not the API).
                if write_refusal(exc) is None:
                    raise
        return Authenticated(principal, "api_key", key.scopes, key_id=key.key_id)

    # -- first start ---------------------------------------------------------------------
    def initialize(
        self, tenant_id: str, admin_name: str, *, force: bool = False
    ) -> tuple[Principal, IssuedKey]:
        """`paygod init`: the tenant and its first human admin, with a one-time key."""
        if self.has_principals() and not force:
            raise Conflict("already initialized (principals exist); use --force to add an admin")
        self.ensure_tenant(tenant_id)
        existing = [p for p in self.list_principals(tenant_id) if p.name == admin_name]
        admin = existing[0] if existing else None
        if admin is None:
            admin = self.create_principal(tenant_id, admin_name, PrincipalKind.HUMAN, {Role.ADMIN})
        return admin, self.issue_key(admin.principal_id)

    def dev_key(self) -> IssuedKey | None:
        """On the very first start with no principals: a platform-admin service key for dev."""
        if self.has_principals():
            return None
        try:
            dev = self.create_principal(
                ALL_TENANTS, "dev", PrincipalKind.SERVICE, {Role.PLATFORM_ADMIN}
            )
        except Conflict:
            return None  # another worker won the race
        return self.issue_key(dev.principal_id)
