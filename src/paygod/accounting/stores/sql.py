"""SQL sessions shared by the SQLite and PostgreSQL adapters (they differ in placeholders,
IN-lists and row locks only)."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from datetime import datetime
from typing import Any

import orjson

from paygod.accounting.model import (
    Account,
    AccountCode,
    AccountFlags,
    Period,
    PeriodStatement,
    Transfer,
    TransferFlags,
    TransferState,
    isoformat,
)
from paygod.accounting.validtime import Posting, ValidSteps
from paygod.kernel.clock import parse_instant
from paygod.kernel.database import where_given

ACCOUNT_COLUMNS = (
    "tenant_id, id, ledger, code, flags, metadata, created_at, "
    "debits_posted, credits_posted, debits_pending, credits_pending, owner_id"
)
TRANSFER_COLUMNS = (
    "tenant_id, id, debit_account_id, credit_account_id, amount, ledger, code, flags, "
    "pending_id, timeout_seconds, reversal_of, metadata, timestamp, state, expires_at, "
    "resolved_at, reversed_amount, valid_from"
)
POSTING_COLUMNS = (
    "tenant_id, account_id, n, transfer_id, valid_at, recorded_at, debit, credit, backdated, "
    "cum_debits, cum_credits, frontier"
)


def _ts(value: datetime | None) -> str | None:
    return isoformat(value) if value is not None else None


def _dt(value: str | None) -> datetime | None:
    return parse_instant(value) if value is not None else None


def account_row(a: Account) -> tuple[Any, ...]:
    return (
        a.tenant_id,
        a.id,
        a.ledger,
        a.code.value,
        a.flags.bits(),
        orjson.dumps(dict(a.metadata)).decode(),
        isoformat(a.created_at),
        a.debits_posted,
        a.credits_posted,
        a.debits_pending,
        a.credits_pending,
        a.owner,
    )


def account_from(row: Sequence[Any]) -> Account:
    return Account(
        tenant_id=row[0],
        id=row[1],
        ledger=row[2],
        code=AccountCode(row[3]),
        flags=AccountFlags.from_bits(row[4]),
        metadata=orjson.loads(row[5]),
        created_at=parse_instant(row[6]),
        debits_posted=int(row[7]),
        credits_posted=int(row[8]),
        debits_pending=int(row[9]),
        credits_pending=int(row[10]),
        owner=row[11],
    )


def transfer_row(t: Transfer) -> tuple[Any, ...]:
    return (
        t.tenant_id,
        t.id,
        t.debit_account_id,
        t.credit_account_id,
        t.amount,
        t.ledger,
        t.code,
        t.flags.bits(),
        t.pending_id,
        t.timeout_seconds,
        t.reversal_of,
        orjson.dumps(dict(t.metadata)).decode() if t.metadata else "{}",
        isoformat(t.timestamp),
        t.state.value,
        _ts(t.expires_at),
        _ts(t.resolved_at),
        t.reversed_amount,
        _ts(t.valid_from),
    )


def transfer_from(row: Sequence[Any]) -> Transfer:
    return Transfer(
        tenant_id=row[0],
        id=row[1],
        debit_account_id=row[2],
        credit_account_id=row[3],
        amount=int(row[4]),
        ledger=row[5],
        code=row[6],
        flags=TransferFlags.from_bits(row[7]),
        pending_id=row[8],
        timeout_seconds=row[9],
        reversal_of=row[10],
        metadata=orjson.loads(row[11]),
        timestamp=parse_instant(row[12]),
        state=TransferState(row[13]),
        expires_at=_dt(row[14]),
        resolved_at=_dt(row[15]),
        reversed_amount=int(row[16]),
        valid_from=_dt(row[17]),
    )


class SqlAccountSession:
    """One connection. `p` is the driver's placeholder ('?' sqlite3, '%s' psycopg)."""

    p = "?"
    for_update = ""

    def __init__(self, conn: Any) -> None:
        self.conn = conn

    def _in(self, column: str, values: Collection[str]) -> tuple[str, list[Any]]:
        return f"{column} IN ({', '.join([self.p] * len(values))})", list(values)

    def _rows(self, sql: str, params: Sequence[Any]) -> list[Any]:
        return list(self.conn.execute(sql.replace("?", self.p), params).fetchall())

    def get_accounts(
        self, tenant_id: str, ids: Collection[str], *, lock: bool = False
    ) -> dict[str, Account]:
        if not ids:
            return {}
        clause, params = self._in("id", sorted(set(ids)))
        sql = f"SELECT {ACCOUNT_COLUMNS} FROM accounting_accounts WHERE tenant_id = ? AND "
        # Locks are taken in id order so two writers never wait on each other in a cycle.
        suffix = f" ORDER BY id{self.for_update if lock else ''}"
        rows = self.conn.execute(
            sql.replace("?", self.p) + clause + suffix, [tenant_id, *params]
        ).fetchall()
        return {a.id: a for a in map(account_from, rows)}

    def get_transfers(self, tenant_id: str, ids: Collection[str]) -> dict[str, Transfer]:
        if not ids:
            return {}
        clause, params = self._in("id", sorted(set(ids)))
        sql = f"SELECT {TRANSFER_COLUMNS} FROM accounting_transfers WHERE tenant_id = ? AND "
        rows = self.conn.execute(sql.replace("?", self.p) + clause, [tenant_id, *params])
        return {t.id: t for t in map(transfer_from, rows.fetchall())}

    def due_pending(self, tenant_id: str | None, now: datetime, limit: int) -> list[Transfer]:
        # No tenant in the WHERE clause: with it SQLite prefers the (tenant_id, ...) indexes
        # and scans every transfer of the tenant; without it the partial index of pending
        # holds answers, and the tenant is filtered here.
        sql = (
            f"SELECT {TRANSFER_COLUMNS} FROM accounting_transfers "
            "WHERE state = 'pending' AND expires_at IS NOT NULL AND expires_at <= ? "
            "ORDER BY expires_at, id LIMIT ?"
        )
        due = [transfer_from(r) for r in self._rows(sql, [isoformat(now), limit])]
        return [t for t in due if tenant_id is None or t.tenant_id == tenant_id]

    def list_accounts(
        self,
        tenant_id: str | None,
        *,
        ledger: str | None = None,
        after: str | None = None,
        limit: int = 100,
        owner: str | None = None,
    ) -> list[Account]:
        clause, params = where_given(
            [
                ("tenant_id =", tenant_id),
                ("ledger =", ledger),
                ("id >", after),
                ("owner_id =", owner),
            ]
        )
        sql = (
            f"SELECT {ACCOUNT_COLUMNS} FROM accounting_accounts{clause} "
            "ORDER BY id, tenant_id LIMIT ?"
        )
        return [account_from(r) for r in self._rows(sql, [*params, limit])]

    def account_transfers(
        self, tenant_id: str, account_id: str, *, until: datetime | None = None
    ) -> list[Transfer]:
        sql = (
            f"SELECT {TRANSFER_COLUMNS} FROM accounting_transfers WHERE tenant_id = ? "
            "AND (debit_account_id = ? OR credit_account_id = ?)"
        )
        params: list[Any] = [tenant_id, account_id, account_id]
        if until is not None:
            sql += " AND timestamp <= ?"
            params.append(isoformat(until))
        sql += " ORDER BY timestamp, id"
        return [transfer_from(r) for r in self._rows(sql, params)]

    def list_transfers(
        self,
        tenant_id: str,
        *,
        after: str | None = None,
        limit: int = 100,
        owner: str | None = None,
    ) -> list[Transfer]:
        sql = f"SELECT {TRANSFER_COLUMNS} FROM accounting_transfers WHERE tenant_id = ?"
        params: list[Any] = [tenant_id]
        if owner is not None:
            # An owner sees the transfers that touch one of its accounts, either side. One
            # IN-list per side lets each use its (tenant, account) index, so a page costs the
            # owner's transfers, not the tenant's (an OR over both sides scanned the tenant).
            owned = "SELECT id FROM accounting_accounts WHERE tenant_id = ? AND owner_id = ?"
            sql += (
                " AND id IN (SELECT id FROM accounting_transfers WHERE tenant_id = ?"
                f" AND debit_account_id IN ({owned}) UNION ALL SELECT id FROM"
                f" accounting_transfers WHERE tenant_id = ? AND credit_account_id IN ({owned}))"
            )
            params += [tenant_id, tenant_id, owner, tenant_id, tenant_id, owner]
        if after is not None:
            sql += " AND id > ?"
            params.append(after)
        sql += " ORDER BY id LIMIT ?"
        return [transfer_from(r) for r in self._rows(sql, [*params, limit])]

    def _many(self, sql: str, rows: list[tuple[Any, ...]]) -> None:
        if rows:
            cur = self.conn.cursor()
            cur.executemany(sql.replace("?", self.p), rows)

    def insert_accounts(self, accounts: Sequence[Account]) -> None:
        marks = ", ".join(["?"] * 12)
        self._many(
            f"INSERT INTO accounting_accounts ({ACCOUNT_COLUMNS}) VALUES ({marks})",
            [account_row(a) for a in accounts],
        )

    def update_accounts(self, accounts: Iterable[Account]) -> None:
        self._many(
            "UPDATE accounting_accounts SET flags = ?, metadata = ?, debits_posted = ?, "
            "credits_posted = ?, debits_pending = ?, credits_pending = ? "
            "WHERE tenant_id = ? AND id = ?",
            [
                (
                    a.flags.bits(),
                    orjson.dumps(dict(a.metadata)).decode(),
                    a.debits_posted,
                    a.credits_posted,
                    a.debits_pending,
                    a.credits_pending,
                    a.tenant_id,
                    a.id,
                )
                for a in accounts
            ],
        )

    def insert_transfers(self, transfers: Iterable[Transfer]) -> None:
        marks = ", ".join(["?"] * 18)
        self._many(
            f"INSERT INTO accounting_transfers ({TRANSFER_COLUMNS}) VALUES ({marks})",
            [transfer_row(t) for t in transfers],
        )

    def update_transfers(self, transfers: Iterable[Transfer]) -> None:
        self._many(
            "UPDATE accounting_transfers SET state = ?, resolved_at = ?, reversed_amount = ? "
            "WHERE tenant_id = ? AND id = ?",
            [
                (t.state.value, _ts(t.resolved_at), t.reversed_amount, t.tenant_id, t.id)
                for t in transfers
            ],
        )

    # -- valid time ---------------------------------------------------------------------
    #
    # `accounting_postings` holds one row per posted amount and account side. Rows that are
    # not backdated arrive in valid-time order, so each carries the running totals of those
    # rows (`cum_*`): the sum up to an instant is one index seek. Backdated rows (valid
    # before the frontier of the account's rows) are few and summed by range. Hence
    # "balance at T as known at T'" = cum at min(T, T') + backdated rows with
    # valid_at <= T and recorded_at <= T' (a row that is not backdated has
    # valid_at = recorded_at).

    def posted_transfers(self) -> list[Transfer]:
        rows = self._rows(
            f"SELECT {TRANSFER_COLUMNS} FROM accounting_transfers WHERE state = ?"
            " ORDER BY timestamp, id",
            [TransferState.POSTED.value],
        )
        return [transfer_from(r) for r in rows]

    def clear_postings(self) -> None:
        self.conn.execute("DELETE FROM accounting_postings")

    def insert_postings(self, postings: Iterable[Posting]) -> None:
        by_account: dict[tuple[str, str], list[Posting]] = {}
        for posting in postings:
            by_account.setdefault((posting.tenant_id, posting.account_id), []).append(posting)
        rows: list[tuple[Any, ...]] = []
        for (tenant_id, account_id), mine in by_account.items():
            last = self._rows(
                "SELECT n, cum_debits, cum_credits, frontier FROM accounting_postings "
                "WHERE tenant_id = ? AND account_id = ? ORDER BY n DESC LIMIT 1",
                [tenant_id, account_id],
            )
            n, cum_d, cum_c, frontier = (
                (int(last[0][0]), int(last[0][1]), int(last[0][2]), str(last[0][3]))
                if last
                else (0, 0, 0, "")
            )
            for p in mine:
                valid = isoformat(p.valid_at)
                backdated = p.backdated or valid < frontier
                if not backdated:
                    cum_d, cum_c, frontier = cum_d + p.debit, cum_c + p.credit, valid
                n += 1
                rows.append(
                    (
                        tenant_id,
                        account_id,
                        n,
                        p.transfer_id,
                        valid,
                        isoformat(p.recorded_at),
                        p.debit,
                        p.credit,
                        int(backdated),
                        cum_d,
                        cum_c,
                        frontier,
                    )
                )
        marks = ", ".join(["?"] * 12)
        self._many(f"INSERT INTO accounting_postings ({POSTING_COLUMNS}) VALUES ({marks})", rows)

    def _cum_at(self, tenant_id: str, account_id: str, until: str) -> tuple[int, int]:
        found = self._rows(
            "SELECT cum_debits, cum_credits FROM accounting_postings WHERE tenant_id = ? "
            "AND account_id = ? AND backdated = 0 AND valid_at <= ? "
            "ORDER BY valid_at DESC, n DESC LIMIT 1",
            [tenant_id, account_id, until],
        )
        return (int(found[0][0]), int(found[0][1])) if found else (0, 0)

    def _backdated_at(
        self, tenant_id: str, account_id: str, valid: str, recorded: str | None
    ) -> tuple[int, int]:
        sql = (
            "SELECT COALESCE(SUM(debit), 0), COALESCE(SUM(credit), 0) FROM accounting_postings "
            "WHERE tenant_id = ? AND account_id = ? AND backdated = 1 AND valid_at <= ?"
        )
        params: list[Any] = [tenant_id, account_id, valid]
        if recorded is not None:
            sql += " AND recorded_at <= ?"
            params.append(recorded)
        found = self._rows(sql, params)
        return int(found[0][0]), int(found[0][1])

    def valid_totals(
        self, tenant_id: str, account_id: str, valid_at: datetime, recorded_at: datetime
    ) -> tuple[int, int]:
        valid, recorded = isoformat(valid_at), isoformat(recorded_at)
        cum = self._cum_at(tenant_id, account_id, min(valid, recorded))
        late = self._backdated_at(tenant_id, account_id, valid, recorded)
        return cum[0] + late[0], cum[1] + late[1]

    def valid_steps(self, tenant_id: str, account_id: str, start: datetime) -> ValidSteps:
        at = isoformat(start)
        cum = self._cum_at(tenant_id, account_id, at)
        late = self._backdated_at(tenant_id, account_id, at, None)
        # One query per partial index (a plain OR would let the planner pick neither).
        rows = [
            (r[0], int(r[1]), int(r[2]))
            for flag in (0, 1)
            for r in self._rows(
                "SELECT valid_at, debit, credit FROM accounting_postings WHERE tenant_id = ? "
                f"AND account_id = ? AND backdated = {flag} AND valid_at > ?",
                [tenant_id, account_id, at],
            )
        ]
        rows.sort(key=lambda r: r[0])
        steps = [(parse_instant(v), d, c) for v, d, c in rows]
        return ValidSteps(start, cum[0] + late[0], cum[1] + late[1], steps)

    # -- closed periods (balance proofs) ---------------------------------------------------

    def insert_period(self, period: Period, statements: Sequence[PeriodStatement]) -> None:
        self._many(
            "INSERT INTO accounting_periods (tenant_id, period, until, closed_at, root_hash, "
            "sums, accounts) VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    period.tenant_id,
                    period.period,
                    isoformat(period.until),
                    isoformat(period.closed_at),
                    period.root_hash,
                    orjson.dumps(period.sums).decode(),
                    period.accounts,
                )
            ],
        )
        self._many(
            "INSERT INTO accounting_period_statements (tenant_id, period, position, account_id, "
            "ledger, debits, credits, salt) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    s.tenant_id,
                    s.period,
                    s.position,
                    s.account_id,
                    s.ledger,
                    s.debits,
                    s.credits,
                    s.salt,
                )
                for s in statements
            ],
        )

    def get_period(self, tenant_id: str, period: str) -> Period | None:
        rows = self._rows(
            "SELECT tenant_id, period, until, closed_at, root_hash, sums, accounts "
            "FROM accounting_periods WHERE tenant_id = ? AND period = ?",
            [tenant_id, period],
        )
        if not rows:
            return None
        r = rows[0]
        return Period(
            r[0], r[1], parse_instant(r[2]), parse_instant(r[3]), r[4], orjson.loads(r[5]), r[6]
        )

    def period_statements(self, tenant_id: str, period: str) -> list[PeriodStatement]:
        rows = self._rows(
            "SELECT tenant_id, period, position, account_id, ledger, debits, credits, salt "
            "FROM accounting_period_statements WHERE tenant_id = ? AND period = ? "
            "ORDER BY position",
            [tenant_id, period],
        )
        return [
            PeriodStatement(r[0], r[1], int(r[2]), r[3], r[4], int(r[5]), int(r[6]), r[7])
            for r in rows
        ]
