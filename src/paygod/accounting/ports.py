"""The account store port: one session per transaction, the same contract on every adapter."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any, Protocol, TypeVar

from paygod.accounting.model import Account, Period, PeriodStatement, Transfer
from paygod.accounting.validtime import Posting, ValidSteps

R = TypeVar("R")


class AccountSession(Protocol):
    """Reads and writes on one connection; inside `LedgerService.transact` for writes."""

    def get_accounts(
        self, tenant_id: str, ids: Collection[str], *, lock: bool = False
    ) -> dict[str, Account]: ...

    def get_transfers(self, tenant_id: str, ids: Collection[str]) -> dict[str, Transfer]: ...

    def due_pending(self, tenant_id: str | None, now: datetime, limit: int) -> list[Transfer]:
        """Pending transfers whose timeout has passed (all tenants when `tenant_id` is None)."""
        ...

    def list_accounts(
        self,
        tenant_id: str | None,
        *,
        ledger: str | None = None,
        after: str | None = None,
        limit: int = 100,
        owner: str | None = None,
    ) -> list[Account]:
        """`owner`: only the accounts of that principal (scope `own`), filtered in the store."""
        ...

    def account_transfers(
        self, tenant_id: str, account_id: str, *, until: datetime | None = None
    ) -> list[Transfer]:
        """Every transfer touching the account, oldest first, created at or before `until`."""
        ...

    def list_transfers(
        self,
        tenant_id: str,
        *,
        after: str | None = None,
        limit: int = 100,
        owner: str | None = None,
    ) -> list[Transfer]:
        """`owner`: only transfers debiting or crediting one of that principal's accounts."""
        ...

    def insert_accounts(self, accounts: Sequence[Account]) -> None: ...

    def update_accounts(self, accounts: Iterable[Account]) -> None:
        """Write totals, flags and metadata of existing accounts."""
        ...

    def insert_transfers(self, transfers: Iterable[Transfer]) -> None: ...

    def update_transfers(self, transfers: Iterable[Transfer]) -> None:
        """Write state, resolved_at and reversed_amount of existing transfers."""
        ...

    def insert_postings(self, postings: Iterable[Posting]) -> None:
        """Record posted amounts on both time axes (in the order they were decided)."""
        ...

    def posted_transfers(self) -> list[Transfer]:
        """Every posted transfer of every tenant, by (timestamp, id): what the postings
        index is rebuilt from."""
        ...

    def clear_postings(self) -> None:
        """Forget the postings index (before it is rebuilt whole)."""
        ...

    def valid_totals(
        self, tenant_id: str, account_id: str, valid_at: datetime, recorded_at: datetime
    ) -> tuple[int, int]:
        """(debits, credits) posted valid at or before `valid_at`, recorded by `recorded_at`."""
        ...

    def valid_steps(self, tenant_id: str, account_id: str, start: datetime) -> ValidSteps:
        """Totals at `start` in valid time (all recorded) and every later change."""
        ...

    def insert_period(self, period: Period, statements: Sequence[PeriodStatement]) -> None:
        """A closed period and its statements (with their salts), in tree order."""
        ...

    def get_period(self, tenant_id: str, period: str) -> Period | None: ...

    def period_statements(self, tenant_id: str, period: str) -> list[PeriodStatement]:
        """The period's statements in tree order (by position)."""
        ...


class AccountStore(Protocol):
    name: str

    def session(self, conn: Any) -> AccountSession:
        """A session on the ledger's transaction connection (None for the memory ledger)."""
        ...

    def reading(self) -> AbstractContextManager[AccountSession]:
        """A session for reads on a connection of the store's own."""
        ...

    def exclusive(self) -> AbstractContextManager[None]:
        """Held around read-decide-write; SQL stores rely on the ledger's write transaction."""
        ...


def iter_all_accounts(session: AccountSession, tenant_id: str | None) -> Iterator[Account]:
    after: str | None = None
    while True:
        page = session.list_accounts(tenant_id, after=after, limit=1000)
        yield from page
        if len(page) < 1000:
            return
        after = page[-1].id


class LedgerPort(Protocol):
    """What accounting needs of `paygod.ledger.LedgerService`."""

    def transact(self, work: Callable[[Any], tuple[R, Sequence[Any]]]) -> tuple[R, list[Any]]: ...

    def entries(self, after: int = -1, limit: int = 100) -> list[Any]: ...

    def history(self, subject: str, tenant_id: str | None = None) -> list[Any]: ...


# Builds a ledger `EntryDraft` (kind, subject, payload, tenant_id, events); injected by
# the composition root so the domain does not depend on the ledger's construction.
DraftFactory = Callable[..., Any]
