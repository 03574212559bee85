"""Servicing a loan, exactly (`decimal`, minor units): repayment allocation, early
repayment, days past due and late fees. Pure functions over `Loan`; no I/O.

The rules, stated once:

- a repayment pays, in this order: late fees (oldest instalment first); then the
  instalments due by the payment date, oldest first, each its interest then its principal
  (so the oldest instalment is cleared first and days past due move forward);
- what is left is an early repayment: it pays the interest accrued on the balance not yet
  due since the last due date (or the last early repayment) to the payment date, then
  principal. The instalments not yet due are then re-amortised over their own due dates:
  a new level payment (the annuity payment of the new balance over the rows left, at the
  nominal periodic rate, rounded by the loan's rule), each row's interest accrued by the
  day-count convention (the first from the payment date, plus any accrued interest the
  repayment did not cover), the last row absorbing rounding. The term does not change;
- more than the payoff (everything due, the accrued interest, the balance) is refused;
- days past due count from the oldest instalment with interest or principal unpaid after
  its due date; buckets 1–30, 31–60, 61–90, 90+ (`current` at 0);
- an instalment still unpaid more than the product's grace days after its due date is
  charged the product's late fee, once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from typing import Any

from paygod.credit.calendar import DayCount
from paygod.credit.loan import Due, Loan
from paygod.credit.schedule import (
    Frequency,
    Rounding,
    ScheduleTerms,
    accrued_interest,
    level_payment,
)

BUCKETS = ("current", "1-30", "31-60", "61-90", "90+")


class Overpayment(ValueError):
    """More than the loan's payoff on that date."""

    def __init__(self, payoff: int) -> None:
        super().__init__(f"the payoff is {payoff}")
        self.payoff = payoff


@dataclass(frozen=True, slots=True)
class Allocation:
    fees: int
    interest: int  # due interest and accrued interest paid early
    principal: int  # due principal and principal repaid early
    prepaid: int  # the early-repayment part (accrued interest + principal), in the above
    recomputed: bool  # the rows not yet due were re-amortised

    def as_dict(self) -> dict[str, Any]:
        return {
            "fees": self.fees,
            "interest": self.interest,
            "principal": self.principal,
            "early_repayment": self.prepaid,
            "schedule_recomputed": self.recomputed,
        }


def days_past_due(loan: Loan, on: date) -> int:
    oldest = next((d.due_date for d in loan.instalments if d.due_date < on and d.unpaid), None)
    return (on - oldest).days if oldest is not None else 0


def bucket_of(dpd: int) -> str:
    if dpd <= 0:
        return "current"
    if dpd <= 30:
        return "1-30"
    if dpd <= 60:
        return "31-60"
    if dpd <= 90:
        return "61-90"
    return "90+"


def charge_late_fees(loan: Loan, on: date, fee: int, grace_days: int) -> tuple[Loan, int]:
    """The loan with late fees charged on instalments unpaid more than `grace_days` after
    their due date (once each), and the total newly charged."""
    if fee <= 0:
        return loan, 0
    charged = 0
    rows = []
    for d in loan.instalments:
        if d.late_fee == 0 and d.unpaid and (on - d.due_date).days > grace_days:
            d = replace(d, late_fee=fee)
            charged += fee
        rows.append(d)
    return (replace(loan, instalments=tuple(rows)) if charged else loan), charged


def _terms(loan: Loan) -> tuple[Decimal, DayCount, Rounding, Frequency]:
    return (
        Decimal(loan.annual_rate),
        DayCount(loan.day_count),
        Rounding(loan.rounding),
        Frequency(loan.frequency),
    )


def accrued_since_due(loan: Loan, on: date) -> int:
    """Interest accrued on the balance not yet due, from the last due date (or the last
    early repayment) to `on`, with any interest carried from that early repayment."""
    rate, day_count, rounding, _ = _terms(loan)
    past = [d.due_date for d in loan.instalments if d.due_date <= on]
    since = past[-1] if past else loan.start
    carried = 0
    if loan.accrual_from is not None and loan.accrual_from >= since:
        since, carried = loan.accrual_from, loan.carried_interest
    balance = sum(d.principal - d.principal_paid for d in loan.instalments if d.due_date > on)
    if balance == 0 or on <= since:
        return carried if balance else 0
    return carried + rounding.to_minor(accrued_interest(balance, rate, day_count, since, on))


