"""Hypothesis state machine: any sequence of operations keeps the books exact.

Invariants after every step: per ledger the debits equal the credits (posted and
pending), no flagged account breaks its flag, the running totals equal the totals
rebuilt from the ledger entries, and retrying an earlier request changes nothing.
"""

from __future__ import annotations

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from paygod.accounting import (
    MAX_AMOUNT,
    AccountCode,
    AccountFlags,
    AccountSpec,
    TransferFlags,
    TransferRequest,
)
from paygod.accounting.model import TransferResult
from paygod.accounting.ports import iter_all_accounts
from paygod.accounting.service import AccountingService
from paygod.kernel.clock import ManualClock
from tests.unit.accounting.support import START, memory_service

ACCOUNTS = {
    "eur-wallet": ("EUR", AccountFlags(debits_must_not_exceed_credits=True)),
    "eur-card": ("EUR", AccountFlags(credits_must_not_exceed_debits=True)),
    "eur-bank": ("EUR", AccountFlags()),
    "eur-fees": ("EUR", AccountFlags()),
    "usd-wallet": ("USD", AccountFlags(debits_must_not_exceed_credits=True)),
    "usd-bank": ("USD", AccountFlags()),
}
account_ids = st.sampled_from(sorted(ACCOUNTS))
amounts = st.one_of(
    st.integers(min_value=1, max_value=500),
    st.sampled_from([0, -1, MAX_AMOUNT, MAX_AMOUNT + 1]),
)


class Books(RuleBasedStateMachine):
    def make_service(self, clock: ManualClock) -> AccountingService:
        return memory_service(clock)

    def __init__(self) -> None:
        super().__init__()
        self.clock = ManualClock(START)
        self.service = self.make_service(self.clock)
        self.counter = 0
        self.done: list[tuple[TransferRequest, ...]] = []  # batches that succeeded, to retry
        self.holds: list[str] = []
        self.posted: list[str] = []

    @initialize()
    def open_accounts(self) -> None:
        self.service.open_accounts(
            "t",
            [
                AccountSpec(ledger, AccountCode.LIABILITY, id=name, flags=flags)
                for name, (ledger, flags) in ACCOUNTS.items()
            ],
        )

    def _next_id(self) -> str:
        self.counter += 1
        return f"t{self.counter}"

    def _submit(self, *requests: TransferRequest) -> list[TransferResult]:
        results = self.service.create_transfers("t", list(requests))
        if all(res.created for res in results):
            self.done.append(requests)
        for res in results:
            if res.created and res.transfer is not None:
                if res.transfer.flags.pending:
                    self.holds.append(res.transfer.id)
                elif not res.transfer.flags.void_pending:
                    self.posted.append(res.transfer.id)
        return results

    @rule(
        debit=account_ids,
        credit=account_ids,
        amount=amounts,
        pending=st.booleans(),
        timeout=st.sampled_from([0, 0, 5, 60]),
    )
    def transfer(self, debit: str, credit: str, amount: int, pending: bool, timeout: int) -> None:
        self._submit(
            TransferRequest(
                self._next_id(),
                debit,
                credit,
                amount,
                flags=TransferFlags(pending=pending),
                timeout_seconds=timeout if pending else 0,
            )
        )

    @rule(amount=st.integers(1, 300), ledger=st.sampled_from(["eur", "usd"]))
    def fund_wallet(self, amount: int, ledger: str) -> None:
        self._submit(TransferRequest(self._next_id(), f"{ledger}-bank", f"{ledger}-wallet", amount))

    @rule(amount=st.integers(1, 300), pending=st.booleans(), timeout=st.sampled_from([0, 5]))
    def spend_from_wallet(self, amount: int, pending: bool, timeout: int) -> None:
        self._submit(
            TransferRequest(
                self._next_id(),
                "eur-wallet",
                "eur-bank",
                amount,
                flags=TransferFlags(pending=pending),
                timeout_seconds=timeout if pending else 0,
            )
        )

    @rule(data=st.data(), amount=st.one_of(st.none(), st.integers(1, 600)), void=st.booleans())
    def resolve(self, data: st.DataObject, amount: int | None, void: bool) -> None:
        if not self.holds:
            return
        pending_id = data.draw(st.sampled_from(self.holds))
        flags = TransferFlags(void_pending=void, post_pending=not void)
        self._submit(
            TransferRequest(
                self._next_id(), amount=None if void else amount, flags=flags, pending_id=pending_id
            )
        )

    @rule(first=account_ids, second=account_ids, amount=amounts)
    def linked_pair(self, first: str, second: str, amount: int) -> None:
        link = TransferFlags(linked=True)
        self._submit(
            TransferRequest(self._next_id(), first, second, amount, flags=link),
            TransferRequest(self._next_id(), second, "eur-fees", 1),
        )

    @rule(data=st.data(), amount=st.integers(1, 300))
    def reverse(self, data: st.DataObject, amount: int) -> None:
        if not self.posted:
            return
        original = self.service.get_transfer("t", data.draw(st.sampled_from(self.posted)))
        self._submit(
            TransferRequest(
                self._next_id(),
                original.credit_account_id,
                original.debit_account_id,
                amount,
                reversal_of=original.id,
            )
        )

    @rule(seconds=st.sampled_from([1, 10, 100]))
    def time_passes(self, seconds: int) -> None:
        self.clock.advance(seconds)
        self.service.expire_pending()

    @rule(data=st.data())
    def retry(self, data: st.DataObject) -> None:
        if not self.done:
            return
        batch = data.draw(st.sampled_from(self.done))
        before = self._totals()
        entries = len(self.service.ledger.entries(limit=10**6))
        results = self.service.create_transfers("t", list(batch))
        assert all(r.ok and not r.created for r in results)
        assert self._totals() == before
        assert len(self.service.ledger.entries(limit=10**6)) == entries

    def _totals(self) -> dict[str, tuple[int, int, int, int]]:
        with self.service.store.reading() as session:
            return {
                a.id: (a.debits_posted, a.credits_posted, a.debits_pending, a.credits_pending)
                for a in iter_all_accounts(session, "t")
            }

    @invariant()
    def books_balance(self) -> None:
        sums: dict[str, list[int]] = {}
        with self.service.store.reading() as session:
            accounts = list(iter_all_accounts(session, "t"))
        for a in accounts:
            s = sums.setdefault(a.ledger, [0, 0, 0, 0])
            s[0] += a.debits_posted
            s[1] += a.credits_posted
            s[2] += a.debits_pending
            s[3] += a.credits_pending
            assert min(a.debits_posted, a.credits_posted, a.debits_pending, a.credits_pending) >= 0
            if a.flags.debits_must_not_exceed_credits:
                assert a.debits_posted + a.debits_pending <= a.credits_posted
            if a.flags.credits_must_not_exceed_debits:
                assert a.credits_posted + a.credits_pending <= a.debits_posted
        for s in sums.values():
            assert s[0] == s[1] and s[2] == s[3]

    @invariant()
    def running_totals_match_the_ledger(self) -> None:
        report = self.service.rebuild_check("t")
        assert report.ok, report.mismatches


TestBooks = Books.TestCase
TestBooks.settings = settings(
    max_examples=60,
    stateful_step_count=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
