"""Identity's tables on SQLite or PostgreSQL: tenants, principals and API keys.

The secret-bearing and append-only tables (signing keys, TOTP, consents, access log) are in
`records_sql.py`; `SqlIdentityStore` is both. A taken unique key becomes `DuplicateKey`
in `stores/sql.py::unique`, once.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from paygod.identity.model import ApiKey, Principal, PrincipalKind, Role, Tenant
from paygod.identity.stores.records_sql import SqlRecords, opt_time
from paygod.identity.stores.sql import Row, SqlRunner, Transaction, unique
from paygod.kernel.clock import isoformat, parse_instant
from paygod.kernel.database import Database

_PRINCIPAL_COLUMNS = (
    "principal_id, tenant_id, kind, name, roles, created_at, disabled, external_id, created_by"
)
_KEY_COLUMNS = (
    "key_id, prefix, principal_id, tenant_id, scopes, created_at, expires_at, revoked_at,"
    " last_used_at, rotated_from"
)
_KEY_WIDTH = 10
_JOINED_KEY_COLUMNS = ", ".join("k." + c.strip() for c in _KEY_COLUMNS.split(","))
_JOINED_PRINCIPAL_COLUMNS = ", ".join("p." + c.strip() for c in _PRINCIPAL_COLUMNS.split(","))
# revoked_at in the future is a rotation's grace: brought forward, never pushed back.
_END_KEY = (
    "UPDATE identity_api_keys SET revoked_at = ? WHERE key_id = ?"
    " AND (revoked_at IS NULL OR revoked_at > ?)"
)


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
        created_by=row[8],
    )


def _key(row: Row) -> ApiKey:
    return ApiKey(
        key_id=row[0],
        prefix=row[1],
        principal_id=row[2],
        tenant_id=row[3],
        scopes=tuple(json.loads(row[4])),
        created_at=parse_instant(row[5]),
        expires_at=opt_time(row[6]),
        revoked_at=opt_time(row[7]),
        last_used_at=opt_time(row[8]),
        rotated_from=row[9],
    )


def _filtered(select: str, order: str, **equal: Any) -> tuple[str, list[Any]]:
    """`select` narrowed to the rows whose columns equal each value given (None: any)."""
    wanted = {column: value for column, value in equal.items() if value is not None}
    where = "".join(f" AND {column} = ?" for column in wanted)
    return f"{select} WHERE 1 = 1{where} ORDER BY {order}", list(wanted.values())


def _roles(roles: frozenset[Role]) -> str:
    return json.dumps(sorted(r.value for r in roles))


class SqlIdentityStore(SqlRecords):
    """Thin: one statement, one round trip; transactions only where two writes must agree."""

    def __init__(self, db: Database) -> None:
        super().__init__(SqlRunner(db))

    def _on(self, conn: Any) -> SqlRunner | Transaction:
        """Statements on the ledger's write transaction `conn`, or on their own (None)."""
        return self.sql if conn is None else Transaction(conn, sqlite=self.sql.sqlite)

    # -- tenants -------------------------------------------------------------------------
    def add_tenant(self, conn: Any, tenant: Tenant) -> None:
        with unique(f"tenant {tenant.tenant_id!r}"):
            self._on(conn).run(
                "INSERT INTO identity_tenants (tenant_id, name, created_at) VALUES (?, ?, ?)",
                (tenant.tenant_id, tenant.name, isoformat(tenant.created_at)),
            )

    def get_tenant(self, tenant_id: str) -> Tenant | None:
        row = self.sql.one(
            "SELECT tenant_id, name, created_at FROM identity_tenants WHERE tenant_id = ?",
            (tenant_id,),
        )
        return Tenant(row[0], row[1], parse_instant(row[2])) if row else None

    def tenants(self) -> list[Tenant]:
        rows = self.sql.all(
            "SELECT tenant_id, name, created_at FROM identity_tenants ORDER BY tenant_id"
        )
        return [Tenant(r[0], r[1], parse_instant(r[2])) for r in rows]

    # -- principals ----------------------------------------------------------------------
    def add_principal(self, conn: Any, principal: Principal) -> None:
        with unique(f"principal {principal.name!r} in tenant {principal.tenant_id}"):
            self._on(conn).run(
                f"INSERT INTO identity_principals ({_PRINCIPAL_COLUMNS})"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    principal.principal_id,
                    principal.tenant_id,
                    principal.kind.value,
                    principal.name,
                    _roles(principal.roles),
                    isoformat(principal.created_at),
                    1 if principal.disabled else 0,
                    principal.external_id,
                    principal.created_by,
                ),
            )

    def get_principal(self, principal_id: str) -> Principal | None:
        row = self.sql.one(
            f"SELECT {_PRINCIPAL_COLUMNS} FROM identity_principals WHERE principal_id = ?",
            (principal_id,),
        )
        return _principal(row) if row else None

    def principals(
        self, tenant_id: str | None = None, kind: PrincipalKind | None = None
    ) -> list[Principal]:
        sql, params = _filtered(
            f"SELECT {_PRINCIPAL_COLUMNS} FROM identity_principals",
            "principal_id",
            tenant_id=tenant_id,
            kind=kind and kind.value,
        )
        return [_principal(r) for r in self.sql.all(sql, params)]

    def principals_with_external_id(self, external_id: str) -> list[Principal]:
        rows = self.sql.all(
            f"SELECT {_PRINCIPAL_COLUMNS} FROM identity_principals WHERE external_id = ?"
            " ORDER BY tenant_id",
            (external_id,),
        )
        return [_principal(r) for r in rows]

    def _updated_principal(
        self, conn: Any, sql: str, params: tuple[Any, ...], principal_id: str
    ) -> Principal | None:
        """Update, then read the row back on the same transaction: the state sealed."""
        on = self._on(conn)
        on.run(sql, params)
        row = on.one(
            f"SELECT {_PRINCIPAL_COLUMNS} FROM identity_principals WHERE principal_id = ?",
            (principal_id,),
        )
        return _principal(row) if row else None

    def set_roles(self, conn: Any, principal_id: str, roles: frozenset[Role]) -> Principal | None:
        return self._updated_principal(
            conn,
            "UPDATE identity_principals SET roles = ? WHERE principal_id = ?",
            (_roles(roles), principal_id),
            principal_id,
        )

    def set_disabled(self, conn: Any, principal_id: str, disabled: bool) -> Principal | None:
        return self._updated_principal(
            conn,
            "UPDATE identity_principals SET disabled = ? WHERE principal_id = ?",
            (1 if disabled else 0, principal_id),
            principal_id,
        )

    def has_principals(self) -> bool:
        return self.sql.one("SELECT 1 FROM identity_principals LIMIT 1") is not None

    # -- API keys ------------------------------------------------------------------------
    def add_key(self, conn: Any, key: ApiKey, secret_hash: str) -> None:
        with unique(f"API key {key.key_id}"):
            self._on(conn).run(
                "INSERT INTO identity_api_keys (key_id, prefix, principal_id, tenant_id,"
                " secret_hash, scopes, created_at, expires_at, revoked_at, last_used_at,"
                " rotated_from) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    key.key_id,
                    key.prefix,
                    key.principal_id,
                    key.tenant_id,
                    secret_hash,
                    json.dumps(list(key.scopes)),
                    isoformat(key.created_at),
                    _opt_text(key.expires_at),
                    _opt_text(key.revoked_at),
                    _opt_text(key.last_used_at),
                    key.rotated_from,
                ),
            )

    def get_key(self, key_id: str) -> ApiKey | None:
        row = self.sql.one(
            f"SELECT {_KEY_COLUMNS} FROM identity_api_keys WHERE key_id = ?", (key_id,)
        )
        return _key(row) if row else None

    def api_keys(
        self, *, principal_id: str | None = None, tenant_id: str | None = None
    ) -> list[ApiKey]:
        sql, params = _filtered(
            f"SELECT {_KEY_COLUMNS} FROM identity_api_keys",
            "key_id",
            principal_id=principal_id,
            tenant_id=tenant_id,
        )
        return [_key(r) for r in self.sql.all(sql, params)]

    def key_by_prefix(self, prefix: str) -> tuple[ApiKey, str, Principal] | None:
        row = self.sql.one(
            f"SELECT {_JOINED_KEY_COLUMNS}, k.secret_hash, {_JOINED_PRINCIPAL_COLUMNS}"
            " FROM identity_api_keys k JOIN identity_principals p"
            " ON p.principal_id = k.principal_id WHERE k.prefix = ?",
            (prefix,),
        )
        if row is None:
            return None
        return _key(row[:_KEY_WIDTH]), str(row[_KEY_WIDTH]), _principal(row[_KEY_WIDTH + 1 :])

    def end_key(self, conn: Any, key_id: str, at: datetime) -> ApiKey | None:
        if conn is None:
            with self.sql.transaction() as tx:
                return _end_key(tx, key_id, isoformat(at))
        return _end_key(self._on(conn), key_id, isoformat(at))

    def end_key_chain(self, conn: Any, key_id: str, at: datetime) -> list[ApiKey]:
        if conn is None:
            with self.sql.transaction() as tx:
                return _end_chain(tx, key_id, isoformat(at))
        return _end_chain(self._on(conn), key_id, isoformat(at))

    def touch_key(self, key_id: str, at: datetime) -> None:
        self.sql.run(
            "UPDATE identity_api_keys SET last_used_at = ? WHERE key_id = ?",
            (isoformat(at), key_id),
        )


def _end_key(on: SqlRunner | Transaction, key_id: str, ends: str) -> ApiKey | None:
    """The key after the change, or None when this call changed nothing."""
    if on.run(_END_KEY, (ends, key_id, ends)) != 1:
        return None
    row = on.one(f"SELECT {_KEY_COLUMNS} FROM identity_api_keys WHERE key_id = ?", (key_id,))
    return _key(row) if row else None


def _end_chain(on: SqlRunner | Transaction, key_id: str, ends: str) -> list[ApiKey]:
    changed: list[ApiKey] = []
    seen: set[str] = set()
    following: str | None = key_id
    while following is not None and following not in seen:
        seen.add(following)
        ended = _end_key(on, following, ends)
        if ended is not None:
            changed.append(ended)
        row = on.one("SELECT rotated_from FROM identity_api_keys WHERE key_id = ?", (following,))
        following = row[0] if row else None
    return changed


def _opt_text(value: datetime | None) -> str | None:
    return isoformat(value) if value else None
