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


def first_due(start: date, frequency: Frequency) -> date:
    return frequency.due_date(start, 1)
