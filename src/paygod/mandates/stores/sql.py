"""Mandates, principal keys and request nonces in the system of record (SQLite or
PostgreSQL). The mandate and key rows are written in the ledger transaction that seals
them; a nonce is claimed by one INSERT whose primary key is the check, atomic across
processes (an expired claim is taken over by the same statement's update)."""

from __future__ import annotations

from typing import Any

import orjson

from paygod.kernel.database import (
    Database,
    SqliteDatabase,
    SqlStore,
    where_given,
)
from paygod.mandates.model import Mandate, PrincipalKey

PRUNE_EVERY = 256


class _Sql(SqlStore):
    def _write(self, statements: list[tuple[str, tuple[Any, ...]]]) -> list[int]:
        if isinstance(self.db, SqliteDatabase):
            with self.db.write_lock:
                lite = self.db.connection()
                counts = [lite.execute(sql, params).rowcount for sql, params in statements]
                return counts
        with self.db.connection() as pooled:
            return [pooled.execute(sql, params).rowcount for sql, params in statements]


class SqlMandateStore(_Sql):
    def save(self, conn: Any, mandate: Mandate) -> None:
        p = self.p
        conn.execute(
            "INSERT INTO mandates (mandate_id, tenant_id, grantee, status, granted_at, doc) "
            f"VALUES ({p}, {p}, {p}, {p}, {p}, {p}) ON CONFLICT (mandate_id) DO UPDATE SET "
            "status = excluded.status, doc = excluded.doc",
            (
                mandate.mandate_id,
                mandate.tenant_id,
                mandate.grantee,
                mandate.status.value,
                mandate.as_dict()["granted_at"],
                orjson.dumps(mandate.as_dict()).decode(),
            ),
        )

    def get(self, mandate_id: str) -> Mandate | None:
        rows = self._read(f"SELECT doc FROM mandates WHERE mandate_id = {self.p}", (mandate_id,))
        return Mandate.from_dict(orjson.loads(rows[0][0])) if rows else None

    def get_in(self, conn: Any, mandate_id: str) -> Mandate | None:
        row = conn.execute(
            f"SELECT doc FROM mandates WHERE mandate_id = {self.p}", (mandate_id,)
        ).fetchone()
        return Mandate.from_dict(orjson.loads(row[0])) if row else None

    def list(self, tenant_id: str | None, grantee: str | None = None) -> list[Mandate]:
        clause, params = where_given([("tenant_id =", tenant_id), ("grantee =", grantee)], self.p)
        rows = self._read(
            f"SELECT doc FROM mandates{clause} ORDER BY granted_at, mandate_id", tuple(params)
        )
        return [Mandate.from_dict(orjson.loads(r[0])) for r in rows]


class SqlKeyStore(_Sql):
    def add(self, conn: Any, key: PrincipalKey) -> bool:
        p = self.p
        cursor = conn.execute(
            "INSERT INTO mandate_keys (tenant_id, key_id, principal_id, thumbprint, doc) "
            f"VALUES ({p}, {p}, {p}, {p}, {p}) ON CONFLICT (tenant_id, key_id) DO NOTHING",
            (
                key.tenant_id,
                key.key_id,
                key.principal_id,
                key.thumbprint,
                orjson.dumps(key.as_dict()).decode(),
            ),
        )
        return bool(cursor.rowcount == 1)

    def get(self, tenant_id: str, key_id: str) -> PrincipalKey | None:
        rows = self._read(
            f"SELECT doc FROM mandate_keys WHERE tenant_id = {self.p} AND key_id = {self.p}",
            (tenant_id, key_id),
        )
        return PrincipalKey.from_dict(orjson.loads(rows[0][0])) if rows else None

    def of_principal(self, tenant_id: str, principal_id: str) -> list[PrincipalKey]:
        rows = self._read(
            f"SELECT doc FROM mandate_keys WHERE tenant_id = {self.p} AND principal_id = {self.p} "
            "ORDER BY key_id",
            (tenant_id, principal_id),
        )
        return [PrincipalKey.from_dict(orjson.loads(r[0])) for r in rows]

    def by_thumbprint(self, tenant_id: str, thumbprint: str) -> list[PrincipalKey]:
        rows = self._read(
            f"SELECT doc FROM mandate_keys WHERE tenant_id = {self.p} AND thumbprint = {self.p} "
            "ORDER BY key_id",
            (tenant_id, thumbprint),
        )
        return [PrincipalKey.from_dict(orjson.loads(r[0])) for r in rows]


class SqlNonceStore(_Sql):
    def __init__(self, db: Database) -> None:
        super().__init__(db)
        self._claims = 0

    def claim(self, scope: str, nonce: str, expires_at: int, now: int) -> bool:
        p = self.p
        statements: list[tuple[str, tuple[Any, ...]]] = [
            (
                "INSERT INTO mandate_nonces (scope, nonce, expires_at) "
                f"VALUES ({p}, {p}, {p}) ON CONFLICT (scope, nonce) DO UPDATE SET "
                f"expires_at = excluded.expires_at WHERE mandate_nonces.expires_at <= {p}",
                (scope, nonce, expires_at, now),
            )
        ]
        self._claims += 1
        if self._claims % PRUNE_EVERY == 0:
            statements.append((f"DELETE FROM mandate_nonces WHERE expires_at <= {p}", (now,)))
        return self._write(statements)[0] == 1


class RedisNonceStore:
    """SET NX with the claim's remaining lifetime as TTL: one atomic command shared by every
    process. Redis unreachable: the claim fails closed (Unavailable), never accepts."""

    def __init__(self, client: Any, *, prefix: str = "paygod:httpsig-nonce:") -> None:
        self.client = client
        self.prefix = prefix

    def claim(self, scope: str, nonce: str, expires_at: int, now: int) -> bool:
        import redis

        from paygod.kernel.errors import Unavailable

        try:
            ttl = max(1, expires_at - now)
            return bool(self.client.set(f"{self.prefix}{scope}:{nonce}", 1, nx=True, ex=ttl))
        except redis.RedisError:
            raise Unavailable("the nonce store is unreachable", retry_after=1) from None
