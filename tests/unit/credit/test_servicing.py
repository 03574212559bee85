"""Servicing a loan: allocation order, early repayment re-amortised exactly, days past due,
late fees — the rules of `paygod.credit.servicing`, as examples and as properties."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from paygod.credit.calendar import DayCount
from paygod.credit.loan import Due, Loan, LoanStatus
from paygod.credit.schedule import amortize, parse_terms
from paygod.credit.servicing import (
    Overpayment,
    accrued_since_due,
    allocate,
    bucket_of,
    charge_late_fees,
    days_past_due,
    payoff,
)

START = date(2026, 1, 5)


def make_loan(
    principal: int = 1_000_000,
    rate: str = "0.0699",
    payments: int = 12,
    frequency: str = "monthly",
    day_count: str = "30/360",
) -> Loan:
    terms = parse_terms(
        principal=principal,
        currency="USD",
        annual_rate=rate,
        payments=payments,
        frequency=frequency,
        day_count=day_count,
        start=START.isoformat(),
    )
    rows = amortize(terms).rows
    return Loan(
        loan_id="L1",
        tenant_id="t",
        borrower="p",
        applicant_ref="urn:applicant:x",
        product_id="personal-term-loan",
        grade="A",
        currency="USD",
        principal=principal,
        origination_fee=0,
        annual_rate=str(terms.annual_rate),
        frequency=frequency,
        day_count=day_count,
        rounding="half-even",
        start=START,
        status=LoanStatus.ACTIVE,
        disbursed_at="2026-01-05T00:00:00Z",
        updated_at="2026-01-05T00:00:00Z",
        wallet_account="w",
        receivable_account="r",
        fees_account="f",
        contract_digest="sha256:x",
        instalments=tuple(Due(r.n, r.due_date, r.interest, r.principal) for r in rows),
    )


def _owed(loan: Loan) -> int:
    return sum(d.unpaid + d.fee_unpaid for d in loan.instalments)


def test_a_level_payment_on_its_due_date_pays_that_instalment_and_changes_nothing_else() -> None:
    loan = make_loan()
    first = loan.instalments[0]
    paid, allocation = allocate(loan, first.interest + first.principal, first.due_date)
    assert allocation.as_dict() == {
        "fees": 0,
        "interest": first.interest,
        "principal": first.principal,
        "early_repayment": 0,
        "schedule_recomputed": False,
    }
    assert paid.instalments[0].unpaid == 0 and paid.instalments[1:] == loan.instalments[1:]


def test_fees_then_interest_then_principal() -> None:
    loan = make_loan()
    late = loan.instalments[0].due_date + timedelta(days=15)
    charged, _ = charge_late_fees(loan, late, 2_500, 10)
    assert charged.instalments[0].late_fee == 2_500 and charged.instalments[1].late_fee == 0
    interest = loan.instalments[0].interest
    paid, allocation = allocate(charged, 2_500 + interest + 100, late)
    assert (allocation.fees, allocation.interest, allocation.principal) == (2_500, interest, 100)
    assert paid.instalments[0].principal_paid == 100
    # Only a part: the fee first, nothing to interest yet.
    partial, first = allocate(charged, 1_000, late)
    assert (first.fees, first.interest, first.principal) == (1_000, 0, 0)
    assert partial.instalments[0].late_fee_paid == 1_000


def test_late_fees_are_charged_once_after_the_grace() -> None:
    loan = make_loan()
    due = loan.instalments[0].due_date
    assert charge_late_fees(loan, due + timedelta(days=10), 2_500, 10)[1] == 0
    charged, total = charge_late_fees(loan, due + timedelta(days=11), 2_500, 10)
    assert total == 2_500
    assert charge_late_fees(charged, due + timedelta(days=12), 2_500, 10)[1] == 0


@pytest.mark.parametrize(
    ("dpd", "bucket"),
    [(0, "current"), (1, "1-30"), (30, "1-30"), (31, "31-60"), (60, "31-60"),
     (61, "61-90"), (90, "61-90"), (91, "90+"), (400, "90+")],
)  # fmt: skip
def test_buckets(dpd: int, bucket: str) -> None:
    assert bucket_of(dpd) == bucket


def test_days_past_due_count_from_the_oldest_unpaid_instalment() -> None:
    loan = make_loan()
    first = loan.instalments[0].due_date
    assert days_past_due(loan, first) == 0
    assert days_past_due(loan, first + timedelta(days=1)) == 1
    assert days_past_due(loan, first + timedelta(days=95)) == 95
    row = loan.instalments[0]
    paid, _ = allocate(loan, row.interest + row.principal, first + timedelta(days=40))
    second = loan.instalments[1].due_date
    assert days_past_due(paid, first + timedelta(days=40)) == (first + timedelta(40) - second).days


def test_early_repayment_pays_accrued_interest_then_principal_and_reamortises() -> None:
    loan = make_loan()
    on = date(2026, 1, 20)  # 15 days into the first period, 30/360
    accrued = accrued_since_due(loan, on)
    assert accrued == round(Fraction(1_000_000) * Fraction("0.0699") * 15 / 360)
    paid, allocation = allocate(loan, 400_000, on)
    assert allocation.interest == accrued and allocation.principal == 400_000 - accrued
    assert allocation.prepaid == 400_000 and allocation.recomputed
    remaining = 1_000_000 - (400_000 - accrued)
    assert paid.principal_outstanding == remaining
    assert sum(d.principal for d in paid.instalments) == 1_000_000
    assert paid.instalments[-1].due_date == loan.instalments[-1].due_date  # the term stays
    # The first row's interest accrues on the new balance from the repayment date.
    first = paid.instalments[0]
    fresh = first.interest - first.interest_paid
    assert fresh == round(Fraction(remaining) * Fraction("0.0699") * 15 / 360)
    # The new level payment is below the old one.
    assert paid.instalments[2].interest + paid.instalments[2].principal < (
        loan.instalments[2].interest + loan.instalments[2].principal
    )


def test_payoff_repays_in_full_and_more_is_refused() -> None:
    loan = make_loan()
    on = date(2026, 3, 17)  # after two due dates, nothing paid
    total = payoff(loan, on)
    with pytest.raises(Overpayment) as over:
        allocate(loan, total + 1, on)
    assert over.value.payoff == total
    paid, _ = allocate(loan, total, on)
    assert paid.principal_outstanding == 0 and _owed(paid) == 0
    assert payoff(paid, on) == 0


@settings(max_examples=150, deadline=None)
@given(
    principal=st.integers(10_000, 10**8),
    rate=st.decimals(min_value=0, max_value=Decimal("0.4"), places=4),
    payments=st.integers(2, 60),
    day_count=st.sampled_from([d.value for d in DayCount]),
    frequency=st.sampled_from(["monthly", "biweekly", "weekly"]),
    steps=st.lists(st.tuples(st.integers(0, 70), st.integers(1, 10**8)), max_size=8),
)
def test_any_repayments_keep_the_books_exact(
    principal: int,
    rate: Decimal,
    payments: int,
    day_count: str,
    frequency: str,
    steps: list[tuple[int, int]],
) -> None:
    """Whatever is paid whenever: the rows add up to the principal lent, nothing paid
    exceeds what a row asks, no balance goes negative, every cent is allocated, and the
    payoff always closes the loan."""
    loan = make_loan(principal, str(rate), payments, frequency, day_count)
    on = START
    for days, amount in steps:
        on = on + timedelta(days=days)
        before = payoff(loan, on)
        amount = min(amount, before)
        if amount == 0:
            break
        loan, allocation = allocate(loan, amount, on)
        assert allocation.fees + allocation.interest + allocation.principal == amount
        assert sum(d.principal for d in loan.instalments) == principal
        for d in loan.instalments:
            assert 0 <= d.interest_paid <= d.interest and 0 <= d.principal_paid <= d.principal
        assert loan.principal_outstanding >= 0
        assert payoff(loan, on) <= before - amount + 0  # never owes more for having paid
    final = payoff(loan, on)
    if final:
        closed, _ = allocate(loan, final, on)
        assert closed.principal_outstanding == 0 and payoff(closed, on) == 0
