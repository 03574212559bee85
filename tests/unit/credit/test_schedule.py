"""Level-payment schedules: known figures, the stated rules as properties, bad terms."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction
from math import floor

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from paygod.credit.calendar import DayCount, add_months, days_30_360
from paygod.credit.schedule import (
    Frequency,
    Rounding,
    amortize,
    level_payment,
    parse_annual_rate,
    parse_terms,
)
from paygod.kernel.errors import InvalidInput


def _terms(**overrides: object):  # type: ignore[no-untyped-def]
    values: dict[str, object] = {
        "principal": 10_000_000,
        "currency": "USD",
        "annual_rate": "0.06",
        "payments": 360,
        "frequency": "monthly",
        "day_count": "30/360",
        "start": "2025-01-15",
    }
    values.update(overrides)
    return parse_terms(**values)  # type: ignore[arg-type]


def test_a_thirty_year_mortgage_at_six_percent_pays_599_55() -> None:
    schedule = amortize(_terms())
    assert schedule.level_payment == 59955
    first = schedule.rows[0]
    assert (first.due_date, first.interest, first.principal) == (date(2025, 2, 15), 50000, 9955)
    data = schedule.as_dict()
    assert data["totals"]["principal"] == 10_000_000
    assert data["rows"][-1]["balance"] == 0
    assert len(data["rows"]) == 360


def test_yen_and_dinar_use_their_minor_units() -> None:
    yen = amortize(_terms(principal=1_000_000, currency="JPY", payments=12))
    # 1,000,000 yen at 0.5 % a month over 12 months: 86,066.4 yen, whole yen.
    assert yen.level_payment == 86066
    dinar = amortize(_terms(principal=1_000_000, currency="KWD", payments=12))
    assert dinar.level_payment == 86066  # the same minor units, 1,000.000 KWD


def test_rounding_rule_decides_halves() -> None:
    # 1 minor unit borrowed over 2 payments at 0 %: the level payment is exactly 0.5.
    even = amortize(_terms(principal=1, payments=2, annual_rate="0"))
    up = amortize(_terms(principal=1, payments=2, annual_rate="0", rounding="half-up"))
    assert (even.level_payment, up.level_payment) == (0, 1)
    assert [r.payment for r in even.rows] == [0, 1]
    assert [r.payment for r in up.rows] == [1, 0]  # repaid at the first instalment


def test_monthly_due_dates_keep_the_start_day_clamped() -> None:
    rows = amortize(_terms(start="2024-01-31", payments=4)).rows
    assert [r.due_date for r in rows] == [
        date(2024, 2, 29),
        date(2024, 3, 31),
        date(2024, 4, 30),
        date(2024, 5, 31),
    ]
    weekly = amortize(_terms(start="2024-01-31", payments=2, frequency="weekly")).rows
    assert [r.due_date for r in weekly] == [date(2024, 2, 7), date(2024, 2, 14)]
    biweekly = amortize(_terms(start="2024-01-31", payments=1, frequency="biweekly")).rows
    assert biweekly[0].due_date == date(2024, 2, 14)


def test_thirty_360_counts_every_month_as_thirty_days() -> None:
    assert days_30_360(date(2024, 1, 15), date(2024, 2, 15)) == 30
    assert days_30_360(date(2024, 1, 31), date(2024, 3, 31)) == 60
    assert days_30_360(date(2023, 2, 28), date(2023, 3, 31)) == 30  # end of February is day 30
    assert days_30_360(date(2024, 1, 31), date(2024, 2, 29)) == 29
    assert days_30_360(date(2024, 1, 1), date(2025, 1, 1)) == 360


def _due(freq: Frequency, start: date, n: int) -> date:
    if freq is Frequency.MONTHLY:
        return add_months(start, n)
    return start + timedelta(days=n * (14 if freq is Frequency.BIWEEKLY else 7))


def _round(value: Fraction, rounding: Rounding) -> int:
    if rounding is Rounding.HALF_EVEN:
        return round(value)
    return floor(value + Fraction(1, 2)) if value >= 0 else -floor(-value + Fraction(1, 2))


@settings(max_examples=300, deadline=None)
@given(
    principal=st.integers(1, 10**10),
    rate=st.decimals(min_value=0, max_value=Decimal("0.6"), places=4),
    frequency=st.sampled_from(list(Frequency)),
    day_count=st.sampled_from(list(DayCount)),
    rounding=st.sampled_from(list(Rounding)),
    start=st.dates(date(1990, 1, 1), date(2060, 12, 31)),
    data=st.data(),
)
def test_schedule_properties(
    principal: int,
    rate: Decimal,
    frequency: Frequency,
    day_count: DayCount,
    rounding: Rounding,
    start: date,
    data: st.DataObject,
) -> None:
    payments = data.draw(st.integers(1, min(600, 30 * frequency.periods_per_year)))
    interest_only = data.draw(st.one_of(st.just(0), st.integers(0, payments - 1)))
    terms = parse_terms(
        principal=principal,
        currency="EUR",
        annual_rate=str(rate),
        payments=payments,
        frequency=frequency.value,
        day_count=day_count.value,
        start=start.isoformat(),
        rounding=rounding.value,
        interest_only=interest_only,
    )
    schedule = amortize(terms)
    # The level payment is the annuity payment at the nominal periodic rate, rounded, over
    # the payments after the interest-only ones.
    i = Fraction(rate) / frequency.periods_per_year
    n = payments - interest_only
    exact = Fraction(principal, n) if i == 0 else principal * i * (1 + i) ** n / ((1 + i) ** n - 1)
    assert schedule.level_payment == _round(exact, rounding)
    balance = principal
    previous = start
    for row in schedule.rows:
        assert row.due_date == _due(frequency, start, row.n)
        days = day_count.days(previous, row.due_date)
        expected = _round(Fraction(balance) * Fraction(rate) * days / day_count.year_days, rounding)
        assert row.interest == (expected if balance else 0)
        assert row.payment == row.interest + row.principal
        if row.n <= interest_only:
            assert (row.principal, row.balance) == (0, principal)
        balance -= row.principal
        assert row.balance == balance >= 0
        if interest_only < row.n < payments and balance:
            assert row.payment == schedule.level_payment
        previous = row.due_date
    assert sum(r.principal for r in schedule.rows) == principal
    assert schedule.rows[-1].balance == 0
    totals = schedule.as_dict()["totals"]
    assert totals["payments"] == totals["interest"] + totals["principal"]


@pytest.mark.parametrize(
    ("override", "pointer"),
    [
        ({"principal": 0}, "/principal"),
        ({"principal": -100}, "/principal"),
        ({"currency": "XXX"}, "/currency"),
        ({"currency": "CREDITS"}, "/currency"),
        ({"currency": "usd"}, "/currency"),
        ({"annual_rate": "-0.05"}, "/annual_rate"),
        ({"annual_rate": "NaN"}, "/annual_rate"),
        ({"annual_rate": "1e-2"}, "/annual_rate"),
        ({"annual_rate": "1000.5"}, "/annual_rate"),
        ({"annual_rate": "1001%"}, "/annual_rate"),
        ({"annual_rate": "-6.5%"}, "/annual_rate"),
        ({"annual_rate": "6.5%%"}, "/annual_rate"),
        ({"annual_rate": "%"}, "/annual_rate"),
        ({"annual_rate": ""}, "/annual_rate"),
        ({"payments": 0}, "/payments"),
        ({"payments": 12_000}, "/payments"),
        ({"payments": 601}, "/payments"),
        ({"frequency": "daily"}, "/frequency"),
        ({"day_count": "actual/360"}, "/day_count"),
        ({"rounding": "down"}, "/rounding"),
        ({"start": "2025-02-30"}, "/start"),
        ({"start": "20250115"}, "/start"),
        ({"start": "9999-12-01"}, "/start"),
        ({"interest_only": 360}, "/interest_only"),
        ({"interest_only": -1}, "/interest_only"),
        ({"interest_only": True}, "/interest_only"),
        ({"interest_only": "12"}, "/interest_only"),
    ],
)
def test_bad_terms_are_refused_with_the_field(override: dict[str, object], pointer: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        _terms(**override)
    assert raised.value.errors[0].pointer == pointer


def test_ten_interest_only_years_then_twenty_amortising() -> None:
    """100,000.00 at 6 % (30/360): 120 payments of the month's interest, 500.00, then the
    20-year annuity payment on the whole principal, 716.43 (P·i / (1 − (1 + i)^−240))."""
    schedule = amortize(_terms(interest_only=120))
    assert schedule.level_payment == 71643
    assert {(r.payment, r.interest, r.principal, r.balance) for r in schedule.rows[:120]} == {
        (50000, 50000, 0, 10_000_000)
    }
    assert schedule.rows[120].payment == 71643 and schedule.rows[120].principal == 21643
    assert sum(r.principal for r in schedule.rows) == 10_000_000
    assert schedule.rows[-1].balance == 0


def test_level_payment_at_zero_rate_is_principal_over_payments() -> None:
    assert level_payment(_terms(principal=1200, payments=12, annual_rate="0")) == 100


@pytest.mark.parametrize(
    ("typed", "fraction"),
    [
        ("6.5%", "0.065"),
        ("6.5 %", "0.065"),
        ("6.5", "0.065"),
        ("0.065", "0.065"),
        ("1", "0.01"),
        ("0.99", "0.99"),
        ("0", "0"),
        ("0%", "0"),
        ("1000%", "10"),
        ("1000", "10"),
        ("0.0969", "0.0969"),
    ],
)
def test_a_rate_reads_as_a_percent_or_a_fraction_by_its_form(typed: str, fraction: str) -> None:
    assert parse_annual_rate(typed) == Decimal(fraction)


def test_percent_and_fraction_forms_give_the_same_schedule() -> None:
    forms = [amortize(_terms(annual_rate=rate)).as_dict() for rate in ("6%", "6", "0.06")]
    assert forms[0] == forms[1] == forms[2]
    assert forms[0] != amortize(_terms(annual_rate="0.6")).as_dict()  # 60 %, not 0.6 %
