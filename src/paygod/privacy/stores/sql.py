"""The vault and register in the `privacy_*` tables (SQLite or PostgreSQL).

Writes run on the connection the ledger hands to `transact`, so each change commits with
the entry that records it. Ciphertexts are stored as base64 text: one column type on both
databases, and the bytes never pass through a driver's text codec.
"""

from __future__ import annotations

import base64
from typing import Any

from paygod.kernel.database import Database, SqliteDatabase
from paygod.privacy.model import (
    DataClass,
    ExportRecord,
    LegalHold,
    RetentionPolicy,
    SubjectKey,
    VaultRecord,
)

_KEY_COLUMNS = "tenant_id, subject, wrapped, created_at, erased_at, erased_by"
_RECORD_COLUMNS = "record_id, tenant_id, subject, record_class, sealed, digest, created_at"


def _record(row: Any) -> VaultRecord:
    return VaultRecord(row[0], row[1], row[2], row[3], base64.b64decode(row[4]), row[5], row[6])


class SqlVault:
    """Implements both `VaultStore` and `PrivacyRegister`."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.sqlite = isinstance(db, SqliteDatabase)
        self.p = "?" if self.sqlite else "%s"

    def _read(self, sql: str, params: tuple[Any, ...] = (), conn: Any = None) -> list[Any]:
        if conn is not None:
            return list(conn.execute(sql, params).fetchall())
        if isinstance(self.db, SqliteDatabase):
            return list(self.db.connection().execute(sql, params).fetchall())
        with self.db.connection() as own:
            return list(own.execute(sql, params).fetchall())

    def _ph(self, n: int) -> str:
        return ", ".join([self.p] * n)

    # -- vault ----------------------------------------------------------------------------

    def key(self, tenant_id: str, subject: str, conn: Any = None) -> SubjectKey | None:
        rows = self._read(
            f"SELECT {_KEY_COLUMNS} FROM privacy_subject_keys"
            f" WHERE tenant_id = {self.p} AND subject = {self.p}",
            (tenant_id, subject),
            conn,
        )
        return SubjectKey(*rows[0]) if rows else None

    def add_key(self, conn: Any, key: SubjectKey) -> None:
        conn.execute(
            f"INSERT INTO privacy_subject_keys ({_KEY_COLUMNS}) VALUES ({self._ph(6)})"
            " ON CONFLICT (tenant_id, subject) DO NOTHING",
            (key.tenant_id, key.subject, key.wrapped, key.created_at, None, None),
        )

    def shred(self, conn: Any, tenant_id: str, subject: str, at: str, by: str) -> None:
        if self.sqlite:
            # Freed cells are zeroed, so the old wrapped key is not left in a free page.
            conn.execute("PRAGMA secure_delete = ON")
        p = self.p
        conn.execute(
            f"UPDATE privacy_subject_keys SET wrapped = NULL, erased_at = {p}, erased_by = {p}"
            f" WHERE tenant_id = {p} AND subject = {p}",
            (at, by, tenant_id, subject),
        )

    def add_record(self, conn: Any, record: VaultRecord) -> None:
        conn.execute(
            f"INSERT INTO privacy_records ({_RECORD_COLUMNS}) VALUES ({self._ph(7)})",
            (
                record.record_id,
                record.tenant_id,
                record.subject,
                record.record_class,
                base64.b64encode(record.sealed).decode("ascii"),
                record.digest,
                record.created_at,
            ),
        )

    def record(self, tenant_id: str, record_id: str) -> VaultRecord | None:
        rows = self._read(
            f"SELECT {_RECORD_COLUMNS} FROM privacy_records"
            f" WHERE record_id = {self.p} AND tenant_id = {self.p}",
            (record_id, tenant_id),
        )
        return _record(rows[0]) if rows else None

    def records(self, tenant_id: str, subject: str) -> list[VaultRecord]:
        rows = self._read(
            f"SELECT {_RECORD_COLUMNS} FROM privacy_records WHERE tenant_id = {self.p}"
            f" AND subject = {self.p} ORDER BY created_at, record_id",
            (tenant_id, subject),
        )
        return [_record(r) for r in rows]

    def stale_subjects(self, tenant_id: str, before: str) -> list[str]:
        p = self.p
        rows = self._read(
            "SELECT r.subject FROM privacy_records r JOIN privacy_subject_keys k"
            " ON k.tenant_id = r.tenant_id AND k.subject = r.subject"
            f" WHERE r.tenant_id = {p} AND k.wrapped IS NOT NULL"
            f" GROUP BY r.subject HAVING MAX(r.created_at) < {p} ORDER BY r.subject",
            (tenant_id, before),
        )
        return [str(r[0]) for r in rows]

    def forget(self) -> None:
        if isinstance(self.db, SqliteDatabase):
            # The pre-shred page still sits in the WAL until a checkpoint copies the new one
            # over it and the log is truncated; a copy of the files would otherwise hold it.
            self.db.connection().execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
            return
        with self.db.connection() as conn:
            # PostgreSQL keeps the old tuple version until vacuumed (MVCC).
            conn.execute("VACUUM privacy_subject_keys")

    # -- register -------------------------------------------------------------------------

    def hold(self, tenant_id: str, subject: str) -> LegalHold | None:
        rows = self._read(
            "SELECT tenant_id, subject, reason, placed_by, placed_at FROM privacy_holds"
            f" WHERE tenant_id = {self.p} AND subject = {self.p}",
            (tenant_id, subject),
        )
        return LegalHold(*rows[0]) if rows else None

    def holds(self, tenant_id: str) -> list[LegalHold]:
        rows = self._read(
            "SELECT tenant_id, subject, reason, placed_by, placed_at FROM privacy_holds"
            f" WHERE tenant_id = {self.p} ORDER BY subject",
            (tenant_id,),
        )
        return [LegalHold(*r) for r in rows]

    def put_hold(self, conn: Any, hold: LegalHold) -> None:
        conn.execute(
            "INSERT INTO privacy_holds (tenant_id, subject, reason, placed_by, placed_at)"
            f" VALUES ({self._ph(5)}) ON CONFLICT (tenant_id, subject) DO UPDATE SET"
            " reason = excluded.reason, placed_by = excluded.placed_by,"
            " placed_at = excluded.placed_at",
            (hold.tenant_id, hold.subject, hold.reason, hold.placed_by, hold.placed_at),
        )

    def drop_hold(self, conn: Any, tenant_id: str, subject: str) -> bool:
        cursor = conn.execute(
            f"DELETE FROM privacy_holds WHERE tenant_id = {self.p} AND subject = {self.p}",
            (tenant_id, subject),
        )
        return bool(cursor.rowcount == 1)

    def put_policy(self, conn: Any, policy: RetentionPolicy) -> None:
        conn.execute(
            "INSERT INTO privacy_policies (tenant_id, data_class, max_age_days, set_by, set_at)"
            f" VALUES ({self._ph(5)}) ON CONFLICT (tenant_id, data_class) DO UPDATE SET"
            " max_age_days = excluded.max_age_days, set_by = excluded.set_by,"
            " set_at = excluded.set_at",
            (
                policy.tenant_id,
                policy.data_class.value,
                policy.max_age_days,
                policy.set_by,
                policy.set_at,
            ),
        )

    def policies(self, tenant_id: str) -> list[RetentionPolicy]:
        rows = self._read(
            "SELECT tenant_id, data_class, max_age_days, set_by, set_at FROM privacy_policies"
            f" WHERE tenant_id = {self.p} ORDER BY data_class",
            (tenant_id,),
        )
        return [RetentionPolicy(r[0], DataClass(r[1]), int(r[2]), r[3], r[4]) for r in rows]

    def policy_tenants(self) -> list[str]:
        rows = self._read("SELECT DISTINCT tenant_id FROM privacy_policies ORDER BY tenant_id")
        return [str(r[0]) for r in rows]

    def add_export(self, conn: Any, export: ExportRecord) -> None:
        conn.execute(
            "INSERT INTO privacy_exports (export_id, tenant_id, subject, digest, requested_by,"
            f" created_at) VALUES ({self._ph(6)})",
            (
                export.export_id,
                export.tenant_id,
                export.subject,
                export.digest,
                export.requested_by,
                export.created_at,
            ),
        )

    def exports(self, tenant_id: str, subject: str) -> list[ExportRecord]:
        rows = self._read(
            "SELECT export_id, tenant_id, subject, digest, requested_by, created_at"
            f" FROM privacy_exports WHERE tenant_id = {self.p} AND subject = {self.p}"
            " ORDER BY created_at, export_id",
            (tenant_id, subject),
        )
        return [ExportRecord(*r) for r in rows]

    def drop_exports(self, conn: Any, tenant_id: str, before: str) -> int:
        cursor = conn.execute(
            f"DELETE FROM privacy_exports WHERE tenant_id = {self.p} AND created_at < {self.p}",
            (tenant_id, before),
        )
        return int(cursor.rowcount)
