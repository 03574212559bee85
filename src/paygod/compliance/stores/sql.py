"""The sanctions and KYC stores on SQLite or PostgreSQL (the `compliance_*` tables).
Writes run on the ledger's transaction (`conn`), so a snapshot and its ledger entry, or a
KYC status and its entry, commit together or not at all."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import orjson

from paygod.compliance.model import KycLevel, KycStatus, ListEntry, ScreeningQuery, Snapshot
from paygod.kernel.clock import isoformat, parse_instant
from paygod.kernel.database import SqliteDatabase, SqlStore

SNAPSHOT_COLUMNS = (
    "snapshot_id, tenant_id, list_name, format, source, digest, entry_count, version, "
    "imported_at, active, seq"
)
KYC_COLUMNS = "tenant_id, subject, level, status, provider, reference, verified_at, expires_at, seq"


def _snapshot(row: Sequence[Any]) -> Snapshot:
    return Snapshot(
        snapshot_id=row[0],
        tenant_id=row[1],
        list=row[2],
        format=row[3],
        source=row[4],
        digest=row[5],
        entry_count=int(row[6]),
        version=int(row[7]),
        imported_at=parse_instant(row[8]),
        active=bool(row[9]),
        seq=row[10],
    )


def _kyc(row: Sequence[Any]) -> KycStatus:
    return KycStatus(
        tenant_id=row[0],
        subject=row[1],
        level=KycLevel(row[2]),
        status=row[3],
        provider=row[4],
        reference=row[5],
        verified_at=parse_instant(row[6]) if row[6] else None,
        expires_at=parse_instant(row[7]) if row[7] else None,
        seq=row[8],
    )


class _Sql(SqlStore):
    def _q(self, sql: str) -> str:
        return sql.replace("?", self.p)

    @contextmanager
    def _reading(self) -> Iterator[Any]:
        if isinstance(self.db, SqliteDatabase):
            yield self.db.connection()
        else:
            with self.db.connection() as conn:
                yield conn

    def _rows(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        with self._reading() as conn:
            return list(conn.execute(self._q(sql), params).fetchall())

    def _write(self, conn: Any, sql: str, params: Sequence[Any]) -> None:
        if conn is not None:
            conn.execute(self._q(sql), params)
            return
        if isinstance(self.db, SqliteDatabase):
            with self.db.write_lock:
                self.db.connection().execute(self._q(sql), params)
            return
        with self.db.connection() as own:
            own.execute(self._q(sql), params)


class SqlSanctionsStore(_Sql):
    def save_snapshot(self, conn: Any, snapshot: Snapshot, entries: Sequence[ListEntry]) -> None:
        assert conn is not None, "a snapshot is saved inside the ledger's transaction"
        conn.execute(
            self._q(
                "UPDATE compliance_snapshots SET active = 0 "
                "WHERE tenant_id = ? AND list_name = ? AND active = 1"
            ),
            (snapshot.tenant_id, snapshot.list),
        )
        conn.execute(
            self._q(
                f"INSERT INTO compliance_snapshots ({SNAPSHOT_COLUMNS}) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?)"
            ),
            (
                snapshot.snapshot_id,
                snapshot.tenant_id,
                snapshot.list,
                snapshot.format,
                snapshot.source,
                snapshot.digest,
                snapshot.entry_count,
                snapshot.version,
                isoformat(snapshot.imported_at),
                snapshot.seq,
            ),
        )
        rows = [
            (snapshot.snapshot_id, n, e.entry_id, orjson.dumps(e.as_dict()).decode())
            for n, e in enumerate(entries)
        ]
        cursor = conn.cursor()
        cursor.executemany(
            self._q(
                "INSERT INTO compliance_list_entries (snapshot_id, position, entry_id, data) "
                "VALUES (?, ?, ?, ?)"
            ),
            rows,
        )

    def active_snapshots(self, tenant_id: str) -> list[Snapshot]:
        rows = self._rows(
            f"SELECT {SNAPSHOT_COLUMNS} FROM compliance_snapshots "
            "WHERE tenant_id = ? AND active = 1 ORDER BY list_name",
            (tenant_id,),
        )
        return [_snapshot(r) for r in rows]

    def snapshots(self, tenant_id: str, list_name: str | None = None) -> list[Snapshot]:
        sql = f"SELECT {SNAPSHOT_COLUMNS} FROM compliance_snapshots WHERE tenant_id = ?"
        params: list[Any] = [tenant_id]
        if list_name is not None:
            sql += " AND list_name = ?"
            params.append(list_name)
        return [_snapshot(r) for r in self._rows(sql + " ORDER BY list_name, version", params)]

    def snapshot(self, tenant_id: str, snapshot_id: str) -> Snapshot | None:
        rows = self._rows(
            f"SELECT {SNAPSHOT_COLUMNS} FROM compliance_snapshots "
            "WHERE tenant_id = ? AND snapshot_id = ?",
            (tenant_id, snapshot_id),
        )
        return _snapshot(rows[0]) if rows else None

    def entries(self, snapshot_id: str) -> list[ListEntry]:
        rows = self._rows(
            "SELECT data FROM compliance_list_entries WHERE snapshot_id = ? ORDER BY position",
            (snapshot_id,),
        )
        return [ListEntry.from_dict(orjson.loads(r[0])) for r in rows]

    def next_version(self, tenant_id: str, list_name: str) -> int:
        rows = self._rows(
            "SELECT MAX(version) FROM compliance_snapshots WHERE tenant_id = ? AND list_name = ?",
            (tenant_id, list_name),
        )
        return int(rows[0][0] or 0) + 1

    def remember_subject(
        self, conn: Any, tenant_id: str, subject: str, query: ScreeningQuery
    ) -> None:
        self._write(
            conn,
            "INSERT INTO compliance_subjects (tenant_id, subject, query) VALUES (?, ?, ?) "
            "ON CONFLICT (tenant_id, subject) DO UPDATE SET query = excluded.query",
            (tenant_id, subject, orjson.dumps(query.as_dict()).decode()),
        )

    def subjects(self, tenant_id: str) -> Iterator[tuple[str, ScreeningQuery]]:
        rows = self._rows(
            "SELECT subject, query FROM compliance_subjects WHERE tenant_id = ? ORDER BY subject",
            (tenant_id,),
        )
        for subject, raw in rows:
            data = orjson.loads(raw)
            yield subject, ScreeningQuery(data["name"], data.get("dob"), data.get("country"))

    def threshold(self, tenant_id: str) -> float | None:
        rows = self._rows(
            "SELECT threshold FROM compliance_settings WHERE tenant_id = ?", (tenant_id,)
        )
        return float(rows[0][0]) if rows else None

    def set_threshold(self, conn: Any, tenant_id: str, value: float) -> None:
        self._write(
            conn,
            "INSERT INTO compliance_settings (tenant_id, threshold) VALUES (?, ?) "
            "ON CONFLICT (tenant_id) DO UPDATE SET threshold = excluded.threshold",
            (tenant_id, repr(value)),
        )


class SqlKycStore(_Sql):
    def put(self, conn: Any, status: KycStatus) -> None:
        self._write(
            conn,
            f"INSERT INTO compliance_kyc ({KYC_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (tenant_id, subject) DO UPDATE SET level = excluded.level, "
            "status = excluded.status, provider = excluded.provider, "
            "reference = excluded.reference, verified_at = excluded.verified_at, "
            "expires_at = excluded.expires_at, seq = excluded.seq",
            (
                status.tenant_id,
                status.subject,
                status.level.value,
                status.status,
                status.provider,
                status.reference,
                isoformat(status.verified_at) if status.verified_at else None,
                isoformat(status.expires_at) if status.expires_at else None,
                status.seq,
            ),
        )

    def get(self, tenant_id: str, subject: str) -> KycStatus | None:
        rows = self._rows(
            f"SELECT {KYC_COLUMNS} FROM compliance_kyc WHERE tenant_id = ? AND subject = ?",
            (tenant_id, subject),
        )
        return _kyc(rows[0]) if rows else None

    def by_reference(self, provider: str, reference: str) -> KycStatus | None:
        rows = self._rows(
            f"SELECT {KYC_COLUMNS} FROM compliance_kyc WHERE provider = ? AND reference = ?",
            (provider, reference),
        )
        return _kyc(rows[0]) if rows else None
