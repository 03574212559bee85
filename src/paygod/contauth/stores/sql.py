"""The contauth tables on SQLite or PostgreSQL (one set of statements, `?` placeholders)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import orjson

from paygod.contauth.model import FeatureRecord, SessionState, SessionTrust, StoredModel
from paygod.decisions.ports import DuplicateKey
from paygod.identity.stores.sql import SqlRunner, Transaction, is_unique_violation
from paygod.kernel.clock import isoformat, parse_instant
from paygod.kernel.database import Database, SqliteDatabase
from paygod.kernel.errors import Conflict

_SESSION_COLUMNS = (
    "session_id, tenant_id, principal_id, expires_at, trust, state, events, reasons,"
    " device, model_version, updated_at"
)


def _session_params(s: SessionTrust) -> tuple[Any, ...]:
    return (
        s.session_id,
        s.tenant_id,
        s.principal_id,
        isoformat(s.expires_at),
        s.trust,
        s.state.value,
        s.events,
        orjson.dumps(list(s.reasons)).decode(),
        s.device,
        s.model_version,
        isoformat(s.updated_at) if s.updated_at else None,
    )


def _session(row: Sequence[Any]) -> SessionTrust:
    return SessionTrust(
        session_id=str(row[0]),
        tenant_id=str(row[1]),
        principal_id=str(row[2]),
        expires_at=parse_instant(row[3]),
        trust=float(row[4]),
        state=SessionState(row[5]),
        events=int(row[6]),
        reasons=tuple(orjson.loads(row[7])),
        device=row[8],
        model_version=None if row[9] is None else int(row[9]),
        updated_at=parse_instant(row[10]) if row[10] else None,
    )


class SqlContauthStore:
    def __init__(self, db: Database) -> None:
        self.sql = SqlRunner(db)
        self.sqlite = isinstance(db, SqliteDatabase)

    def _tx(self, conn: Any) -> Transaction:
        return Transaction(conn, sqlite=self.sqlite)

    def open(self, session: SessionTrust) -> None:
        try:
            self.sql.run(
                f"INSERT INTO contauth_sessions ({_SESSION_COLUMNS})"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                _session_params(session),
            )
        except Exception as exc:
            if not is_unique_violation(exc):
                raise

    def get(self, session_id: str) -> SessionTrust | None:
        row = self.sql.one(
            f"SELECT {_SESSION_COLUMNS} FROM contauth_sessions WHERE session_id = ?",
            (session_id,),
        )
        return _session(row) if row else None

    def save(self, conn: Any, session: SessionTrust, *, expected: SessionTrust) -> None:
        params = _session_params(session)
        before = isoformat(expected.updated_at) if expected.updated_at else None
        touched = self._tx(conn).run(
            "UPDATE contauth_sessions SET trust = ?, state = ?, events = ?, reasons = ?,"
            " device = ?, model_version = ?, updated_at = ? WHERE session_id = ? AND events = ?"
            " AND (updated_at = ? OR (updated_at IS NULL AND CAST(? AS TEXT) IS NULL))",
            (*params[4:], session.session_id, expected.events, before, before),
        )
        if touched != 1:
            raise Conflict("the session's trust moved meanwhile; send the batch again")

    def sessions(self, tenant_id: str, principal_id: str) -> list[SessionTrust]:
        rows = self.sql.all(
            f"SELECT {_SESSION_COLUMNS} FROM contauth_sessions WHERE tenant_id = ?"
            " AND principal_id = ? ORDER BY expires_at DESC",
            (tenant_id, principal_id),
        )
        return [_session(r) for r in rows]

    def add_features(self, conn: Any, records: Sequence[FeatureRecord]) -> None:
        tx = self._tx(conn)
        for r in records:
            tx.run(
                "INSERT INTO contauth_features (feature_id, session_id, tenant_id,"
                " principal_id, kind, features, retention_class, recorded_at, delete_after)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    r.feature_id,
                    r.session_id,
                    r.tenant_id,
                    r.principal_id,
                    r.kind,
                    orjson.dumps(dict(r.features)).decode(),
                    r.retention_class,
                    isoformat(r.recorded_at),
                    isoformat(r.delete_after),
                ),
            )

    def features(self, tenant_id: str, kind: str) -> list[FeatureRecord]:
        rows = self.sql.all(
            "SELECT feature_id, session_id, tenant_id, principal_id, kind, features,"
            " recorded_at, delete_after, retention_class FROM contauth_features"
            " WHERE tenant_id = ? AND kind = ? ORDER BY recorded_at, feature_id",
            (tenant_id, kind),
        )
        return [
            FeatureRecord(
                r[0],
                r[1],
                r[2],
                r[3],
                r[4],
                orjson.loads(r[5]),
                parse_instant(r[6]),
                parse_instant(r[7]),
                r[8],
            )
            for r in rows
        ]

    def purge(self, now: datetime) -> int:
        return self.sql.run(
            "DELETE FROM contauth_features WHERE delete_after <= ?", (isoformat(now),)
        )

    def put_model(self, conn: Any, model: StoredModel) -> None:
        try:
            self._tx(conn).run(
                "INSERT INTO contauth_models (tenant_id, principal_id, version,"
                " artefact_digest, artefact, meta) VALUES (?, ?, ?, ?, ?, ?)",
                (
                    model.tenant_id,
                    model.principal_id,
                    model.version,
                    model.artefact_digest,
                    model.artefact,
                    orjson.dumps(dict(model.meta)).decode(),
                ),
            )
        except Exception as exc:
            if is_unique_violation(exc):
                raise DuplicateKey(f"contauth model version {model.version}") from None
            raise

    def model(
        self, tenant_id: str, principal_id: str, version: int | None = None
    ) -> StoredModel | None:
        where = "tenant_id = ? AND principal_id = ?"
        params: tuple[Any, ...] = (tenant_id, principal_id)
        if version is not None:
            where, params = where + " AND version = ?", (*params, version)
        row = self.sql.one(
            "SELECT tenant_id, principal_id, version, artefact_digest, artefact, meta"
            f" FROM contauth_models WHERE {where} ORDER BY version DESC LIMIT 1",
            params,
        )
        if row is None:
            return None
        return StoredModel(
            str(row[0]), str(row[1]), int(row[2]), str(row[3]), bytes(row[4]), orjson.loads(row[5])
        )

    def versions(self, tenant_id: str, principal_id: str) -> list[int]:
        rows = self.sql.all(
            "SELECT version FROM contauth_models WHERE tenant_id = ? AND principal_id = ?"
            " ORDER BY version",
            (tenant_id, principal_id),
        )
        return [int(r[0]) for r in rows]
