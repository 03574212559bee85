"""Cash operations through the accounting service: every movement is a transfer.

Deposits, withdrawals, vault transfers and over/short postings are transfers owned by the
cash module. A till's cash limit is checked in the same ledger write transaction as the
transfer that would break it (the till's row read there, locked on PostgreSQL), so two
deposits at one till cannot both slip under the limit.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from paygod.accounting.model import Account, AccountCode, AccountFlags, TransferRequest
from paygod.accounting.ports import AccountSession
from paygod.accounting.service import AccountingService, AccountSpec, error_for
from paygod.cash.errors import CashCode, CashTillNotFound
from paygod.cash.model import (
    MODULE,
    Branch,
    Till,
    TillCount,
    over_short_id,
    till_id,
    vault_id,
)
from paygod.kernel.errors import FieldError, InvalidInput, NotFound, Rejected
from paygod.kernel.identifiers import identifier_problem
from paygod.kernel.record_ids import new_id

LIMIT_KEY = "cash_limit"
# The vault and the tills hold cash: they can never pay out more than they hold.
HOLDS_CASH = AccountFlags(credits_must_not_exceed_debits=True)


def _name(value: str, pointer: str) -> str:
    problem = identifier_problem(value) if value.strip() else "must not be empty"
    if problem or len(value) > 48 or "." in value:
        raise InvalidInput(
            f"{pointer.strip('/')} {problem or 'must be at most 48 characters, without dots'}",
            code=CashCode.CASH_NAME_INVALID,
            errors=[FieldError(pointer, problem or "1 to 48 characters, no dots")],
        )
    return value


def _amount(amount: int, pointer: str = "/amount") -> int:
    if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
        raise InvalidInput(
            "amount must be a positive integer of minor units",
            code=CashCode.AMOUNT_MUST_BE_POSITIVE,
            errors=[FieldError(pointer, "a positive integer")],
        )
    return amount


class CashService:
    def __init__(self, accounting: AccountingService) -> None:
        self.accounting = accounting

    # -- set-up -----------------------------------------------------------------------

    def open_branch(self, tenant_id: str, branch: str, ledger: str) -> Branch:
        _name(branch, "/branch")
        self.accounting.open_accounts(
            tenant_id,
            [
                AccountSpec(
                    ledger,
                    AccountCode.ASSET,
                    vault_id(branch),
                    HOLDS_CASH,
                    {"cash": "vault", "branch": branch},
                ),
                AccountSpec(
                    ledger,
                    AccountCode.EXPENSE,
                    over_short_id(branch),
                    AccountFlags(),
                    {"cash": "over_short", "branch": branch},
                ),
            ],
        )
        return self.branch(tenant_id, branch)

    def open_till(self, tenant_id: str, branch: str, till: str, cash_limit: int) -> Till:
        _name(till, "/till")
        _amount(cash_limit, "/cash_limit")
        vault = self._account(tenant_id, vault_id(branch), "branch")
        self.accounting.open_account(
            tenant_id,
            AccountSpec(
                vault.ledger,
                AccountCode.ASSET,
                till_id(branch, till),
                HOLDS_CASH,
                {"cash": "till", "branch": branch, LIMIT_KEY: cash_limit},
            ),
        )
        return self._till(self._account(tenant_id, till_id(branch, till), "till"))

    def branch(self, tenant_id: str, branch: str) -> Branch:
        vault = self._account(tenant_id, vault_id(branch), "branch")
        over_short = self._account(tenant_id, over_short_id(branch), "branch")
        prefix = f"cash.{branch}.till."
        tills = [
            self._till(a)
            for a in self.accounting.list_accounts(tenant_id, after=prefix, limit=1000)
            if a.id.startswith(prefix)
        ]
        return Branch(
            branch,
            vault.ledger,
            vault.id,
            vault.balance,
            over_short.id,
            over_short.balance,
            tuple(tills),
        )

    def _account(self, tenant_id: str, account_id: str, what: str) -> Account:
        try:
            return self.accounting.get_account(tenant_id, account_id)
        except NotFound:
            raise NotFound(
                f"no such cash {what} ({account_id})", code=CashCode(f"cash-{what}-not-found")
            ) from None

    @staticmethod
    def _till(a: Account) -> Till:
        _, branch, _, till = a.id.split(".", 3)
        return Till(branch, till, a.id, a.ledger, int(a.metadata.get(LIMIT_KEY, 0)), a.balance)

    # -- movements --------------------------------------------------------------------

    def deposit(
        self, tenant_id: str, id: str, branch: str, till: str, account_id: str, amount: int
    ) -> dict[str, Any]:
        """Cash in at a till: the till grows, the customer's account is credited."""
        request = self._request(id, till_id(branch, till), account_id, amount, "cash_deposit")
        return self._move(tenant_id, [request], till_id(branch, till), amount)

    def withdraw(
        self, tenant_id: str, id: str, branch: str, till: str, account_id: str, amount: int
    ) -> dict[str, Any]:
        """Cash out at a till: the customer's account is debited (its own limits hold)."""
        request = self._request(id, account_id, till_id(branch, till), amount, "cash_withdrawal")
        return self._move(tenant_id, [request], None, amount)

    def to_vault(
        self, tenant_id: str, id: str, branch: str, till: str, amount: int
    ) -> dict[str, Any]:
        request = self._request(
            id, vault_id(branch), till_id(branch, till), amount, "cash_to_vault"
        )
        return self._move(tenant_id, [request], None, amount)

    def from_vault(
        self, tenant_id: str, id: str, branch: str, till: str, amount: int
    ) -> dict[str, Any]:
        request = self._request(
            id, till_id(branch, till), vault_id(branch), amount, "cash_from_vault"
        )
        return self._move(tenant_id, [request], till_id(branch, till), amount)

    @staticmethod
    def _request(id: str, debit: str, credit: str, amount: int, code: str) -> TransferRequest:
        _amount(amount)
        return TransferRequest(id, debit, credit, amount, code=code, module=MODULE)

    def _move(
        self, tenant_id: str, requests: Sequence[TransferRequest], limited: str | None, amount: int
    ) -> dict[str, Any]:
        def check(session: AccountSession) -> None:
            if limited is not None:
                self._check_limit(session, tenant_id, limited, amount)

        results = self._write(tenant_id, requests, check, extra=None)
        t = results[0].transfer
        assert t is not None
        return {**t.as_dict(), "created": results[0].created}

    def _check_limit(
        self, session: AccountSession, tenant_id: str, account_id: str, amount: int
    ) -> None:
        till = session.get_accounts(tenant_id, [account_id], lock=True).get(account_id)
        if till is None:
            raise CashTillNotFound(f"no such cash till ({account_id})")
        limit = int(till.metadata.get(LIMIT_KEY, 0))
        if till.balance + amount > limit:
            raise Rejected(
                f"till {account_id} would hold {till.balance + amount}, over its cash limit "
                f"{limit}; move cash to the vault first",
                code=CashCode.CASH_LIMIT_EXCEEDED,
                errors=[FieldError("/amount", f"at most {max(limit - till.balance, 0)} now")],
                extra={"cash_limit": limit, "balance": till.balance},
            )

    def _write(
        self,
        tenant_id: str,
        requests: Sequence[TransferRequest],
        check: Callable[[AccountSession], None],
        extra: Any,
    ) -> Any:
        """The transfers (and `extra`, a ledger record) in one ledger transaction, after
        `check` ran in it; an idempotent replay skips the check and writes nothing."""
        accounting = self.accounting

        def work(conn: Any) -> tuple[Any, list[Any]]:
            session = accounting.store.session(conn)
            known = session.get_transfers(tenant_id, [r.id for r in requests])
            if len(known) < len(requests):
                check(session)
            results, drafts = accounting.create_transfers_in(conn, tenant_id, requests)
            for r in results:
                if r.error is not None:
                    raise error_for(r.error)
            if extra is not None:
                drafts.append(accounting.make_draft(**extra))
            return results, drafts

        return accounting.transact_if_any(work)

    # -- end of day -------------------------------------------------------------------

    def count(
        self, tenant_id: str, branch: str, till: str, declared: int, id: str | None = None
    ) -> TillCount:
        """Balance a till against the teller's count: a difference is posted between the
        till and the branch's over/short account, and the count itself is sealed."""
        if isinstance(declared, bool) or not isinstance(declared, int) or declared < 0:
            raise InvalidInput(
                "declared must be a count of minor units, >= 0",
                code=CashCode.DECLARED_INVALID,
                errors=[FieldError("/declared", "an integer >= 0")],
            )
        count_id = id or new_id()
        account_id = till_id(branch, till)

        def work(conn: Any) -> tuple[TillCount, list[Any]]:
            accounting = self.accounting
            session = accounting.store.session(conn)
            earlier = session.get_transfers(tenant_id, [count_id]).get(count_id)
            if earlier is not None:
                m = earlier.metadata
                return TillCount(branch, till, int(m["declared"]), int(m["book"]), count_id), []
            found = session.get_accounts(tenant_id, [account_id], lock=True).get(account_id)
            if found is None:
                raise CashTillNotFound(f"no such cash till ({account_id})")
            book = found.balance
            diff = declared - book
            drafts: list[Any] = []
            transfer_id = None
            if diff:
                over, short = (
                    (account_id, over_short_id(branch)),
                    (over_short_id(branch), account_id),
                )
                debit, credit = over if diff > 0 else short
                request = TransferRequest(
                    count_id,
                    debit,
                    credit,
                    abs(diff),
                    code="cash_over" if diff > 0 else "cash_short",
                    metadata={"declared": declared, "book": book},
                    module=MODULE,
                )
                results, drafts = accounting.create_transfers_in(conn, tenant_id, [request])
                if results[0].error is not None:
                    raise error_for(results[0].error)
                transfer_id = count_id
            counted = TillCount(branch, till, declared, book, transfer_id)
            drafts.append(
                accounting.make_draft(
                    kind="cash_count",
                    subject=f"till:{account_id}",
                    tenant_id=tenant_id,
                    payload={**counted.as_dict(), "count_id": count_id},
                )
            )
            return counted, drafts

        return self.accounting.transact_if_any(work)
