"""The annual percentage rate by the actuarial method of Regulation Z, Appendix J
(12 CFR 1026, Appendix J), for a single advance repaid by a stream of payments.

Appendix J in four steps, each named after its paragraph:

- (b)(2) the term begins on the advance date;
- (b)(4)/(b)(5) each payment lies t full unit-periods plus a fraction f of one after it, the
  unit-periods counted *back* from the payment date: months as calendar months (the
  remaining days over 30), semimonths and multiples of a month as 30-day months plus days
  (over 15 or 30·m), days and weeks as days (over 1 or 7·m), years as 12 months (the
  remainder in months over 12 when it is whole months, otherwise in days over 365); a
  single-payment transaction of less than a year is one unit-period long (12 ÷ months or
  365 ÷ days of them a year) and one of a year or more is counted in years;
- (b)(8) the general equation A = Σ P_j / ((1 + f_j·i)(1 + i)^t_j) is solved for the
  unit-period rate i (safeguarded Newton iteration in `decimal`, 50 digits);
- (b)(1) APR = i × unit-periods per year, given in percent rounded to the nearest hundredth.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Context, Decimal
from typing import Any

from paygod.credit.calendar import add_months, is_month_end
from paygod.credit.schedule import parse_iso_date
from paygod.kernel.errors import FieldError, InvalidInput

MAX_PAYMENTS = 5000
_CTX = Context(prec=50)
_ONE = Decimal(1)
_NAMED_UNITS = ("month", "semimonth", "week", "day", "year", "term")


@dataclass(frozen=True, slots=True)
class UnitPeriod:
    """A standard interval of Appendix J (b)(3)(iii): `kind` is month, semimonth, day, year
    or term; `size` the months (month) or days (day) in one unit-period."""

    kind: str
    size: int = 1


@dataclass(frozen=True, slots=True)
class Payment:
    on: date
    amount: int


@dataclass(frozen=True, slots=True)
class AprCase:
    amount_financed: int
    advance_date: date
    unit_period: UnitPeriod
    payments: tuple[Payment, ...]


@dataclass(frozen=True, slots=True)
class Position:
    """Where a payment lies: t full unit-periods plus the fraction f = rest / span of one
    (kept as the two counts Appendix J names, e.g. 19 days of 30)."""

    t: int
    rest: int = 0
    span: int = 1

    @property
    def f(self) -> Decimal:
        return _CTX.divide(Decimal(self.rest), Decimal(self.span))


@dataclass(frozen=True, slots=True)
class AprResult:
    apr: Decimal  # percent, rounded to the hundredth
    unit_period_rate: Decimal
    unit_periods_per_year: Decimal
    positions: tuple[Position, ...]

    def as_dict(self) -> dict[str, str]:
        return {"apr": f"{self.apr:.2f}"}


# -- (b)(5): counting unit-periods between the advance and a payment --------------------------


def _anchor_day(on: date, intended_day: int) -> int:
    """(b)(3)(iv): a series scheduled for the 29th, 30th or 31st falls on a shorter month's
    last day; months are then counted from the day intended, not from the last day."""
    return intended_day if is_month_end(on) and intended_day > on.day else on.day


def months_back(start: date, end: date, intended_day: int) -> tuple[int, int]:
    """Full months counted back from `end` that do not pass `start`, and the days left."""
    anchor = _anchor_day(end, intended_day)
    months = (end.year - start.year) * 12 + end.month - start.month + 1
    while months > 0:
        back = add_months(date(end.year, end.month, 1), -months, anchor_day=anchor)
        if back >= start:
            return months, (back - start).days
        months -= 1
    return 0, (end - start).days


def position(start: date, end: date, unit: UnitPeriod, intended_day: int) -> Position:
    if unit.kind == "day":
        t, rest = divmod((end - start).days, unit.size)
        return Position(t, rest, unit.size)
    months, days = months_back(start, end, intended_day)
    if unit.kind == "month" and unit.size == 1:
        return Position(months, days, 30)
    if unit.kind == "year":
        years, left = divmod(months, 12)
        if days == 0:
            return Position(years, left, 12)
        anniversary = add_months(date(end.year, end.month, 1), -12 * years, anchor_day=end.day)
        return Position(years, (anniversary - start).days, 365)
    span = 15 if unit.kind == "semimonth" else 30 * unit.size
    t, rest = divmod(30 * months + days, span)
    return Position(t, rest, span)


def unit_periods_per_year(unit: UnitPeriod) -> Decimal:
    if unit.kind == "semimonth":
        return Decimal(24)
    if unit.kind == "month":
        return _CTX.divide(Decimal(12), Decimal(unit.size))
    if unit.kind == "year":
        return _ONE
    if unit.size == 1:
        return Decimal(365)
    return _CTX.divide(Decimal(52), Decimal(unit.size // 7))


def _single_payment_unit(case: AprCase) -> tuple[UnitPeriod, Decimal] | None:
    """(b)(4)(ii), (b)(5)(vi)-(vii): the unit-period of a single advance, single payment
    transaction is its term, at most a year. Returns None when the term is a year or more."""
    (only,) = case.payments
    months, days = months_back(case.advance_date, only.on, only.on.day)
    if months >= 12:
        return None
    if days == 0:
        return UnitPeriod("month", months), _CTX.divide(Decimal(12), Decimal(months))
    span = (only.on - case.advance_date).days
    return UnitPeriod("day", span), _CTX.divide(Decimal(365), Decimal(span))


def layout(case: AprCase) -> tuple[tuple[Position, ...], Decimal]:
    """Every payment's position and the unit-periods in a year."""
    unit = case.unit_period
    if unit.kind == "term":
        single = _single_payment_unit(case)
        if single is not None:
            return (Position(1),), single[1]
        unit = UnitPeriod("year")
    intended = max(p.on.day for p in case.payments)
    positions = tuple(position(case.advance_date, p.on, unit, intended) for p in case.payments)
    return positions, unit_periods_per_year(unit)