def payoff(loan: Loan, on: date) -> int:
    """What repays the loan in full on `on`."""
    due = sum(d.unpaid for d in loan.instalments if d.due_date <= on)
    ahead = sum(d.principal - d.principal_paid for d in loan.instalments if d.due_date > on)
    return loan.fees_outstanding + due + accrued_since_due(loan, on) + ahead


def allocate(loan: Loan, amount: int, on: date) -> tuple[Loan, Allocation]:
    """Apply `amount` received on `on`: fees → interest → principal, then early repayment."""
    total = payoff(loan, on)
    if amount > total:
        raise Overpayment(total)
    rows = list(loan.instalments)
    left = amount
    fees = interest = principal = 0
    for i, d in enumerate(rows):
        paid = min(left, d.fee_unpaid)
        if paid:  # a row with nothing paid stays the same object (most rows, most days)
            rows[i] = replace(d, late_fee_paid=d.late_fee_paid + paid)
            left, fees = left - paid, fees + paid
    for i, d in enumerate(rows):
        if d.due_date <= on:
            to_interest = min(left, d.interest - d.interest_paid)
            to_principal = min(left - to_interest, d.principal - d.principal_paid)
            rows[i] = replace(
                d,
                interest_paid=d.interest_paid + to_interest,
                principal_paid=d.principal_paid + to_principal,
            )
            left -= to_interest + to_principal
            interest, principal = interest + to_interest, principal + to_principal
    updated = replace(loan, instalments=tuple(rows))
    if left == 0:
        return updated, Allocation(fees, interest, principal, 0, False)
    prepaid = left
    accrued = accrued_since_due(updated, on)
    early_interest = min(left, accrued)
    early_principal = left - early_interest
    ahead = [i for i, d in enumerate(rows) if d.due_date > on]
    balance = sum(rows[i].principal - rows[i].principal_paid for i in ahead)
    remaining = balance - early_principal
    carried = accrued - early_interest
    if remaining == 0:
        fresh = [(rows[i].n, rows[i].due_date, 0, 0) for i in ahead]
    else:
        fresh = reamortize(updated, remaining, on, [rows[i].due_date for i in ahead], carried)
    # What was paid ahead (by this and earlier early repayments) is recorded on the first
    # row not yet due, so the rows still add up to the principal lent and the interest paid.
    for k, i in enumerate(ahead):
        n, due_date, new_interest, new_principal = fresh[k]
        paid_interest = rows[i].interest_paid + early_interest if k == 0 else 0
        paid_principal = rows[i].principal_paid + early_principal if k == 0 else 0
        rows[i] = Due(
            n,
            due_date,
            new_interest + paid_interest,
            new_principal + paid_principal,
            interest_paid=paid_interest,
            principal_paid=paid_principal,
        )
    recomputed = replace(
        updated,
        instalments=tuple(rows),
        accrual_from=on,
        carried_interest=carried if remaining else 0,
    )
    return recomputed, Allocation(
        fees, interest + early_interest, principal + early_principal, prepaid, True
    )


def reamortize(
    loan: Loan, balance: int, start: date, due_dates: Sequence[date], carried: int
) -> list[tuple[int, date, int, int]]:
    """(n, due date, interest, principal) of `balance` re-amortised over `due_dates`,
    interest accruing from `start`; `carried` interest joins the first row."""
    rate, day_count, rounding, frequency = _terms(loan)
    terms = ScheduleTerms(
        balance, loan.currency, rate, len(due_dates), frequency, day_count, start, rounding
    )
    payment = level_payment(terms)
    first_n = len(loan.instalments) - len(due_dates) + 1
    out: list[tuple[int, date, int, int]] = []
    previous = start
    for k, due in enumerate(due_dates):
        if balance == 0:
            out.append((first_n + k, due, 0, 0))
            continue
        interest = rounding.to_minor(accrued_interest(balance, rate, day_count, previous, due))
        if k == 0:
            interest += carried
        final = k == len(due_dates) - 1 or payment >= balance + interest
        principal = balance if final else payment - interest
        balance -= principal
        out.append((first_n + k, due, interest, principal))
        previous = due
    return out
