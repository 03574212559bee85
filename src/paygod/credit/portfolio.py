"""The portfolio view: outstanding principal, delinquency by bucket and expected loss, per
currency, for the loans as they stood on a day (pure; the service supplies the loans).

Outstanding is principal not yet repaid nor written off. A bucket's delinquency rate is the
outstanding in it over the currency's outstanding (balance-weighted, 4 places, half-even).
Expected loss = Σ outstanding × PD × LGD: PD by the loan's grade from its product, 1 once
the loan is 90+ days past due or defaulted; LGD as the product states it; rounded half-even
to the minor unit once per currency.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from paygod.credit.loan import Loan, LoanStatus
from paygod.credit.products import Product
from paygod.credit.servicing import BUCKETS, bucket_of, days_past_due


def portfolio(loans: Iterable[tuple[Loan, Product]], on: date) -> dict[str, Any]:
    books: dict[str, dict[str, Any]] = {}
    losses: dict[str, Decimal] = {}
    for loan, product in loans:
        book = books.setdefault(
            loan.currency,
            {
                "loans": 0,
                "active": 0,
                "repaid": 0,
                "defaulted": 0,
                "written_off": 0,
                "principal_lent": 0,
                "outstanding": 0,
                "written_off_amount": 0,
                "buckets": {b: {"loans": 0, "outstanding": 0} for b in BUCKETS},
            },
        )
        book["loans"] += 1
        book[loan.status.value] += 1
        book["principal_lent"] += loan.principal
        book["written_off_amount"] += loan.written_off
        if loan.closed:
            continue
        outstanding = loan.principal_outstanding
        bucket = bucket_of(days_past_due(loan, on))
        book["outstanding"] += outstanding
        book["buckets"][bucket]["loans"] += 1
        book["buckets"][bucket]["outstanding"] += outstanding
        defaulted = bucket == "90+" or loan.status is LoanStatus.DEFAULTED
        pd = Decimal(1) if defaulted else product.pd_by_grade.get(loan.grade, Decimal(1))
        losses[loan.currency] = losses.get(loan.currency, Decimal(0)) + (
            Decimal(outstanding) * pd * product.lgd
        )
    for currency, book in books.items():
        total = book["outstanding"]
        for figures in book["buckets"].values():
            rate = Decimal(figures["outstanding"]) / total if total else Decimal(0)
            figures["rate"] = str(rate.quantize(Decimal("0.0001"), ROUND_HALF_EVEN))
        delinquent = total - book["buckets"]["current"]["outstanding"]
        rate = Decimal(delinquent) / total if total else Decimal(0)
        book["delinquency_rate"] = str(rate.quantize(Decimal("0.0001"), ROUND_HALF_EVEN))
        book["expected_loss"] = int(
            losses.get(currency, Decimal(0)).quantize(Decimal(1), ROUND_HALF_EVEN)
        )
    return {"on": on.isoformat(), "currencies": dict(sorted(books.items()))}