# -- (b)(8): the general equation ------------------------------------------------------------


_Term = tuple[Decimal, Decimal, int, Decimal]  # (amount, f, t, t as a Decimal)


def _terms(amounts: Sequence[Decimal], positions: Sequence[Position]) -> list[_Term]:
    """What `_present_value` needs of each payment, which no trial rate changes."""
    return [(a, at.f, at.t, Decimal(at.t)) for a, at in zip(amounts, positions, strict=True)]


def _present_value(i: Decimal, terms: Sequence[_Term]) -> tuple[Decimal, Decimal]:
    """Σ P/((1+f·i)(1+i)^t) and its derivative in i."""
    total = Decimal(0)
    slope = Decimal(0)
    base = _CTX.add(_ONE, i)
    for amount, fraction, t, t_decimal in terms:
        if fraction:
            simple = _CTX.add(_ONE, _CTX.multiply(fraction, i))
            denominator = _CTX.multiply(simple, _CTX.power(base, t))
            weight = _CTX.add(_CTX.divide(fraction, simple), _CTX.divide(t_decimal, base))
        else:  # a whole number of unit-periods (most): the same values, two steps fewer
            denominator = _CTX.power(base, t)
            weight = _CTX.divide(t_decimal, base)
        value = _CTX.divide(amount, denominator)
        total = _CTX.add(total, value)
        slope = _CTX.subtract(slope, _CTX.multiply(value, weight))
    return total, slope


def solve_unit_rate(advance: int, amounts: Sequence[int], positions: Sequence[Position]) -> Decimal:
    """The unit-period rate i ≥ 0 at which the payments' present value equals the advance.
    The present value falls as i grows, so a bracket [low, high] always holds the root;
    Newton steps that leave it are replaced by bisection."""
    target = Decimal(advance)
    terms = _terms([Decimal(a) for a in amounts], positions)
    low, high = Decimal(0), _ONE
    while _present_value(high, terms)[0] > target:
        low, high = high, high * 2
        if high > 10**6:
            raise InvalidInput(
                "the payments imply a unit-period rate above 1,000,000 (100,000,000 %)",
                errors=[FieldError("/payments", "no finite rate equates them with the advance")],
            )
    # The present value is convex and falling in i: Newton from the left of the root climbs
    # to it without overshooting; the bracket only guards against rounding. It starts from
    # the root in binary floating point, where it exists: the 50-digit steps then only
    # polish its last ~16 digits (two or three of them instead of seven or more).
    guess = low
    warm = _float_root(advance, terms)
    if warm is not None and low < warm < high:
        guess = warm
    for _ in range(200):
        value, slope = _present_value(guess, terms)
        error = _CTX.subtract(value, target)
        if error > 0:
            low = guess
        else:
            high = guess
        step = _CTX.divide(error, slope) if slope != 0 else Decimal(0)
        candidate = _CTX.subtract(guess, step)
        if not low < candidate < high:
            candidate = _CTX.divide(_CTX.add(low, high), Decimal(2))
        if abs(candidate - guess) < Decimal("1e-30") or high - low < Decimal("1e-30"):
            return candidate
        guess = candidate
    return guess


def _float_root(advance: int, terms: Sequence[_Term]) -> Decimal | None:
    """The unit-period rate by Newton's method in floats (a first guess only: its result
    is refined in `_CTX`'s 50 digits), or None when floats cannot say (an overflow, a rate
    that does not settle)."""
    payments = [(float(a), float(f), t) for a, f, t, _ in terms]
    target = float(advance)
    rate = 0.0
    try:
        for _ in range(100):
            value = slope = 0.0
            base = 1.0 + rate
            for amount, fraction, t in payments:
                simple = 1.0 + fraction * rate
                present = amount / (simple * base**t)
                value += present
                slope -= present * (fraction / simple + t / base)
            step = (value - target) / slope
            rate -= step
            if abs(step) <= 1e-15 * max(rate, 1.0):
                return Decimal(repr(rate)) if math.isfinite(rate) and rate >= 0 else None
    except (OverflowError, ZeroDivisionError):
        return None
    return None


