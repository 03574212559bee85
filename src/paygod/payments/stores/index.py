"""The payment index: each payment's newest state, for listings (the review queue).

The ledger is the record; this table is a projection written on the connection the ledger
hands to `transact`, in the same transaction as the payment entry it mirrors, so a listing
never shows a state the ledger does not hold. Memory, and `payment_index` (SQLite or
PostgreSQL).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from paygod.kernel.database import SqliteDatabase, SqlStore
from paygod.payments.model import Payment, PaymentStatus

REVIEW = "review"


def in_review(payment: Payment) -> bool:
    """Waiting for a checker: decided with verdict `review` (PaymentService._reviewable)."""
    verdict = (payment.decision or {}).get("verdict")
    return payment.status is PaymentStatus.DECIDED and verdict == REVIEW


def index_row(payment: Payment) -> tuple[Any, ...]:
    """A payment's row of `payment_index`, in its column order."""
    return (
        payment.payment_id,
        payment.tenant_id,
        payment.status.value,
        1 if in_review(payment) else 0,
        payment.requested_by,
        payment.updated_at,
        orjson.dumps(payment.as_dict()).decode(),
    )


@dataclass(frozen=True)
class PaymentQuery:
    tenant_id: str | None  # None: every tenant (platform admins)
    owner: str | None = None  # scope `own`: only this requester's payments
    status: str | None = None  # a PaymentStatus value, or "review"
    limit: int = 50


class MemoryPaymentIndex:
    def __init__(self) -> None:
        self._rows: dict[str, Payment] = {}
        self._lock = threading.Lock()

    def record(self, conn: Any, payments: Sequence[Payment]) -> None:
        with self._lock:
            for payment in payments:
                self._rows[payment.payment_id] = payment

    def search(self, query: PaymentQuery) -> list[Payment]:
        with self._lock:
            rows = list(self._rows.values())
        found = [
            p
            for p in rows
            if query.tenant_id in (None, p.tenant_id)
            and query.owner in (None, p.requested_by)
            and (
                query.status is None
                or (in_review(p) if query.status == REVIEW else p.status.value == query.status)
            )
        ]
        found.sort(key=lambda p: (p.updated_at, p.payment_id), reverse=True)
        return found[: query.limit]

    def counts(self, tenant_id: str | None) -> dict[str, int]:
        out: dict[str, int] = {}
        with self._lock:
            for p in self._rows.values():
                if tenant_id in (None, p.tenant_id):
                    out[p.status.value] = out.get(p.status.value, 0) + 1
        return out


class SqlPaymentIndex(SqlStore):
    def record(self, conn: Any, payments: Sequence[Payment]) -> None:
        p = self.p
        sql = (
            "INSERT INTO payment_index (payment_id, tenant_id, status, review, requested_by,"
            f" updated_at, payment) VALUES ({p}, {p}, {p}, {p}, {p}, {p}, {p})"
            " ON CONFLICT (payment_id) DO UPDATE SET status = excluded.status,"
            " review = excluded.review, updated_at = excluded.updated_at,"
            " payment = excluded.payment"
        )
        rows = [index_row(x) for x in payments]
        if conn is not None:
            for row in rows:
                conn.execute(sql, row)
            return
        self._run(sql, rows)

    def _run(self, sql: str, rows: list[tuple[Any, ...]]) -> None:
        if isinstance(self.db, SqliteDatabase):
            for row in rows:
                self.db.connection().execute(sql, row)
            return
        with self.db.connection() as own:
            for row in rows:
                own.execute(sql, row)
            own.commit()

    def search(self, query: PaymentQuery) -> list[Payment]:
        clauses: list[str] = []
        params: list[Any] = []
        if query.tenant_id is not None:
            clauses.append(f"tenant_id = {self.p}")
            params.append(query.tenant_id)
        if query.owner is not None:
            clauses.append(f"requested_by = {self.p}")
            params.append(query.owner)
        if query.status == REVIEW:
            clauses.append("review = 1")
        elif query.status is not None:
            clauses.append(f"status = {self.p}")
            params.append(query.status)
        where = " WHERE " + " AND ".join(clauses) if clauses else ""
        found = self._read(
            f"SELECT payment FROM payment_index{where}"
            f" ORDER BY updated_at DESC, payment_id DESC LIMIT {self.p}",
            (*params, query.limit),
        )
        return [Payment.from_dict(orjson.loads(r[0])) for r in found]

    def counts(self, tenant_id: str | None) -> dict[str, int]:
        where, params = (
            ("", ()) if tenant_id is None else (f" WHERE tenant_id = {self.p}", (tenant_id,))
        )
        found = self._read(
            f"SELECT status, COUNT(*) FROM payment_index{where} GROUP BY status", params
        )
        return {str(s): int(c) for s, c in found}
