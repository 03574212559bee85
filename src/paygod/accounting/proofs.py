"""Balance proofs: each period's statements in a Merkle sum tree whose root is sealed.

Closing a period takes every account's posted totals at the period's end (valid time,
as recorded at the close), gives each statement a random salt, shuffles them and builds
a Merkle sum tree (`paygod.ledger.balance_verifier` defines the hashing, so the server and
the standalone verifier cannot disagree). The root hash and its per-currency sums are
sealed in the ledger as a `balance_period` entry; the statements (with their salts) are
kept so any one of them can be proved later against a signed tree head.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from paygod.accounting.errors import AccountingCode, AccountNotFound, PeriodInvalid, PeriodNotFound
from paygod.accounting.model import Period, PeriodStatement
from paygod.accounting.ports import AccountSession, AccountStore, iter_all_accounts
from paygod.kernel.clock import Clock, isoformat
from paygod.kernel.errors import Conflict, FieldError, InvalidInput, NotFound
from paygod.kernel.identifiers import identifier_problem
from paygod.ledger.balance_verifier import (
    FORMAT,
    Sums,
    add_sums,
    node,
    statement_leaf,
    statement_sums,
    sums_json,
)

KIND = "balance_period"


class SealingLedger(Protocol):
    """What balance proofs need of `paygod.ledger.LedgerService`."""

    def transact(
        self, work: Callable[[Any], tuple[Any, Sequence[Any]]]
    ) -> tuple[Any, list[Any]]: ...

    def history(self, subject: str, tenant_id: str | None = None) -> list[Any]: ...

    def tenant_head(self, seq: int) -> Any: ...

    def inclusion_proof(self, seq: int, tree_size: int | None = None) -> Any: ...


Node = tuple[bytes, Sums]


def _tree_root(nodes: Sequence[Node]) -> Node:
    """RFC 9162's shape (split at the largest power of two below n), sum-carrying nodes."""
    if len(nodes) == 1:
        return nodes[0]
    k = 1 << ((len(nodes) - 1).bit_length() - 1)
    left, right = _tree_root(nodes[:k]), _tree_root(nodes[k:])
    return node(left[0], left[1], right[0], right[1]), add_sums(left[1], right[1])


def _tree_path(nodes: Sequence[Node], index: int) -> list[dict[str, Any]]:
    """Siblings from the leaf up: {side, hash, sums}."""
    if len(nodes) == 1:
        return []
    k = 1 << ((len(nodes) - 1).bit_length() - 1)
    if index < k:
        sibling = _tree_root(nodes[k:])
        path = _tree_path(nodes[:k], index)
        side = "right"
    else:
        sibling = _tree_root(nodes[:k])
        path = _tree_path(nodes[k:], index - k)
        side = "left"
    return [*path, {"side": side, "hash": sibling[0].hex(), "sums": sums_json(sibling[1])}]


def _leaf(s: PeriodStatement) -> Node:
    body = s.as_dict()
    return statement_leaf(body), statement_sums(body)


