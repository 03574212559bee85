"""A revolving credit line: interest accrued per period between balance changes, draws within
the limit, repayments interest first, closing at zero — the rules of `paygod.credit.line`."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from paygod.credit.line import (
    BackdatedMove,
    BalanceOutstanding,
    CreditLimitExceeded,
    CreditLine,
    CreditLineClosed,
    LineOverpayment,
    LineStatus,
)

OPENED = date(2026, 1, 5)


def make_line(limit: int = 1_000_000, rate: str = "0.1999") -> CreditLine:
    return CreditLine(
        line_id="app-1",
        tenant_id="t1",
        borrower="alice",
        applicant_ref="ref-1",
        product_id="revolving-credit-line",
        grade="B",
        currency="USD",
        credit_limit=limit,
        annual_rate=rate,
        status=LineStatus.OPEN,
        opened_at="2026-01-05T00:00:00Z",
        updated_at="2026-01-05T00:00:00Z",
        accrual_from=OPENED,
    )


def half_even(value: Fraction) -> int:
    """The reference rounding, computed apart from the code under test (exact fractions)."""
    exact = Decimal(value.numerator) / Decimal(value.denominator)
    return int(exact.quantize(Decimal(1), rounding=ROUND_HALF_EVEN))


def test_interest_is_daily_simple_on_the_balance_actual_365() -> None:
    line = make_line(rate="0.1999").draw(100_000, OPENED, "t", {"move_id": "d1"})
    # 100,000 × 0.1999 × 30 / 365 = 1,643.01… → 1,643
    assert line.interest_to(OPENED + timedelta(days=30)) == 1_643
    assert line.interest_to(OPENED) == 0


def test_interest_is_rounded_once_per_period_between_balance_changes() -> None:
    line = make_line(rate="0.10").draw(36_500, OPENED, "t", {})
    # 36,500 × 0.10 × 1 / 365 = 10 a day; a second draw closes the first period at 10 × 5.
    line = line.draw(1, OPENED + timedelta(days=5), "t", {})
    assert line.accrued_interest == 50
    # 36,501 × 0.10 × 3 / 365 = 30.0008… → 30, added to the closed period's 50.
    assert line.interest_to(OPENED + timedelta(days=8)) == 80


def test_a_draw_over_the_available_credit_is_refused_and_changes_nothing() -> None:
    line = make_line(limit=50_000).draw(30_000, OPENED, "t", {})
    with pytest.raises(CreditLimitExceeded):
        line.draw(20_001, OPENED + timedelta(days=1), "t", {})
    assert line.principal_balance == 30_000 and line.available_credit == 20_000
    assert line.draw(20_000, OPENED, "t", {}).available_credit == 0


def test_a_repayment_pays_interest_first_then_principal() -> None:
    line = make_line(rate="0.10").draw(36_500, OPENED, "t", {})
    later = OPENED + timedelta(days=10)  # 100 of interest
    paid, interest, principal = line.repay(150, later, "t", {"move_id": "r1"})
    assert (interest, principal) == (100, 50)
    assert paid.principal_balance == 36_450 and paid.accrued_interest == 0
    short, interest, principal = line.repay(60, later, "t", {})
    assert (interest, principal) == (60, 0)
    assert short.accrued_interest == 40 and short.principal_balance == 36_500
    assert short.move("r1") is None and paid.move("r1") is not None


def test_more_than_is_owed_is_refused() -> None:
    line = make_line(rate="0.10").draw(36_500, OPENED, "t", {})
    later = OPENED + timedelta(days=10)
    assert line.owed(later) == 36_600
    with pytest.raises(LineOverpayment):
        line.repay(36_601, later, "t", {})
    paid, _, _ = line.repay(36_600, later, "t", {})
    assert paid.owed(later) == 0 and paid.owed(later + timedelta(days=300)) == 0


def test_a_line_closes_only_at_zero_and_then_takes_nothing() -> None:
    line = make_line(rate="0.10").draw(36_500, OPENED, "t", {})
    later = OPENED + timedelta(days=1)
    with pytest.raises(BalanceOutstanding):
        line.close(later, "t")
    paid, _, principal = line.repay(36_500, later, "t", {})
    assert principal == 36_490
    with pytest.raises(BalanceOutstanding):  # 10 of interest still owed
        paid.close(later, "t")
    cleared, _, _ = paid.repay(10, later, "t", {})
    closed = cleared.close(later, "t")
    assert closed.status is LineStatus.CLOSED
    with pytest.raises(CreditLineClosed):
        closed.draw(1, later, "t", {})
    with pytest.raises(CreditLineClosed):
        closed.repay(1, later, "t", {})


def test_a_move_before_the_last_change_is_refused() -> None:
    line = make_line().draw(1_000, OPENED + timedelta(days=3), "t", {})
    with pytest.raises(BackdatedMove):
        line.draw(1_000, OPENED + timedelta(days=2), "t", {})


def test_the_minimum_payment() -> None:
    line = make_line(rate="0.10")
    assert line.minimum_payment(OPENED) == 0  # nothing owed
    small = line.draw(1_000, OPENED, "t", {})
    assert small.minimum_payment(OPENED) == 1_000  # the 25.00 floor, capped by what is owed
    big = line.draw(730_000, OPENED, "t", {})
    later = OPENED + timedelta(days=10)  # 2,000 of interest; 1 % of the balance is 7,300
    assert big.minimum_payment(later) == 9_300
    assert line.draw(100_000, OPENED, "t", {}).minimum_payment(OPENED) == 2_500


def test_the_line_survives_its_stored_form() -> None:
    line = make_line().draw(10_000, OPENED, "t", {"move_id": "d1"})
    assert CreditLine.from_dict(line.as_dict()) == line


MOVES = st.lists(
    st.tuples(
        st.integers(min_value=0, max_value=60),  # days after the previous move
        st.booleans(),  # draw (True) or repay
        st.integers(min_value=1, max_value=400_000),
    ),
    max_size=25,
)


@settings(max_examples=200, deadline=None)
@given(
    moves=MOVES,
    rate=st.decimals(min_value=Decimal("0"), max_value=Decimal("0.36"), places=4),
    limit=st.integers(min_value=1, max_value=2_000_000),
)
def test_interest_is_the_sum_of_each_period_rounded(
    moves: list[tuple[int, bool, int]], rate: Decimal, limit: int
) -> None:
    line = make_line(limit=limit, rate=str(rate))
    on = OPENED
    expected_interest = 0  # the reference: each period's interest, rounded, unpaid
    balance = 0
    since = OPENED
    for days, is_draw, amount in moves:
        on = on + timedelta(days=days)
        period = half_even(Fraction(balance) * Fraction(rate) * (on - since).days / 365)
        owed_interest = expected_interest + period
        if is_draw:
            if amount > limit - balance:
                with pytest.raises(CreditLimitExceeded):
                    line.draw(amount, on, "t", {})
                continue
            line = line.draw(amount, on, "t", {})
            balance += amount
            expected_interest = owed_interest
        else:
            if amount > balance + owed_interest:
                with pytest.raises(LineOverpayment):
                    line.repay(amount, on, "t", {})
                continue
            line, interest, principal = line.repay(amount, on, "t", {})
            assert interest == min(amount, owed_interest)
            assert interest + principal == amount
            balance -= principal
            expected_interest = owed_interest - interest
        since = on
        assert line.principal_balance == balance >= 0
        assert line.accrued_interest == expected_interest >= 0
        assert 0 <= line.available_credit <= limit
        # The books: the receivable is the principal balance drawn less principal repaid.
        drawn = sum(m["amount"] for m in line.history if m["kind"] == "draw")
        repaid = sum(m["principal"] for m in line.history if m["kind"] == "repayment")
        assert drawn - repaid == line.principal_balance
    end = on + timedelta(days=31)
    tail = half_even(Fraction(balance) * Fraction(rate) * (end - since).days / 365)
    assert line.interest_to(end) == expected_interest + tail


def test_a_line_offer_caps_the_limit_and_discloses_the_nominal_rate_as_apr() -> None:
    from datetime import UTC, datetime

    from paygod.credit.offers import make_line_offer
    from paygod.credit.products import CATALOG

    product = CATALOG["revolving-credit-line"]
    assert product.kind == "credit_line" and product.origination_fee_rate == 0
    now = datetime(2026, 1, 5, 12, tzinfo=UTC)
    offer = make_line_offer(product, "D", amount=1_000_000, currency="USD", now=now)
    assert offer["credit_limit"] == product.limits_by_grade["D"] == 250_000
    assert offer["annual_rate"] == "0.2799"
    assert offer["disclosure"]["annual_percentage_rate"] == "27.99"
    assert "schedule" not in offer and "total_of_payments" not in offer["disclosure"]
    within = make_line_offer(product, "A", amount=100_000, currency="USD", now=now)
    assert within["credit_limit"] == 100_000


def test_a_line_application_ignores_payments_and_a_loan_still_needs_them() -> None:
    from paygod.credit.service import parse_application
    from paygod.kernel.errors import InvalidInput

    body = {
        "product_id": "revolving-credit-line",
        "applicant_ref": "urn:applicant:prime",
        "amount": 100_000,
        "currency": "USD",
        "monthly_income": 500_000,
    }
    assert parse_application(body)[1]["payments"] == 12
    assert parse_application({**body, "payments": 60})[1]["payments"] == 12
    with pytest.raises(InvalidInput) as bad:
        parse_application({**body, "payments": "sixty"})
    assert bad.value.errors[0].pointer == "/payments"
    loan = {**body, "product_id": "personal-term-loan"}
    with pytest.raises(InvalidInput):
        parse_application(loan)  # a term loan's payments are required
