"""Level-payment amortisation schedules in exact decimal arithmetic, minor units in the books.

The rules, stated once:

- the first payment falls one period after the start; monthly due dates keep the start's day
  of month, clamped to the month's last day (a loan started on Jan 31 is due Feb 28 or 29,
  Mar 31, Apr 30, ...); bi-weekly and weekly ones fall every 14 and 7 days;
- the level payment is the annuity payment at the nominal periodic rate (annual rate / 12, 26
  or 52), rounded to the currency's minor unit by the stated rounding rule;
- each row's interest is balance × annual rate × (days / year days) by the day-count
  convention between consecutive due dates (the start for the first row), rounded on its own;
- the payment goes to interest first, the rest to principal; the last payment is the balance
  left plus its interest, so the principal repaid equals the principal lent to the minor unit.
  If rounding has repaid the loan early, the row that reaches zero is the final one and any
  rows after it carry zero (the balance never goes below zero).
- interest-only periods (`interest_only` = k, 0 ≤ k < payments): the first k payments are the
  row's interest alone (no principal, the balance unchanged); the level payment is the
  annuity payment over the n − k payments after them, on the whole principal.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Context, Decimal
from enum import StrEnum
from typing import Any

from paygod.accounting.currencies import ASSETS, LEDGERS
from paygod.credit.calendar import DayCount, add_months
from paygod.kernel.errors import FieldError, InvalidInput

# Longer than any consumer or mortgage loan; "a term of 1,000 years" is refused.
MAX_TERM_YEARS = 50
# An annual rate above 1000 % is a mistake, whichever way it was typed.
MAX_ANNUAL_RATE = Decimal(10)
_PRECISION = Context(prec=60)
_RATE = re.compile(r"(?P<number>[0-9]+(?:\.[0-9]+)?)(?P<percent>\s*%)?\Z")
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}\Z")


class Frequency(StrEnum):
    MONTHLY = "monthly"
    BIWEEKLY = "biweekly"
    WEEKLY = "weekly"

    @property
    def periods_per_year(self) -> int:
        return {"monthly": 12, "biweekly": 26, "weekly": 52}[self.value]

    def due_date(self, start: date, n: int) -> date:
        """The n-th due date (n = 1 is one period after `start`)."""
        if self is Frequency.MONTHLY:
            return add_months(start, n)
        return start + timedelta(days=n * (14 if self is Frequency.BIWEEKLY else 7))


class Rounding(StrEnum):
    HALF_EVEN = "half-even"
    HALF_UP = "half-up"

    def to_minor(self, value: Decimal) -> int:
        mode = ROUND_HALF_EVEN if self is Rounding.HALF_EVEN else ROUND_HALF_UP
        return int(value.quantize(Decimal(1), rounding=mode, context=_PRECISION))


@dataclass(frozen=True, slots=True)
class ScheduleTerms:
    """What a schedule is computed from. `annual_rate` is a decimal fraction: 0.0969 is 9.69 %
    (`parse_annual_rate` reads what users type: `9.69%`, `9.69` or `0.0969`)."""

    principal: int
    currency: str
    annual_rate: Decimal
    payments: int
    frequency: Frequency
    day_count: DayCount
    start: date
    rounding: Rounding = Rounding.HALF_EVEN
    # The first `interest_only` payments are the period's interest alone; the principal is
    # then amortised over the payments left.
    interest_only: int = 0

    @property
    def amortising(self) -> int:
        return self.payments - self.interest_only

    @property
    def periodic_rate(self) -> Decimal:
        return _PRECISION.divide(self.annual_rate, Decimal(self.frequency.periods_per_year))


@dataclass(frozen=True, slots=True)
class Instalment:
    n: int
    due_date: date
    payment: int
    interest: int
    principal: int
    balance: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "n": self.n,
            "due_date": self.due_date.isoformat(),
            "payment": self.payment,
            "interest": self.interest,
            "principal": self.principal,
            "balance": self.balance,
        }


@dataclass(frozen=True, slots=True)
class Schedule:
    terms: ScheduleTerms
    level_payment: int
    rows: tuple[Instalment, ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "level_payment": self.level_payment,
            "rows": [row.as_dict() for row in self.rows],
            "totals": {
                "payments": sum(r.payment for r in self.rows),
                "interest": sum(r.interest for r in self.rows),
                "principal": sum(r.principal for r in self.rows),
            },
        }


def level_payment(terms: ScheduleTerms) -> int:
    """The annuity payment P·i / (1 − (1 + i)^−n) at the nominal periodic rate, rounded,
    n the payments that amortise (those after the interest-only ones)."""
    i = terms.periodic_rate
    principal = Decimal(terms.principal)
    if i == 0:
        exact = _PRECISION.divide(principal, Decimal(terms.amortising))
    else:
        growth = _PRECISION.power(_PRECISION.add(Decimal(1), i), terms.amortising)
        exact = _PRECISION.divide(
            _PRECISION.multiply(_PRECISION.multiply(principal, i), growth),
            _PRECISION.subtract(growth, Decimal(1)),
        )
    return terms.rounding.to_minor(exact)


def accrued_interest(
    balance: int, annual_rate: Decimal, day_count: DayCount, start: date, end: date
) -> Decimal:
    """Unrounded interest on `balance` (minor units) from `start` to `end`."""
    days = day_count.days(start, end)
    return _PRECISION.divide(
        _PRECISION.multiply(_PRECISION.multiply(Decimal(balance), annual_rate), Decimal(days)),
        Decimal(day_count.year_days),
    )


def amortize(terms: ScheduleTerms) -> Schedule:
    payment = level_payment(terms)
    rows: list[Instalment] = []
    balance = terms.principal
    previous = terms.start
    for n in range(1, terms.payments + 1):
        due = terms.frequency.due_date(terms.start, n)
        if balance == 0:
            rows.append(Instalment(n, due, 0, 0, 0, 0))
            previous = due
            continue
        interest = terms.rounding.to_minor(
            accrued_interest(balance, terms.annual_rate, terms.day_count, previous, due)
        )
        if n <= terms.interest_only:
            rows.append(Instalment(n, due, interest, interest, 0, balance))
            previous = due
            continue
        final = n == terms.payments or payment >= balance + interest
        principal = balance if final else payment - interest
        balance -= principal
        rows.append(Instalment(n, due, principal + interest, interest, principal, balance))
        previous = due
    return Schedule(terms, payment, tuple(rows))


def _invalid(pointer: str, message: str) -> InvalidInput:
    return InvalidInput(message, errors=[FieldError(pointer, message)])


def parse_iso_date(text: str, pointer: str) -> date:
    if not _ISO_DATE.match(text):
        raise _invalid(pointer, f"{text!r} is not a date in the form YYYY-MM-DD")
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise _invalid(pointer, f"{text!r} is not a calendar date") from None


def parse_annual_rate(text: str, pointer: str = "/annual_rate") -> Decimal:
    """A nominal annual rate as a user types it, as a decimal fraction (0.065 is 6.5 %).

    `6.5%` is a percent. A plain number is read by its size, so both habits give the same
    loan: 1 or more is a percent (`6.5` is 6.5 %), below 1 a fraction (`0.065` is 6.5 %).
    Plain decimal digits only: no sign, exponent, NaN or thousands separator; above
    1000 % is refused as a typing mistake.
    """
    found = _RATE.match(text.strip())
    if found is None:
        what = "negative, not" if text.strip().startswith("-") else "not"
        raise _invalid(
            pointer,
            f"annual rate {text!r} is {what} a non-negative decimal: give a percent "
            "(6.5% or 6.5) or a fraction below 1 (0.065)",
        )
    number = Decimal(found["number"])
    percent = found["percent"] is not None or number >= 1
    rate = number / 100 if percent else number
    if rate > MAX_ANNUAL_RATE:
        raise _invalid(
            pointer,
            f"annual rate {text.strip()} is above 1000 %; give a percent (6.5% or 6.5) "
            "or a fraction below 1 (0.065)",
        )
    return rate


def parse_terms(
    *,
    principal: int,
    currency: str,
    annual_rate: str,
    payments: int,
    frequency: str,
    day_count: str,
    start: str,
    rounding: str = "half-even",
    interest_only: int = 0,
) -> ScheduleTerms:
    """Terms from what a user typed; every refusal names the field (nothing is computed)."""
    if isinstance(principal, bool) or not isinstance(principal, int) or principal <= 0:
        raise _invalid("/principal", "principal must be a positive whole number of minor units")
    if currency not in LEDGERS or currency in ASSETS:
        raise _invalid("/currency", f"{currency!r} is not an ISO 4217 currency code")
    rate = parse_annual_rate(annual_rate)
    try:
        freq = Frequency(frequency)
    except ValueError:
        raise _invalid("/frequency", "frequency must be monthly, biweekly or weekly") from None
    try:
        convention = DayCount(day_count)
    except ValueError:
        raise _invalid("/day_count", "day count must be 30/360 or actual/365") from None
    try:
        mode = Rounding(rounding)
    except ValueError:
        raise _invalid("/rounding", "rounding must be half-even or half-up") from None
    limit = MAX_TERM_YEARS * freq.periods_per_year
    if isinstance(payments, bool) or not isinstance(payments, int) or not 1 <= payments <= limit:
        raise _invalid(
            "/payments",
            f"payments must be between 1 and {limit} ({MAX_TERM_YEARS} years of {freq.value} "
            "payments)",
        )
    if (
        isinstance(interest_only, bool)
        or not isinstance(interest_only, int)
        or not 0 <= interest_only < payments
    ):
        raise _invalid(
            "/interest_only",
            f"interest_only must be a whole number of payments from 0 to {payments - 1} "
            "(at least the last payment repays principal)",
        )
    begin = parse_iso_date(start, "/start")
    try:
        freq.due_date(begin, payments)
    except (OverflowError, ValueError):
        raise _invalid("/start", "the last payment would fall after the year 9999") from None
    return ScheduleTerms(
        principal, currency, rate, payments, freq, convention, begin, mode, interest_only
    )


def principal_repaid(rows: Sequence[Instalment]) -> int:
    return sum(row.principal for row in rows)
