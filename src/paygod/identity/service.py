"""Tenants, principals and API keys: the identity service over the SQL store."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from paygod.identity import entries, keys
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
from paygod.identity.ports import DuplicateKey, IdentityStore
from paygod.identity.ratelimit import RateLimiter
from paygod.identity.sealing import SecretBox
from paygod.identity.settings import IdentitySettings
from paygod.identity.stores.ratelimit_memory import MemoryRateLimiter
from paygod.identity.tokens import SESSION_ISSUER, OidcVerifier, SessionTokens, unverified_issuer
from paygod.kernel.clock import Clock
from paygod.kernel.database import Database, write_refusal
from paygod.kernel.errors import Conflict, FieldError, InvalidInput, NotFound, Unauthorized
from paygod.kernel.record_ids import new_id

# last_used_at is a hint for humans, not an audit trail: writing it on every request
# would turn each authenticated read into a write.
LAST_USED_GRANULARITY = timedelta(seconds=60)
R = TypeVar("R")


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
        db: Database | None,
        clock: Clock,
        *,
        store: IdentityStore | None = None,
        settings: IdentitySettings | None = None,
        limiter: RateLimiter | None = None,
        ledger: Callable[[], Any] | None = None,
        box: SecretBox | None = None,
    ) -> None:
        """`box` seals the signing key and TOTP secrets at rest; without one (tests) a key
        that lives as long as this service is used. `store`: where identity keeps its
        records (default: the tables of `db`; a `MemoryIdentityStore` in tests)."""
        self.store = store or _sql_store(db)
        self.clock = clock
        # The LedgerService once wired (None before, and in tests without a ledger), looked
        # up late as consent does: every change of a tenant, principal or key is sealed.
        self._ledger = ledger or (lambda: None)
        self.settings = settings or IdentitySettings()
        self.limiter: RateLimiter = limiter or MemoryRateLimiter()
        box = box or SecretBox.ephemeral()
        self.sessions = SessionTokens(self.store, clock, self.settings, box)
        self.oidc = OidcVerifier(self.settings, clock) if self.settings.oidc_issuer else None
        self.totp = TotpService(self.store, clock, box, self.settings)
        self.consent = ConsentRegistry(self.store, clock, ledger)
        self.audit = AccessAudit(self.store, clock, ledger)
        # Hooks of modules above identity (contauth): told of each session issued, and
        # asked on each use of a session token (raising Unauthorized ends it everywhere).
        self.session_opened: list[Callable[[Principal, str, datetime], None]] = []
        self.session_checks: list[Callable[[str], None]] = []

    def _sealed(self, write: Callable[[Any], R], drafts: Callable[[R], list[Any]]) -> R:
        """`write(conn)` and the entries `drafts(result)` in ONE ledger transaction: a
        refused entry leaves no row, a refused row no entry. Without a ledger, the row only."""
        ledger = self._ledger()
        if ledger is None:
            return write(None)

        def work(conn: Any) -> tuple[R, list[Any]]:
            result = write(conn)
            return result, drafts(result)

        result, _ = ledger.transact(work)
        return result  # type: ignore[no-any-return]

    def seal_unsealed(self) -> int:
        """Seal the tenants, principals and keys that have no ledger entry yet (written
        before identity was sealed), so a rebuild of the identity projection or a restore
        keeps them. Run at every start; a handful of indexed reads once all are sealed."""
        ledger = self._ledger()
        if ledger is None:
            return 0
        now = self.clock.now()
        drafts: list[Any] = []
        for tenant in self.store.tenants():
            if ledger.latest(f"tenant:{tenant.tenant_id}", entries.TENANT) is None:
                drafts.append(entries.tenant_entry(tenant, "adopted", None, now))
        for principal in self.store.principals():
            if ledger.latest(f"principal:{principal.principal_id}", entries.PRINCIPAL) is None:
                drafts.append(entries.principal_entry(principal, "adopted", None, now))
        for key in self.store.api_keys():
            if ledger.latest(f"api-key:{key.key_id}", entries.API_KEY) is None:
                found = self.store.key_by_prefix(key.prefix)
                verifier = found[1] if found is not None else None
                drafts.append(entries.key_entry(key, "adopted", None, now, verifier))
        if drafts:
            ledger.append_many(drafts)
        return len(drafts)

    def seal_secrets_at_rest(self) -> int:
        """Seal signing keys and TOTP secrets a store kept in plain text (written before they
        were sealed); run at every start, a no-op once done."""
        return self.sessions.seal_plaintext_rows() + self.totp.seal_plaintext_rows()

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
            return self._authenticate_session(token)
        if self.oidc is not None and issuer == self.oidc.issuer:
            claims = self.oidc.verify(token)
            tenant = claims.get(self.settings.oidc_tenant_claim)
            principal = self.resolve_external_id(
                f"oidc:{claims['sub']}", tenant if isinstance(tenant, str) else None
            )
            return Authenticated(principal, "oidc", claims=claims)
        raise Unauthorized("unrecognised bearer token")

    def _authenticate_session(self, token: str) -> Authenticated:
        """A session is worth no more than the credential it came from, checked on every use:
        the key behind it must still be active (revoked, expired or past its rotation grace
        ends the session), and its scopes travel in the token."""
        claims = self.sessions.verify(token)
        principal = self.get_principal(str(claims["sub"]))
        if principal is None or principal.disabled:
            raise Unauthorized("no active principal for this token")
        key_id = claims.get("key")
        if key_id is not None:
            key = self.get_key(str(key_id))
            if key is None or key.principal_id != principal.principal_id:
                raise Unauthorized("session from an unknown API key")
            if not key.active(self.clock.now()):
                raise Unauthorized("the API key behind this session was revoked or expired")
        scopes = claims.get("scp", [])
        if not isinstance(scopes, list) or not all(isinstance(s, str) for s in scopes):
            raise Unauthorized("invalid session token: scp")
        for check in self.session_checks:
            check(str(claims.get("jti")))
        return Authenticated(
            principal, "session", tuple(scopes), key_id=key_id and str(key_id), claims=claims
        )

    def issue_session(self, auth: Authenticated) -> dict[str, Any]:
        """A session JWT for this caller, capped by the credential it presents: the same
        scopes, the same key (checked on every use), and an absolute expiry no later than the
        key's expiry or rotation grace, the OIDC token's, or the presented session's (a
        session minted from a session keeps the original's end: sessions never renew)."""
        now = self.clock.now()
        ends = now + timedelta(seconds=self.settings.session_ttl_seconds)
        if auth.method == "session" or auth.method == "oidc":
            ends = min(ends, datetime.fromtimestamp(float(auth.claims["exp"]), tz=UTC))
        if auth.key_id is not None:
            key = self.key(auth.key_id)
            for limit in (key.expires_at, key.revoked_at):
                if limit is not None:
                    ends = min(ends, limit)
        if ends <= now:
            raise Unauthorized("the presented credential expires now; no session from it")
        issued = self.sessions.issue(auth.principal, ends, scopes=auth.scopes, key_id=auth.key_id)
        for opened in self.session_opened:
            opened(auth.principal, str(issued["session_id"]), ends)
        return issued

    def authenticate_certificate(self, subject: str) -> Authenticated:
        """mTLS: the verified client certificate's subject DN names a principal."""
        return Authenticated(self.resolve_external_id(f"cert:{subject}", None), "mtls")

    def resolve_external_id(self, external_id: str, tenant_id: str | None) -> Principal:
        """The one active principal an external identity names. External ids are unique per
        tenant, not across tenants: when the credential names no tenant and two tenants
        registered the same id, the identity is ambiguous and refused (it must never land
        in whichever tenant claimed it first)."""
        found = [p for p in self.by_external_id(external_id) if tenant_id in (None, p.tenant_id)]
        if len(found) > 1:
            raise Unauthorized(
                f"{external_id.split(':', 1)[0]} identity registered in several tenants;"
                " it names no tenant, so it is refused"
            )
        if not found or found[0].disabled:
            raise Unauthorized("no active principal for this identity")
        return found[0]

    # -- tenants -------------------------------------------------------------------------
    def create_tenant(
        self, tenant_id: str, name: str | None = None, *, actor: str | None = None
    ) -> Tenant:
        tenant = Tenant(tenant_id, name or tenant_id, self.clock.now())
        try:
            self._sealed(
                lambda conn: self.store.add_tenant(conn, tenant),
                lambda _: [entries.tenant_entry(tenant, "created", actor, tenant.created_at)],
            )
        except DuplicateKey:
            raise Conflict(f"tenant {tenant_id!r} already exists") from None
        return tenant

    def ensure_tenant(self, tenant_id: str) -> None:
        if tenant_id == ALL_TENANTS or self.get_tenant(tenant_id) is not None:
            return
        with contextlib.suppress(Conflict):  # another request created it meanwhile
            self.create_tenant(tenant_id)

    def get_tenant(self, tenant_id: str) -> Tenant | None:
        return self.store.get_tenant(tenant_id)

    def list_tenants(self) -> list[Tenant]:
        return self.store.tenants()

    # -- principals ----------------------------------------------------------------------
    def create_principal(
        self,
        tenant_id: str,
        name: str,
        kind: PrincipalKind,
        roles: Iterable[Role],
        *,
        external_id: str | None = None,
        created_by: str | None = None,
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
            created_by=created_by,
        )
        try:
            self._sealed(
                lambda conn: self.store.add_principal(conn, principal),
                lambda _: [
                    entries.principal_entry(principal, "created", created_by, principal.created_at)
                ],
            )
        except DuplicateKey:
            raise self._duplicate(tenant_id, name, external_id) from None
        return principal

    def _duplicate(self, tenant_id: str, name: str, external_id: str | None) -> Conflict:
        """Which of the tenant's unique fields clashed: only this tenant's principals are
        looked at, so the answer says nothing about other tenants."""
        if any(p.name == name for p in self.list_principals(tenant_id)):
            return Conflict(
                f"a principal named {name!r} already exists in tenant {tenant_id}",
                errors=[FieldError("/name", "already used in this tenant")],
            )
        return Conflict(
            f"external_id {external_id!r} is already used in tenant {tenant_id}",
            errors=[FieldError("/external_id", "already used in this tenant")],
        )

    def get_principal(self, principal_id: str) -> Principal | None:
        return self.store.get_principal(principal_id)

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

    def by_external_id(self, external_id: str) -> list[Principal]:
        """Every tenant's principal with this external id (unique per tenant)."""
        return self.store.principals_with_external_id(external_id)

    def list_principals(
        self, tenant_id: str | None = None, kind: PrincipalKind | None = None
    ) -> list[Principal]:
        return self.store.principals(_tenant_filter(tenant_id), kind)

    def set_roles(
        self, principal_id: str, roles: Iterable[Role], *, actor: str | None = None
    ) -> Principal:
        current = self.principal(principal_id)
        roles = frozenset(roles)
        if Role.PLATFORM_ADMIN in roles and current.tenant_id != ALL_TENANTS:
            raise InvalidInput(
                "platform_admin principals live in tenant '*'",
                errors=[FieldError("/roles", "platform_admin needs tenant_id '*'")],
            )
        return self._changed(
            lambda conn: self.store.set_roles(conn, principal_id, roles), "roles", actor
        )

    def set_disabled(
        self, principal_id: str, disabled: bool, *, actor: str | None = None
    ) -> Principal:
        self.principal(principal_id)
        change = "disabled" if disabled else "enabled"
        return self._changed(
            lambda conn: self.store.set_disabled(conn, principal_id, disabled), change, actor
        )

    def _changed(
        self, write: Callable[[Any], Principal | None], change: str, actor: str | None
    ) -> Principal:
        """A principal updated and its state after the change sealed, in one transaction."""
        at = self.clock.now()
        updated = self._sealed(
            write,
            lambda p: [] if p is None else [entries.principal_entry(p, change, actor, at)],
        )
        if updated is None:  # deleted meanwhile: principals are never deleted, but say so
            raise NotFound("no such principal")
        return updated

    def has_principals(self) -> bool:
        return self.store.has_principals()

    # -- API keys ------------------------------------------------------------------------
    def issue_key(
        self,
        principal_id: str,
        *,
        scopes: Sequence[str] = (),
        expires_at: datetime | None = None,
        rotated_from: str | None = None,
        actor: str | None = None,
    ) -> IssuedKey:
        principal = self.principal(principal_id)
        scopes = check_scopes(scopes)
        now = self.clock.now()
        if expires_at is not None and expires_at <= now:
            raise InvalidInput(
                "expiry must be in the future", errors=[FieldError("/expires_at", "in the past")]
            )
        key, issued = self._new_key(principal, scopes, now, expires_at, rotated_from)
        self._sealed(
            lambda conn: self.store.add_key(conn, key, issued[1]),
            lambda _: [entries.key_entry(key, "issued", actor, now, issued[1])],
        )
        return IssuedKey(key, issued[0])

    def _new_key(
        self,
        principal: Principal,
        scopes: tuple[str, ...],
        now: datetime,
        expires_at: datetime | None,
        rotated_from: str | None,
    ) -> tuple[ApiKey, tuple[str, str]]:
        """The key record and (token, secret_hash): the token is shown once, never stored."""
        token, prefix, secret_hash = keys.new_token()
        key = ApiKey(
            key_id=new_id(),
            prefix=prefix,
            principal_id=principal.principal_id,
            tenant_id=principal.tenant_id,
            scopes=scopes,
            created_at=now,
            expires_at=expires_at,
            rotated_from=rotated_from,
        )
        return key, (token, secret_hash)

    def get_key(self, key_id: str) -> ApiKey | None:
        return self.store.get_key(key_id)

    def key(self, key_id: str) -> ApiKey:
        found = self.get_key(key_id)
        if found is None:
            raise NotFound(f"no API key {key_id}")
        return found

    def list_keys(
        self, *, principal_id: str | None = None, tenant_id: str | None = None
    ) -> list[ApiKey]:
        return self.store.api_keys(principal_id=principal_id, tenant_id=_tenant_filter(tenant_id))

    def revoke_key(self, key_id: str, *, actor: str | None = None) -> ApiKey:
        """Ends the key now, and every key it replaced that still lives on a rotation's grace
        (revoking the successor of a compromised key must not leave the compromised one
        working until its grace runs out). A key already dead keeps its revocation time."""
        self.key(key_id)  # NotFound for an unknown key
        now = self.clock.now()
        self._sealed(
            lambda conn: self.store.end_key_chain(conn, key_id, now),
            lambda ended: [entries.key_entry(k, "revoked", actor, now) for k in ended],
        )
        return self.key(key_id)

    def rotate_key(
        self, key_id: str, *, grace_seconds: int = 0, actor: str | None = None
    ) -> IssuedKey:
        """A new key with the same scopes; the old one dies now (or after a short grace).
        The new key and the old one's end are one transaction: both sealed, or neither."""
        old = self.key(key_id)
        principal = self.principal(old.principal_id)
        now = self.clock.now()
        if not old.active(now):
            raise Conflict("only an active key can be rotated")
        key, issued = self._new_key(principal, old.scopes, now, old.expires_at, key_id)
        ends = now + timedelta(seconds=grace_seconds)

        def write(conn: Any) -> ApiKey | None:
            self.store.add_key(conn, key, issued[1])
            # A grace never extends an earlier end (a key rotated twice keeps the first).
            return self.store.end_key(conn, key_id, ends)

        def drafts(ended: ApiKey | None) -> list[Any]:
            new = entries.key_entry(key, "issued", actor, now, issued[1])
            return (
                [new] if ended is None else [new, entries.key_entry(ended, "rotated", actor, now)]
            )

        self._sealed(write, drafts)
        return IssuedKey(key, issued[0])

    def authenticate_key(self, token: str) -> Authenticated:
        """Check a presented key against the store, every request: revocation is immediate."""
        parts = keys.split_token(token)
        if parts is None:
            raise Unauthorized("malformed API key")
        prefix, secret = parts
        # One round trip: the key, its hash and its principal (hot path of every request).
        found = self.store.key_by_prefix(prefix)
        if found is None or not keys.secret_matches(secret, found[1]):
            raise Unauthorized("invalid API key")
        key, _, principal = found
        now = self.clock.now()
        if not key.active(now):
            raise Unauthorized("API key revoked or expired")
        if principal.disabled:
            raise Unauthorized("principal disabled")
        if key.last_used_at is None or now - key.last_used_at >= LAST_USED_GRANULARITY:
            try:
                self.store.touch_key(key.key_id, now)
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
        """`paygod init`: the tenant and its first human admin, with a one-time key. Other
        tenants' principals (or a dev key) do not matter: only an admin of this tenant."""
        if tenant_id == ALL_TENANTS:
            raise InvalidInput(
                "'*' is the platform tenant; name a tenant",
                errors=[FieldError("--tenant", "reserved")],
            )
        admins = [
            p for p in self.list_principals(tenant_id) if Role.ADMIN in p.roles and not p.disabled
        ]
        if admins and not force:
            raise Conflict(
                f"tenant {tenant_id} already has an admin ({admins[0].name});"
                " use --force to add another"
            )
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


def _tenant_filter(tenant_id: str | None) -> str | None:
    """Platform admins' tenant `*` lists every tenant."""
    return None if tenant_id == ALL_TENANTS else tenant_id


def _sql_store(db: Database | None) -> IdentityStore:
    if db is None:
        raise ValueError("IdentityService needs a database or a store")
    from paygod.identity.stores.identity_sql import SqlIdentityStore

    return SqlIdentityStore(db)
