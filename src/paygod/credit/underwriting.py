"""Underwriting: a points scorecard with adverse-action reason codes, and affordability.

Each attribute's band gives points; the grade follows the total. A decline names up to four
reasons, the attributes that cost the applicant the most points against their best band
(the order Regulation B's adverse-action notice asks for), plus any knock-out rule.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from paygod.credit.ports import BureauReport
from paygod.credit.products import Product

# (attribute, reason code, reason text, [(lower bound, points)] best band last-matching)
Bands = Sequence[tuple[int, int]]
SCORECARD: Sequence[tuple[str, str, str, Bands]] = (
    ("score", "R01", "Credit score too low", ((0, 0), (580, 30), (640, 60), (700, 90), (760, 120))),
    (
        "utilization",
        "R02",
        "Proportion of revolving balances to limits too high",
        ((0, 60), (30, 40), (50, 20), (80, 0)),
    ),
    (
        "delinquencies_24m",
        "R03",
        "Delinquency on accounts in the last 24 months",
        ((0, 60), (1, 30), (2, 10), (3, 0)),
    ),
    ("inquiries_6m", "R04", "Too many recent credit inquiries", ((0, 30), (2, 20), (4, 5), (6, 0))),
    (
        "months_on_file",
        "R05",
        "Length of credit history too short",
        ((0, 0), (12, 15), (36, 30), (84, 40)),
    ),
)
DTI_REASON = ("R06", "Debt-to-income ratio too high")
BANKRUPTCY_REASON = ("R07", "Bankruptcy on file")
AMOUNT_REASON = ("R08", "Amount requested exceeds the limit for the credit profile")
GRADES: Sequence[tuple[int, str]] = ((270, "A"), (220, "B"), (170, "C"), (130, "D"))
CUTOFF = 130


@dataclass(frozen=True, slots=True)
class Underwriting:
    approved: bool
    points: int
    grade: str | None
    dti: Decimal
    reasons: tuple[dict[str, str], ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "approved": self.approved,
            "points": self.points,
            "grade": self.grade,
            "dti": str(self.dti),
            "reasons": list(self.reasons),
        }


def _points(value: int, bands: Bands) -> int:
    earned = bands[0][1]
    for lower, points in bands:
        if value >= lower:
            earned = points
    return earned


def debt_to_income(income: int, declared_debt: int, bureau_debt: int, new_payment: int) -> Decimal:
    """Monthly obligations (the larger of declared and bureau debt, plus the new payment)
    over declared monthly income, to 4 places."""
    obligations = max(declared_debt, bureau_debt) + new_payment
    return (Decimal(obligations) / Decimal(income)).quantize(Decimal("0.0001"), ROUND_HALF_UP)


def underwrite(
    report: BureauReport,
    product: Product,
    *,
    amount: int,
    income: int,
    declared_debt: int,
    new_payment: int,
) -> Underwriting:
    features = report.features()
    scored = []
    for attribute, code, text, bands in SCORECARD:
        earned = _points(int(features[attribute]), bands)
        best = max(points for _, points in bands)
        scored.append((best - earned, code, text, earned))
    total = sum(earned for *_, earned in scored)
    grade = next((g for floor, g in GRADES if total >= floor and g in product.rates), None)
    dti = debt_to_income(income, declared_debt, report.monthly_debt, new_payment)
    knockouts: list[tuple[str, str]] = []
    if report.bankruptcy:
        knockouts.append(BANKRUPTCY_REASON)
    if dti > product.max_dti:
        knockouts.append(DTI_REASON)
    if grade is not None and amount > product.limits_by_grade.get(grade, product.max_amount):
        knockouts.append(AMOUNT_REASON)
    approved = total >= CUTOFF and grade is not None and not knockouts
    reasons: list[tuple[str, str]] = []
    if not approved:
        reasons = list(knockouts)
        for shortfall, code, text, _ in sorted(scored, key=lambda s: (-s[0], s[1])):
            if shortfall > 0 and len(reasons) < 4:
                reasons.append((code, text))
    return Underwriting(
        approved=approved,
        points=total,
        grade=grade if approved else None,
        dti=dti,
        reasons=tuple({"code": c, "text": t} for c, t in reasons[:4]),
    )
