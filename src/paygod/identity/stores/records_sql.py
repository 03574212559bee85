"""Identity's secret-bearing and append-only tables on SQLite or PostgreSQL: the session
signing key, TOTP factors and enrolment tokens, consents and the access log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from paygod.identity.model import (
    AccessRecord,
    ConsentRecord,
    EnrolmentToken,
    SigningKey,
    TotpFactor,
)
from paygod.identity.stores.sql import Row, SqlRunner, Transaction, unique
from paygod.kernel.clock import isoformat, parse_instant

_ENROLMENT_COLUMNS = (
    "token_hash, principal_id, tenant_id, issued_by, created_at, expires_at, used_at"
)
_CONSENT_INSERT = (
    "INSERT INTO identity_consents (consent_id, tenant_id, subject, purpose, granted,"
    " recorded_at, recorded_by, evidence) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
)


def opt_time(value: Any) -> datetime | None:
    return parse_instant(value) if value else None


def _factor(row: Row) -> TotpFactor:
    return TotpFactor(
        row[0], row[1], bool(row[2]), parse_instant(row[4]), None if row[3] is None else int(row[3])
    )


def _enrolment(row: Row) -> EnrolmentToken:
    return EnrolmentToken(
        row[0],
        row[1],
        row[2],
        row[3],
        parse_instant(row[4]),
        parse_instant(row[5]),
        opt_time(row[6]),
    )


class SqlRecords:
    def __init__(self, sql: SqlRunner) -> None:
        self.sql = sql

    def _won(self, sql: str, params: tuple[Any, ...]) -> bool:
        """A conditional write that touched its one row: this call won."""
        return self.sql.run(sql, params) == 1

    # -- session signing keys ------------------------------------------------------------
    def add_signing_key(self, key: SigningKey) -> None:
        with unique(f"signing key {key.key_id}"):
            self.sql.run(
                "INSERT INTO identity_signing_keys (key_id, private_pem, created_at)"
                " VALUES (?, ?, ?)",
                (key.key_id, key.private_pem, isoformat(key.created_at)),
            )

    def newest_signing_key(self) -> SigningKey | None:
        row = self.sql.one(
            "SELECT key_id, private_pem, created_at FROM identity_signing_keys"
            " ORDER BY created_at DESC, key_id DESC LIMIT 1"
        )
        return SigningKey(row[0], row[1], parse_instant(row[2])) if row else None

    def signing_keys(self) -> list[SigningKey]:
        rows = self.sql.all(
            "SELECT key_id, private_pem, created_at FROM identity_signing_keys ORDER BY key_id"
        )
        return [SigningKey(r[0], r[1], parse_instant(r[2])) for r in rows]

    def replace_signing_pem(self, key_id: str, old: str, new: str) -> bool:
        return self._won(
            "UPDATE identity_signing_keys SET private_pem = ? WHERE key_id = ? AND private_pem = ?",
            (new, key_id, old),
        )

    # -- TOTP ----------------------------------------------------------------------------
    def get_factor(self, principal_id: str) -> TotpFactor | None:
        row = self.sql.one(
            "SELECT principal_id, secret, confirmed, last_counter, created_at FROM identity_totp"
            " WHERE principal_id = ?",
            (principal_id,),
        )
        return _factor(row) if row else None

    def factors(self) -> list[TotpFactor]:
        rows = self.sql.all(
            "SELECT principal_id, secret, confirmed, last_counter, created_at FROM identity_totp"
            " ORDER BY principal_id"
        )
        return [_factor(r) for r in rows]

    def replace_factor_secret(self, principal_id: str, old: str, new: str) -> bool:
        return self._won(
            "UPDATE identity_totp SET secret = ? WHERE principal_id = ? AND secret = ?",
            (new, principal_id, old),
        )

    def put_factor(self, factor: TotpFactor) -> None:
        with self.sql.transaction() as tx:
            tx.run("DELETE FROM identity_totp WHERE principal_id = ?", (factor.principal_id,))
            tx.run(
                "INSERT INTO identity_totp (principal_id, secret, confirmed, last_counter,"
                " created_at) VALUES (?, ?, ?, ?, ?)",
                (
                    factor.principal_id,
                    factor.secret,
                    1 if factor.confirmed else 0,
                    factor.last_counter,
                    isoformat(factor.created_at),
                ),
            )

    def confirm_factor(self, principal_id: str, counter: int) -> bool:
        return self._won(
            "UPDATE identity_totp SET confirmed = 1, last_counter = ? WHERE principal_id = ?"
            " AND confirmed = 0",
            (counter, principal_id),
        )

    def claim_counter(self, principal_id: str, counter: int) -> bool:
        # One conditional UPDATE: two processes checking the same code cannot both win.
        return self._won(
            "UPDATE identity_totp SET last_counter = ? WHERE principal_id = ?"
            " AND (last_counter IS NULL OR last_counter < ?)",
            (counter, principal_id, counter),
        )

    def start_enrolment(self, token: EnrolmentToken) -> None:
        created = isoformat(token.created_at)
        with self.sql.transaction() as tx:
            tx.run("DELETE FROM identity_totp WHERE principal_id = ?", (token.principal_id,))
            tx.run(
                "UPDATE identity_totp_enrolments SET used_at = ?"
                " WHERE principal_id = ? AND used_at IS NULL",
                (created, token.principal_id),
            )
            tx.run(
                f"INSERT INTO identity_totp_enrolments ({_ENROLMENT_COLUMNS})"
                " VALUES (?, ?, ?, ?, ?, ?, NULL)",
                (
                    token.token_hash,
                    token.principal_id,
                    token.tenant_id,
                    token.issued_by,
                    created,
                    isoformat(token.expires_at),
                ),
            )

    def redeem_enrolment(self, token_hash: str, principal_id: str, at: datetime) -> bool:
        now = isoformat(at)
        return self._won(
            "UPDATE identity_totp_enrolments SET used_at = ? WHERE token_hash = ?"
            " AND principal_id = ? AND used_at IS NULL AND expires_at > ?",
            (now, token_hash, principal_id, now),
        )

    def newest_enrolment(self, principal_id: str) -> EnrolmentToken | None:
        row = self.sql.one(
            f"SELECT {_ENROLMENT_COLUMNS} FROM identity_totp_enrolments WHERE principal_id = ?"
            " ORDER BY created_at DESC LIMIT 1",
            (principal_id,),
        )
        return _enrolment(row) if row else None

    # -- consents ------------------------------------------------------------------------
    def add_consent(self, conn: Any, record: ConsentRecord) -> None:
        params = (
            record.consent_id,
            record.tenant_id,
            record.subject,
            record.purpose,
            1 if record.granted else 0,
            isoformat(record.recorded_at),
            record.recorded_by,
            record.evidence,
        )
        with unique(f"consent {record.consent_id}"):
            if conn is None:
                self.sql.run(_CONSENT_INSERT, params)
            else:
                Transaction(conn, sqlite=self.sql.sqlite).run(_CONSENT_INSERT, params)

    def consent_history(self, tenant_id: str, subject: str) -> list[ConsentRecord]:
        rows = self.sql.all(
            "SELECT consent_id, tenant_id, subject, purpose, granted, recorded_at, recorded_by,"
            " evidence FROM identity_consents WHERE tenant_id = ? AND subject = ?"
            " ORDER BY recorded_at, consent_id",
            (tenant_id, subject),
        )
        return [
            ConsentRecord(r[0], r[1], r[2], r[3], bool(r[4]), parse_instant(r[5]), r[6], r[7])
            for r in rows
        ]

    # -- access log ----------------------------------------------------------------------
    def add_access(self, record: AccessRecord) -> None:
        with unique(f"access record {record.event_id}"):
            self.sql.run(
                "INSERT INTO identity_access_log (event_id, event_type, tenant_id, principal_id,"
                " action, target, reason, outcome, occurred_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    record.event_id,
                    record.event_type,
                    record.tenant_id,
                    record.principal_id,
                    record.action,
                    record.target,
                    record.reason,
                    record.outcome,
                    isoformat(record.occurred_at),
                ),
            )

    def delete_accesses_before(self, tenant_id: str, before: datetime) -> int:
        return self.sql.run(
            "DELETE FROM identity_access_log WHERE tenant_id = ? AND occurred_at < ?",
            (tenant_id, isoformat(before)),
        )

    def accesses_since(
        self, since: datetime, *, tenant_id: str | None = None, limit: int = 1000
    ) -> list[AccessRecord]:
        sql = (
            "SELECT event_id, event_type, tenant_id, principal_id, action, target, reason,"
            " outcome, occurred_at FROM identity_access_log WHERE occurred_at >= ?"
        )
        params: list[Any] = [isoformat(since)]
        if tenant_id is not None:
            sql += " AND tenant_id = ?"
            params.append(tenant_id)
        rows = self.sql.all(sql + " ORDER BY occurred_at, event_id LIMIT ?", [*params, limit])
        return [
            AccessRecord(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], parse_instant(r[8]))
            for r in rows
        ]
