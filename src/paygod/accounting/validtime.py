"""Valid time: backdated postings and balances on both time axes.

Every posted amount is a `Posting` on one account side with two instants: `valid_at`
(when it takes effect in the books; a backdated transfer's `valid_from`) and `recorded_at`
(when Paygod learnt of it: the transfer's timestamp, sealed in the ledger in that
order). A balance "on 1 March as known on 5 March" sums the postings valid at or before
1 March and recorded at or before 5 March.

A backdated posting changes every balance from its valid instant to now, so the account
limits are checked at each of those instants (`first_breach`), not only on the final
balance: an overdraft that did not exist when the books were kept must not appear in them
afterwards.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from paygod.accounting.model import Transfer, TransferState
from paygod.kernel.clock import isoformat

# A client clock a little ahead of ours is not a future posting: within this skew
# `valid_from` is taken as now; beyond it the transfer is refused.
FUTURE_SKEW = timedelta(seconds=5)


@dataclass(frozen=True, slots=True)
class Posting:
    """One posted amount on one side of one account, on both time axes."""

    tenant_id: str
    account_id: str
    transfer_id: str
    valid_at: datetime
    recorded_at: datetime
    debit: int
    credit: int

    @property
    def backdated(self) -> bool:
        return self.valid_at < self.recorded_at


@dataclass(frozen=True, slots=True)
class ValidSteps:
    """An account's posted totals at `start` (valid time, everything recorded so far) and
    each later change in valid time: (valid_at, debit, credit), oldest first."""

    start: datetime
    debits: int
    credits: int
    steps: Sequence[tuple[datetime, int, int]]


class ValidHistory(Protocol):
    """What the planner needs of the store to check a backdated posting (in the writer's
    transaction, so nothing can slip in between the check and the write)."""

    def valid_steps(self, tenant_id: str, account_id: str, start: datetime) -> ValidSteps: ...


@dataclass(frozen=True, slots=True)
class Breach:
    instant: datetime
    headroom: int  # what the account could still have taken at that instant


def first_breach(
    history: ValidSteps, extra: Iterable[Posting], amount: int, *, debit_side: bool
) -> Breach | None:
    """The first instant from `history.start` on at which taking `amount` more on the
    limited side would leave that side above the other (debits above credits for
    `debit_side`), or None. `extra`: postings of the same batch not yet in the store."""
    later = list(history.steps)
    debits, credits = history.debits, history.credits
    for p in extra:
        if p.valid_at <= history.start:
            debits, credits = debits + p.debit, credits + p.credit
        else:
            later.append((p.valid_at, p.debit, p.credit))
    later.sort(key=lambda s: s[0])

    def headroom() -> int:
        return credits - debits if debit_side else debits - credits

    if headroom() < amount:
        return Breach(history.start, headroom())
    i = 0
    while i < len(later):
        instant = later[i][0]
        # Every change at one instant applies at once: the balance "at t" includes them all.
        while i < len(later) and later[i][0] == instant:
            debits, credits = debits + later[i][1], credits + later[i][2]
            i += 1
        if headroom() < amount:
            return Breach(instant, headroom())
    return None


@dataclass(frozen=True, slots=True)
class ValidBalance:
    """Posted totals at `valid_at` as recorded at `recorded_at` (holds are a present-tense
    notion and are not part of it)."""

    account_id: str
    ledger: str
    valid_at: datetime
    recorded_at: datetime
    debits_posted: int
    credits_posted: int
    balance: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "account_id": self.account_id,
            "ledger": self.ledger,
            "valid_at": isoformat(self.valid_at),
            "recorded_at": isoformat(self.recorded_at),
            "debits_posted": self.debits_posted,
            "credits_posted": self.credits_posted,
            "balance": self.balance,
        }


def brute_force_totals(
    postings: Iterable[Posting], valid_at: datetime, recorded_at: datetime
) -> tuple[int, int]:
    """The definition, by a full scan (the memory store and the test oracle)."""
    debits = credits = 0
    for p in postings:
        if p.valid_at <= valid_at and p.recorded_at <= recorded_at:
            debits += p.debit
            credits += p.credit
    return debits, credits


def brute_force_steps(postings: Iterable[Posting], start: datetime) -> ValidSteps:
    chosen = list(postings)
    debits, credits = brute_force_totals(chosen, start, datetime.max.replace(tzinfo=start.tzinfo))
    steps = sorted(
        ((p.valid_at, p.debit, p.credit) for p in chosen if p.valid_at > start),
        key=lambda s: s[0],
    )
    return ValidSteps(start, debits, credits, steps)


def postings_of(transfer: Transfer) -> tuple[Posting, Posting] | None:
    """The two postings a transfer row stands for, as the write path recorded them: a
    posted amount (a plain transfer or a hold's post) valid from its valid time, recorded
    at its timestamp; a hold itself, a void or a refusal posts nothing."""
    if transfer.state is not TransferState.POSTED or transfer.flags.pending:
        return None
    recorded = transfer.timestamp
    valid = min(transfer.valid_from or recorded, recorded)
    t = transfer
    return (
        Posting(t.tenant_id, t.debit_account_id, t.id, valid, recorded, t.amount, 0),
        Posting(t.tenant_id, t.credit_account_id, t.id, valid, recorded, 0, t.amount),
    )
