"""The Regulation Z Appendix J APR: every worked example, the counting rules, bad cases."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from paygod.credit.apr import Position, UnitPeriod, annual_percentage_rate, parse_case, position
from paygod.kernel.errors import InvalidInput
from tests.unit.credit.appendix_j import EXAMPLES, case


@pytest.mark.parametrize(("name", "document", "published"), EXAMPLES, ids=[e[0] for e in EXAMPLES])
def test_appendix_j_worked_examples(name: str, document: dict[str, Any], published: str) -> None:
    result = annual_percentage_rate(parse_case(document))
    exact = result.unit_period_rate * result.unit_periods_per_year * 100
    assert abs(exact - Decimal(published)) < Decimal("0.005"), (name, exact)
    assert result.as_dict() == {"apr": published}


def test_positions_are_counted_back_from_the_payment_date() -> None:
    month = UnitPeriod("month")
    # (c)(1)(ii): 2/10 to 4/1 is one month (back to 3/1) and 19 days.
    assert position(date(1978, 2, 10), date(1978, 4, 1), month, 1) == Position(1, 19, 30)
    # (c)(1)(iv): 5/23 to 10/1 with a quarter: one quarter back to 7/1, then 1 month + 9 days.
    quarter = position(date(1978, 5, 23), date(1978, 10, 1), UnitPeriod("month", 3), 1)
    assert quarter == Position(1, 39, 90)
    # (c)(1)(iii): semimonths are 15 days of 30-day months.
    semi = position(date(1978, 2, 23), date(1978, 4, 16), UnitPeriod("semimonth"), 16)
    assert semi == Position(3, 6, 15)


def test_month_end_series_count_months_from_month_end() -> None:
    # (b)(3)(iv): payments on the last day of each month: Feb 28 back one month is Jan 31.
    at = position(date(1977, 12, 31), date(1978, 2, 28), UnitPeriod("month"), 31)
    assert at == Position(2, 0, 30)
    # A 30th-of-the-month series uses the last day of February.
    at = position(date(1978, 1, 30), date(1978, 2, 28), UnitPeriod("month"), 30)
    assert at == Position(1, 0, 30)
    # Without a series on a later day, Feb 28 is the 28th.
    at = position(date(1978, 1, 30), date(1978, 2, 28), UnitPeriod("month"), 28)
    assert at == Position(0, 29, 30)


def test_year_fractions_are_months_when_whole_else_days() -> None:
    year = UnitPeriod("year")
    assert position(date(2020, 1, 3), date(2021, 7, 3), year, 3) == Position(1, 6, 12)
    at = position(date(2020, 1, 3), date(2021, 7, 13), year, 13)
    assert at == Position(1, (date(2020, 7, 13) - date(2020, 1, 3)).days, 365)


def test_zero_finance_charge_is_zero_apr() -> None:
    document = case(100000, date(2024, 1, 1), "month", [(date(2024, 2, 1), 100000)])
    assert annual_percentage_rate(parse_case(document)).as_dict() == {"apr": "0.00"}


def test_high_cost_short_loans_solve() -> None:
    # A 14-day single-payment loan of 100.00 repaid with 115.00: 15 % a unit of 14 days,
    # 365/14 of them a year = 391.07 %.
    document = case(10000, date(2024, 6, 1), "term", [(date(2024, 6, 15), 11500)])
    assert annual_percentage_rate(parse_case(document)).as_dict() == {"apr": "391.07"}


BAD: list[tuple[Any, str]] = [
    ([], ""),
    ({"advance_date": "2024-01-01", "unit_period": "month", "payments": []}, "/amount_financed"),
    ({**case(0, date(2024, 1, 1), "month", [(date(2024, 2, 1), 1)])}, "/amount_financed"),
    ({**case(True, date(2024, 1, 1), "month", [(date(2024, 2, 1), 1)])}, "/amount_financed"),
    ({**case(100, date(2024, 1, 1), "fortnight", [(date(2024, 2, 1), 101)])}, "/unit_period"),
    (
        {**case(100, date(2024, 1, 1), {"months": 13}, [(date(2024, 2, 1), 101)])},
        "/unit_period/months",
    ),
    ({**case(100, date(2024, 1, 1), {"days": 10}, [(date(2024, 2, 1), 101)])}, "/unit_period/days"),
    ({**case(100, date(2024, 1, 1), "month", [(date(2024, 1, 1), 101)])}, "/payments/0/date"),
    ({**case(100, date(2024, 1, 1), "month", [(date(2024, 2, 1), -5)])}, "/payments/0/amount"),
    ({**case(100, date(2024, 1, 1), "month", [(date(2024, 2, 1), 99)])}, "/payments"),
    (
        {**case(100, date(2024, 1, 1), "term", [(date(2024, 2, 1), 60), (date(2024, 3, 1), 60)])},
        "/unit_period",
    ),
    (
        {
            **case(100, date(2024, 1, 1), "month", [(date(2024, 2, 1), 101)]),
            "advance_date": "2024-13-01",
        },
        "/advance_date",
    ),
    ({**case(100, date(2024, 1, 1), "month", [(date(2024, 2, 1), 101)]), "extra": 1}, "/extra"),
    ({**case(100, date(2024, 1, 1), "day", [(date(2024, 1, 2), 10**15)])}, "/payments"),
]


@pytest.mark.parametrize(("document", "pointer"), BAD)
def test_bad_cases_name_the_field(document: Any, pointer: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        annual_percentage_rate(parse_case(document))
    assert raised.value.errors[0].pointer == pointer


@given(
    advance=st.integers(1_000, 10**9),
    payments=st.integers(1, 360),
    markup=st.floats(0.0001, 3.0),
    unit=st.sampled_from([UnitPeriod("month"), UnitPeriod("day", 7), UnitPeriod("semimonth")]),
)
@settings(max_examples=60, deadline=None)
def test_the_float_first_guess_changes_no_digit_of_the_rate(
    advance: int, payments: int, markup: float, unit: UnitPeriod
) -> None:
    """The float warm start only saves steps: the 50-digit rate is the one found without it."""
    from paygod.credit import apr

    each = max(1, int(advance * (1 + markup) / payments))
    start = date(2026, 1, 15)
    step = 30 if unit.kind == "month" else 14 if unit.kind == "day" else 15
    dated = tuple(
        apr.Payment(date.fromordinal(start.toordinal() + step * (n + 1)), each)
        for n in range(payments)
    )
    found = apr.annual_percentage_rate(apr.AprCase(advance, start, unit, dated))
    with pytest.MonkeyPatch.context() as m:
        m.setattr(apr, "_float_root", lambda *_: None)
        cold = apr.annual_percentage_rate(apr.AprCase(advance, start, unit, dated))
    assert found.apr == cold.apr
    assert abs(found.unit_period_rate - cold.unit_period_rate) < Decimal("1e-25")
