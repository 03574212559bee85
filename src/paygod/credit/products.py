"""The product catalog: term loans and credit lines, their rate tables by grade and caps."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from paygod.credit.calendar import DayCount
from paygod.credit.schedule import Frequency


@dataclass(frozen=True, slots=True)
class Product:
    product_id: str
    kind: str  # term_loan | credit_line
    name: str
    min_amount: int  # minor units
    max_amount: int
    min_payments: int
    max_payments: int
    frequency: Frequency
    day_count: DayCount
    rates: Mapping[str, Decimal]  # annual rate (a fraction) by underwriting grade
    rate_cap: Decimal  # no offer above this annual rate, whatever the table says
    origination_fee_rate: Decimal  # of the principal, financed (a prepaid finance charge)
    max_dti: Decimal  # debt-to-income above this is declined
    offer_ttl_days: int = 7
    currencies: tuple[str, ...] = ("USD", "EUR")
    limits_by_grade: Mapping[str, int] = field(default_factory=dict)
    late_fee: int = 0  # minor units, charged once on an instalment unpaid after the grace
    late_fee_grace_days: int = 10
    # Expected loss = outstanding × PD (by grade; 1 once 90+ days past due) × LGD.
    pd_by_grade: Mapping[str, Decimal] = field(default_factory=dict)
    lgd: Decimal = Decimal("0.45")

    def as_dict(self) -> dict[str, Any]:
        return {
            "product_id": self.product_id,
            "kind": self.kind,
            "name": self.name,
            "min_amount": self.min_amount,
            "max_amount": self.max_amount,
            "min_payments": self.min_payments,
            "max_payments": self.max_payments,
            "frequency": self.frequency.value,
            "day_count": self.day_count.value,
            "rates": {grade: str(rate) for grade, rate in self.rates.items()},
            "rate_cap": str(self.rate_cap),
            "origination_fee_rate": str(self.origination_fee_rate),
            "max_dti": str(self.max_dti),
            "offer_ttl_days": self.offer_ttl_days,
            "currencies": list(self.currencies),
            "limits_by_grade": dict(self.limits_by_grade),
            "late_fee": self.late_fee,
            "late_fee_grace_days": self.late_fee_grace_days,
            "pd_by_grade": {grade: str(pd) for grade, pd in self.pd_by_grade.items()},
            "lgd": str(self.lgd),
        }


CATALOG: Mapping[str, Product] = {
    p.product_id: p
    for p in (
        Product(
            product_id="personal-term-loan",
            kind="term_loan",
            name="Personal term loan, monthly, 30/360",
            min_amount=100_000,
            max_amount=5_000_000,
            min_payments=6,
            max_payments=84,
            frequency=Frequency.MONTHLY,
            day_count=DayCount.THIRTY_360,
            rates={
                "A": Decimal("0.0699"),
                "B": Decimal("0.0999"),
                "C": Decimal("0.1499"),
                "D": Decimal("0.2199"),
            },
            rate_cap=Decimal("0.36"),
            origination_fee_rate=Decimal("0.02"),
            max_dti=Decimal("0.43"),
            limits_by_grade={"A": 5_000_000, "B": 3_500_000, "C": 2_000_000, "D": 1_000_000},
            late_fee=2_500,
            late_fee_grace_days=10,
            pd_by_grade={
                "A": Decimal("0.01"),
                "B": Decimal("0.03"),
                "C": Decimal("0.07"),
                "D": Decimal("0.15"),
            },
            lgd=Decimal("0.65"),
        ),
        Product(
            product_id="pay-weekly-loan",
            kind="term_loan",
            name="Small loan, weekly, actual/365",
            min_amount=20_000,
            max_amount=500_000,
            min_payments=4,
            max_payments=52,
            frequency=Frequency.WEEKLY,
            day_count=DayCount.ACTUAL_365,
            rates={"A": Decimal("0.12"), "B": Decimal("0.18"), "C": Decimal("0.24")},
            rate_cap=Decimal("0.36"),
            origination_fee_rate=Decimal("0"),
            max_dti=Decimal("0.40"),
            limits_by_grade={"A": 500_000, "B": 300_000, "C": 150_000},
            late_fee=500,
            late_fee_grace_days=3,
            pd_by_grade={"A": Decimal("0.02"), "B": Decimal("0.05"), "C": Decimal("0.10")},
            lgd=Decimal("0.80"),
        ),
        # A revolving line: `limits_by_grade` is the credit limit, `amount` the limit asked
        # for. `min_payments`/`max_payments` are not the line's terms: the application records
        # 12, the horizon over which affordability repays the whole limit (`credit/line.py`
        # holds the interest and minimum payment rules).
        Product(
            product_id="revolving-credit-line",
            kind="credit_line",
            name="Revolving credit line, monthly, actual/365",
            min_amount=50_000,
            max_amount=2_500_000,
            min_payments=12,
            max_payments=12,
            frequency=Frequency.MONTHLY,
            day_count=DayCount.ACTUAL_365,
            rates={
                "A": Decimal("0.1299"),
                "B": Decimal("0.1699"),
                "C": Decimal("0.2199"),
                "D": Decimal("0.2799"),
            },
            rate_cap=Decimal("0.36"),
            origination_fee_rate=Decimal("0"),
            max_dti=Decimal("0.40"),
            limits_by_grade={"A": 2_500_000, "B": 1_500_000, "C": 750_000, "D": 250_000},
            pd_by_grade={
                "A": Decimal("0.02"),
                "B": Decimal("0.04"),
                "C": Decimal("0.08"),
                "D": Decimal("0.16"),
            },
            lgd=Decimal("0.85"),
        ),
    )
}