def month_period(now: datetime) -> tuple[str, datetime]:
    """The last whole calendar month before `now` (UTC): its label and its end."""
    end = now.astimezone(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    start = (end - timedelta(days=1)).replace(day=1)
    return start.strftime("%Y-%m"), end


def day_period(now: datetime) -> tuple[str, datetime]:
    end = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return (end - timedelta(days=1)).strftime("%Y-%m-%d"), end


class BalanceProofs:
    def __init__(
        self,
        store: AccountStore,
        ledger: SealingLedger,
        clock: Clock,
        make_draft: Callable[..., Any],
        schedule: str = "off",
    ) -> None:
        self.store = store
        self.ledger = ledger
        self.clock = clock
        self.make_draft = make_draft
        self.schedule = schedule  # off | day | month: which periods close on their own

    def close_period(
        self, tenant_id: str, period: str, until: datetime | None = None
    ) -> tuple[Period, bool]:
        """Seal the statements of every account of the tenant at `until` (default now):
        (period, closed now). Idempotent by period: a closed period answers as sealed."""
        problem = identifier_problem(period) if period.strip() else "must not be empty"
        if problem or len(period) > 64:
            raise PeriodInvalid(
                f"period {problem or 'is longer than 64 characters'}",
                errors=[FieldError("/period", problem or "at most 64 characters")],
            )
        now = self.clock.now()
        end = until or now
        if end > now:
            raise InvalidInput(
                f"period {period} ends at {isoformat(end)}, after now: it is not over",
                code=AccountingCode.PERIOD_NOT_OVER,
                errors=[FieldError("/until", "must not be in the future")],
            )

        def work(conn: Any) -> tuple[Period, list[Any]]:
            with self.store.exclusive():
                session = self.store.session(conn)
                sealed = session.get_period(tenant_id, period)
                if sealed is not None:
                    raise _AlreadyClosed(sealed)
                statements = self._statements(session, tenant_id, period, end, now)
                if not statements:
                    raise Conflict(
                        f"tenant {tenant_id} has no accounts to state",
                        code=AccountingCode.PERIOD_EMPTY,
                    )
                root = _tree_root([_leaf(s) for s in statements])
                sealed = Period(
                    tenant_id, period, end, now, root[0].hex(), sums_json(root[1]), len(statements)
                )
                session.insert_period(sealed, statements)
            payload = {
                "period": period,
                "until": isoformat(end),
                "root_hash": sealed.root_hash,
                "sums": sealed.sums,
                "accounts": sealed.accounts,
            }
            draft = self.make_draft(
                kind=KIND, subject=f"period:{period}", payload=payload, tenant_id=tenant_id
            )
            return sealed, [draft]

        try:
            result, _ = self.ledger.transact(work)
        except _AlreadyClosed as closed:
            return closed.period, False
        except Exception:
            # Two closers of one period (two workers, a retried request) on PostgreSQL: the
            # loser's insert hits the primary key. The winner's period is the answer.
            with self.store.reading() as session:
                won = session.get_period(tenant_id, period)
            if won is None:
                raise
            return won, False
        assert isinstance(result, Period)
        return result, True

    def _statements(
        self, session: AccountSession, tenant_id: str, period: str, end: datetime, now: datetime
    ) -> list[PeriodStatement]:
        rows = []
        for account in iter_all_accounts(session, tenant_id):
            if account.created_at > end:
                continue
            debits, credits = session.valid_totals(tenant_id, account.id, end, now)
            rows.append((account.id, account.ledger, debits, credits))
        # Shuffled: a leaf's neighbour in the tree says nothing about which account it is.
        secrets.SystemRandom().shuffle(rows)
        return [
            PeriodStatement(tenant_id, period, i, a, ledger, d, c, secrets.token_hex(16))
            for i, (a, ledger, d, c) in enumerate(rows)
        ]

    def get_period(self, tenant_id: str, period: str) -> Period:
        with self.store.reading() as session:
            found = session.get_period(tenant_id, period)
        if found is None:
            raise PeriodNotFound(f"period {period} is not closed")
        return found

    def prove(
        self, tenant_id: str, account_id: str, period: str, owner: str | None = None
    ) -> dict[str, Any]:
        """The proof document `balance_verifier.py` checks (see its docstring)."""
        with self.store.reading() as session:
            account = session.get_accounts(tenant_id, [account_id]).get(account_id)
            if account is None or (owner is not None and account.owner != owner):
                raise AccountNotFound(f"account {account_id} not found")
            sealed = session.get_period(tenant_id, period)
            if sealed is None:
                raise PeriodNotFound(f"period {period} is not closed")
            statements = session.period_statements(tenant_id, period)
        mine = next((s for s in statements if s.account_id == account_id), None)
        if mine is None:
            raise NotFound(
                f"account {account_id} was opened after period {period}",
                code=AccountingCode.STATEMENT_NOT_FOUND,
            )
        leaves = [_leaf(s) for s in statements]
        entry = next(
            e
            for e in reversed(self.ledger.history(f"period:{period}", tenant_id))
            if e.kind == KIND
        )
        head = self.ledger.tenant_head(entry.seq)
        inclusion = self.ledger.inclusion_proof(entry.seq, head.tree_size)
        return {
            "format": FORMAT,
            "statement": mine.as_dict(),
            "path": _tree_path(leaves, mine.position),
            "root": {"hash": sealed.root_hash, "sums": sealed.sums},
            "period_entry": entry.to_interchange(),
            "inclusion": inclusion.as_dict(),
            "tree_head": head.as_dict(),
        }

    def close_due(self, now: datetime | None = None) -> list[str]:
        """Close the last whole period (per the schedule) for every tenant with accounts;
        the housekeeping task runs this, and a closed period is left as it is."""
        if self.schedule not in ("day", "month"):
            return []
        instant = now or self.clock.now()
        label, end = (month_period if self.schedule == "month" else day_period)(instant)
        closed = []
        for tenant_id in self._tenants():
            with self.store.reading() as session:
                if session.get_period(tenant_id, label) is not None:
                    continue
            try:
                self.close_period(tenant_id, label, end)
            except Conflict as empty:  # every account opened after the period: nothing to state
                if empty.instance_code != AccountingCode.PERIOD_EMPTY:
                    raise
                continue
            closed.append(f"{tenant_id}/{label}")
        return closed

    def _tenants(self) -> Iterator[str]:
        seen: set[str] = set()
        with self.store.reading() as session:
            accounts = list(iter_all_accounts(session, None))
        for a in accounts:
            if a.tenant_id not in seen:
                seen.add(a.tenant_id)
                yield a.tenant_id


class _AlreadyClosed(Exception):
    def __init__(self, period: Period) -> None:
        super().__init__("period already closed")
        self.period = period
