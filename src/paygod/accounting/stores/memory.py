"""The in-memory account store, for tests and the memory ledger."""

from __future__ import annotations

import threading
from collections.abc import Collection, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from paygod.accounting.errors import AccountingCode, PeriodClosed
from paygod.accounting.model import Account, Period, PeriodStatement, Transfer, TransferState
from paygod.accounting.validtime import (
    Posting,
    ValidSteps,
    brute_force_steps,
    brute_force_totals,
)
from paygod.kernel.errors import Conflict


class MemoryAccountSession:
    def __init__(self, store: MemoryAccountStore) -> None:
        self.store = store

    def get_accounts(
        self, tenant_id: str, ids: Collection[str], *, lock: bool = False
    ) -> dict[str, Account]:
        found = (self.store.accounts.get((tenant_id, i)) for i in ids)
        return {a.id: a for a in found if a is not None}

    def get_transfers(self, tenant_id: str, ids: Collection[str]) -> dict[str, Transfer]:
        found = (self.store.transfers.get((tenant_id, i)) for i in ids)
        return {t.id: t for t in found if t is not None}

    def due_pending(self, tenant_id: str | None, now: datetime, limit: int) -> list[Transfer]:
        due = [
            t
            for t in self.store.transfers.values()
            if t.state is TransferState.PENDING
            and t.expires_at is not None
            and t.expires_at <= now
            and (tenant_id is None or t.tenant_id == tenant_id)
        ]
        return sorted(due, key=lambda t: (t.expires_at or now, t.id))[:limit]

    def list_accounts(
        self,
        tenant_id: str | None,
        *,
        ledger: str | None = None,
        after: str | None = None,
        limit: int = 100,
        owner: str | None = None,
    ) -> list[Account]:
        chosen = sorted(
            (
                a
                for a in self.store.accounts.values()
                if (tenant_id is None or a.tenant_id == tenant_id)
                and (ledger is None or a.ledger == ledger)
                and (after is None or a.id > after)
                and (owner is None or a.owner == owner)
            ),
            key=lambda a: (a.id, a.tenant_id),
        )
        return chosen[:limit]

    def account_transfers(
        self, tenant_id: str, account_id: str, *, until: datetime | None = None
    ) -> list[Transfer]:
        chosen = [
            t
            for t in self.store.transfers.values()
            if t.tenant_id == tenant_id
            and account_id in (t.debit_account_id, t.credit_account_id)
            and (until is None or t.timestamp <= until)
        ]
        return sorted(chosen, key=lambda t: (t.timestamp, t.id))

    def list_transfers(
        self,
        tenant_id: str,
        *,
        after: str | None = None,
        limit: int = 100,
        owner: str | None = None,
    ) -> list[Transfer]:
        accounts = self.store.accounts
        owned = {a.id for a in accounts.values() if a.tenant_id == tenant_id and a.owner == owner}
        chosen = sorted(
            (
                t
                for t in self.store.transfers.values()
                if t.tenant_id == tenant_id
                and (after is None or t.id > after)
                and (owner is None or {t.debit_account_id, t.credit_account_id} & owned)
            ),
            key=lambda t: t.id,
        )
        return chosen[:limit]

    def insert_accounts(self, accounts: Sequence[Account]) -> None:
        for a in accounts:
            if (a.tenant_id, a.id) in self.store.accounts:
                raise Conflict(f"account {a.id} already exists", code=AccountingCode.ACCOUNT_EXISTS)
        for a in accounts:
            self.store.accounts[(a.tenant_id, a.id)] = a

    def update_accounts(self, accounts: Iterable[Account]) -> None:
        for a in accounts:
            self.store.accounts[(a.tenant_id, a.id)] = a

    def insert_transfers(self, transfers: Iterable[Transfer]) -> None:
        for t in transfers:
            self.store.transfers[(t.tenant_id, t.id)] = t

    def update_transfers(self, transfers: Iterable[Transfer]) -> None:
        for t in transfers:
            self.store.transfers[(t.tenant_id, t.id)] = t

    def posted_transfers(self) -> list[Transfer]:
        posted = [t for t in self.store.transfers.values() if t.state is TransferState.POSTED]
        return sorted(posted, key=lambda t: (t.timestamp, t.id))

    def clear_postings(self) -> None:
        self.store.postings.clear()

    def insert_postings(self, postings: Iterable[Posting]) -> None:
        for p in postings:
            self.store.postings.setdefault((p.tenant_id, p.account_id), []).append(p)

    def valid_totals(
        self, tenant_id: str, account_id: str, valid_at: datetime, recorded_at: datetime
    ) -> tuple[int, int]:
        mine = self.store.postings.get((tenant_id, account_id), [])
        return brute_force_totals(mine, valid_at, recorded_at)

    def valid_steps(self, tenant_id: str, account_id: str, start: datetime) -> ValidSteps:
        return brute_force_steps(self.store.postings.get((tenant_id, account_id), []), start)

    def insert_period(self, period: Period, statements: Sequence[PeriodStatement]) -> None:
        key = (period.tenant_id, period.period)
        if key in self.store.periods:
            raise PeriodClosed(f"period {period.period} is already closed")
        self.store.periods[key] = (period, list(statements))

    def get_period(self, tenant_id: str, period: str) -> Period | None:
        found = self.store.periods.get((tenant_id, period))
        return found[0] if found else None

    def period_statements(self, tenant_id: str, period: str) -> list[PeriodStatement]:
        found = self.store.periods.get((tenant_id, period))
        return sorted(found[1], key=lambda s: s.position) if found else []


class MemoryAccountStore:
    name = "memory"

    def __init__(self) -> None:
        self.accounts: dict[tuple[str, str], Account] = {}
        self.transfers: dict[tuple[str, str], Transfer] = {}
        self.postings: dict[tuple[str, str], list[Posting]] = {}
        self.periods: dict[tuple[str, str], tuple[Period, list[PeriodStatement]]] = {}
        self._lock = threading.RLock()

    def session(self, conn: Any) -> MemoryAccountSession:
        return MemoryAccountSession(self)

    @contextmanager
    def reading(self) -> Iterator[MemoryAccountSession]:
        with self._lock:
            yield MemoryAccountSession(self)

    @contextmanager
    def exclusive(self) -> Iterator[None]:
        with self._lock:
            yield
