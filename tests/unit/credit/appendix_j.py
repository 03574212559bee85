"""Regulation Z Appendix J (12 CFR 1026), section (c): the worked examples of the actuarial
method, as APR cases. Amounts, unit-periods, the positions (t, f) of the payments and the
published rates are the Appendix's; where the Appendix states the dates they are used, and the
skipped-payment examples of (c)(6) are laid on dates that reproduce its (t, f) exactly."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from paygod.credit.calendar import add_months


def _monthly(first: date, count: int, step: int = 1) -> list[date]:
    return [add_months(first, k * step) for k in range(count)]


def _every(first: date, count: int, days: int) -> list[date]:
    return [first + timedelta(days=k * days) for k in range(count)]


def _semimonthly(first: date, count: int) -> list[date]:
    dates: list[date] = []
    month = first
    while len(dates) < count:
        dates += [month, month.replace(day=16)]
        month = add_months(month, 1)
    return dates[:count]


def case(amount: int, advance: date, unit: Any, payments: list[tuple[date, int]]) -> dict[str, Any]:
    return {
        "amount_financed": amount,
        "advance_date": advance.isoformat(),
        "unit_period": unit,
        "payments": [{"date": d.isoformat(), "amount": a} for d, a in payments],
    }


def _pick(
    dates: list[date], first: int, regular: int, last: int | None = None
) -> list[tuple[date, int]]:
    out = [(d, regular) for d in dates]
    out[0] = (dates[0], first)
    if last is not None:
        out[-1] = (dates[-1], last)
    return out


D = date
_c6i_advance = D(1978, 1, 2)
_c6i_offsets = (
    [26 + 28 * k for k in range(9)]
    + [10 * 28 + 12 + 28 * k for k in range(6)]
    + [16 * 28 + 26 + 28 * k for k in range(6)]
    + [23 * 28 + 12 + 28 * k for k in range(3)]
)

# (name, case, published APR)
EXAMPLES: list[tuple[str, dict[str, Any], str]] = [
    (
        "(c)(1)(i) monthly, regular first period",
        case(500000, D(1978, 1, 10), "month", [(d, 23000) for d in _monthly(D(1978, 2, 10), 24)]),
        "9.69",
    ),
    (
        "(c)(1)(ii) monthly, long first period",
        case(600000, D(1978, 2, 10), "month", [(d, 20000) for d in _monthly(D(1978, 4, 1), 36)]),
        "11.82",
    ),
    (
        "(c)(1)(iii) semimonthly, short first period",
        case(
            500000,
            D(1978, 2, 23),
            "semimonth",
            [(d, 21917) for d in _semimonthly(D(1978, 3, 1), 24)],
        ),
        "10.34",
    ),
    (
        "(c)(1)(iv) quarterly, long first period",
        case(
            1000000,
            D(1978, 5, 23),
            {"months": 3},
            [(d, 38500) for d in _monthly(D(1978, 10, 1), 40, 3)],
        ),
        "8.97",
    ),
    (
        "(c)(1)(v) weekly, long first period",
        case(50000, D(1978, 3, 20), "week", [(d, 1760) for d in _every(D(1978, 4, 21), 30, 7)]),
        "14.96",
    ),
    (
        "(c)(2)(i) monthly, irregular first payment",
        case(500000, D(1978, 1, 10), "month", _pick(_monthly(D(1978, 2, 10), 24), 25000, 23000)),
        "10.08",
    ),
    (
        "(c)(2)(ii) every 4 weeks, long first period, irregular first payment",
        case(
            40000, D(1978, 3, 18), {"days": 28}, _pick(_every(D(1978, 4, 20), 12, 28), 3950, 3831)
        ),
        "28.50",
    ),
    (
        "(c)(3)(i) monthly, irregular final payment",
        case(
            500000,
            D(1978, 1, 10),
            "month",
            _pick(_monthly(D(1978, 2, 10), 24), 23000, 23000, 28000),
        ),
        "10.50",
    ),
    (
        "(c)(3)(ii) every 2 weeks, short first period, irregular final payment",
        case(
            20000,
            D(1978, 4, 3),
            {"days": 14},
            _pick(_every(D(1978, 4, 11), 20, 14), 950, 950, 3000),
        ),
        "12.22",
    ),
    (
        "(c)(4)(i) monthly, irregular first and final payments",
        case(
            500000,
            D(1978, 1, 10),
            "month",
            _pick(_monthly(D(1978, 2, 10), 24), 25000, 23000, 28000),
        ),
        "10.90",
    ),
    (
        "(c)(4)(ii) every 2 months, short first period, irregular first and final payments",
        case(
            800000,
            D(1978, 1, 10),
            {"months": 2},
            _pick(_monthly(D(1978, 3, 1), 20, 2), 44936, 46500, 20000),
        ),
        "7.30",
    ),
    (
        "(c)(5)(i) single payment, term of 255 days",
        case(100000, D(1978, 1, 3), "term", [(D(1978, 9, 15), 108000)]),
        "11.45",
    ),
    (
        "(c)(5)(ii) single payment, term of 6 months",
        case(100000, D(1978, 7, 15), "term", [(D(1979, 1, 15), 104400)]),
        "8.80",
    ),
    (
        "(c)(5)(iii) single payment, term of 18 months",
        case(100000, D(1978, 1, 3), "term", [(D(1979, 7, 3), 113519)]),
        "8.76",
    ),
    (
        "(c)(5)(iv) single payment, term of 2 years",
        case(100000, D(1978, 1, 3), "term", [(D(1980, 1, 3), 124000)]),
        "11.36",
    ),
    (
        "(c)(6)(i) skipped payments, every 4 weeks",
        case(
            213500,
            _c6i_advance,
            {"days": 28},
            [(_c6i_advance + timedelta(days=o), 10000) for o in _c6i_offsets],
        ),
        "12.00",
    ),
    (
        "(c)(6)(ii) skipped payments and single payments, monthly",
        case(
            735000,
            D(1978, 1, 20),
            "month",
            [
                (D(1978, 8, 1), 100000),
                (D(1978, 9, 1), 100000),
                (D(1978, 10, 1), 100000),
                (D(1979, 2, 1), 200000),
                (D(1979, 8, 1), 75000),
                (D(1979, 9, 1), 75000),
                (D(1979, 10, 1), 75000),
                (D(1979, 12, 18), 100000),
            ],
        ),
        "10.22",
    ),
]
