"""An offer: the schedule at the grade's rate, and its Truth in Lending disclosure."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from paygod.credit.apr import AprCase, Payment, UnitPeriod, annual_percentage_rate
from paygod.credit.errors import CreditCode
from paygod.credit.products import Product
from paygod.credit.schedule import Frequency, Rounding, ScheduleTerms, amortize
from paygod.kernel.clock import isoformat
from paygod.kernel.errors import FieldError, Rejected

UNITS = {
    Frequency.MONTHLY: UnitPeriod("month"),
    Frequency.BIWEEKLY: UnitPeriod("day", 14),
    Frequency.WEEKLY: UnitPeriod("day", 7),
}


def make_offer(
    product: Product, grade: str, *, amount: int, currency: str, payments: int, now: datetime
) -> dict[str, Any]:
    rate = product.rates[grade]
    if rate > product.rate_cap:
        raise Rejected(
            f"the grade {grade} rate {rate} is above the product's cap {product.rate_cap}",
            code=CreditCode.RATE_ABOVE_CAP,
            errors=[FieldError("/product_id", "rate table above the cap")],
        )
    start = now.date()
    terms = ScheduleTerms(
        amount,
        currency,
        rate,
        payments,
        product.frequency,
        product.day_count,
        start,
        Rounding.HALF_EVEN,
    )
    schedule = amortize(terms)
    fee = int(
        (Decimal(amount) * product.origination_fee_rate).quantize(Decimal(1), ROUND_HALF_EVEN)
    )
    financed = amount - fee
    total = sum(row.payment for row in schedule.rows)
    apr = annual_percentage_rate(
        AprCase(
            financed,
            start,
            UNITS[product.frequency],
            tuple(Payment(row.due_date, row.payment) for row in schedule.rows if row.payment),
        )
    )
    return {
        "grade": grade,
        "annual_rate": str(rate),
        "payment": schedule.level_payment,
        "disclosure": {
            "annual_percentage_rate": apr.as_dict()["apr"],
            "finance_charge": total - financed,
            "amount_financed": financed,
            "total_of_payments": total,
            "prepaid_finance_charge": fee,
            "total_cost_of_credit": total - financed,
        },
        "schedule": schedule.as_dict(),
        "start": start.isoformat(),
        "expires_at": isoformat(now + timedelta(days=product.offer_ttl_days)),
    }


def make_line_offer(
    product: Product, grade: str, *, amount: int, currency: str, now: datetime
) -> dict[str, Any]:
    """A revolving line's offer: its limit (the amount asked, never above the grade's), its
    rate and the open-end disclosure. For open-end credit the APR is the periodic rate ×
    periods per year (Regulation Z, 12 CFR 1026.14(a)): the nominal rate, as a percentage.
    No schedule and no total of payments: what is owed depends on what is drawn."""
    rate = product.rates[grade]
    if rate > product.rate_cap:
        raise Rejected(
            f"the grade {grade} rate {rate} is above the product's cap {product.rate_cap}",
            code=CreditCode.RATE_ABOVE_CAP,
            errors=[FieldError("/product_id", "rate table above the cap")],
        )
    limit = min(amount, product.limits_by_grade.get(grade, amount))
    return {
        "grade": grade,
        "annual_rate": str(rate),
        "credit_limit": limit,
        "disclosure": {
            "annual_percentage_rate": str((rate * 100).quantize(Decimal("0.01"), ROUND_HALF_EVEN)),
            "day_count": product.day_count.value,
            "interest": "daily simple interest on the principal balance, actual/365, "
            "rounded half-even once per period between balance changes",
            "minimum_payment": "max(interest to date + 1% of the principal balance, 25.00), "
            "never more than what is owed",
            "prepaid_finance_charge": 0,
        },
        "start": now.date().isoformat(),
        "expires_at": isoformat(now + timedelta(days=product.offer_ttl_days)),
    }


def first_due(start: date, frequency: Frequency) -> date:
    return frequency.due_date(start, 1)