def annual_percentage_rate(case: AprCase) -> AprResult:
    positions, per_year = layout(case)
    amounts = [p.amount for p in case.payments]
    if sum(amounts) == case.amount_financed:
        rate = Decimal(0)
    else:
        rate = solve_unit_rate(case.amount_financed, amounts, positions)
    apr = _CTX.multiply(_CTX.multiply(rate, per_year), Decimal(100))
    rounded = apr.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP, context=_CTX)
    return AprResult(rounded, rate, per_year, positions)


# -- the case file ---------------------------------------------------------------------------


def _invalid(pointer: str, message: str) -> InvalidInput:
    return InvalidInput(f"invalid APR case: {message}", errors=[FieldError(pointer, message)])


def _minor_units(value: object, pointer: str, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise _invalid(pointer, f"{what} must be a positive whole number of minor units")
    return value


def _date(value: object, pointer: str) -> date:
    if not isinstance(value, str):
        raise _invalid(pointer, "must be a date string YYYY-MM-DD")
    try:
        return parse_iso_date(value, pointer)
    except InvalidInput as exc:
        raise _invalid(pointer, exc.errors[0].message) from None


def parse_unit_period(value: object) -> UnitPeriod:
    pointer = "/unit_period"
    if isinstance(value, str):
        named = {
            "month": UnitPeriod("month"),
            "semimonth": UnitPeriod("semimonth"),
            "week": UnitPeriod("day", 7),
            "day": UnitPeriod("day", 1),
            "year": UnitPeriod("year"),
            "term": UnitPeriod("term"),
        }
        if value in named:
            return named[value]
        raise _invalid(pointer, f"unit period must be one of {', '.join(_NAMED_UNITS)}")
    if isinstance(value, Mapping) and len(value) == 1:
        ((key, count),) = value.items()
        if isinstance(count, int) and not isinstance(count, bool):
            if key == "months" and 1 <= count <= 12:
                return UnitPeriod("year") if count == 12 else UnitPeriod("month", count)
            if key == "days" and (count == 1 or (count % 7 == 0 and 7 <= count <= 364)):
                return UnitPeriod("day", count)
        raise _invalid(
            f"{pointer}/{key}",
            'a unit period is {"months": 1..12} or {"days": 1 or a multiple of 7 up to 364}'
            " (Appendix J's standard intervals)",
        )
    raise _invalid(pointer, 'must be a name or {"months": N} or {"days": N}')


def parse_case(document: object) -> AprCase:
    if not isinstance(document, Mapping):
        raise _invalid("", "must be a JSON object")
    known = {"amount_financed", "advance_date", "unit_period", "payments"}
    for key in document:
        if key not in known:
            raise _invalid(f"/{key}", f"unknown field {key!r}")
    for key in ("amount_financed", "advance_date", "unit_period", "payments"):
        if key not in document:
            raise _invalid(f"/{key}", f"{key} is required")
    financed = _minor_units(document["amount_financed"], "/amount_financed", "amount financed")
    advance = _date(document["advance_date"], "/advance_date")
    unit = parse_unit_period(document["unit_period"])
    raw = document["payments"]
    if not isinstance(raw, list) or not raw:
        raise _invalid("/payments", "payments must be a non-empty list")
    if len(raw) > MAX_PAYMENTS:
        raise _invalid("/payments", f"at most {MAX_PAYMENTS} payments")
    payments = tuple(_payment(item, f"/payments/{n}", advance) for n, item in enumerate(raw))
    if unit.kind == "term" and len(payments) != 1:
        raise _invalid("/unit_period", "the unit period 'term' is for a single payment")
    if sum(p.amount for p in payments) < financed:
        raise _invalid(
            "/payments",
            "the payments total less than the amount financed (a negative finance charge)",
        )
    return AprCase(financed, advance, unit, tuple(sorted(payments, key=lambda p: p.on)))


def _payment(item: Any, pointer: str, advance: date) -> Payment:
    if not isinstance(item, Mapping):
        raise _invalid(pointer, 'a payment is an object {"date", "amount"}')
    for key in item:
        if key not in ("date", "amount"):
            raise _invalid(f"{pointer}/{key}", f"unknown field {key!r}")
    if "date" not in item or "amount" not in item:
        raise _invalid(pointer, "a payment needs a date and an amount")
    on = _date(item["date"], f"{pointer}/date")
    if on <= advance:
        raise _invalid(f"{pointer}/date", "a payment must fall after the advance date")
    return Payment(on, _minor_units(item["amount"], f"{pointer}/amount", "a payment amount"))
